"""Clearing out staged uploads: a session past its expiry goes with its files, whether it was finished or
abandoned, unless something still needs its bytes: an ingest job that has not run yet, or an interrupted
training run whose checkpoint it holds (that one stays for ``resume`` until the run is resumed or its
model is deleted). Job workers run it with the trash purge."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from yolohost.db.engine import transaction
from yolohost.db.tables import Job, TrainingRun, UploadSession
from yolohost.kit import clock
from yolohost.kit.storage import Storage
from yolohost.uploads.service import staging_key

log = logging.getLogger("yolohost.uploads")


def _still_needed(session: Session) -> set[str]:
    """Staging keys that must stay: read by a waiting ingest, or kept by a training run."""
    keys = set(session.scalars(select(TrainingRun.checkpoint_key).where(TrainingRun.checkpoint_key.is_not(None))))
    for payload in session.scalars(select(Job.payload).where(Job.status.in_(("queued", "running")))):
        if isinstance(payload, dict) and payload.get("stagedKey"):
            keys.add(payload["stagedKey"])
    return keys


def sweep_expired(sessions: sessionmaker[Session], storage: Storage) -> int:
    """Delete expired upload sessions and their staged files; how many went. Files go after the commit."""
    with transaction(sessions) as session:
        needed = _still_needed(session)
        expired = session.scalars(select(UploadSession).where(UploadSession.expires_at < clock.now())).all()
        gone = [upload for upload in expired if staging_key(upload) not in needed]
        for upload in gone:
            session.delete(upload)
        ids = [upload.id for upload in gone]
    for upload_id in ids:
        storage.delete_tree(f"uploads/{upload_id}")
    if ids:
        log.info("removed %d expired upload(s)", len(ids))
    return len(ids)
