"""HTTP routes of exports: the contract's ``/api/models/{owner}/{project}/{model}/exports[/{exportId}]``, the seed
reference's ``/api/exports`` routes, and ``PUT /exports/{exportId}/artifact``, the signed upload a runner on
another machine delivers its file to."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request

from yolohost.accounts.anonymous import MaybeUser
from yolohost.accounts.deps import api_key
from yolohost.accounts.service import Principal
from yolohost.db.engine import transaction
from yolohost.db.tables import Export
from yolohost.exports import service
from yolohost.exports.schemas import CreateExportBody, CreateExportByIdBody
from yolohost.kit.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from yolohost.kit.http import receive_file, signed_link
from yolohost.models import service as models
from yolohost.models.service import Located
from yolohost.projects import service as projects

router = APIRouter(tags=["Exports"])
REGION = "us"
_EXPORT_ID = re.compile(r"^[0-9a-fA-F]{24}$")

ExportsUser = Annotated[Principal, api_key("exports")]
ExportCreator = Annotated[Principal, api_key("exports", category="export")]
Limit = Annotated[int, Query(gt=0, le=100, description="Maximum exports to return")]


def _check_id(export_id: str) -> str:
    if not _EXPORT_ID.match(export_id):
        raise Invalid(f"exportId must be 24 hexadecimal characters; got {export_id!r}")
    return export_id.lower()


def _described(request: Request, export: Export) -> dict:
    url = signed_link(request, f"/files/{export.file_key}") if export.status == "completed" else None
    return service.describe(export, url)


def _create(request: Request, principal: Principal, body: CreateExportBody, find) -> dict:
    with transaction(request.app.state.sessions) as session:
        located = find(session)
        export = service.create(session, principal, located, body)
        out = {"id": export.id, "format": export.format, "status": export.status, "region": REGION}
        if export.gpu_type:
            out["gpuType"] = export.gpu_type
        return out


def _list(request: Request, principal: Principal | None, find, status: str | None, limit: int) -> dict:
    principal = projects.as_reader(principal, "exports") if principal else None
    with request.app.state.sessions() as session:
        located = find(session, principal)
        exports = service.list_for(session, located, status, limit)
    return {"exports": [_described(request, e) for e in exports], "region": REGION}


def _delete(request: Request, principal: Principal, find) -> dict:
    with transaction(request.app.state.sessions) as session:
        export, located = find(session)
        action, prefix = service.cancel_or_delete(session, principal, located, export)
    if prefix:
        request.app.state.storage.delete_tree(prefix)
    return {"success": True, "action": action}


# --- the contract's routes -------------------------------------------------------------------------


def _by_slugs(owner: str, project: str, model: str):
    return lambda session, principal: models.find(session, principal, owner, project, model)


@router.post("/api/models/{owner}/{project}/{model}/exports", status_code=201)
def create_export(request: Request, owner: str, project: str, model: str, body: CreateExportBody,
                  principal: ExportCreator):
    return _create(request, principal, body, lambda session: models.find(session, principal, owner, project, model))


@router.get("/api/models/{owner}/{project}/{model}/exports")
def list_exports(request: Request, owner: str, project: str, model: str, principal: MaybeUser,
                 status: str | None = None, limit: Limit = 20):
    return _list(request, principal, _by_slugs(owner, project, model), status, limit)


def _one(owner: str, project: str, model: str, export_id: str, principal: Principal):
    def find(session) -> tuple[Export, Located]:
        located = models.find(session, principal, owner, project, model)
        return service.find(session, located, _check_id(export_id)), located

    return find


@router.get("/api/models/{owner}/{project}/{model}/exports/{export_id}")
def get_export(request: Request, owner: str, project: str, model: str, export_id: str, principal: ExportsUser):
    with request.app.state.sessions() as session:
        export, _ = _one(owner, project, model, export_id, principal)(session)
    return {"export": _described(request, export)}


@router.delete("/api/models/{owner}/{project}/{model}/exports/{export_id}")
def delete_export(request: Request, owner: str, project: str, model: str, export_id: str, principal: ExportsUser):
    return _delete(request, principal, _one(owner, project, model, export_id, principal))


# --- the seed reference's /api/exports ------------------------------------------------------------


def _by_id(export_id: str, principal: Principal | None):
    return lambda session: service.find_by_id(session, principal, _check_id(export_id))


@router.get("/api/exports")
def list_exports_by_model_id(request: Request, principal: MaybeUser, modelId: str = Query(min_length=1),
                             status: str | None = None, limit: Limit = 20):
    return _list(request, principal, lambda session, reader: models.find_by_id(session, reader, modelId), status, limit)


@router.post("/api/exports", status_code=201)
def create_export_by_model_id(request: Request, body: CreateExportByIdBody, principal: ExportCreator):
    plain = CreateExportBody(format=body.format, gpuType=body.gpuType, args=body.args)
    return _create(request, principal, plain, lambda session: models.find_by_id(session, principal, body.modelId))


@router.get("/api/exports/{export_id}")
def get_export_by_id(request: Request, export_id: str, principal: ExportsUser):
    with request.app.state.sessions() as session:
        export, _ = _by_id(export_id, principal)(session)
    return {"export": _described(request, export)}


@router.delete("/api/exports/{export_id}")
def delete_export_by_id(request: Request, export_id: str, principal: ExportsUser):
    return _delete(request, principal, _by_id(export_id, principal))


@router.post("/api/exports/{export_id}/track-download")
def track_download(request: Request, export_id: str, principal: ExportsUser):
    with transaction(request.app.state.sessions) as session:
        export, _ = _by_id(export_id, principal)(session)
        return {"success": True, "downloadCount": service.track_download(session, export)}


# --- the file of a remote runner ------------------------------------------------------------------


@router.put("/exports/{export_id}/artifact")
async def put_artifact(request: Request, export_id: str, expires: int = Query(), signature: str = Query(min_length=1)):
    """The exported file, from a runner that cannot write this server's storage; at most ``YOLOHOST_MAX_EXPORT_MB``."""
    if not request.app.state.signer.verify(f"/exports/{export_id}/artifact", expires, signature):
        raise Forbidden("This upload link is invalid or has expired")

    def open_export() -> str:
        """The file key of the export, which must still be waiting for its file (409 otherwise)."""
        with request.app.state.sessions() as session:
            export = session.get(Export, export_id)
            if export is None:
                raise NotFound(f"Export '{export_id}' not found")
            if export.status not in ("queued", "running"):
                raise Conflict(f"Export '{export_id}' is {export.status}; it takes no file now")
            return export.file_key

    file_key = open_export()
    limit = request.app.state.settings.max_export_mb << 20
    declared = request.headers.get("content-length")
    too_large = f"The export is larger than the {limit >> 20} MB limit (YOLOHOST_MAX_EXPORT_MB)"
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(too_large)
    target = request.app.state.storage.path(file_key)
    size = await receive_file(request, target, limit, too_large)
    try:
        open_export()  # cancelled while the file arrived: its folder is gone, so the file goes too
    except (NotFound, Conflict):
        request.app.state.storage.delete_tree(str(Path(file_key).parent))
        raise
    return {"success": True, "size": size}
