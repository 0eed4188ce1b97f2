"""HTTP routes of training: start and devices, a model's progress and cancel, and the trainer webhooks.

``POST /api/training/start``, ``GET /api/training/gpu-availability``,
``GET|DELETE /api/models/{owner}/{project}/{model}/training`` (and by model id, plus ``/training/epochs``
with every epoch's metrics), ``POST /api/webhooks/training/metrics``, ``POST /api/webhooks/models/upload``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from yolohost.accounts.anonymous import MaybeUser
from yolohost.accounts.deps import api_key
from yolohost.accounts.service import Principal
from yolohost.db.engine import transaction
from yolohost.db.tables import TrainingRun
from yolohost.jobs.execution import is_remote
from yolohost.kit.errors import AppError, Invalid
from yolohost.kit.http import signed_link
import yolohost.models.endpoints  # noqa: F401  (registers the "modelid" path convertor used below)
from yolohost.models import service as models
from yolohost.projects import service as projects
from yolohost.training import devices, service
from yolohost.uploads.service import TTL, staging_key

router = APIRouter(tags=["Training"])
TrainingUser = Annotated[Principal, api_key("training", category="training")]
ReportingUser = Annotated[Principal, api_key("training")]  # trainers report often: the default budget
RawBody = Annotated[Any, Body()]


class NoCapacity(AppError):
    status = 503


def _base_url(request: Request) -> str:
    return (request.app.state.settings.public_url or str(request.base_url)).rstrip("/")


def _busy_devices(session) -> set[str]:
    rows = session.scalars(select(TrainingRun.gpu_type).where(
        TrainingRun.mode == "managed", TrainingRun.status.in_(service.ACTIVE)))
    return {r for r in rows if r}


@router.get("/api/training/gpu-availability")
def gpu_availability(request: Request):
    """Public, as in the contract: which devices of this machine are free."""
    with request.app.state.sessions() as session:
        return devices.availability(_busy_devices(session))


def _start(request: Request, principal: Principal, body: Any) -> dict:
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object with modelId and trainArgs")
    model_id, train_args, gpu_type = body.get("modelId"), body.get("trainArgs"), body.get("gpuType")
    if not isinstance(model_id, str) or not model_id:
        raise Invalid("modelId is required")
    if gpu_type is not None and not isinstance(gpu_type, str):
        raise Invalid("gpuType must be a string")
    device_arg = train_args.get("device") if isinstance(train_args, dict) else None
    try:
        gpu, device = devices.choose(gpu_type, None if device_arg is None else str(device_arg))
    except KeyError as missing:
        raise NoCapacity(f"No device '{missing.args[0]}' on this server; it has: "
                         f"{', '.join(devices.local())} (GET /api/training/gpu-availability)") from None
    settings = request.app.state.settings
    with transaction(request.app.state.sessions) as session:
        located = models.find_by_id(session, principal, model_id)
        if isinstance(train_args, dict):
            train_args = {k: v for k, v in train_args.items() if k != "device"}
        weights_dir = None if is_remote(settings) else settings.data_dir / "weights"
        service.start(session, principal, located, train_args, device, gpu, weights_dir)
    info = devices.describe(gpu)
    return {"modelId": model_id, "status": "starting", "gpuType": gpu,
            "estimatedCost": {"pricePerHour": 0, "gpuMemoryGb": info["memoryGb"]},
            "billing": {"estimatedCostCents": 0, "estimatedCostDisplay": "$0.00", "balanceCents": 0}}


@router.post("/api/training/start")
async def start_training(request: Request, principal: TrainingUser, body: RawBody = None):
    """Train on this machine (or the Ray cluster). Nobody is charged: costs and balances are zero."""
    return await run_in_threadpool(_start, request, principal, body)


# --- progress, per-epoch metrics, cancel -----------------------------------------------------------


def _find(session, principal, ident: tuple[str, ...]):
    return models.find_by_id(session, principal, ident[0]) if len(ident) == 1 else models.find(session, principal, *ident)


def _reader(principal: Principal | None) -> Principal | None:
    """Anyone reads a public model's training; a key without the models scope reads as no key."""
    return projects.as_reader(principal, "models") if principal else None


def _progress(request: Request, principal: Principal | None, ident: tuple[str, ...]) -> dict:
    principal = _reader(principal)
    with request.app.state.sessions() as session:
        located = _find(session, principal, ident)
        return service.progress(service.latest_run(session, located.model.id))


def _epochs(request: Request, principal: Principal | None, ident: tuple[str, ...]) -> dict:
    principal = _reader(principal)
    with request.app.state.sessions() as session:
        located = _find(session, principal, ident)
        run = service.latest_run(session, located.model.id)
        return {"runId": run.id if run else None, "status": run.status if run else None,
                "epochs": run.epochs if run else [], "console": run.console if run else ""}


def _cancel(request: Request, principal: Principal, ident: tuple[str, ...]) -> dict:
    with transaction(request.app.state.sessions) as session:
        return service.cancel(session, principal, _find(session, principal, ident))


@router.get("/api/models/{model_id:modelid}/training")
def training_progress_by_id(request: Request, model_id: str, principal: MaybeUser):
    return _progress(request, principal, (model_id,))


@router.get("/api/models/{model_id:modelid}/training/epochs")
def training_epochs_by_id(request: Request, model_id: str, principal: MaybeUser):
    return _epochs(request, principal, (model_id,))


@router.delete("/api/models/{model_id:modelid}/training")
def cancel_training_by_id(request: Request, model_id: str, principal: TrainingUser):
    return _cancel(request, principal, (model_id,))


@router.get("/api/models/{owner}/{project}/{model}/training")
def training_progress(request: Request, owner: str, project: str, model: str, principal: MaybeUser):
    return _progress(request, principal, (owner, project, model))


@router.get("/api/models/{owner}/{project}/{model}/training/epochs")
def training_epochs(request: Request, owner: str, project: str, model: str, principal: MaybeUser):
    return _epochs(request, principal, (owner, project, model))


@router.delete("/api/models/{owner}/{project}/{model}/training")
def cancel_training(request: Request, owner: str, project: str, model: str, principal: TrainingUser):
    return _cancel(request, principal, (owner, project, model))


# --- webhooks: what trainers report ----------------------------------------------------------------


def _metrics(request: Request, principal: Principal, body: Any) -> dict:
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object with event and data")
    storage = request.app.state.storage
    with transaction(request.app.state.sessions) as session:
        answer = service.on_event(session, storage, principal, body, _base_url(request))
        pending = session.info.pop(service.AFTER_COMMIT, [])
    for prefix in pending:  # staged checkpoints the run no longer needs, once the change is committed
        storage.delete_tree(prefix)
    return answer


@router.post("/api/webhooks/training/metrics")
async def training_metrics(request: Request, principal: ReportingUser, body: RawBody = None):
    return await run_in_threadpool(_metrics, request, principal, body)


def _upload(request: Request, principal: Principal, body: Any) -> dict:
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object with filename and modelId (or project and name)")
    settings = request.app.state.settings
    with transaction(request.app.state.sessions) as session:
        upload, located, _ = service.start_checkpoint_upload(
            session, principal, body, settings.max_upload_bytes, settings.storage_quota_mb)
        key = staging_key(upload)
        model_id = located.model.id
    return {"uploadUrl": signed_link(request, f"/upload/{upload.id}", int(TTL.total_seconds())),
            "gcsPath": key, "uploadPath": key, "modelId": model_id}


@router.post("/api/webhooks/models/upload")
async def model_upload(request: Request, principal: ReportingUser, body: RawBody = None):
    return await run_in_threadpool(_upload, request, principal, body)
