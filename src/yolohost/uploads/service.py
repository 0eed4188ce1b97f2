"""The rules of uploads: who may upload to which asset, size checks, and completion per asset type."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from yolohost.accounts.service import Principal
from yolohost.db.tables import UploadSession
from yolohost.kit import clock
from yolohost.kit.errors import Conflict, Forbidden, Invalid, NotFound
from yolohost.kit.ids import new_id
from yolohost.kit.storage import Storage
from yolohost.models import service as models
from yolohost.storage_usage import service as storage_usage

ASSET_TYPES = ("models", "datasets", "images")  # images: assetId is the dataset they join
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".ndjson")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
TTL = timedelta(hours=12)


def staging_key(upload: UploadSession) -> str:
    """Where the bytes wait for completion; the file keeps its extension (ultralytics reads by suffix)."""
    return f"uploads/{upload.id}/upload{Path(upload.filename).suffix.lower()}"


def start(session: Session, principal: Principal, *, asset_type: str, asset_id: str, filename: str,
          content_type: str, total_bytes: int, max_bytes: int, quota_mb: int = 0) -> UploadSession:
    """``max_bytes``: the limit per asset type (checkpoints and archives differ); ``quota_mb``: the target
    workspace's storage quota (0: none), refused with 403 as the contract lists for this route."""
    if asset_type not in ASSET_TYPES:
        raise Invalid(f"assetType must be one of {', '.join(ASSET_TYPES)} on this server; got {asset_type!r}")
    if total_bytes > max_bytes:
        raise Invalid(f"totalBytes: {total_bytes} is over the {max_bytes // (1 << 20)} MB limit for {asset_type}")
    if asset_type in ("datasets", "images"):
        from yolohost.datasets import service as datasets

        target = datasets.find_by_id(session, principal, asset_id)
        datasets.require_editor(session, principal, target)
        workspace = target.workspace
    if asset_type == "images" and not filename.lower().endswith(IMAGE_SUFFIXES):
        raise Invalid(f"filename must be an image ({', '.join(IMAGE_SUFFIXES)}); got {filename!r}")
    if asset_type == "datasets":
        if not filename.lower().endswith(ARCHIVE_SUFFIXES):
            raise Invalid(f"filename must end in {', '.join(ARCHIVE_SUFFIXES)} for a dataset upload; got {filename!r}")
    if asset_type == "models":
        located = models.find_by_id(session, principal, asset_id)
        models.require_editor(session, principal, located)
        if not filename.endswith(".pt"):
            raise Invalid(f"filename must end in .pt for a model checkpoint; got {filename!r}")
        workspace = located.workspace
    storage_usage.require_room(session, workspace, total_bytes, quota_mb)
    upload = UploadSession(
        id=new_id("upl"), user_id=principal.user_id, asset_type=asset_type, asset_id=asset_id, filename=filename,
        content_type=content_type, total_bytes=total_bytes, expires_at=clock.now() + TTL,
    )
    session.add(upload)
    session.flush()
    return upload


def for_ingest(session: Session, session_id: str, principal: Principal, dataset_id: str) -> str:
    """The staged key of an uploaded dataset archive (complete or not) for an ingest."""
    upload = session.get(UploadSession, session_id)
    if upload is None or upload.asset_type != "datasets":
        raise NotFound(f"Upload session '{session_id}' not found")
    if upload.user_id != principal.user_id:
        raise Forbidden("This upload session belongs to another user")
    if upload.asset_id != dataset_id:
        raise Invalid(f"Upload session '{session_id}' was made for another dataset")
    if upload.status == "pending":
        raise Invalid(f"Upload session '{session_id}' has no data yet: PUT the file to its uploadUrl first")
    return staging_key(upload)


def get_open(session: Session, session_id: str, user_id: str | None = None) -> UploadSession:
    upload = session.get(UploadSession, session_id)
    if upload is None or (user_id is not None and upload.user_id != user_id):
        raise NotFound(f"Upload session '{session_id}' not found")
    expires = upload.expires_at if upload.expires_at.tzinfo else upload.expires_at.replace(tzinfo=clock.now().tzinfo)
    if expires < clock.now():
        raise Invalid(f"Upload session '{session_id}' has expired; start a new one")
    if upload.status == "completed":
        raise Conflict(f"Upload session '{session_id}' is already complete")
    return upload


def received(session: Session, upload: UploadSession, size: int) -> None:
    upload.received_bytes = size
    upload.status = "uploaded"
    session.flush()


def complete(session: Session, storage: Storage, principal: Principal, upload: UploadSession, info) -> dict:
    """Hand the uploaded bytes to their asset; ``info`` is what inspecting them gave (models: the checkpoint)."""
    if upload.status != "uploaded":
        raise Invalid(f"Upload session '{upload.id}' has no data yet: PUT the file to its uploadUrl first")
    if upload.asset_type == "models":
        located = models.find_by_id(session, principal, upload.asset_id)
        models.require_editor(session, principal, located)
        models.attach_weights(session, storage, located, storage.path(staging_key(upload)), info)
        storage.delete_tree(f"uploads/{upload.id}")
    if upload.asset_type == "images":
        from yolohost.datasets import service as datasets

        located = datasets.find_by_id(session, principal, upload.asset_id)
        datasets.require_editor(session, principal, located)
        datasets.add_image(session, storage, located, storage.path(staging_key(upload)), Path(upload.filename).name)
        storage.delete_tree(f"uploads/{upload.id}")
    # datasets: the bytes stay staged until an ingest takes them
    upload.status = "completed"
    session.flush()
    return {"success": True, "file": {"size": upload.received_bytes, "contentType": upload.content_type}}


def require_room_for(session: Session, upload: UploadSession, size: int, quota_mb: int) -> None:
    """The quota check of an upload whose size was not announced (a trainer's checkpoint of a model)."""
    from yolohost.models import repository as models_repo

    found = models_repo.located_by_id(session, upload.asset_id)
    if found is not None:
        storage_usage.require_room(session, found[2], size, quota_mb)


def staged_path(storage: Storage, upload: UploadSession) -> Path:
    return storage.path(staging_key(upload))
