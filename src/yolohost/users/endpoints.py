"""HTTP routes of profiles: ``GET``/``PATCH /api/users``, ``GET /api/username/check``, ``GET``/``POST /api/settings``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from pydantic import Field

from yolohost.accounts.anonymous import MaybeUser
from yolohost.accounts.deps import AccountUser, CurrentUser
from yolohost.db.engine import transaction
from yolohost.projects.schemas import Body as RequestBody
from yolohost.projects.schemas import parse_body
from yolohost.users import service
from yolohost.users.schemas import SettingsBody

router = APIRouter(prefix="/api", tags=["Account"])

Username = Annotated[str, Query(min_length=1, max_length=32)]


class FollowBody(RequestBody):
    username: str = Field(min_length=1, max_length=32)
    followed: bool


@router.get("/users")
def public_profile(request: Request, principal: MaybeUser, username: Username):
    with request.app.state.sessions() as session:
        return service.profile(session, principal, username)


@router.patch("/users")
def follow(request: Request, principal: CurrentUser, raw: Annotated[Any, Body()] = None):
    body = parse_body(FollowBody, raw)
    with transaction(request.app.state.sessions) as session:
        return service.follow(session, principal, body.username, body.followed)


@router.get("/username/check")
def check_username(request: Request, principal: MaybeUser, username: Annotated[str, Query(min_length=1, max_length=64)],
                   suggest: bool = False):
    with request.app.state.sessions() as session:
        return service.check_username(session, username, suggest)


@router.get("/settings")
def get_settings(request: Request, principal: AccountUser):
    with request.app.state.sessions() as session:
        return {"settings": service.settings_of(session, principal)}


@router.post("/settings")
def update_settings(request: Request, principal: AccountUser, raw: Annotated[Any, Body()] = None):
    body = parse_body(SettingsBody, raw)
    with transaction(request.app.state.sessions) as session:
        return {"success": True, "settings": service.update_settings(session, principal, body)}
