"""Every query of the projects domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from yolohost.db.tables import Project


def by_slug(session: Session, workspace_id: str, slug: str) -> Project | None:
    return session.scalar(
        select(Project).where(Project.workspace_id == workspace_id, Project.slug == slug, Project.deleted_at.is_(None))
    )


def by_id(session: Session, project_id: str) -> Project | None:
    project = session.get(Project, project_id)
    return project if project is not None and project.deleted_at is None else None
