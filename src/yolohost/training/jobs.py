"""The ``training`` job: run a managed training run's trainer and see it to an end.

The trainer is ``python -m yolohost.training.runner`` with a key of its own, made for the run and
revoked when it ends. It downloads its dataset (and base model) from this server by ``ul://`` URI
and reports everything through the training webhooks, exactly as a trainer started anywhere else
does; this job only starts it, stops it on cancel, and fails the run if it dies without finishing.
"""

from __future__ import annotations

import json
import time

from yolohost.accounts import service as accounts
from yolohost.db.tables import Job, TrainingRun, User
from yolohost.jobs import registry
from yolohost.jobs.execution import is_remote, python_command, run_command, signed_url
from yolohost.kit import clock
from yolohost.kit.errors import NotFound
from yolohost.models import repository as models_repo
from yolohost.training import service

KEY_SCOPES = ["training", "models", "datasets"]


def _failed(session, job: Job) -> None:
    """The job ended without the trainer completing (failed, cancelled, or its worker died)."""
    _revoke(session, (job.payload or {}).get("keyId"))
    run = session.query(TrainingRun).filter(TrainingRun.job_id == job.id).one_or_none()
    if run is None:  # the model was deleted meanwhile
        return
    status = "cancelled" if job.status == "cancelled" or run.cancel_requested else "failed"
    service.finish(session, run, status, None if status == "cancelled" else job.error, "job_failed")


def _revoke(session, key_id: str | None) -> None:
    """Revoke the run's own key (kept on the job, which outlives the run if its model is deleted)."""
    if key_id:
        try:
            accounts.revoke_key(session, key_id)
        except NotFound:  # already revoked
            pass


@registry.register("training", on_failure=_failed)
def run_training(ctx) -> dict:
    settings = ctx.settings
    run_id = ctx.payload["runId"]
    if not settings.public_url:
        raise RuntimeError("YOLOHOST_PUBLIC_URL must be set: the trainer reports to this server over HTTP "
                           "(yolohost serve sets it for the workers it starts)")
    with ctx.transaction() as session:
        run = session.get(TrainingRun, run_id)
        if run is None or run.status not in service.ACTIVE:
            return {"runId": run_id, "status": run.status if run else "deleted"}
        model, project, workspace = models_repo.located_by_id(session, run.model_id)
        user = session.get(User, run.user_id) if run.user_id else None
        if user is None:
            raise RuntimeError("the user who started this run no longer exists")
        key, plaintext = accounts.create_key(session, user, f"training run {run.id}", KEY_SCOPES)
        run.key_id = key_id = key.id
        job = session.get(Job, ctx.job_id)
        job.payload = {**job.payload, "keyId": key.id}
        run.status = "starting"
        run.started_at = clock.now()
        model.status = "starting"
        args = dict(run.train_args)
        device = run.device
        target = (f"{workspace.username}/{project.slug}", model.slug)
        interrupted = session.get(TrainingRun, run.resumed_from) if run.resumed_from else None
        resume_key = interrupted.checkpoint_key if interrupted else None
    if device:
        args["device"] = device
    base, data = args.pop("model"), args.pop("data")
    if base.endswith(".pt") and not base.startswith("ul://"):
        base = str((settings.data_dir / "weights" / base).resolve())
    if args.pop("resume", False) and resume_key:  # continue from the interrupted run's checkpoint
        base = (signed_url(settings, f"/files/{resume_key}") if is_remote(settings)
                else str(ctx.storage.path(resume_key)))
        args["resume"] = True
    argv = python_command("yolohost.training.runner", "--model", base, "--data", data, "--project", target[0],
                          "--name", target[1], "--args", json.dumps(args))
    env = {"ULTRALYTICS_PLATFORM_URL": settings.public_url.rstrip("/"), "ULTRALYTICS_API_KEY": plaintext}
    began = time.monotonic()
    ctx.progress(0.0, f"training {target[0]}/{target[1]}")
    try:
        run_command(ctx, argv, env, num_gpus=0 if device in (None, "cpu") else 1)
    finally:
        seconds = time.monotonic() - began
        with ctx.transaction() as session:
            _revoke(session, key_id)
            run = session.get(TrainingRun, run_id)
            if run is not None:
                _record_compute(session, run, seconds)
    with ctx.transaction() as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            raise RuntimeError("the model was deleted while it trained")
        if run.status in service.ACTIVE:
            raise RuntimeError("the trainer exited without reporting that training completed")
        return {"runId": run_id, "status": run.status, "seconds": round(seconds, 1)}


def _record_compute(session, run: TrainingRun, seconds: float) -> None:
    from yolohost.usage.service import record_compute

    record_compute(session, run.workspace_id, "training", seconds, run.model_id)
