"""``GET /api/storage``: a workspace's storage use by category and, with ``details=true``, its largest items."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request

from yolohost.accounts.deps import AccountUser
from yolohost.storage_usage import service

router = APIRouter(prefix="/api", tags=["Account"])


@router.get("/storage")
def storage_info(request: Request, principal: AccountUser, details: Literal["true", "false"] = "false",
                 owner: str | None = None):
    quota = request.app.state.settings.storage_quota_mb
    with request.app.state.sessions() as session:
        workspace = service.workspace_for(session, principal, owner)
        return service.info(session, workspace, quota_mb=quota, details=details == "true")
