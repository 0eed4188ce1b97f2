"""``POST /api/upload/signed-url``, ``PUT /upload/{sessionId}`` (signed, no key), ``POST /api/upload/complete``."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from yolohost.accounts.deps import UploadUser
from yolohost.db.deps import DbSession
from yolohost.db.engine import transaction
from yolohost.kit import clock
from yolohost.kit.http import receive_file, signed_link
from yolohost.kit.errors import Forbidden, Invalid
from yolohost.uploads import service

router = APIRouter(tags=["Upload"])


class SignedUrlBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assetType: str
    assetId: str = Field(min_length=1, max_length=128)
    filename: str = Field(min_length=1, max_length=256)
    contentType: str = Field(min_length=1, max_length=50)
    totalBytes: int = Field(gt=0)


class CompleteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sessionId: str = Field(min_length=1, max_length=128)
    checksum: str | None = Field(default=None, max_length=128)


@router.post("/api/upload/signed-url")
def signed_url(body: SignedUrlBody, request: Request, principal: UploadUser, session: DbSession):
    settings = request.app.state.settings
    upload = service.start(
        session, principal, asset_type=body.assetType, asset_id=body.assetId, filename=body.filename,
        content_type=body.contentType, total_bytes=body.totalBytes,
        max_bytes=(settings.max_archive_mb << 20) if body.assetType == "datasets" else settings.max_upload_bytes,
        quota_mb=settings.storage_quota_mb,
    )
    url = signed_link(request, f"/upload/{upload.id}", int(service.TTL.total_seconds()))
    return {"sessionId": upload.id, "uploadUrl": url, "expiresAt": clock.iso(upload.expires_at)}


@router.put("/upload/{session_id}")
async def put_bytes(request: Request, session_id: str, expires: int = Query(), signature: str = Query(min_length=1)):
    """The bytes of an upload session; refused beyond the announced size."""
    if not request.app.state.signer.verify(f"/upload/{session_id}", expires, signature):
        raise Forbidden("This upload link is invalid or has expired")
    with transaction(request.app.state.sessions) as session:
        upload = service.get_open(session, session_id)
        announced = upload.total_bytes  # 0: a trainer's checkpoint of unannounced size
        limit = announced or request.app.state.settings.max_upload_bytes
    sent_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if sent_type and sent_type not in (upload.content_type.lower(), "application/octet-stream"):
        raise Invalid(f"Content-Type {sent_type} does not match this upload's contentType {upload.content_type}")

    def accept(size: int) -> None:
        if announced and size != limit:
            raise Invalid(f"The upload has {size} bytes but totalBytes announced {limit}")
        if not announced:  # quota was checked against the announced size; check the real one
            with transaction(request.app.state.sessions) as session:
                service.require_room_for(session, upload, size, request.app.state.settings.storage_quota_mb)

    too_large = (f"The upload is larger than the announced totalBytes ({limit})" if announced
                 else f"The upload is over the {limit >> 20} MB limit")
    target = service.staged_path(request.app.state.storage, upload)
    size = await receive_file(request, target, limit, too_large, accept)
    with transaction(request.app.state.sessions) as session:
        service.received(session, service.get_open(session, session_id), size)
    return {"success": True, "size": size}


@router.post("/api/upload/complete")
def complete(body: CompleteBody, request: Request, principal: UploadUser):
    from yolohost.inference.runtime import inspect_checkpoint

    storage = request.app.state.storage
    with transaction(request.app.state.sessions) as session:
        upload = service.get_open(session, body.sessionId, principal.user_id)
        staged = service.staged_path(storage, upload)
        if upload.status == "uploaded" and body.checksum:
            digest = hashlib.sha256(staged.read_bytes()).hexdigest()
            if digest != body.checksum.lower():
                raise Invalid(f"checksum does not match the uploaded bytes (sha256 {digest})")
        info = inspect_checkpoint(staged) if upload.status == "uploaded" and upload.asset_type == "models" else None
        return service.complete(session, storage, principal, upload, info)
