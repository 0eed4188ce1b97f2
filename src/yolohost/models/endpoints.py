"""HTTP routes of models: create (JSON or multipart with the checkpoint), retrieve, files, predict,
list, update, trash and clone.

Both route styles are served: the contract's ``/api/models/{owner}/{project}/{model}`` and the
seed reference's ``/api/models/{modelId}`` (ids look like ``mdl_<24 hex>``, never like an owner).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import UploadFile

from yolohost.accounts.deps import CurrentUser, DownloadUser, ModelsUser, PredictUser
from yolohost.accounts.service import Principal
from yolohost.db.engine import transaction
from yolohost.exports import service as exports
from yolohost.kit.errors import Invalid, TooLarge
from yolohost.kit.http import describe_validation_error, signed_link
from yolohost.models import predict_input, service
from yolohost.models.service import Located
from yolohost.projects import schemas as fields
from yolohost.projects import service as projects
from yolohost.storage_usage import service as storage_usage

router = APIRouter(prefix="/api/models", tags=["Models"])
REGION = "us"


class ModelIdConvertor(Convertor):
    regex = "mdl_[0-9a-f]{24}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("modelid", ModelIdConvertor())


class CreateModelBody(BaseModel):
    """The contract's JSON create, plus the seed reference's ``projectId``/``slug`` spelling."""

    model_config = ConfigDict(extra="ignore")

    owner: str | None = None
    project: str | None = Field(default=None, min_length=1, max_length=128)
    projectId: str | None = Field(default=None, min_length=1, max_length=128)
    model: str | None = None
    slug: str | None = None
    name: str | None = Field(default=None, max_length=100)
    task: str | None = None
    description: str | None = Field(default=None, max_length=1000)


def _created(located: Located) -> dict:
    # The SDK's CreateModelResponse also requires `name` (the newer client wins over the 0.1.9 file).
    return {
        "id": located.model.id,
        "owner": located.workspace.username,
        "project": located.project.slug,
        "model": located.model.slug,
        "name": located.model.name,
        "region": REGION,
    }


def _create_with_checkpoint(request: Request, principal: Principal, fields: dict, checkpoint: Path) -> dict:
    from yolohost.inference.runtime import inspect_checkpoint

    info = inspect_checkpoint(checkpoint)  # 400 before anything is stored
    with transaction(request.app.state.sessions) as session:
        located = service.create(
            session,
            principal,
            project=fields["project"],
            owner=fields.get("owner"),
            slug=fields.get("slug"),
            name=fields.get("name"),
            task=info.task,
            description=fields.get("description"),
        )
        quota = request.app.state.settings.storage_quota_mb  # over it: 403, the route's "access denied" status
        storage_usage.require_room(session, located.workspace, checkpoint.stat().st_size, quota)
        service.attach_weights(session, request.app.state.storage, located, checkpoint, info)
        return _created(located)


@router.post("", status_code=201)
async def create_model(request: Request, principal: ModelsUser):
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        return await _create_multipart(request, principal)
    try:
        body = CreateModelBody.model_validate(await request.json())
    except ValueError as exc:
        if isinstance(exc, ValidationError):
            raise Invalid(describe_validation_error(exc)) from None
        raise Invalid("body: not valid JSON") from None
    project = body.project or body.projectId
    if not project:
        raise Invalid("project (or projectId) is required")

    def create() -> dict:
        with transaction(request.app.state.sessions) as session:
            located = service.create(
                session, principal, project=project, owner=body.owner, slug=body.model or body.slug,
                name=body.name, task=body.task, description=body.description,
            )
            return _created(located)

    return await run_in_threadpool(create)


async def _create_multipart(request: Request, principal: Principal) -> dict:
    max_bytes = request.app.state.settings.max_upload_bytes
    form = await predict_input.read_form(request, max_bytes)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise Invalid("file is required: the .pt checkpoint as a multipart file")
    if upload.size is not None and upload.size > max_bytes:
        raise TooLarge(f"file: larger than the {max_bytes // (1 << 20)} MB upload limit")
    project = form.get("projectId") or form.get("project")
    if not project:
        raise Invalid("projectId (or project) is required")
    stem = Path(upload.filename or "model.pt").stem
    fields = {
        "project": str(project),
        "owner": form.get("owner") or None,
        "slug": form.get("model") or form.get("slug") or None,
        "name": str(form.get("name") or stem),
        "description": form.get("description") or None,
    }
    with tempfile.NamedTemporaryFile(suffix=".pt") as tmp:
        await upload.seek(0)
        while chunk := await upload.read(1 << 20):
            tmp.write(chunk)
        tmp.flush()
        return await run_in_threadpool(_create_with_checkpoint, request, principal, fields, Path(tmp.name))


# --- reading ---------------------------------------------------------------------------------


def _find(session, principal: Principal | None, ident: tuple[str, ...]) -> Located:
    if len(ident) == 1:
        return service.find_by_id(session, principal, ident[0])
    return service.find(session, principal, *ident)


def _located(request: Request, principal: Principal | None, ident: tuple[str, ...]) -> Located:
    with request.app.state.sessions() as session:
        return _find(session, principal, ident)


def _detail(request: Request, principal: Principal, ident: tuple[str, ...]) -> dict:
    with request.app.state.sessions() as session:
        located = _find(session, principal, ident)
        stars = service.stars(session, principal, located.model.id)
    return {"model": service.describe(located, stars), "isOwner": located.workspace.owner_id == principal.user_id}


def _files(request: Request, principal: Principal, ident: tuple[str, ...]) -> dict:
    located = _located(request, principal, ident)
    model = located.model
    if not model.weights_sha256:
        return {"files": []}
    url = signed_link(request, f"/files/{service.weights_key(model.id)}")
    return {"files": [{"name": service.WEIGHTS_NAME, "size": model.weights_size, "downloadUrl": url}]}


@router.get("/{model_id:modelid}")
async def retrieve_model_by_id(request: Request, model_id: str, principal: ModelsUser):
    return await run_in_threadpool(_detail, request, principal, (model_id,))


@router.get("/{model_id:modelid}/files")
async def model_files_by_id(request: Request, model_id: str, principal: DownloadUser):
    return await run_in_threadpool(_files, request, principal, (model_id,))


@router.get("/{owner}/{project}/{model}")
async def retrieve_model(request: Request, owner: str, project: str, model: str, principal: ModelsUser):
    return await run_in_threadpool(_detail, request, principal, (owner, project, model))


@router.get("/{owner}/{project}/{model}/files")
async def model_files(request: Request, owner: str, project: str, model: str, principal: DownloadUser):
    return await run_in_threadpool(_files, request, principal, (owner, project, model))


# --- predict ---------------------------------------------------------------------------------


async def predict(request: Request, principal: Principal, ident: tuple[str, ...], fields=predict_input.PLATFORM,
                  shape: Any = None) -> Response:
    """Find the model, read the input, run the engine, meter the call; shared by every API generation."""

    def ref():
        located = _located(request, principal, ident)
        return located.workspace.id, service.engine_ref(request.app.state.storage, located)

    workspace_id, model_ref = await run_in_threadpool(ref)
    engine = request.app.state.engine
    media, args = await predict_input.read(request, engine, fields)
    if (args.runtime or request.app.state.settings.predict_runtime) != "pt":  # an export of the model serves it
        model_ref = await run_in_threadpool(exports.serving_ref, request.app.state, model_ref, args)
    timed = {}

    def shaped(result: dict):
        timed["seconds"] = result["metadata"]["functionTimeCall"]  # the engine's own measure of the call
        return shape(result) if shape else result

    body = await engine.predict_json(model_ref, media, args, shaped)
    request.app.state.usage.predicted(workspace_id, model_ref.id, timed["seconds"])
    return Response(body, media_type="application/json")


@router.post("/{model_id:modelid}/predict")
async def predict_by_id(request: Request, model_id: str, principal: PredictUser):
    return await predict(request, principal, (model_id,))


@router.post("/{owner}/{project}/{model}/predict")
async def predict_by_slug(request: Request, owner: str, project: str, model: str, principal: PredictUser):
    return await predict(request, principal, (owner, project, model))


# --- list, update, trash, clone --------------------------------------------------------------

STATUSES = ("pending", "untrained", "starting", "running", "completed", "failed", "cancelled")
RawBody = Annotated[Any, Body()]
Limit = Annotated[int, Query(gt=0, le=100, description="Maximum models to return")]


class UpdateModelBody(fields.Body):
    """The contract's PATCH (``visibility`` too, and the SDK's ``projectId`` move). Training results are
    written by training, which this server does not run yet: those fields are refused, not ignored."""

    NULLABLE = ("color",)
    UNSUPPORTED = ("datasetSlug", "trainArgs", "trainResults", "epochs", "bestEpoch", "bestFitness", "version",
                   "trainingError")

    starred: bool | None = None
    name: fields.Name | None = None
    color: Annotated[str, Field(max_length=7)] | None = None
    description: fields.Description | None = None
    metadata: fields.Metadata | None = None
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    license: fields.License | None = None
    visibility: fields.Visibility | None = None
    projectId: Annotated[str, Field(min_length=1, max_length=128)] | None = None


class CloneModelBody(fields.Body):
    """The contract's clone, plus the seed reference's ``targetProjectSlug`` and ``modelName``."""

    owner: fields.Owner | None = None
    project: fields.Slug | None = None
    model: fields.Slug | None = None
    name: fields.Name | None = None
    description: fields.Description | None = None
    targetProjectSlug: fields.Slug | None = None
    modelName: fields.Name | None = None


def _list(request: Request, principal: Principal, project_ident: tuple[str, ...], limit: int) -> dict:
    principal = projects.as_reader(principal, "models")  # no scope: public models only (the contract lists no 403)
    with request.app.state.sessions() as session:
        if len(project_ident) == 1:
            found = projects.find_by_id(session, principal, project_ident[0])
        else:
            found = projects.find(session, principal, *project_ident)
        return {"models": service.list_in_project(session, principal, found, limit), "region": REGION}


def _update(request: Request, principal: Principal, ident: tuple[str, ...], raw: Any) -> dict:
    body = fields.parse_body(UpdateModelBody, raw)
    with transaction(request.app.state.sessions) as session:
        return service.update(session, principal, _find(session, principal, ident), fields.sent(body))


def _delete(request: Request, principal: Principal, ident: tuple[str, ...]) -> dict:
    with transaction(request.app.state.sessions) as session:
        service.trash(session, principal, _find(session, principal, ident))
        return {"success": True}


def _clone(request: Request, principal: Principal, ident: tuple[str, ...], raw: Any) -> dict:
    body = fields.parse_body(CloneModelBody, raw)
    sent = fields.sent(body)
    sent["project"] = sent.pop("project", None) or sent.pop("targetProjectSlug", None)
    sent["name"] = sent.pop("name", None) or sent.pop("modelName", None)
    if not sent["project"]:
        raise Invalid("project is required: the destination project")
    storage = request.app.state.storage
    copied: list[str] = []
    try:
        with transaction(request.app.state.sessions) as session:
            source = _find(session, principal, ident)
            located = service.clone(session, storage, principal, source, sent, copied)
            return _created(located)
    except BaseException:
        for prefix in copied:  # the rows were rolled back: so go the copied weights
            storage.delete_tree(prefix)
        raise


@router.get("")
def list_models_by_project_id(request: Request, principal: CurrentUser, projectId: str, limit: Limit = 20):
    """The seed reference's list: ``?projectId=``."""
    return _list(request, principal, (projectId,), limit)


@router.patch("/{model_id:modelid}")
def update_model_by_id(request: Request, model_id: str, principal: ModelsUser, raw: RawBody = None):
    return _update(request, principal, (model_id,), raw)


@router.delete("/{model_id:modelid}")
def delete_model_by_id(request: Request, model_id: str, principal: ModelsUser):
    return _delete(request, principal, (model_id,))


@router.post("/{model_id:modelid}/clone", status_code=201)
def clone_model_by_id(request: Request, model_id: str, principal: ModelsUser, raw: RawBody = None):
    return _clone(request, principal, (model_id,), raw)


@router.get("/{owner}/{project}")
def list_models(request: Request, owner: str, project: str, principal: CurrentUser, limit: Limit = 20):
    return _list(request, principal, (owner, project), limit)


@router.patch("/{owner}/{project}/{model}")
def update_model(request: Request, owner: str, project: str, model: str, principal: ModelsUser, raw: RawBody = None):
    return _update(request, principal, (owner, project, model), raw)


@router.delete("/{owner}/{project}/{model}")
def delete_model(request: Request, owner: str, project: str, model: str, principal: ModelsUser):
    return _delete(request, principal, (owner, project, model))


@router.post("/{owner}/{project}/{model}/clone", status_code=201)
def clone_model(request: Request, owner: str, project: str, model: str, principal: ModelsUser, raw: RawBody = None):
    return _clone(request, principal, (owner, project, model), raw)
