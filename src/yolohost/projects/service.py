"""The rules of projects."""

from __future__ import annotations

from sqlalchemy.orm import Session

from yolohost.db.tables import Project, Workspace
from yolohost.kit.ids import check_slug, new_id
from yolohost.projects import repository as repo


def get_or_create(session: Session, workspace: Workspace, slug: str, name: str | None = None) -> Project:
    """The workspace's project ``slug``, created (private) if it does not exist yet."""
    check_slug(slug, "project")
    project = repo.by_slug(session, workspace.id, slug)
    if project is None:
        project = Project(id=new_id("prj"), workspace_id=workspace.id, slug=slug, name=name or slug)
        session.add(project)
        session.flush()
    return project
