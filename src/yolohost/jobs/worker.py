"""A worker process: claims queued jobs one at a time and runs their handlers.

While a job runs, a heartbeat thread refreshes its row and watches for a cancel request; the
handler checks ``ctx.check_cancelled()`` (or ``ctx.cancel_event``) at safe points. Whatever a
handler raises fails the job with that message, and its failure hook undoes what it touched.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback

from sqlalchemy.orm import Session, sessionmaker

from yolohost.config import Settings
from yolohost.db.engine import transaction
from yolohost.jobs import registry, service
from yolohost.jobs import repository as repo
from yolohost.kit.storage import Storage

log = logging.getLogger("yolohost.jobs")
LOG_LIMIT = 64 * 1024  # the newest part of a job's log that is kept


Kinds = tuple[set[str] | None, set[str]] | None  # (only these, or all if None; never these)


def select_kinds(handlers, kinds: Kinds) -> list[str]:
    only, never = kinds or (None, set())
    return sorted(k for k in handlers if (only is None or k in only) and k not in never)


class Cancelled(Exception):
    """Raised by ``check_cancelled`` when the job was asked to stop."""


class JobContext:
    """What a handler gets: its payload, progress and log reporting, the database, files and settings."""

    def __init__(self, job_id: str, payload: dict, settings: Settings, sessions: sessionmaker[Session], storage: Storage,
                 user_id: str | None = None):
        self.job_id = job_id
        self.user_id = user_id  # who queued it
        self.payload = payload
        self.settings = settings
        self.sessions = sessions
        self.storage = storage
        self.cancel_event = threading.Event()
        self._log: list[str] = []
        self._progress = (0.0, "")

    def transaction(self):
        return transaction(self.sessions)

    def log(self, line: str) -> None:
        self._log.append(line.rstrip("\n"))

    def log_text(self) -> str:
        return "\n".join(self._log)[-LOG_LIMIT:]

    def progress(self, percent: float, message: str = "") -> None:
        self._progress = (max(0.0, min(100.0, percent)), message)
        with transaction(self.sessions) as session:
            repo.set_progress(session, self.job_id, self._progress[0], message, self.log_text())

    def check_cancelled(self) -> None:
        if self.cancel_event.is_set():
            raise Cancelled()


def _heartbeat(ctx: JobContext, every: float, done: threading.Event) -> None:
    while not done.wait(every):
        try:
            with transaction(ctx.sessions) as session:
                if repo.heartbeat(session, ctx.job_id):
                    ctx.cancel_event.set()
        except Exception:  # a busy database must not kill the job; the next beat retries
            log.warning("heartbeat of %s failed", ctx.job_id, exc_info=True)


def run_one(settings: Settings, sessions: sessionmaker[Session], storage: Storage,
            kinds: Kinds = None) -> str | None:
    """Claim and run one queued job (of ``kinds``; all by default); returns its id, or None when nothing was queued."""
    handlers = registry.load_all()
    with transaction(sessions) as session:
        job_id = repo.claim(session, service.worker_name(), select_kinds(handlers, kinds))
        if job_id is None:
            return None
        job = repo.get(session, job_id)
        kind, payload, user_id = job.kind, dict(job.payload or {}), job.user_id
    ctx = JobContext(job_id, payload, settings, sessions, storage, user_id)
    done = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(ctx, settings.job_heartbeat_seconds, done), daemon=True)
    beat.start()
    log.info("job %s (%s) started", job_id, kind)
    try:
        result = handlers[kind].run(ctx)
        status, error = "completed", None
    except Cancelled:
        status, error, result = "cancelled", "cancelled on request", None
    except Exception as exc:
        status, error, result = "failed", f"{type(exc).__name__}: {exc}"[:2000], None
        ctx.log(traceback.format_exc())
    finally:
        done.set()
        beat.join()
    with transaction(sessions) as session:
        if status == "completed":
            repo.set_progress(session, job_id, 100.0, ctx._progress[1], ctx.log_text())
            repo.finish(session, job_id, status, result=result)
        else:
            repo.set_progress(session, job_id, ctx._progress[0], ctx._progress[1], ctx.log_text())
            service.fail(session, repo.get(session, job_id), error, status)
    log.info("job %s (%s) %s%s", job_id, kind, status, f": {error}" if error else "")
    return job_id


def _housekeeping(settings: Settings, sessions: sessionmaker[Session], storage: Storage) -> None:
    """Purge trashed items past their retention and expired uploads; a failure is logged and retried at
    the next interval."""
    from yolohost.trash.retention import purge_expired
    from yolohost.uploads.sweep import sweep_expired

    try:
        purge_expired(sessions, storage, settings.trash_retention_days)
    except Exception:
        log.exception("trash purge failed")
    try:
        sweep_expired(sessions, storage)
    except Exception:
        log.exception("sweeping expired uploads failed")


def run_forever(settings: Settings, stop: threading.Event, parent_pid: int | None = None, kinds: Kinds = None) -> None:
    """Poll for jobs (of ``kinds``) until ``stop`` is set; reap jobs of dead workers and purge expired trash
    now and then."""
    from yolohost.bootstrap import open_database
    from yolohost.db.engine import make_sessionmaker

    engine = open_database(settings)
    sessions = make_sessionmaker(engine)
    storage = Storage(settings.files_dir)
    last_reap = 0.0
    last_purge = float("-inf")  # the first purge runs at start
    try:
        while not stop.is_set():
            if parent_pid is not None and os.getppid() != parent_pid:  # orphaned: the server is gone
                log.info("the process that started this worker is gone; stopping")
                break
            if time.monotonic() - last_reap > settings.job_stale_seconds / 2:
                with transaction(sessions) as session:
                    service.reap(session, settings.job_stale_seconds)
                last_reap = time.monotonic()
            every = settings.trash_purge_interval_seconds
            if every > 0 and time.monotonic() - last_purge > every:
                _housekeeping(settings, sessions, storage)
                last_purge = time.monotonic()
            try:
                ran = run_one(settings, sessions, storage, kinds)
            except Exception:
                log.exception("worker loop error")
                ran = None
            if ran is None:
                stop.wait(settings.job_poll_seconds)
    finally:
        from yolohost.jobs import execution

        execution.shutdown()
        engine.dispose()
