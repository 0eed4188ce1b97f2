"""Every query of the models domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from yolohost.db.tables import Model, Project, Workspace


def located_by_slugs(session: Session, owner: str, project: str, model: str) -> tuple[Model, Project, Workspace] | None:
    row = session.execute(
        select(Model, Project, Workspace)
        .join(Project, Project.id == Model.project_id)
        .join(Workspace, Workspace.id == Model.workspace_id)
        .where(
            Workspace.username == owner,
            Project.slug == project,
            Model.slug == model,
            Model.deleted_at.is_(None),
            Project.deleted_at.is_(None),
        )
    ).first()
    return tuple(row) if row else None


def located_by_id(session: Session, model_id: str) -> tuple[Model, Project, Workspace] | None:
    row = session.execute(
        select(Model, Project, Workspace)
        .join(Project, Project.id == Model.project_id)
        .join(Workspace, Workspace.id == Model.workspace_id)
        .where(Model.id == model_id, Model.deleted_at.is_(None), Project.deleted_at.is_(None))
    ).first()
    return tuple(row) if row else None


def by_slug(session: Session, project_id: str, slug: str) -> Model | None:
    return session.scalar(select(Model).where(Model.project_id == project_id, Model.slug == slug, Model.deleted_at.is_(None)))
