"""HTTP routes of projects: create, list, retrieve, update, trash, clone.

Both route styles are served: the contract's ``/api/projects/{owner}/{project}`` and the seed
reference's ``/api/projects/{projectId}`` (ids look like ``prj_<24 hex>``, never like an owner).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from sqlalchemy.orm import Session
from starlette.convertors import Convertor, register_url_convertor

from yolohost.accounts.deps import CurrentUser, ProjectsUser
from yolohost.accounts.service import Principal
from yolohost.db.engine import transaction
from yolohost.projects import schemas, service
from yolohost.projects.service import REGION, Found

router = APIRouter(prefix="/api/projects", tags=["Projects"])


class ProjectIdConvertor(Convertor):
    regex = "prj_[0-9a-f]{24}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("projectid", ProjectIdConvertor())

Limit = Annotated[int, Query(gt=0, le=500, description="Maximum projects to return")]
RawBody = Annotated[Any, Body()]


def _find(session: Session, principal: Principal | None, ident: tuple[str, ...]) -> Found:
    if len(ident) == 1:
        return service.find_by_id(session, principal, ident[0])
    return service.find(session, principal, *ident)


@router.post("", status_code=201)
def create_project(request: Request, principal: ProjectsUser, raw: RawBody = None):
    body = schemas.parse_body(schemas.CreateProjectBody, raw)
    with transaction(request.app.state.sessions) as session:
        found = service.create(
            session, principal, slug=body.project or body.slug, name=body.name, owner=body.owner,
            description=body.description, metadata=body.metadata, visibility=body.visibility, tags=body.tags,
            license=body.license,
        )
        return {"id": found.project.id, "owner": found.workspace.username, "project": found.project.slug, "region": REGION}


def _list(request: Request, principal: Principal, owner: str, limit: int) -> dict:
    with request.app.state.sessions() as session:
        projects, total = service.list_for(session, service.as_reader(principal, "projects"), owner, limit)
        return {"projects": projects, "total": total, "region": REGION}


@router.get("")
def list_projects_by_query(
    request: Request, principal: CurrentUser, owner: str | None = None, username: str | None = None, limit: Limit = 20
):
    """The seed reference's list: ``?owner=`` (or ``?username=``), the caller's own by default.
    Reads need no scope: a key without ``projects`` sees public projects only (``as_reader``)."""
    return _list(request, principal, owner or username or principal.username, limit)


# --- by id (seed reference) --------------------------------------------------------------------


def _detail(request: Request, principal: Principal, ident: tuple[str, ...]) -> dict:
    reader = service.as_reader(principal, "projects")
    with request.app.state.sessions() as session:
        return service.detail(session, reader, _find(session, reader, ident))


def _update(request: Request, principal: Principal, ident: tuple[str, ...], raw: Any) -> dict:
    body = schemas.parse_body(schemas.UpdateProjectBody, raw)
    with transaction(request.app.state.sessions) as session:
        return service.update(session, principal, _find(session, principal, ident), schemas.sent(body))


def _delete(request: Request, principal: Principal, ident: tuple[str, ...]) -> dict:
    with transaction(request.app.state.sessions) as session:
        cascaded = service.trash(session, principal, _find(session, principal, ident))
        return {"success": True, "cascadedModels": cascaded}


def _clone(request: Request, principal: Principal, ident: tuple[str, ...], raw: Any) -> dict:
    body = schemas.parse_body(schemas.CloneProjectBody, raw)
    storage = request.app.state.storage
    copied: list[str] = []
    try:
        with transaction(request.app.state.sessions) as session:
            source = _find(session, principal, ident)
            found, count = service.clone(session, storage, principal, source, schemas.sent(body), copied)
            return {
                "id": found.project.id,
                "owner": found.workspace.username,
                "project": found.project.slug,
                "name": found.project.name,
                "modelCount": count,
                "region": REGION,
            }
    except BaseException:
        for prefix in copied:  # the rows were rolled back: so go the copied weights
            storage.delete_tree(prefix)
        raise


@router.get("/{project_id:projectid}")
def retrieve_project_by_id(request: Request, project_id: str, principal: CurrentUser):
    return _detail(request, principal, (project_id,))


@router.patch("/{project_id:projectid}")
def update_project_by_id(request: Request, project_id: str, principal: ProjectsUser, raw: RawBody = None):
    return _update(request, principal, (project_id,), raw)


@router.delete("/{project_id:projectid}")
def delete_project_by_id(request: Request, project_id: str, principal: ProjectsUser):
    return _delete(request, principal, (project_id,))


@router.post("/{project_id:projectid}/clone", status_code=201)
def clone_project_by_id(request: Request, project_id: str, principal: ProjectsUser, raw: RawBody = None):
    return _clone(request, principal, (project_id,), raw)


# --- by owner and slug (contract) --------------------------------------------------------------


@router.get("/{owner}")
def list_projects(request: Request, owner: str, principal: CurrentUser, limit: Limit = 20):
    return _list(request, principal, owner, limit)


@router.get("/{owner}/{project}")
def retrieve_project(request: Request, owner: str, project: str, principal: CurrentUser):
    return _detail(request, principal, (owner, project))


@router.patch("/{owner}/{project}")
def update_project(request: Request, owner: str, project: str, principal: ProjectsUser, raw: RawBody = None):
    return _update(request, principal, (owner, project), raw)


@router.delete("/{owner}/{project}")
def delete_project(request: Request, owner: str, project: str, principal: ProjectsUser):
    return _delete(request, principal, (owner, project))


@router.post("/{owner}/{project}/clone", status_code=201)
def clone_project(request: Request, owner: str, project: str, principal: ProjectsUser, raw: RawBody = None):
    return _clone(request, principal, (owner, project), raw)
