"""'Last used' times of API keys, kept in memory and written in batches off the request path."""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from yolohost.accounts import repository as repo
from yolohost.db.engine import transaction
from yolohost.kit import clock

log = logging.getLogger(__name__)


class LastUsed:
    def __init__(self) -> None:
        self._pending: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def touch(self, key_id: str) -> None:
        """O(1) and lock-brief: the request path never waits on the database for this."""
        with self._lock:
            self._pending[key_id] = clock.now()

    def flush(self, sessions: sessionmaker[Session]) -> int:
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        try:
            with transaction(sessions) as session:
                repo.record_last_used(session, pending.items())
        except Exception:  # a busy database: retry with the next batch
            log.warning("could not record last-used times of %d API keys", len(pending), exc_info=True)
            with self._lock:
                for key_id, at in pending.items():
                    self._pending.setdefault(key_id, at)
            return 0
        return len(pending)
