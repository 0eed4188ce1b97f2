"""``GET /api/activity``, ``POST /api/activity/mark-seen``, ``POST /api/activity/archive`` (seed reference shapes)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from yolohost.accounts import service as accounts
from yolohost.accounts.deps import CurrentUser
from yolohost.accounts.roles import Role
from yolohost.activity import service
from yolohost.db.deps import DbSession
from yolohost.models.service import workspace_for

router = APIRouter(prefix="/api/activity", tags=["Activity"])


class Selection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all: bool | None = None
    eventIds: list[str] | None = Field(default=None, max_length=1000)
    owner: str | None = None

    @model_validator(mode="after")
    def one_of(self):
        if bool(self.all) == (self.eventIds is not None):
            raise ValueError("send either all: true or eventIds")
        return self


class ArchiveBody(Selection):
    archive: bool = True


def _workspace(session, principal, owner):
    workspace = workspace_for(session, principal, owner)
    accounts.require_role(session, principal, workspace, Role.viewer)
    return workspace


@router.get("")
def list_activity(principal: CurrentUser, session: DbSession, owner: str | None = None, archived: bool = False,
                  search: str | None = Query(default=None, max_length=200), page: int = Query(default=1, ge=1),
                  limit: int = Query(default=20, ge=1, le=100)):
    workspace = _workspace(session, principal, owner)
    rows, total, unseen = service.feed(session, workspace.id, principal.user_id, archived=archived, search=search,
                                       page=page, limit=limit)
    return {"events": [service.describe(*row) for row in rows], "total": total, "page": page, "limit": limit,
            "unseenCount": unseen}


@router.post("/mark-seen")
def mark_seen(body: Selection, principal: CurrentUser, session: DbSession):
    workspace = _workspace(session, principal, body.owner)
    return {"success": True, "updated": service.mark_seen(session, workspace.id, principal.user_id, body.eventIds)}


@router.post("/archive")
def archive(body: ArchiveBody, principal: CurrentUser, session: DbSession):
    workspace = _workspace(session, principal, body.owner)
    count = service.archive(session, workspace.id, principal.user_id, body.eventIds, body.archive)
    return {"success": True, "updated": count}
