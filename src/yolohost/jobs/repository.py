"""Every query of the jobs domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from yolohost.db.tables import Job
from yolohost.kit import clock

# One statement on both databases: a concurrent claimer re-checks `status` and gets no row.
_CLAIM = text(
    "UPDATE jobs SET status = 'running', worker = :worker, started_at = :now, heartbeat_at = :now "
    "WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND kind IN :kinds ORDER BY created_at LIMIT 1) "
    "AND status = 'queued' RETURNING id"
).bindparams(bindparam("kinds", expanding=True))


def claim(session: Session, worker: str, kinds: list[str]) -> str | None:
    return session.execute(_CLAIM, {"worker": worker, "now": clock.now(), "kinds": kinds}).scalar()


def get(session: Session, job_id: str) -> Job | None:
    return session.get(Job, job_id)


def latest_for(session: Session, subject_id: str, kind: str) -> Job | None:
    return session.scalar(
        select(Job).where(Job.subject_id == subject_id, Job.kind == kind).order_by(Job.created_at.desc()).limit(1)
    )


def running(session: Session) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.status == "running")))


def heartbeat(session: Session, job_id: str) -> bool:
    """Refresh the heartbeat; returns whether cancellation was requested."""
    session.execute(update(Job).where(Job.id == job_id, Job.status == "running").values(heartbeat_at=clock.now()))
    return bool(session.scalar(select(Job.cancel_requested).where(Job.id == job_id)))


def finish(session: Session, job_id: str, status: str, *, result=None, error: str | None = None) -> None:
    values = {"status": status, "finished_at": clock.now(), "result": result, "error": error}
    if status == "completed":
        values["progress"] = 100.0
    session.execute(update(Job).where(Job.id == job_id, Job.status == "running").values(**values))


def set_progress(session: Session, job_id: str, progress: float, message: str, log: str) -> None:
    values = {"progress": progress, "message": message, "log": log, "heartbeat_at": clock.now()}
    session.execute(update(Job).where(Job.id == job_id).values(**values))


def stale_before(session: Session, cutoff: datetime) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.status == "running", Job.heartbeat_at < cutoff)))
