"""Every query of the models domain."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yolohost.db.tables import Model, Project, Workspace
from yolohost.db.tables.models import ModelStar


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


def live_in_project(session: Session, project_id: str, *, public_only: bool, limit: int) -> list[Model]:
    """Newest first."""
    query = select(Model).where(Model.project_id == project_id, Model.deleted_at.is_(None))
    if public_only:
        query = query.where(Model.visibility == "public")
    return list(session.scalars(query.order_by(Model.created_at.desc(), Model.id.desc()).limit(limit)))


def star_counts(session: Session, model_ids: Iterable[str], user_id: str | None) -> dict[str, tuple[int, bool]]:
    """model id -> (stars, whether ``user_id`` starred it)."""
    ids = list(model_ids)
    if not ids:
        return {}
    counts = dict(
        session.execute(
            select(ModelStar.model_id, func.count()).where(ModelStar.model_id.in_(ids)).group_by(ModelStar.model_id)
        ).all()
    )
    mine = set(session.scalars(select(ModelStar.model_id).where(ModelStar.model_id.in_(ids), ModelStar.user_id == user_id)))
    return {mid: (counts.get(mid, 0), mid in mine) for mid in ids}


def set_star(session: Session, model_id: str, user_id: str, starred: bool) -> None:
    star = session.get(ModelStar, (model_id, user_id))
    if starred and star is None:
        session.add(ModelStar(model_id=model_id, user_id=user_id))
    elif not starred and star is not None:
        session.delete(star)
    session.flush()


def trashed_by_id(session: Session, model_id: str) -> tuple[Model, Project, Workspace] | None:
    """A model in the trash (on its own or with its project)."""
    row = session.execute(
        select(Model, Project, Workspace)
        .join(Project, Project.id == Model.project_id)
        .join(Workspace, Workspace.id == Model.workspace_id)
        .where(Model.id == model_id, Model.deleted_at.is_not(None))
    ).first()
    return tuple(row) if row else None


def trashed_alone_in_workspace(session: Session, workspace_id: str) -> list[tuple[Model, Project]]:
    """Models trashed on their own (not with their project), with their project."""
    rows = session.execute(
        select(Model, Project)
        .join(Project, Project.id == Model.project_id)
        .where(Model.workspace_id == workspace_id, Model.deleted_at.is_not(None), Model.deleted_with_project.is_(False))
    )
    return [tuple(row) for row in rows]
