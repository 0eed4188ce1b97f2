"""Purging what outlived the retention: trashed items of every workspace whose ``trash_retention_days``
have passed go for good, with their files. Job workers run it periodically; ``yolohost trash purge`` by hand.

Each workspace is one transaction, contents before containers (the registry's order); files are
deleted only after that transaction commits, so a rolled-back purge keeps them.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from yolohost.db.engine import transaction
from yolohost.kit import clock
from yolohost.kit.storage import Storage
from yolohost.trash import repository as repo
from yolohost.trash.registry import KINDS
from yolohost.trash.service import expired

log = logging.getLogger("yolohost.trash")


def purge_expired(sessions: sessionmaker[Session], storage: Storage, retention_days: int) -> dict[str, int]:
    """Purge every expired trashed item; counts by type (``model``, ``project``, ``dataset``) and ``cascadedModels``."""
    now = clock.now()
    with sessions() as session:
        workspace_ids = repo.workspaces_trashed_before(session, now - timedelta(days=retention_days))
    counts: Counter[str] = Counter({kind: 0 for kind in KINDS} | {"cascadedModels": 0})
    for workspace_id in workspace_ids:
        prefixes: list[str] = []
        with transaction(sessions) as session:
            for kind in KINDS.values():  # contents before containers
                for entry in kind.entries(session, workspace_id):
                    if not expired(entry.trashed_at, retention_days, now):
                        continue
                    found = kind.locate(session, entry.id)  # may have gone with its container already
                    if found is None:
                        continue
                    purged = kind.purge(session, found.resource, storage)
                    prefixes += purged.prefixes
                    counts[kind.type] += 1
                    counts["cascadedModels"] += purged.cascaded_models
        for prefix in prefixes:
            storage.delete_tree(prefix)
    if any(counts.values()):
        log.info("trash purge: %s", dict(counts))
    return dict(counts)
