"""Predict calls and their inference seconds, summed in memory and added to ``usage_records`` in batches
off the request path (``app.state.usage``; the lifespan flushes it every ``usage_flush_seconds`` and on shutdown)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from yolohost.db.engine import transaction
from yolohost.kit import clock
from yolohost.usage import repository as repo

log = logging.getLogger(__name__)

Key = tuple[str, str, date]  # workspace id, model id, UTC day


@dataclass(slots=True)
class Tally:
    calls: int
    seconds: float
    first: datetime
    last: datetime

    def add(self, other: Tally) -> None:
        self.calls += other.calls
        self.seconds += other.seconds
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)


class UsageMeter:
    def __init__(self) -> None:
        self._pending: dict[Key, Tally] = {}
        self._lock = threading.Lock()

    def predicted(self, workspace_id: str, model_id: str, seconds: float) -> None:
        """Count one predict call of ``model_id`` (owned by ``workspace_id``) that computed for ``seconds``."""
        now = clock.now()
        tally = Tally(1, max(seconds, 0.0), now, now)
        with self._lock:
            self._merge({(workspace_id, model_id, now.date()): tally})

    def flush(self, sessions: sessionmaker[Session]) -> int:
        """Write what was counted since the last flush; returns the predict calls written (0 on failure: kept for the next)."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        rows = [
            {"workspace_id": ws, "kind": "predict", "subject_id": model, "day": day, "quantity": t.calls,
             "seconds": t.seconds, "created_at": t.first, "updated_at": t.last}
            for (ws, model, day), t in pending.items()
        ]
        try:
            with transaction(sessions) as session:
                repo.add(session, rows)
        except Exception:  # a busy database, or a workspace deleted meanwhile: retry with the next batch
            log.warning("could not record %d predict calls", sum(t.calls for t in pending.values()), exc_info=True)
            self._keep(pending, sessions)
            return 0
        return sum(t.calls for t in pending.values())

    def _keep(self, pending: dict[Key, Tally], sessions: sessionmaker[Session]) -> None:
        """Put a failed batch back, less the calls of workspaces that no longer exist."""
        try:
            with sessions() as session:
                alive = repo.existing_workspaces(session, (ws for ws, _, _ in pending))
            pending = {key: t for key, t in pending.items() if key[0] in alive}
        except Exception:
            pass  # the database is unreachable: keep everything
        with self._lock:
            self._merge(pending)

    def _merge(self, tallies: dict[Key, Tally]) -> None:
        for key, tally in tallies.items():
            if key in self._pending:
                self._pending[key].add(tally)
            else:
                self._pending[key] = tally
