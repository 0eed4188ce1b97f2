"""The rules of exports: start one (format and options checked first), find, list, cancel or delete,
describe in the contract's shape, and pick an export to serve a prediction with."""

from __future__ import annotations

import math
import secrets

from sqlalchemy.orm import Session

from yolohost.accounts.service import Principal
from yolohost.db.tables import Export
from yolohost.exports import formats as formats_mod
from yolohost.exports import repository as repo
from yolohost.exports.formats import ALIASES, FORMATS, Format
from yolohost.exports.schemas import CreateExportBody
from yolohost.inference.args import PredictArgs
from yolohost.inference.engine import ModelRef
from yolohost.jobs import repository as jobs_repo
from yolohost.jobs import service as jobs
from yolohost.kit import clock
from yolohost.kit.errors import Conflict, Invalid, NotFound
from yolohost.models import service as models
from yolohost.models.service import Located

KIND = "export"
STATUSES = ("queued", "starting", "running", "completed", "failed", "cancelled")
#: Precisions whose export calibrates on a data set: none is given to exports here (and none is downloaded).
CALIBRATED = {8, "8", "int8", "w8a8", "w8a16"}


def new_export_id() -> str:
    return secrets.token_hex(12)


def directory(export: Export) -> str:
    """The storage prefix holding everything of one export (under its model's files)."""
    return f"{models.files_prefix(export.model_id)}/exports/{export.id}"


def resolve_format(name: str) -> Format:
    """The format named ``name`` if its converter runs here; 400 naming what is missing otherwise."""
    key = name.strip().lower()
    fmt = FORMATS.get(ALIASES.get(key, key))
    if fmt is None:
        raise Invalid(f"format must be one of {', '.join(FORMATS)}; got {name!r}")
    missing = fmt.missing()
    if missing:
        raise Invalid(
            f"format '{fmt.name}' ({fmt.label}) is not available on this server: its converter needs "
            f"{', '.join(missing)}, not installed here. Formats available here: {', '.join(formats_mod.available())}"
        )
    return fmt


def _check_options(args: dict) -> None:
    quantize = args.get("quantize", 8 if args.get("int8") else None)
    if quantize in CALIBRATED:
        raise Invalid(f"args.quantize: {quantize!r} (INT8) calibrates on a data set, which exports on this server "
                      "are not given; use quantize 16 or 32")


def create(session: Session, principal: Principal, located: Located, body: CreateExportBody) -> Export:
    """Queue an export of the model's current checkpoint; it runs as a job (kind ``export``)."""
    models.require_editor(session, principal, located)
    fmt = resolve_format(body.format)
    model = located.model
    if not model.weights_sha256:
        raise Invalid(f"Model '{located.uri}' has no weights to export yet; upload a checkpoint or train it first")
    args = body.args.model_dump(exclude_none=True) if body.args else {}
    _check_options(args)
    same = repo.active_like(session, model.id, fmt.name, args, body.gpuType)
    if same is not None:
        raise Conflict(f"An export of model '{located.uri}' to {fmt.name} with these options is already {same.status} "
                       f"(id {same.id})")
    export_id = new_export_id()
    job = jobs.enqueue(session, KIND, {"exportId": export_id}, user_id=principal.user_id,
                       workspace_id=located.workspace.id, subject_id=model.id)
    file_name = fmt.file_name(model.slug)
    export = Export(id=export_id, model_id=model.id, workspace_id=located.workspace.id, user_id=principal.user_id,
                    job_id=job.id, format=fmt.name, args=args, gpu_type=body.gpuType, status="queued", task=model.task,
                    source_sha256=model.weights_sha256, file_key=f"{models.files_prefix(model.id)}/exports/{export_id}/{file_name}",
                    file_name=file_name, dynamic=False, download_count=0)
    session.add(export)
    session.flush()
    return export


def find(session: Session, located: Located, export_id: str) -> Export:
    export = repo.get(session, export_id)
    if export is None or export.model_id != located.model.id:
        raise NotFound(f"Export '{export_id}' not found for model '{located.uri}'")
    return export


def find_by_id(session: Session, principal: Principal | None, export_id: str) -> tuple[Export, Located]:
    """An export and its model (the model must be readable by the caller)."""
    export = repo.get(session, export_id)
    if export is None:
        raise NotFound(f"Export '{export_id}' not found")
    return export, models.find_by_id(session, principal, export.model_id)


def list_for(session: Session, located: Located, status: str | None, limit: int) -> list[Export]:
    if status is not None and status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}; got {status!r}")
    return repo.for_model(session, located.model.id, status=status, limit=limit)


def cancel_or_delete(session: Session, principal: Principal, located: Located, export: Export) -> tuple[str, str | None]:
    """Cancel an active export, or delete a finished one. Returns the action and the storage prefix to remove
    once the transaction commits (None when nothing is to be removed)."""
    models.require_editor(session, principal, located)
    if export.status in repo.ACTIVE:
        job = jobs_repo.get(session, export.job_id) if export.job_id else None
        if job is not None and job.status not in jobs.FINAL:
            jobs.cancel(session, job)
        if job is None or job.status in jobs.FINAL:  # a queued job ends at once; a running one when its worker stops
            export.status = "cancelled"
            export.updated_at = clock.now()
        session.flush()
        return "cancelled", None
    prefix = directory(export)
    session.delete(export)
    session.flush()
    return "deleted", prefix


def track_download(session: Session, export: Export) -> int:
    if export.status != "completed":
        raise Conflict(f"Export '{export.id}' is {export.status}; only a completed export can be downloaded")
    export.download_count += 1
    session.flush()
    return export.download_count


def describe(export: Export, download_url: str | None = None) -> dict:
    """The contract's ``Export``; ``file`` only once completed (with its signed ``downloadUrl``)."""
    out = {"id": export.id, "status": export.status, "format": export.format, "args": dict(export.args or {}),
           "createdAt": clock.iso(export.created_at), "updatedAt": clock.iso(export.updated_at)}
    if export.gpu_type:
        out["gpuType"] = export.gpu_type
    if export.status == "completed" and export.size is not None:
        out["file"] = {"size": export.size, "downloadFilename": export.file_name}
        if download_url:
            out["file"]["downloadUrl"] = download_url
    if export.error:
        out["error"] = {"message": export.error, "timestamp": clock.iso(export.error_at or export.updated_at)}
    if export.started_at:
        out["startedAt"] = clock.iso(export.started_at)
    if export.completed_at:
        out["completedAt"] = clock.iso(export.completed_at)
    return out


# --- serving predictions from an export ----------------------------------------------------------

#: Preferred order when the server picks a runtime on its own (fastest first on a CPU).
AUTO_ORDER = ("openvino", "onnx")


def _fits(export: Export, imgsz: int) -> bool:
    """Whether the export takes inputs of ``imgsz`` (rounded up to the stride, as ultralytics does)."""
    return export.dynamic or export.imgsz == math.ceil(imgsz / 32) * 32


def serving_ref(state, ref: ModelRef, args: PredictArgs) -> ModelRef:
    """The artifact a prediction runs on: the checkpoint (``pt``), or the newest completed export of the
    requested runtime made from the current checkpoint. ``runtime=auto`` (or the server's default
    ``YOLOHOST_PREDICT_RUNTIME=auto``) takes the fastest export that fits the request, else the checkpoint."""
    wanted = args.runtime or state.settings.predict_runtime
    if wanted == "pt":
        return ref
    candidates = AUTO_ORDER if wanted == "auto" else (wanted,)
    with state.sessions() as session:
        found = repo.servable(session, ref.id, ref.digest, candidates)
    found.sort(key=lambda e: candidates.index(e.format))
    for export in found:
        if _fits(export, args.imgsz):
            return ModelRef(id=ref.id, uri=ref.uri, weights=state.storage.path(export.serve_key), digest=export.sha256,
                            runtime=export.format, task=export.task)
    if wanted == "auto":
        return ref
    if found:
        sizes = ", ".join(sorted({str(e.imgsz) for e in found}))
        raise Invalid(f"runtime: the {wanted} export of model '{ref.uri}' takes imgsz {sizes} only (not dynamic); "
                      f"send imgsz={found[0].imgsz} or export again with dynamic=true")
    raise Invalid(f"runtime: model '{ref.uri}' has no completed {wanted} export of its current weights; "
                  f"create one with POST /api/models/{ref.uri}/exports {{\"format\": \"{wanted}\"}}")

