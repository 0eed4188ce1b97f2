"""``POST /api/gdpr`` (export or delete) and ``GET /api/gdpr?jobId=`` (an export's status and download).

The contract has no GDPR path; shapes follow the seed reference, bodies the house style
``{"success": true, "data": ...}``. Every route needs a key with the ``account`` scope.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response

from yolohost.accounts.deps import AccountUser
from yolohost.db.engine import transaction
from yolohost.db.tables import Job
from yolohost.gdpr import service
from yolohost.kit import clock
from yolohost.kit.errors import Invalid
from yolohost.kit.http import signed_link

router = APIRouter(prefix="/api/gdpr", tags=["GDPR"])

RawBody = Annotated[Any, Body()]


def _job(request: Request, job: Job) -> dict:
    data = {
        "jobId": job.id,
        "action": "export",
        "status": job.status,
        "progress": round(job.progress, 1),
        "message": job.message,
        "error": job.error,
        "createdAt": clock.iso(job.created_at),
        "finishedAt": clock.iso(job.finished_at),
    }
    key = service.archive_key(job)
    if job.status != "completed":
        return data
    if key is None or not request.app.state.storage.exists(key):
        return {**data, "expired": True, "message": "This archive was replaced by a newer export; request a new one"}
    ttl = request.app.state.settings.signed_url_ttl_seconds
    return {
        **data,
        "downloadUrl": signed_link(request, f"/files/{key}", ttl),
        "expiresAt": clock.iso(clock.now() + timedelta(seconds=ttl)),
        "fileName": PurePosixPath(key).name,
        "sizeBytes": job.result.get("sizeBytes"),
    }


@router.post("", status_code=202)
def start(request: Request, response: Response, principal: AccountUser, raw: RawBody = None):
    body = service.parse(raw)
    state = request.app.state
    if body.action == "export":
        with transaction(state.sessions) as session:
            job = service.start_export(session, principal)
        return {"success": True, "data": _job(request, job)}

    service.check_confirmation(body.confirmation_word)
    with transaction(state.sessions) as session:
        if body.team_username:
            deleted = service.delete_team(session, state.storage, principal, body.team_username)
        else:
            deleted = service.delete_account(session, state.storage, principal, state.settings.owner)
    removed = service.remove_files(state.storage, deleted.keys)
    response.status_code = 200
    data = {"action": "delete", "deleted": deleted.counts, "filesRemoved": removed}
    if body.team_username:
        data["teamUsername"] = body.team_username
    return {"success": True, "data": data}


@router.get("")
def status(request: Request, principal: AccountUser, jobId: str | None = Query(default=None, max_length=64)):
    if not jobId:
        raise Invalid("jobId is required: the id POST /api/gdpr returned")
    with request.app.state.sessions() as session:
        job = service.export_job(session, principal, jobId)
    return {"success": True, "data": _job(request, job)}
