"""The rules of jobs: enqueue, cancel, describe, and finding jobs whose worker died."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy.orm import Session

from yolohost.db.tables import Job
from yolohost.jobs import registry
from yolohost.jobs import repository as repo
from yolohost.kit import clock
from yolohost.kit.errors import Conflict, NotFound
from yolohost.kit.ids import new_id

FINAL = ("completed", "failed", "cancelled")


def enqueue(session: Session, kind: str, payload: dict, *, user_id: str | None = None,
            workspace_id: str | None = None, subject_id: str | None = None) -> Job:
    """Queue a job; it becomes visible to workers when the caller's transaction commits."""
    job = Job(id=new_id("job"), kind=kind, payload=payload, user_id=user_id, workspace_id=workspace_id,
              subject_id=subject_id, status="queued")
    session.add(job)
    session.flush()
    return job


def get(session: Session, job_id: str) -> Job:
    job = repo.get(session, job_id)
    if job is None:
        raise NotFound(f"Job '{job_id}' not found")
    return job


def cancel(session: Session, job: Job) -> Job:
    """A queued job is cancelled at once; a running one is asked to stop (its worker ends it)."""
    if job.status in FINAL:
        raise Conflict(f"Job '{job.id}' is already {job.status}")
    if job.status == "queued":
        job.status = "cancelled"
        job.finished_at = clock.now()
    else:
        job.cancel_requested = True
    session.flush()
    return job


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    """Whether a process runs; a zombie (exited, not yet reaped by its parent) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


def reap(session: Session, stale_after: float) -> list[str]:
    """Mark failed the running jobs whose worker is gone: a dead process on this host, or no heartbeat for
    ``stale_after`` seconds. Each job's failure hook undoes what it touched. Returns their ids."""
    host = socket.gethostname()
    cutoff = clock.now() - timedelta(seconds=stale_after)
    reaped = []
    for job in repo.running(session):
        worker_host, _, pid = (job.worker or "").rpartition(":")
        beat = job.heartbeat_at if job.heartbeat_at is None or job.heartbeat_at.tzinfo else job.heartbeat_at.replace(tzinfo=cutoff.tzinfo)
        if worker_host == host and pid.isdigit() and not _pid_alive(int(pid)):
            reason = f"the worker process ({job.worker}) stopped while running this job"
        elif beat is None or beat < cutoff:
            reason = f"no heartbeat from its worker ({job.worker}) for over {stale_after:g}s"
        else:
            continue
        fail(session, job, reason)
        reaped.append(job.id)
    return reaped


def fail(session: Session, job: Job, error: str, status: str = "failed") -> None:
    job.status = status
    job.error = error
    job.finished_at = clock.now()
    handler = registry.load_all().get(job.kind)
    if handler and handler.on_failure:
        handler.on_failure(session, job)
    session.flush()


def describe(job: Job) -> dict:
    return {
        "jobId": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": round(job.progress, 1),
        "message": job.message,
        "error": job.error,
        "result": job.result,
        "createdAt": clock.iso(job.created_at),
        "startedAt": clock.iso(job.started_at),
        "finishedAt": clock.iso(job.finished_at),
    }
