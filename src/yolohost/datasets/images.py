"""Images of a dataset over HTTP: the filtered, sorted list, and one image (retrieve, update, delete)."""

from __future__ import annotations

import re
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from yolohost.accounts.deps import api_key
from yolohost.accounts.service import Principal
from yolohost.datasets import labels as labels_mod
from yolohost.datasets import service
from yolohost.db.deps import DbSession
from yolohost.db.tables import Image
from yolohost.kit import clock
from yolohost.kit.http import signed_link
from yolohost.kit.errors import Conflict, Invalid, NotFound, Unprocessable

router = APIRouter(prefix="/api/images", tags=["Images"])
ImagesUser = api_key("datasets")
Bool = Literal["true", "false"]
SORTS = {
    "newest": Image.created_at.desc(), "oldest": Image.created_at.asc(),
    "name-asc": Image.filename.asc(), "name-desc": Image.filename.desc(),
    "height-asc": Image.height.asc(), "height-desc": Image.height.desc(),
    "width-asc": Image.width.asc(), "width-desc": Image.width.desc(),
    "size-asc": Image.size.asc(), "size-desc": Image.size.desc(),
    "labels-asc": Image.label_count.asc(), "labels-desc": Image.label_count.desc(),
}
LABELS_PREVIEW = 100  # labels per image in a list; more are marked labelsTruncated


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=5000)
    offset: int = Field(default=0, ge=0)
    includeTotal: Bool = "true"
    split: Literal["train", "val", "test"] | None = None
    hasError: Bool | None = None
    hasLabel: Bool | None = None
    classIds: str | None = Field(default=None, max_length=1000, pattern=r"^(?:\d+(?:,\d+)*)?$")
    search: str | None = Field(default=None, max_length=200)
    sort: Literal[tuple(SORTS)] = "newest"  # type: ignore[valid-type]
    includeThumbnails: Bool = "true"
    includeImageUrls: Bool = "false"
    includeLabels: Bool = "false"


def _where(dataset_id: str, f: Filters) -> list:
    where = [Image.dataset_id == dataset_id]
    if f.split:
        where.append(Image.split == f.split)
    if f.hasLabel is not None:
        where.append(Image.label_count > 0 if f.hasLabel == "true" else Image.label_count == 0)
    if f.hasError is not None:
        where.append(Image.error.is_not(None) if f.hasError == "true" else Image.error.is_(None))
    if f.classIds is not None:
        ids = [c for c in f.classIds.split(",") if c]
        where.append(or_(*[Image.class_key.contains(f",{int(c)},") for c in ids]) if ids else Image.id.is_(None))
    if f.search:
        term = f.search.lower()
        where.append(or_(func.lower(Image.filename).contains(term), Image.sha256.startswith(term)))
    return where


def signed(request: Request, key: str) -> str:
    return signed_link(request, f"/files/{key}")


def list_images(request: Request, session: Session, located: service.Located, f: Filters,
                only_ids: list[str] | None = None) -> dict:
    """The filtered, sorted page of a dataset's images; ``only_ids`` narrows it to selected images."""
    dataset = located.dataset
    where = _where(dataset.id, f)
    if only_ids is not None:
        where.append(Image.id.in_(only_ids))
    rows = list(session.scalars(select(Image).where(*where).order_by(SORTS[f.sort], Image.id).offset(f.offset).limit(f.limit + 1)))
    has_more = len(rows) > f.limit
    rows = rows[: f.limit]
    items = []
    for image in rows:
        item = {"id": image.id, "hash": image.sha256, "ext": image.ext, "width": image.width, "height": image.height,
                "split": image.split, "labelCount": image.label_count, "name": image.filename, "bytes": image.size,
                "error": image.error}
        if f.includeThumbnails == "true":
            item["thumbnailUrl"] = signed(request, service.thumb_key(image.sha256))
        if f.includeImageUrls == "true":
            item["imageUrl"] = signed(request, service.blob_key(image.sha256, "." + image.ext))
        if f.includeLabels == "true":
            item["labels"] = image.labels[:LABELS_PREVIEW]
            if len(image.labels) > LABELS_PREVIEW:
                item["labelsTruncated"] = True
        items.append(item)
    body = {"images": items, "hasMore": has_more, "classes": list(dataset.class_names),
            "errorCount": session.scalar(select(func.count()).select_from(Image).where(
                and_(Image.dataset_id == dataset.id, Image.error.is_not(None))))}
    if f.includeTotal == "true":
        body["total"] = session.scalar(select(func.count()).select_from(Image).where(*where))
    if has_more and rows and only_ids is None:
        body["nextCursor"] = rows[-1].id
    return body


# --- several images ------------------------------------------------------------------------------

ObjectIds = Field(min_length=1, max_length=1000)
OID = r"^[0-9a-fA-F]{24}$"


class BulkSplit(BaseModel):
    model_config = ConfigDict(extra="ignore")

    imageIds: list[str] = ObjectIds
    split: Literal["train", "val", "test"]
    conflictPolicy: Literal["skip", "keep_both", "replace"] | None = None


class BulkIds(BaseModel):
    model_config = ConfigDict(extra="ignore")

    imageIds: list[str] = ObjectIds


def _of_one_dataset(session: Session, principal: Principal, ids: list[str], *, write: bool, limit: int = 1000):
    """The images (all of one dataset the caller may use) for bulk operations; 404 if any is missing."""
    bad = [i for i in ids if not re.fullmatch(OID, i)]
    if bad:
        raise Invalid(f"imageIds: {bad[0]!r} is not an image id (24 hex characters)")
    if len(ids) > limit:
        raise Invalid(f"imageIds: at most {limit} per call")
    images = list(session.scalars(select(Image).where(Image.id.in_(set(ids)))))
    if len(images) != len(set(ids)) or len({i.dataset_id for i in images}) != 1:
        raise NotFound("Some images were not found, or they are not all in one dataset")
    located = service.find_by_id(session, principal, images[0].dataset_id)
    if write:
        service.require_editor(session, principal, located)
    return images, located


@router.patch("/bulk")
def move_images(body: BulkSplit, session: DbSession, principal: Principal = ImagesUser):
    images, located = _of_one_dataset(session, principal, body.imageIds, write=True)
    taken = {(s, n) for s, n in session.execute(select(Image.split, Image.filename).where(
        Image.dataset_id == located.dataset.id, Image.split == body.split))}
    moving = [i for i in images if i.split != body.split]
    clashes = [i for i in moving if (body.split, i.filename) in taken]
    if clashes and body.conflictPolicy is None:
        raise Conflict(f"{clashes[0].filename} already exists in {body.split}; pass conflictPolicy skip, keep_both or replace")
    modified = skipped = 0
    for image in moving:
        if (body.split, image.filename) in taken:
            if body.conflictPolicy == "skip":
                skipped += 1
                continue
            existing = session.scalar(select(Image).where(Image.dataset_id == located.dataset.id, Image.split == body.split,
                                                          Image.filename == image.filename))
            if body.conflictPolicy == "replace":
                session.delete(existing)
                session.flush()
            else:  # keep_both
                stem, dot, ext = image.filename.rpartition(".")
                image.filename = f"{stem or ext}-{image.id[:6]}{dot}{ext if stem else ''}"
        image.split = body.split
        image.updated_at = clock.now()
        modified += 1
    skipped += len(images) - len(moving)
    located.dataset.updated_at = clock.now()
    return {"success": True, "modifiedCount": modified, "skippedCount": skipped, "targetSplit": body.split}


@router.delete("/bulk")
def delete_images(body: BulkIds, session: DbSession, principal: Principal = ImagesUser):
    images, located = _of_one_dataset(session, principal, body.imageIds, write=True)
    for image in images:
        session.delete(image)
    located.dataset.updated_at = clock.now()
    return {"success": True, "deletedCount": len(images), "deletedImageIds": [i.id for i in images]}


@router.post("/urls")
def image_urls(request: Request, body: BulkIds, session: DbSession, principal: Principal = ImagesUser):
    images, _ = _of_one_dataset(session, principal, body.imageIds, write=False, limit=100)
    return {"urls": {i.id: signed(request, service.blob_key(i.sha256, "." + i.ext)) for i in images},
            "thumbnails": {i.id: signed(request, service.thumb_key(i.sha256)) for i in images}, "depths": {}}


# --- one image ---------------------------------------------------------------------------------


def _image(session: Session, principal: Principal, image_id: str, *, write: bool = False) -> tuple[Image, service.Located]:
    image = session.get(Image, image_id)
    if image is None:
        raise NotFound(f"Image '{image_id}' not found")
    try:
        located = service.find_by_id(session, principal, image.dataset_id)
    except NotFound:
        raise NotFound(f"Image '{image_id}' not found") from None
    if write:
        service.require_editor(session, principal, located)
    return image, located


def describe(image: Image, located: service.Located) -> dict:
    props = {"id": image.id, "datasetId": image.dataset_id, "filename": image.filename, "hash": image.sha256,
             "extension": image.ext, "width": image.width, "height": image.height, "split": image.split,
             "annotationCount": image.label_count, "classIds": service.class_ids(image), "bytes": image.size,
             "region": "us", "retainedByVersion": False, "createdAt": clock.iso(image.created_at),
             "updatedAt": clock.iso(image.updated_at), "error": image.error}
    return {"metadata": image.metadata_ or {}, "properties": props, "labels": image.labels,
            "classNames": list(located.dataset.class_names)}


class PatchImage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: list | None = Field(default=None, max_length=10000)
    metadata: dict | None = None


@router.get("/{image_id}")
def retrieve_image(image_id: str, session: DbSession, principal: Principal = ImagesUser):
    image, located = _image(session, principal, image_id)
    return describe(image, located)


@router.patch("/{image_id}")
def update_image(image_id: str, body: PatchImage, session: DbSession, principal: Principal = ImagesUser):
    if (body.labels is None) == (body.metadata is None):
        raise Invalid("send either labels or metadata")
    image, located = _image(session, principal, image_id, write=True)
    image.updated_at = clock.now()
    if body.metadata is not None:
        image.metadata_ = body.metadata
        return {"metadata": image.metadata_, "updatedAt": clock.iso(image.updated_at)}
    d = located.dataset
    kpt_dims = int(d.kpt_shape[1]) if d.kpt_shape else None
    checked = labels_mod.check_all(body.labels, d.task, len(d.class_names) or None, kpt_dims)
    image.labels, image.label_count, image.class_key = checked, len(checked), service.class_key(checked)
    d.updated_at = clock.now()
    return {"success": True, "labels": checked, "labelCount": len(checked)}


@router.delete("/{image_id}")
def delete_image(image_id: str, session: DbSession, principal: Principal = ImagesUser):
    image, located = _image(session, principal, image_id, write=True)
    session.delete(image)
    located.dataset.updated_at = clock.now()
    return {"success": True, "deletedImageId": image_id, "deletedCount": 1}


# --- auto-annotation -----------------------------------------------------------------------------

ModelUri = Field(max_length=256, pattern=r"^ul://[a-z0-9](?:[a-z0-9-]*[a-z0-9])?/[a-z0-9](?:[a-z0-9-]*[a-z0-9])?/[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


class PredictBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    modelId: str = ModelUri
    confidence: float = Field(default=0.25, ge=0.01, le=1)
    iou: float = Field(default=0.7, ge=0, le=0.95)


async def annotate(request: Request, principal: Principal, image_id: str, model_uri: str, conf: float, iou: float) -> tuple[dict, Image]:
    """Run a stored model on a stored image; predictions become Labels in the dataset's classes."""
    from fastapi.concurrency import run_in_threadpool

    from yolohost.models import service as models

    def lookup():
        with request.app.state.sessions() as session:
            image, located = _image(session, principal, image_id, write=True)
            owner, project, slug = model_uri.removeprefix("ul://").split("/")
            model = models.find(session, principal, owner, project, slug)
            return image, located, model, models.engine_ref(request.app.state.storage, model)

    image, located, model, ref = await run_in_threadpool(lookup)
    dataset = located.dataset
    if model.model.task != dataset.task:
        raise Invalid(f"model task '{model.model.task}' does not match the dataset's task '{dataset.task}'")
    engine = request.app.state.engine
    path = request.app.state.storage.path(service.blob_key(image.sha256, "." + image.ext))

    def run():
        import time

        import cv2

        from yolohost.inference.runtime import predict_labels

        started = time.monotonic()
        predictions = predict_labels(engine.cache.get(ref), cv2.imread(str(path)), conf=conf, iou=iou)
        return predictions, (time.monotonic() - started) * 1000

    predictions, ms = await engine.run(run)
    names = list(dataset.class_names)
    if not names:
        raise Invalid("the dataset has no classes yet; add classNames before auto-annotating")
    shared = set(names) & set(model.model.class_names or [])
    if not shared:
        raise Unprocessable(f"the model's classes {model.model.class_names} share none with the dataset's {names}")
    labels = [{"classId": names.index(name), **geometry} for name, geometry in predictions if name in shared]
    body = {"success": True, "predictions": labels, "modelUsed": model_uri, "inferenceTime": round(ms, 3)}
    return body, image


@router.post("/{image_id}/predict")
async def predict_image(request: Request, image_id: str, body: PredictBody,
                        principal: Principal = api_key("datasets", category="predict")):
    result, _ = await annotate(request, principal, image_id, body.modelId, body.confidence, body.iou)
    return result
