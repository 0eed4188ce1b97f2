"""The rules of training: starting a run here, its progress, cancelling, and what trainers report.

A run is a ``training_runs`` row. Managed runs are started by ``POST /api/training/start`` and run as
a job (``training/jobs.py``); remote runs are any ``model.train(..., project="owner/project")`` that
reports to this server. Both report through the same webhooks (``on_event``), so progress, console
output, checkpoints and results arrive the same way. A checkpoint is staged on its run and becomes the
model's weights only when the run completes: a failed or cancelled run leaves the model as it was.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from yolohost.accounts import repository as accounts_repo
from yolohost.accounts import service as accounts
from yolohost.accounts.service import Principal
from yolohost.activity import service as activity
from yolohost.db.tables import Model, TrainingRun, UploadSession
from yolohost.kit import clock
from yolohost.kit.errors import Conflict, Invalid, NotFound
from yolohost.kit.ids import new_id, slugify
from yolohost.kit.storage import Storage
from yolohost.models import repository as models_repo
from yolohost.models import service as models
from yolohost.models.service import Located
from yolohost.projects import service as projects
from yolohost.uploads.service import staging_key

ACTIVE = ("pending", "starting", "running")
CONSOLE_LIMIT = 256 * 1024  # the newest part of a run's console output that is kept
CHECKPOINT_ASSET = "checkpoints"
EVENTS = ("training_started", "training_progress", "epoch_end", "system_metrics", "console_output",
          "checkpoint_saved", "training_complete", "training_failed")
MODEL_ARG_KEYS = ("model", "data", "epochs", "batch", "imgsz")  # what the model keeps of its run's arguments


# --- reading ---------------------------------------------------------------------------------------


def latest_run(session: Session, model_id: str) -> TrainingRun | None:
    return session.scalar(select(TrainingRun).where(TrainingRun.model_id == model_id)
                          .order_by(TrainingRun.id.desc()).limit(1))


def active_run(session: Session, model_id: str) -> TrainingRun | None:
    run = latest_run(session, model_id)
    return run if run is not None and run.status in ACTIVE else None


def _ms(seconds: float) -> float:
    return round(max(0.0, seconds) * 1000.0, 1)


def progress(run: TrainingRun | None) -> dict:
    """The contract's ``TrainingProgressResponse``."""
    if run is None:
        return {"job": None}
    planned = run.train_args.get("epochs")
    total = run.total_epochs or (planned if isinstance(planned, int) and not isinstance(planned, bool) else 0)
    done = min(run.current_epoch, total) if total else run.current_epoch
    percentage = 100.0 if run.status == "completed" else (round(100.0 * done / total, 1) if total else 0.0)
    started = clock.aware(run.started_at) if run.started_at else None
    finished = clock.aware(run.finished_at) if run.finished_at else None
    elapsed = ((finished or clock.now()) - started).total_seconds() if started else 0.0
    per_epoch = elapsed / done if done else 0.0
    latest = run.epochs[-1]["metrics"] if run.epochs else None
    progress_out: dict[str, Any] = {"currentEpoch": done, "totalEpochs": total, "percentage": percentage}
    if started:
        progress_out["startedAt"] = clock.iso(started)
    if finished:
        progress_out["completedAt"] = clock.iso(finished)
    args = {k: run.train_args[k] for k in ("model", "epochs", "batch", "imgsz") if k in run.train_args}
    return {"job": {
        "id": str(run.id),
        "status": run.status,
        "progress": progress_out,
        "timing": {"elapsedMs": _ms(elapsed), "timePerEpochMs": _ms(per_epoch),
                   "etaMs": _ms(per_epoch * max(0, total - done)) if run.status in ACTIVE else 0.0},
        "compute": _compute(run),
        "trainArgs": {k: v if isinstance(v, (int, float)) or k == "model" else str(v) for k, v in args.items()} or None,
        "epochMetrics": latest,
        "error": {"message": run.error_message, "timestamp": clock.iso(run.finished_at or run.updated_at),
                  **({"code": run.error_code} if run.error_code else {})} if run.error_message else None,
        "createdAt": clock.iso(run.created_at),
        "updatedAt": clock.iso(run.updated_at),
    }}


def _compute(run: TrainingRun) -> dict | None:
    if not run.gpu_type:
        return None
    from yolohost.training import devices

    info = devices.describe(run.gpu_type)
    return {"gpuType": run.gpu_type, "gpuDisplayName": info["name"], "gpuMemoryGb": info["memoryGb"]}


# --- starting a managed run ------------------------------------------------------------------------


def start(session: Session, principal: Principal, located: Located, train_args: dict, device: str | None,
          gpu_type: str, weights_dir: Path | None) -> TrainingRun:
    """``weights_dir``: where base ``.pt`` files may be named from; None when trainers run on other machines."""
    """Check the arguments, record the run and queue its job (which starts when this transaction commits)."""
    from yolohost.jobs import service as jobs

    models.require_editor(session, principal, located)
    session.refresh(located.model, with_for_update=True)  # one start at a time per model
    if active_run(session, located.model.id) is not None:
        raise Conflict(f"Model '{located.uri}' is already training; cancel that run first")
    args = check_args(session, principal, located, train_args, weights_dir)
    interrupted = _resumable(session, located) if args.get("resume") else None
    run = TrainingRun(model_id=located.model.id, workspace_id=located.workspace.id, user_id=principal.user_id,
                      mode="managed", status="pending", gpu_type=gpu_type, device=device, train_args=args,
                      total_epochs=args["epochs"], epochs=[], console="",
                      resumed_from=interrupted.id if interrupted else None)
    session.add(run)
    session.flush()
    job = jobs.enqueue(session, "training", {"runId": run.id}, user_id=principal.user_id,
                       workspace_id=located.workspace.id, subject_id=located.model.id)
    run.job_id = job.id
    located.model.status = "pending"
    located.model.train_args = {k: args[k] for k in MODEL_ARG_KEYS if k in args}
    activity.record(session, located.workspace.id, principal.user_id, "model.training_started", "model",
                    located.model.id, f"{located.project.slug}/{located.model.slug}")
    session.flush()
    return run


def _resumable(session: Session, located: Located) -> TrainingRun:
    """The model's interrupted run, if it left a checkpoint (trainers upload one every 15 minutes)."""
    run = latest_run(session, located.model.id)
    if run is None or run.status not in ("failed", "cancelled") or not run.checkpoint_key:
        raise Invalid(f"trainArgs.resume: model '{located.uri}' has no interrupted run with a saved checkpoint "
                      "to resume from")
    return run


def check_args(session: Session, principal: Principal, located: Located, raw: dict, weights_dir: Path | None) -> dict:
    """The run's arguments, checked before anything is queued: the base model and dataset exist here,
    and Ultralytics accepts every other argument. 400 (or 404 for a missing dataset or model) otherwise."""
    if not isinstance(raw, dict):
        raise Invalid("trainArgs must be an object")
    args = {k: v for k, v in raw.items() if v is not None}
    for key in ("model", "data", "epochs"):
        if key not in args:
            raise Invalid(f"trainArgs.{key} is required")
    epochs = args["epochs"]
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= 10000:
        raise Invalid(f"trainArgs.epochs must be an integer from 1 to 10000; got {epochs!r}")
    if args.get("resume", False) not in (True, False):
        raise Invalid("trainArgs.resume must be true (continue the model's interrupted run) or false")
    for key in ("project", "name", "save_dir", "exist_ok"):
        if key in args:
            raise Invalid(f"trainArgs.{key} is set by this server (the run reports to the model it trains)")
    args["model"] = _check_base_model(session, principal, str(args["model"]), weights_dir)
    args["data"] = _check_dataset(session, principal, located, str(args["data"]))
    _check_with_ultralytics({k: v for k, v in args.items() if k not in ("model", "data")})
    return args


def _check_base_model(session: Session, principal: Principal, name: str, weights_dir: Path | None) -> str:
    if name.startswith("ul://"):
        parts = name[5:].split("/")
        if len(parts) != 3 or not all(parts):
            raise Invalid(f"trainArgs.model: '{name}' is not a ul://owner/project/model URI")
        base = models.find(session, principal, *parts)
        if not base.model.weights_sha256:
            raise Invalid(f"trainArgs.model: model '{base.uri}' has no weights to start from")
        return name
    if "/" in name or "\\" in name or name.startswith("."):
        raise Invalid(f"trainArgs.model: '{name}' must be a ul:// model URI, a model file name or an architecture .yaml")
    if name.endswith((".yaml", ".yml")):
        from ultralytics.nn.tasks import yaml_model_load

        try:
            yaml_model_load(name)
        except Exception:
            raise Invalid(f"trainArgs.model: '{name}' is not an Ultralytics model architecture") from None
        return name
    if name.endswith(".pt"):
        if weights_dir is None:
            raise Invalid(f"trainArgs.model: '{name}' would be a file of this server, which trainers on Ray nodes "
                          "cannot read; upload it as a model and use its ul:// URI")
        if (weights_dir / name).is_file():
            return name
        raise Invalid(
            f"trainArgs.model: '{name}' is not on this server, which does not download weights. Upload it as a "
            f"model and use its ul:// URI, place it in {weights_dir}, or start from an architecture such as "
            f"{Path(name).stem}.yaml")
    raise Invalid(f"trainArgs.model: '{name}' must end in .pt, .yaml or be a ul:// model URI")


def _check_dataset(session: Session, principal: Principal, located: Located, ref: str) -> str:
    """A ``ul://owner/datasets/slug`` URI, or the slug or id of a dataset in the model's workspace."""
    from yolohost.datasets import service as datasets

    if ref.startswith("ul://"):
        parts = ref[5:].split("/")
        if len(parts) != 3 or parts[1] != "datasets" or not parts[0] or not parts[2]:
            raise Invalid(f"trainArgs.data: '{ref}' is not a ul://owner/datasets/slug URI")
        found = datasets.find(session, principal, parts[0], parts[2])
    elif ref.startswith("ds_"):
        found = datasets.find_by_id(session, principal, ref)
    else:
        found = datasets.find(session, principal, located.workspace.username, ref)
    task = located.model.task
    if task and found.dataset.task != task:
        raise Invalid(f"trainArgs.data: dataset '{found.dataset.slug}' is for {found.dataset.task}, "
                      f"but model '{located.uri}' does {task}")
    return f"ul://{found.workspace.username}/datasets/{found.dataset.slug}"


def _check_with_ultralytics(args: dict) -> None:
    from ultralytics.cfg import get_cfg

    try:
        get_cfg(overrides=dict(args))
    except (SyntaxError, TypeError, ValueError, KeyError) as exc:
        message = " ".join(str(exc).split())
        raise Invalid(f"trainArgs rejected by the trainer: {message[:500]}") from None


# --- cancelling ------------------------------------------------------------------------------------


def cancel(session: Session, principal: Principal, located: Located) -> dict:
    """Stop the model's active run: a queued job is dropped, a running trainer is stopped."""
    from yolohost.db.tables import Job
    from yolohost.jobs import service as jobs

    models.require_editor(session, principal, located)
    session.refresh(located.model, with_for_update=True)  # serialised with starts and reports of this model
    run = active_run(session, located.model.id)
    if run is None:
        raise Conflict(f"Model '{located.uri}' has no active training")
    run.cancel_requested = True
    warning = None
    job = session.get(Job, run.job_id) if run.job_id else None
    if job is not None and job.status not in jobs.FINAL:
        jobs.cancel(session, job)
    if run.mode == "remote":
        warning = "a remote trainer stops at its next report to this server"
    if job is None or job.status == "cancelled" or run.mode == "remote":
        finish(session, run, "cancelled")
    session.flush()
    return {"success": True, "status": "cancelled", **({"warning": warning} if warning else {})}


def stop_for_deleted(session: Session, model_ids: list[str]) -> None:
    """Models went to the trash: their runs end as cancelled, and trainers this server started are stopped."""
    from yolohost.db.tables import Job
    from yolohost.jobs import service as jobs

    if not model_ids:
        return
    runs = session.scalars(select(TrainingRun).where(TrainingRun.model_id.in_(model_ids),
                                                     TrainingRun.status.in_(ACTIVE)))
    for run in runs:
        run.cancel_requested = True
        job = session.get(Job, run.job_id) if run.job_id else None
        if job is not None and job.status not in jobs.FINAL:
            jobs.cancel(session, job)
        finish(session, run, "cancelled", "the model was deleted", "model_deleted")


def finish(session: Session, run: TrainingRun, status: str, message: str | None = None,
           code: str | None = None) -> None:
    """End a run that did not complete; the model keeps the weights and status it had before."""
    if run.status not in ACTIVE:
        return
    run.status = status
    run.finished_at = clock.now()
    if message:
        run.error_message, run.error_code = message[:4000], code
    model = session.get(Model, run.model_id)
    if model is not None:
        model.status = "completed" if model.weights_sha256 else status
        found = models_repo.located_by_id(session, model.id)
        if found is not None:
            activity.record(session, run.workspace_id, run.user_id, f"model.training_{status}", "model", model.id,
                            f"{found[1].slug}/{model.slug}", {"runId": run.id})
    session.flush()


# --- what trainers report --------------------------------------------------------------------------


def _located_for_report(session: Session, principal: Principal, body: dict) -> tuple[Located, TrainingRun | None]:
    """The model a report is about (404 for other users' models) and its latest run. A managed run's
    trainer reports with the run's own key, which names its model whatever project and name it sends."""
    own = session.scalar(select(TrainingRun).where(TrainingRun.key_id == principal.key_id))
    if own is not None:
        found = models_repo.located_by_id(session, own.model_id)
        if found is None:
            raise NotFound(f"Model '{own.model_id}' not found")
        return Located(*found), own
    model_id = body.get("modelId")
    if model_id:
        located = models.find_by_id(session, principal, str(model_id))
        models.require_editor(session, principal, located)
        return located, latest_run(session, located.model.id)
    project, name = body.get("project"), body.get("name") or "train"
    if not project:
        raise Invalid("modelId, or project (and name), is required")
    return _register(session, principal, str(project), str(name)), None


def _register(session: Session, principal: Principal, project_path: str, name: str) -> Located:
    """The model a new remote run trains: a managed run's own model (its key says so), else a new model
    named after ``name`` (``train``, ``train-2``, ...) in the project, created if missing."""
    owner, _, rest = project_path.partition("/")
    workspace = accounts_repo.workspace_by_username(session, owner) if rest else None
    if workspace is None:
        workspace = accounts_repo.personal_workspace(session, principal.user_id)
        rest = project_path
    accounts.require_write(session, principal, workspace, what="Workspace")
    project_slug = slugify(rest.replace("/", "-"))
    if not project_slug:
        raise Invalid(f"project '{project_path}' has no usable name")
    proj = projects.get_or_create(session, workspace, project_slug)
    base = slugify(name) or "train"
    for n in range(1, 10_000):
        slug = base if n == 1 else f"{base}-{n}"
        if models_repo.by_slug(session, proj.id, slug) is None:
            break
    return models.create(session, principal, project=proj.id, slug=slug, name=name[:100])


def on_event(session: Session, storage: Storage, principal: Principal, body: dict, base_url: str) -> dict:
    """Apply one report from a trainer; the answer tells it whether to stop (``cancelled``)."""
    event = body.get("event")
    if event not in EVENTS:
        raise Invalid(f"event must be one of {', '.join(EVENTS)}; got {event!r}")
    data = body.get("data")
    if not isinstance(data, dict):
        raise Invalid("data must be an object")
    located, run = _located_for_report(session, principal, body)
    session.refresh(located.model, with_for_update=True)  # reports, starts and cancels of a model take turns
    if run is not None:
        session.refresh(run)
    if event == "training_started":
        run = _started(session, principal, located, run, data)
    elif run is None:
        raise NotFound(f"Model '{located.uri}' has no training run to report {event} for")
    handler = _HANDLERS.get(event)
    if handler is not None and run.status in ACTIVE:
        handler(session, storage, run, located, data)
    run.updated_at = clock.now()
    session.flush()
    out: dict[str, Any] = {
        "received": True, "event": event, "mode": "remote", "modelId": located.model.id, "runId": run.id,
        "modelSlug": located.model.slug, "modelUrl": f"{base_url.rstrip('/')}/{located.uri}",
    }
    if run.cancel_requested or run.status in ("cancelled", "failed"):  # an ended run's trainer should stop
        out["cancelled"] = True
    return out


def _started(session: Session, principal: Principal, located: Located, run: TrainingRun | None,
             data: dict) -> TrainingRun:
    if run is not None and run.key_id == principal.key_id:  # this server's own job reporting in
        if run.status not in ACTIVE:
            return run  # cancelled before the trainer got going; the answer tells it to stop
    else:
        if run is not None and run.status in ACTIVE:
            if run.mode == "managed":
                raise Conflict(f"Model '{located.uri}' is being trained by this server; cancel that run first")
            finish(session, run, "failed", "superseded by a new run of this model", "superseded")
        args = data.get("trainArgs") if isinstance(data.get("trainArgs"), dict) else {}
        run = TrainingRun(model_id=located.model.id, workspace_id=located.workspace.id, user_id=principal.user_id,
                          mode="remote", status="starting", train_args=_typed_args(args), epochs=[], console="")
        session.add(run)
        activity.record(session, located.workspace.id, principal.user_id, "model.training_started", "model",
                        located.model.id, f"{located.project.slug}/{located.model.slug}")
    epochs = data.get("epochs")
    if isinstance(epochs, int) and epochs > 0:
        run.total_epochs = epochs
    run.status = "running"
    run.started_at = run.started_at or clock.now()
    run.device = str(data.get("device"))[:64] if data.get("device") else run.device
    run.environment = data.get("environment") if isinstance(data.get("environment"), dict) else None
    located.model.status = "running"
    session.flush()
    return run


def _typed_args(args: dict) -> dict:
    """Reported arguments arrive as strings; numbers and booleans become themselves again."""
    out = {}
    for key, value in args.items():
        if isinstance(value, str):
            low = value.strip()
            if low in ("True", "False"):
                value = low == "True"
            elif low in ("None", ""):
                continue
            else:
                try:
                    value = int(low)
                except ValueError:
                    try:
                        value = float(low)
                        value = value if math.isfinite(value) else None
                    except ValueError:
                        pass
        if value is not None:
            out[str(key)[:64]] = value
    return out


def _numbers(metrics: Any) -> dict[str, float]:
    if not isinstance(metrics, dict):
        return {}
    return {str(k): float(v) for k, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}


def _epoch_end(session, storage, run: TrainingRun, located: Located, data: dict) -> None:
    epoch = data.get("epoch")
    if not isinstance(epoch, int) or epoch < 0:
        raise Invalid("data.epoch must be a non-negative integer")
    total = data.get("total_epochs") or data.get("epochs_total")
    if isinstance(total, int) and total > 0:
        run.total_epochs = total
    metrics = _numbers(data.get("metrics"))
    for key in ("fitness", "best_fitness"):
        if isinstance(data.get(key), (int, float)) and math.isfinite(data[key]):
            metrics.setdefault(key, float(data[key]))
    if run.total_epochs and epoch >= run.total_epochs:  # the closing validation of the best weights
        run.results = {**(run.results or {}), "finalMetrics": metrics}
    else:
        run.epochs = [e for e in run.epochs if e["epoch"] != epoch] + [{"epoch": epoch, "metrics": metrics}]
        run.current_epoch = max(run.current_epoch, epoch + 1)
    if isinstance(data.get("system"), dict):
        run.system = data["system"]
    info = data.get("modelInfo")
    if isinstance(info, dict):
        located.model.metadata_ = {**(located.model.metadata_ or {}), "modelInfo": _numbers(info)}
    located.model.status = "running"


def _console(session, storage, run: TrainingRun, located: Located, data: dict) -> None:
    content = data.get("content")
    if isinstance(content, str) and content:
        run.console = (run.console + content if content.endswith("\n") else run.console + content + "\n")[-CONSOLE_LIMIT:]


def _system(session, storage, run: TrainingRun, located: Located, data: dict) -> None:
    run.system = data


def _checkpoint_saved(session, storage: Storage, run: TrainingRun, located: Located, data: dict) -> None:
    path = data.get("modelPath")
    if data.get("runId") not in (None, run.id):
        raise Invalid(f"data.runId {data.get('runId')!r} is not this model's current run ({run.id})")
    run.checkpoint_key = _staged_checkpoint(session, storage, located, path)


def _staged_checkpoint(session: Session, storage: Storage, located: Located, path: Any) -> str:
    """The storage key of a checkpoint uploaded for this model (``gcsPath`` of the upload answer)."""
    if not isinstance(path, str) or not path.startswith("uploads/"):
        raise Invalid("data.modelPath must be the gcsPath returned by /api/webhooks/models/upload")
    upload = session.get(UploadSession, path.split("/")[1])
    if upload is None or upload.asset_type != CHECKPOINT_ASSET or upload.asset_id != located.model.id \
            or staging_key(upload) != path:
        raise NotFound(f"No checkpoint upload '{path}' for model '{located.uri}'")
    if upload.status != "uploaded":
        raise Invalid(f"Checkpoint upload '{path}' has no data yet: PUT the file to its uploadUrl first")
    return path


def _complete(session, storage: Storage, run: TrainingRun, located: Located, data: dict) -> None:
    from yolohost.inference.runtime import inspect_checkpoint

    results = data.get("results") if isinstance(data.get("results"), dict) else {}
    key = run.checkpoint_key
    if key is None and results.get("modelPath"):
        key = _staged_checkpoint(session, storage, located, results["modelPath"])
    run.results = {**(run.results or {}), **{k: v for k, v in results.items() if k != "validation"}}
    if key is None:
        finish(session, run, "failed", "training finished but no checkpoint was uploaded", "no_checkpoint")
        return
    try:
        info = inspect_checkpoint(storage.path(key))
        models.attach_weights(session, storage, located, storage.path(key), info)
    except Invalid as exc:
        finish(session, run, "failed", f"the uploaded checkpoint was refused: {exc.message}", "bad_checkpoint")
        return
    model = located.model
    names = data.get("classNames")
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        model.class_names = names
    metrics = _numbers(results.get("metrics"))
    model.metrics = metrics or model.metrics
    plots = data.get("plots") if isinstance(data.get("plots"), list) else []
    model.metadata_ = {**(model.metadata_ or {}), "plots": plots, "runId": run.id,
                       **({"bestEpoch": results["bestEpoch"]} if isinstance(results.get("bestEpoch"), int) else {})}
    if run.mode == "remote" and not model.train_args:
        model.train_args = {k: run.train_args[k] for k in ("epochs", "batch", "imgsz")
                            if isinstance(run.train_args.get(k), int)}
    run.status = "completed"
    run.finished_at = clock.now()
    run.current_epoch = max(run.current_epoch, run.total_epochs or 0)
    model.status = "completed"
    _drop_upload(session, storage, key)
    interrupted = session.get(TrainingRun, run.resumed_from) if run.resumed_from else None
    if interrupted is not None and interrupted.checkpoint_key:  # continued and finished: its checkpoint is done
        _drop_upload(session, storage, interrupted.checkpoint_key)
        interrupted.checkpoint_key = None
    activity.record(session, run.workspace_id, run.user_id, "model.training_completed", "model", model.id,
                    f"{located.project.slug}/{model.slug}", {"runId": run.id})


def _failed(session, storage, run: TrainingRun, located: Located, data: dict) -> None:
    message = str(data.get("error") or "the trainer reported a failure")
    finish(session, run, "failed", message, str(data["code"])[:64] if data.get("code") else None)


_HANDLERS = {
    "epoch_end": _epoch_end,
    "console_output": _console,
    "system_metrics": _system,
    "checkpoint_saved": _checkpoint_saved,
    "training_complete": _complete,
    "training_failed": _failed,
}


# --- checkpoint uploads ----------------------------------------------------------------------------


def start_checkpoint_upload(session: Session, principal: Principal, body: dict, max_bytes: int,
                            quota_mb: int) -> tuple[UploadSession, Located, TrainingRun | None]:
    """An upload slot for a trainer's checkpoint (``POST /api/webhooks/models/upload``)."""
    from yolohost.storage_usage import service as storage_usage
    from yolohost.uploads.service import TTL

    filename = body.get("filename")
    if not isinstance(filename, str) or not filename.endswith(".pt") or "/" in filename:
        raise Invalid(f"filename must be a .pt file name; got {filename!r}")
    size = body.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, (int, float)) or size <= 0):
        raise Invalid(f"size must be a positive number of bytes; got {size!r}")
    if size is not None and size > max_bytes:
        raise Invalid(f"size: {int(size)} bytes is over the {max_bytes >> 20} MB limit for checkpoints")
    located, run = _located_for_report(session, principal, body)
    run_id = body.get("runId")
    if run_id is not None and (run is None or run.id != run_id):
        raise NotFound(f"Run {run_id!r} is not the current run of model '{located.uri}'")
    storage_usage.require_room(session, located.workspace, int(size or 0), quota_mb)
    upload = UploadSession(
        id=new_id("upl"), user_id=principal.user_id, asset_type=CHECKPOINT_ASSET, asset_id=located.model.id,
        filename=filename, content_type="application/octet-stream", total_bytes=int(size or 0),
        expires_at=clock.now() + TTL,
    )
    session.add(upload)
    session.flush()
    return upload, located, run


AFTER_COMMIT = "yolohost.delete_after_commit"  # session.info key: storage prefixes to delete once committed


def _drop_upload(session: Session, storage: Storage, key: str) -> None:
    """Close a staged upload; its files go once the transaction commits (``delete_after_commit``)."""
    upload = session.get(UploadSession, key.split("/")[1])
    if upload is not None:
        upload.status = "completed"
    session.info.setdefault(AFTER_COMMIT, []).append(f"uploads/{key.split('/')[1]}")

