"""``GET /api/explore/search`` and ``GET /api/explore/sidebar``: public content, with or without a key."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from yolohost.accounts.anonymous import MaybeUser
from yolohost.explore import service
from yolohost.kit.http import signed_link

router = APIRouter(prefix="/api/explore", tags=["Explore"])

Sort = Literal["newest", "stars", "oldest", "name-asc", "name-desc", "count-desc", "count-asc"]


def _signer(request: Request) -> service.Signer:
    return lambda key: signed_link(request, f"/files/{key}")


@router.get("/search")
def search(
    request: Request,
    principal: MaybeUser,
    q: Annotated[str, Query(max_length=200)] = "",
    type: Literal["all", "projects", "datasets"] = "all",
    sort: Sort = "newest",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    task: Annotated[str | None, Query(max_length=200)] = None,
    author: Annotated[str | None, Query(max_length=32)] = None,
    starred: Literal["true", "false"] = "false",
):
    f = service.filters(principal, q=q, task=task, author=author, starred=starred == "true")
    with request.app.state.sessions() as session:
        return service.search(session, principal, f, type_=type, sort=sort, offset=offset, limit=limit,
                              sign=_signer(request))


@router.get("/sidebar")
def sidebar(request: Request, principal: MaybeUser):
    with request.app.state.sessions() as session:
        return service.sidebar(session, principal, _signer(request))
