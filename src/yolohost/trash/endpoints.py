"""HTTP routes of the trash: list it, restore an item, delete items for good."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request

from yolohost.accounts.deps import CurrentUser
from yolohost.db.engine import transaction
from yolohost.projects.schemas import parse_body
from yolohost.trash import schemas, service

router = APIRouter(prefix="/api/trash", tags=["Lifecycle"])


@router.get("")
def list_trash(
    request: Request,
    principal: CurrentUser,
    type: Literal["all", "project", "dataset", "model"] = "all",
    page: Annotated[int, Query(gt=0)] = 1,
    limit: Annotated[int, Query(gt=0, le=200)] = 50,
    owner: str | None = None,
):
    retention = request.app.state.settings.trash_retention_days
    with request.app.state.sessions() as session:
        workspace = service.workspace_for(session, principal, owner)
        return service.list_trash(session, principal, workspace, type_=type, page=page, limit=limit, retention_days=retention)


@router.post("")
def restore(request: Request, principal: CurrentUser, raw: Annotated[Any, Body()] = None):
    body = parse_body(schemas.ItemBody, raw)
    retention = request.app.state.settings.trash_retention_days
    with transaction(request.app.state.sessions) as session:
        return service.restore(session, principal, body.type, body.id, retention)


@router.delete("")
def delete_forever(request: Request, principal: CurrentUser, raw: Annotated[Any, Body()] = None, owner: str | None = None):
    body = schemas.parse_delete(raw)
    storage = request.app.state.storage
    with transaction(request.app.state.sessions) as session:
        if body is None:
            result, prefixes = service.purge_all(session, storage, principal, owner)
        else:
            result, prefixes = service.purge_one(session, storage, principal, body.type, body.id)
    for prefix in prefixes:  # only after the commit: a rolled-back delete keeps its files
        storage.delete_tree(prefix)
    return result
