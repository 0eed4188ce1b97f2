"""HTTP routes of datasets: create, list, retrieve, update, delete, ingest, images, versions.

Routes are the contract's ``/api/datasets/{owner}/{dataset}/...``; the seed reference's
``/api/datasets/{datasetId}/...`` reach the same handlers through ``datasets.id_paths``.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from yolohost.accounts.deps import api_key
from yolohost.accounts.service import Principal
from yolohost.datasets import images as images_view
from yolohost.datasets import repository as repo
from yolohost.datasets import service, versions
from yolohost.db.deps import DbSession
from yolohost.db.engine import transaction
from yolohost.kit import clock
from yolohost.kit.http import signed_link
from yolohost.kit.errors import Conflict, Forbidden, Invalid, NotFound
from yolohost.uploads import service as uploads

router = APIRouter(prefix="/api/datasets", tags=["Datasets"])
REGION = "us"
Visibility = Literal["public", "private"]
Task = Literal["detect", "segment", "semantic", "classify", "pose", "obb"]
DatasetsUser = api_key("datasets")
UploadDatasetsUser = api_key("datasets", category="upload")


class CreateBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dataset: str | None = Field(default=None, min_length=1, max_length=128)
    slug: str | None = Field(default=None, min_length=1, max_length=128)  # the seed reference's name for it
    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=1000)
    metadata: dict | None = None
    visibility: Visibility = "private"
    task: Task = "detect"
    classNames: list[str] | None = Field(default=None, max_length=25000)
    tags: list[str] | None = Field(default=None, max_length=50)
    license: str | None = None
    owner: str | None = None


class PatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starred: bool | None = None
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=1000)
    metadata: dict | None = None
    visibility: Visibility | None = None
    tags: list[str] | None = Field(default=None, max_length=50)
    classNames: list[str] | None = Field(default=None, max_length=25000)
    license: str | None = None
    task: Task | None = None


class IngestBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sessionId: str | None = Field(default=None, min_length=1, max_length=128)
    sourceUrl: str | None = Field(default=None, max_length=4096, pattern=r"(?i)^https?://")
    targetSplit: Literal["train", "val", "test"] | None = None


def _located(session, principal: Principal | None, ident: tuple[str, ...]) -> service.Located:
    if len(ident) == 1:
        return service.find_by_id(session, principal, ident[0])
    return service.find(session, principal, *ident)


@router.post("", status_code=201)
def create_dataset(body: CreateBody, session: DbSession, principal: Principal = DatasetsUser):
    slug = body.dataset or body.slug
    if not slug:
        raise Invalid("dataset (the slug) is required")
    located = service.create(
        session, principal, slug=slug, name=body.name, owner=body.owner, task=body.task, description=body.description,
        visibility=body.visibility, class_names=body.classNames, tags=body.tags, license=body.license, metadata=body.metadata,
    )
    return {"id": located.dataset.id, "owner": located.workspace.username, "dataset": located.dataset.slug, "region": REGION}


def _list(session, principal: Principal, owner: str | None, limit: int) -> dict:
    from yolohost.models.service import workspace_for
    from yolohost.accounts import service as accounts

    workspace = workspace_for(session, principal, owner)
    member = accounts.can_read(session, principal, workspace)
    datasets, total = repo.list_for(session, workspace.id, limit)
    visible = [d for d in datasets if member or d.visibility == "public"]
    total = total if member else len(visible)
    return {"datasets": [service.describe(session, service.Located(d, workspace)) for d in visible], "total": total,
            "region": REGION}


@router.get("")
def list_datasets_seed(session: DbSession, principal: Principal = DatasetsUser, owner: str | None = None,
                       username: str | None = None, limit: int = Query(default=1000, gt=0, le=1000)):
    return _list(session, principal, owner or username, limit)


@router.get("/{owner}")
def list_datasets(owner: str, session: DbSession, principal: Principal = DatasetsUser,
                  limit: int = Query(default=1000, gt=0, le=1000)):
    return _list(session, principal, owner, limit)


@router.get("/{owner}/{dataset}")
def retrieve_dataset(owner: str, dataset: str, session: DbSession, principal: Principal = DatasetsUser):
    located = service.find(session, principal, owner, dataset)
    return {"dataset": service.describe(session, located, detail=True)}


@router.patch("/{owner}/{dataset}")
def update_dataset(owner: str, dataset: str, body: PatchBody, session: DbSession, principal: Principal = DatasetsUser):
    located = service.find(session, principal, owner, dataset)
    service.require_editor(session, principal, located)
    d = located.dataset
    changes = body.model_dump(exclude_unset=True)
    if "classNames" in changes and len(changes["classNames"]) < len(d.class_names):
        raise Invalid("classNames may only rename or add classes; delete classes with classes/delete")
    if "task" in changes and changes["task"] != d.task and repo.totals(session, d.id)[0]:
        raise Invalid("task cannot change once the dataset has images")
    for field, attr in (("name", "name"), ("description", "description"), ("visibility", "visibility"), ("tags", "tags"),
                        ("classNames", "class_names"), ("license", "license"), ("task", "task"), ("metadata", "metadata_")):
        if field in changes:
            setattr(d, attr, changes[field])
    d.updated_at = clock.now()
    return {"success": True, "dataset": d.slug}


@router.delete("/{owner}/{dataset}")
def delete_dataset(owner: str, dataset: str, session: DbSession, principal: Principal = DatasetsUser):
    service.trash(session, principal, service.find(session, principal, owner, dataset))
    return {"success": True}


class SeedIngestBody(IngestBody):
    datasetId: str = Field(min_length=1, max_length=128)


@router.post("/ingest", status_code=201)
def ingest_dataset_seed(body: SeedIngestBody, session: DbSession, principal: Principal = UploadDatasetsUser):
    """The seed reference's form: the dataset named in the body."""
    located = service.find_by_id(session, principal, body.datasetId)
    return ingest_dataset(located.workspace.username, located.dataset.slug, body, session, principal)


@router.post("/{owner}/{dataset}/ingest", status_code=201)
def ingest_dataset(owner: str, dataset: str, body: IngestBody, session: DbSession,
                   principal: Principal = UploadDatasetsUser):
    located = service.find(session, principal, owner, dataset)
    service.require_editor(session, principal, located)
    if bool(body.sessionId) == bool(body.sourceUrl):
        raise Invalid("send exactly one of sessionId (an uploaded archive) or sourceUrl (a remote archive or NDJSON)")
    staged = uploads.for_ingest(session, body.sessionId, principal, located.dataset.id) if body.sessionId else None
    job = service.start_ingest(session, principal, located, staged_key=staged, source_url=body.sourceUrl,
                               target_split=body.targetSplit)
    return {"jobId": job.id, "status": "queued"}


@router.get("/{owner}/{dataset}/images")
def list_images(request: Request, owner: str, dataset: str, session: DbSession, principal: Principal = DatasetsUser,
                filters: images_view.Filters = Query()):
    located = service.find(session, principal, owner, dataset)
    return images_view.list_images(request, session, located, filters)


# --- versions and NDJSON export ------------------------------------------------------------------

download_router = APIRouter(tags=["Datasets"])


class ExportBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    description: str = Field(default="", max_length=200)


class VersionBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: int = Field(gt=0)
    description: str = Field(max_length=200)


class RestoreBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: int = Field(gt=0)


def _download_url(request: Request, located: service.Located, number: int) -> str:
    return signed_link(request, f"/exports/datasets/{located.dataset.id}/{number}/{located.dataset.slug}.ndjson")


@router.post("/{owner}/{dataset}/export")
def create_version(request: Request, owner: str, dataset: str, session: DbSession, body: ExportBody | None = None,
                   principal: Principal = api_key("datasets", category="export")):
    located = service.find(session, principal, owner, dataset)
    service.require_editor(session, principal, located)
    version, reused = versions.create(session, request.app.state.storage, located, (body or ExportBody()).description)
    return {"version": version.number, "downloadUrl": _download_url(request, located, version.number), "reused": reused}


@router.get("/{owner}/{dataset}/export")
def export_dataset(request: Request, owner: str, dataset: str, session: DbSession,
                   principal: Principal = api_key("datasets", category="download"), v: int | None = Query(default=None, gt=0)):
    located = service.find(session, principal, owner, dataset)
    if located.dataset.status == "processing":
        raise Conflict(f"Dataset '{dataset}' is processing an ingest; export it when it is ready")
    if v is None:
        return {"downloadUrl": _download_url(request, located, versions.LIVE), "cached": False}
    versions.get(session, located.dataset.id, v)
    return {"downloadUrl": _download_url(request, located, v), "version": v}


@router.patch("/{owner}/{dataset}/export")
def describe_version(owner: str, dataset: str, body: VersionBody, session: DbSession, principal: Principal = DatasetsUser):
    located = service.find(session, principal, owner, dataset)
    service.require_editor(session, principal, located)
    versions.get(session, located.dataset.id, body.version).description = body.description
    return {"ok": True}


@router.post("/{owner}/{dataset}/restore")
def restore_version(request: Request, owner: str, dataset: str, body: RestoreBody, session: DbSession,
                    principal: Principal = DatasetsUser):
    located = service.find(session, principal, owner, dataset)
    service.require_editor(session, principal, located)
    count = versions.restore(session, request.app.state.storage, located, body.version)
    return {"version": body.version, "imageCount": count}


@download_router.get("/exports/datasets/{dataset_id}/{number}/{filename}")
def download_ndjson(request: Request, dataset_id: str, number: int, filename: str, session: DbSession,
                    expires: int = Query(), signature: str = Query(min_length=1)):
    """The NDJSON of a version (``number`` 0: the dataset as it is now), for whoever holds the signed link."""
    if not request.app.state.signer.verify(request.url.path, expires, signature):
        raise Forbidden("This download link is invalid or has expired; request a new one")
    found = repo.located_by_id(session, dataset_id)
    if found is None:
        raise NotFound("Dataset not found")
    located = service.Located(*found)
    snapshot = versions.load(session, request.app.state.storage, located.dataset, number)
    from yolohost.datasets.images import signed

    body = "".join(versions.ndjson_lines(located.dataset, number, snapshot, lambda key: signed(request, key)))
    return Response(body, media_type="application/x-ndjson",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class SelectedBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    imageIds: list[str] = Field(min_length=1, max_length=1000)


@router.post("/{owner}/{dataset}/images")
def selected_images(request: Request, owner: str, dataset: str, body: SelectedBody, session: DbSession,
                    principal: Principal = DatasetsUser, filters: images_view.Filters = Query()):
    located = service.find(session, principal, owner, dataset)
    f = filters.model_copy(update={"limit": 1000, "offset": 0, "includeTotal": "true"})
    return images_view.list_images(request, session, located, f, only_ids=body.imageIds)


class SeedPredictBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    imageHash: str = Field(min_length=1, max_length=64)
    modelId: str = images_view.ModelUri
    confidence: float = Field(default=0.25, ge=0.01, le=1)
    iou: float = Field(default=0.7, ge=0, le=0.95)


@router.post("/{owner}/{dataset}/predict")
async def annotate_image(request: Request, owner: str, dataset: str, body: SeedPredictBody,
                         principal: Principal = api_key("datasets", category="predict")):
    """The seed reference's auto-annotation: predict labels for an image (by hash) and, if it has none yet, keep them."""
    from fastapi.concurrency import run_in_threadpool
    from sqlalchemy import select

    from yolohost.db.tables import Image

    def find_image() -> str:
        with request.app.state.sessions() as session:
            dataset_id = service.find(session, principal, owner, dataset).dataset.id
            image_id = session.scalar(select(Image.id).where(Image.dataset_id == dataset_id, Image.sha256 == body.imageHash))
            if image_id is None:
                raise NotFound(f"No image with hash {body.imageHash} in this dataset")
            return image_id

    image_id = await run_in_threadpool(find_image)
    result, image = await images_view.annotate(request, principal, image_id, body.modelId, body.confidence, body.iou)

    def keep() -> None:
        with transaction(request.app.state.sessions) as session:
            stored = session.get(Image, image_id)
            if stored is not None and not stored.labels:
                stored.labels, stored.label_count = result["predictions"], len(result["predictions"])
                stored.class_key = service.class_key(result["predictions"])

    await run_in_threadpool(keep)
    return result
