"""The rules of datasets: create, find with access checks, describe, and ingest as a background job."""

from __future__ import annotations

import hashlib
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from yolohost.accounts import service as accounts
from yolohost.accounts.service import Principal
from yolohost.activity import service as activity
from yolohost.datasets import archive
from yolohost.datasets import repository as repo
from yolohost.datasets.labels import DATASET_TASKS
from yolohost.db.tables import Dataset, Image, Job, Workspace
from yolohost.jobs import service as jobs
from yolohost.jobs.registry import register
from yolohost.kit import clock
from yolohost.kit.errors import Conflict, Invalid, NotFound
from yolohost.kit.ids import check_slug, new_id
from yolohost.projects.service import editable_workspace

INGEST = "dataset_ingest"


@dataclass(frozen=True, slots=True)
class Located:
    dataset: Dataset
    workspace: Workspace


def new_image_id() -> str:
    """24 hex characters: the contract's ObjectId shape for image ids."""
    return secrets.token_hex(12)


def blob_key(sha256: str, ext: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256}{ext}"


def thumb_key(sha256: str) -> str:
    return f"thumbs/{sha256[:2]}/{sha256}.jpg"


def class_key(labels: list[dict]) -> str:
    return "," + "".join(f"{c}," for c in sorted({lb["classId"] for lb in labels}))


def class_ids(image: Image) -> list[int]:
    return [int(c) for c in image.class_key.strip(",").split(",") if c]


def create(session: Session, principal: Principal, *, slug: str, name: str, owner: str | None = None, task: str = "detect",
           description: str = "", visibility: str = "private", class_names: list[str] | None = None,
           tags: list[str] | None = None, license: str | None = None, metadata: dict | None = None) -> Located:
    check_slug(slug, "dataset")
    if task not in DATASET_TASKS:
        raise Invalid(f"task must be one of {', '.join(DATASET_TASKS)}; got {task!r}")
    workspace = editable_workspace(session, principal, owner, what="datasets")
    if repo.by_slug(session, workspace.id, slug) is not None:
        raise Invalid(f"dataset '{slug}' already exists in workspace '{workspace.username}'")
    dataset = Dataset(id=new_id("ds"), workspace_id=workspace.id, slug=slug, name=name, task=task, description=description,
                      visibility=visibility, class_names=list(class_names or []), tags=tags, license=license, metadata_=metadata)
    session.add(dataset)
    session.flush()
    activity.record(session, workspace.id, principal.user_id, "dataset.created", "dataset", dataset.id, slug)
    return Located(dataset, workspace)


def find(session: Session, principal: Principal | None, owner: str, slug: str) -> Located:
    return _readable(session, principal, repo.located_by_slugs(session, owner, slug), f"{owner}/{slug}")


def find_by_id(session: Session, principal: Principal | None, dataset_id: str) -> Located:
    return _readable(session, principal, repo.located_by_id(session, dataset_id), dataset_id)


def _readable(session: Session, principal: Principal | None, found, label: str) -> Located:
    if found is None:
        raise NotFound(f"Dataset '{label}' not found")
    located = Located(*found)
    accounts.require_read(session, principal, located.workspace, public=located.dataset.visibility == "public",
                          what=f"Dataset '{label}'")
    return located


def require_editor(session: Session, principal: Principal, located: Located) -> None:
    accounts.require_write(session, principal, located.workspace, public=located.dataset.visibility == "public",
                           what="Dataset")


def describe(session: Session, located: Located, *, detail: bool = False) -> dict:
    """The contract's ``Dataset`` (plus ``metadata`` for the detail view)."""
    d = located.dataset
    images, annotations, size, errors = repo.totals(session, d.id)
    out = {
        "id": d.id,
        "owner": located.workspace.username,
        "dataset": d.slug,
        "name": d.name,
        "description": d.description,
        "visibility": d.visibility,
        "task": d.task,
        "imageCount": images,
        "classCount": len(d.class_names),
        "classNames": list(d.class_names),
        "format": "yolo",
        "splits": repo.split_counts(session, d.id),
        "annotationCount": annotations,
        "totalBytes": size,
        "errorCount": errors,
        "starCount": 0,
        "isStarred": False,
        "status": d.status,
        "region": "us",
        "createdAt": clock.iso(d.created_at),
        "updatedAt": clock.iso(d.updated_at),
    }
    if d.tags:
        out["tags"] = d.tags
    if d.license:
        out["license"] = d.license
    if d.kpt_shape:
        out["kptShape"] = d.kpt_shape
    if d.processing_error and d.status == "failed":
        out["processingError"] = {"message": d.processing_error, "timestamp": clock.iso(d.updated_at)}
    if d.last_ingest:
        out["lastIngestJobId"] = d.last_ingest["jobId"]
        out["lastIngestSummary"] = d.last_ingest["summary"]
        out["processingTimeMs"] = d.last_ingest["ms"]
    versions = repo.versions(session, d.id)
    if versions:
        out["versions"] = [describe_version(v) for v in versions]
    if detail:
        out["metadata"] = d.metadata_ or {}
    return out


def describe_version(v) -> dict:
    return {
        "version": v.number,
        "description": v.description,
        "sizeBytes": v.size,
        "contentHash": v.content_hash,
        "imageCount": v.image_count,
        "classCount": v.class_count,
        "annotationCount": v.annotation_count,
        "splits": v.splits,
        "createdAt": clock.iso(v.created_at),
    }


# --- ingest ---------------------------------------------------------------------------------


def start_ingest(session: Session, principal: Principal, located: Located, *, staged_key: str | None,
                 source_url: str | None, target_split: str | None) -> Job:
    """Queue an ingest; the dataset shows ``processing`` until the job ends (``ready`` or ``failed``)."""
    dataset = located.dataset
    if dataset.status == "processing":
        raise Conflict(f"Dataset '{dataset.slug}' is already processing an ingest")
    if target_split is not None and target_split not in archive.SPLITS:
        raise Invalid(f"targetSplit must be train, val or test; got {target_split!r}")
    job = jobs.enqueue(session, INGEST, {"datasetId": dataset.id, "stagedKey": staged_key, "sourceUrl": source_url,
                                         "targetSplit": target_split},
                       user_id=principal.user_id, workspace_id=located.workspace.id, subject_id=dataset.id)
    dataset.status = "processing"
    dataset.processing_error = None
    dataset.updated_at = clock.now()
    session.flush()
    return job


def _fetch(url: str, dest: Path, max_bytes: int, timeout: float) -> None:
    from yolohost.inference.media import fetch

    dest.write_bytes(fetch(url, max_bytes=max_bytes, timeout=timeout, field="sourceUrl"))


def _read_source(ctx, work: Path) -> archive.Source:
    payload, settings = ctx.payload, ctx.settings
    with ctx.transaction() as session:
        dataset = session.get(Dataset, payload["datasetId"])
        task = dataset.task if repo.totals(session, dataset.id)[0] else None  # an empty dataset takes the source's task
    if dataset.task == "semantic":
        raise Invalid("ingesting semantic-segmentation masks is not supported yet")
    if payload.get("stagedKey"):
        source_file = ctx.storage.path(payload["stagedKey"])
    else:
        url = payload["sourceUrl"]
        source_file = work / ("source.ndjson" if url.split("?")[0].lower().endswith(".ndjson") else "source.archive")
        _fetch(url, source_file, settings.max_archive_mb << 20, settings.source_fetch_timeout_seconds)
    if source_file.suffix.lower() == ".ndjson":
        return archive.read_ndjson(source_file, payload.get("targetSplit"))
    extracted = work / "x"
    extracted.mkdir()
    archive.extract(source_file, extracted, max_bytes=settings.max_archive_expanded_mb << 20,
                    max_members=settings.max_archive_members)
    return archive.scan(extracted, task, payload.get("targetSplit"))


def store_image(storage, data: bytes, name: str, work: Path) -> tuple[str, str, int, int, int]:
    """Keep image bytes once by content hash, with a thumbnail; (sha256, ext, width, height, size)."""
    image, ext = _decode(data, name)
    sha = hashlib.sha256(data).hexdigest()
    if not storage.exists(blob_key(sha, ext)):
        blob = work / "blob"
        blob.write_bytes(data)
        storage.put_file(blob_key(sha, ext), blob)
        _thumbnail(image, work / "thumb.jpg")
        storage.put_file(thumb_key(sha), work / "thumb.jpg")
    return sha, ext, image.shape[1], image.shape[0], len(data)


def add_image(session: Session, storage, located: Located, path: Path, filename: str, split: str = "train") -> Image:
    """One uploaded image into a dataset, unlabelled; a name taken in the split gets a suffix."""
    with tempfile.TemporaryDirectory(prefix="image-") as tmp:
        sha, ext, width, height, size = store_image(storage, path.read_bytes(), filename, Path(tmp))
    taken = {name for s_, name in repo.existing_names(session, located.dataset.id) if s_ == split}
    stem, dot, suffix = filename.rpartition(".")
    name, n = filename, 1
    while name in taken:
        n += 1
        name = f"{stem}-{n}{dot}{suffix}" if dot else f"{filename}-{n}"
    image = Image(id=new_image_id(), dataset_id=located.dataset.id, sha256=sha, filename=name, ext=ext.lstrip("."),
                  width=width, height=height, size=size, split=split, labels=[], label_count=0, class_key=",")
    session.add(image)
    located.dataset.updated_at = clock.now()
    session.flush()
    return image


def _decode(data: bytes, name: str):
    """(BGR image, extension) of image bytes; an error naming the file if it is not an image."""
    from yolohost.inference.media import IMAGE_KINDS, sniff

    kind = sniff(data)
    if kind not in IMAGE_KINDS:
        raise Invalid(f"{name} is not an image (JPEG, PNG, WebP, BMP or TIFF)")
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise Invalid(f"{name} could not be decoded (corrupt image)")
    ext = {"jpeg": ".jpg", "png": ".png", "webp": ".webp", "bmp": ".bmp", "tiff": ".tiff"}[kind]
    return image, ext


def _thumbnail(image, path: Path, size: int = 256) -> None:
    import cv2

    h, w = image.shape[:2]
    scale = min(1.0, size / max(h, w))
    small = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(path), small, [cv2.IMWRITE_JPEG_QUALITY, 80])


@register(INGEST, on_failure=lambda session, job: _mark_failed(session, job))
def ingest(ctx) -> dict:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ingest-") as tmp:
        work = Path(tmp)
        ctx.progress(2, "reading the source")
        source = _read_source(ctx, work)
        rows = []
        total = max(1, len(source.entries))
        for i, entry in enumerate(source.entries):
            ctx.check_cancelled()
            if entry.path is not None:
                data = entry.path.read_bytes()
            else:
                data = _download(entry.url, ctx.settings)
            rows.append((entry, *store_image(ctx.storage, data, f"{entry.split}/{entry.name}", work)))
            if i % 20 == 0:
                ctx.progress(5 + 85 * i / total, f"stored {i}/{total} images")
    summary = _commit(ctx, source, rows, int((time.monotonic() - started) * 1000))
    ctx.log(f"added {summary['added']} images, skipped {sum(summary['skippedCounts'].values())}")
    return summary


def _download(url: str, settings) -> bytes:
    from yolohost.inference.media import fetch

    return fetch(url, max_bytes=settings.max_upload_bytes, timeout=settings.source_fetch_timeout_seconds, field="url")


def _commit(ctx, source: archive.Source, rows, ms: int) -> dict:
    """Everything becomes visible in one transaction, or nothing does."""
    with ctx.transaction() as session:
        dataset = session.get(Dataset, ctx.payload["datasetId"])
        has_images = repo.totals(session, dataset.id)[0] > 0
        if has_images and source.task and source.task != dataset.task:
            raise Invalid(f"the source is a {source.task} dataset but '{dataset.slug}' is {dataset.task}")
        if not has_images and source.task:
            dataset.task = source.task
        names = list(dataset.class_names)
        if source.class_names:
            if names and names[: len(source.class_names)] != source.class_names[: len(names)]:
                raise Invalid(f"the source's classes {source.class_names} do not match the dataset's {names}")
            if len(source.class_names) > len(names):
                names = list(source.class_names)
        dataset.class_names = names
        if source.kpt_shape:
            dataset.kpt_shape = list(source.kpt_shape)
        existing = repo.existing_names(session, dataset.id)
        added, skipped = 0, 0
        for entry, sha, ext, width, height, size in rows:
            if (entry.split, entry.name) in existing:
                skipped += 1
                continue
            existing.add((entry.split, entry.name))
            session.add(Image(id=new_image_id(), dataset_id=dataset.id, sha256=sha, filename=entry.name, ext=ext.lstrip("."),
                              width=width, height=height, size=size, split=entry.split, labels=entry.labels,
                              label_count=len(entry.labels), class_key=class_key(entry.labels)))
            added += 1
        summary = {"added": added, "errors": 0, "skippedCounts": {"duplicate": skipped} if skipped else {}}
        dataset.status = "ready"
        dataset.last_ingest = {"jobId": ctx.job_id, "summary": summary, "ms": ms}
        activity.record(session, dataset.workspace_id, ctx.user_id, "dataset.ingested", "dataset", dataset.id,
                        dataset.slug, {"added": added, "skipped": skipped})
        dataset.updated_at = clock.now()
    return summary


def _mark_failed(session: Session, job: Job) -> None:
    dataset = session.get(Dataset, (job.payload or {}).get("datasetId"))
    if dataset is not None:
        dataset.status = "failed"
        dataset.processing_error = (job.error or "ingest failed").removeprefix("Invalid: ").removeprefix("TooLarge: ")
        dataset.updated_at = clock.now()
        activity.record(session, dataset.workspace_id, job.user_id, "dataset.ingest_failed", "dataset", dataset.id,
                        dataset.slug, {"error": dataset.processing_error})


# --- trash ----------------------------------------------------------------------------------------


def trash(session: Session, principal: Principal, located: Located) -> None:
    require_editor(session, principal, located)
    located.dataset.deleted_at = clock.now()
    activity.record(session, located.workspace.id, principal.user_id, "dataset.deleted", "dataset", located.dataset.id,
                    located.dataset.slug)
    session.flush()


def trashed(session: Session, dataset_id: str) -> Located | None:
    found = repo.trashed_by_id(session, dataset_id)
    return Located(*found) if found else None


def restore(session: Session, located: Located) -> None:
    """Back from the trash, unless a live dataset took its slug meanwhile."""
    if repo.by_slug(session, located.workspace.id, located.dataset.slug) is not None:
        raise Invalid(f"a dataset '{located.dataset.slug}' exists again in '{located.workspace.username}'; "
                      "rename it before restoring this one")
    located.dataset.deleted_at = None
    located.dataset.updated_at = clock.now()
    session.flush()


def purge(session: Session, storage, located: Located) -> list[str]:
    """Delete a dataset's rows for good; returns the storage keys no other dataset still needs."""
    import json

    dataset = located.dataset
    blobs = repo.blobs_of(session, dataset.id)
    keep = repo.blobs_used_elsewhere(session, dataset.id, {sha for sha, _ in blobs})
    for other_id, number in repo.other_version_datasets(session, dataset.id):  # frozen versions keep their images
        from yolohost.datasets.versions import snapshot_key

        path = storage.path(snapshot_key(other_id, number))
        if path.is_file():
            keep |= {r["sha256"] for r in json.loads(path.read_bytes())["images"]}
    session.delete(dataset)
    session.flush()
    gone = [(sha, ext) for sha, ext in blobs if sha not in keep]
    return [f"versions/{dataset.id}"] + [blob_key(sha, "." + ext) for sha, ext in gone] + [thumb_key(sha) for sha, _ in gone]
