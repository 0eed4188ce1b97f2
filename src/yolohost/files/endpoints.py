"""``GET /files/...``: a stored file for whoever holds a valid, unexpired signed link (no API key)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from yolohost.kit.errors import Forbidden, NotFound

router = APIRouter(tags=["Files"])


@router.get("/files/{key:path}")
def download(request: Request, key: str, expires: int = Query(), signature: str = Query(min_length=1)):
    if not request.app.state.signer.verify(f"/files/{key}", expires, signature):
        raise Forbidden("This download link is invalid or has expired; request a new one")
    path = request.app.state.storage.path(key)
    if not path.is_file():
        raise NotFound("File not found")
    return FileResponse(path, filename=path.name, media_type="application/octet-stream")
