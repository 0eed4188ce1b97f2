"""Every query of the projects domain (including the cascades over a project's models)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from yolohost.db.tables import Model, Project, Workspace
from yolohost.db.tables.projects import ProjectStar


def by_slug(session: Session, workspace_id: str, slug: str) -> Project | None:
    return session.scalar(
        select(Project).where(Project.workspace_id == workspace_id, Project.slug == slug, Project.deleted_at.is_(None))
    )


def by_id(session: Session, project_id: str) -> Project | None:
    project = session.get(Project, project_id)
    return project if project is not None and project.deleted_at is None else None


def located_by_slug(session: Session, owner: str, slug: str) -> tuple[Project, Workspace] | None:
    row = session.execute(
        select(Project, Workspace)
        .join(Workspace, Workspace.id == Project.workspace_id)
        .where(Workspace.username == owner, Project.slug == slug, Project.deleted_at.is_(None))
    ).first()
    return tuple(row) if row else None


def located_by_id(session: Session, project_id: str, *, trashed: bool = False) -> tuple[Project, Workspace] | None:
    """A live project by id, or (``trashed``) one in the trash."""
    deleted = Project.deleted_at.is_not(None) if trashed else Project.deleted_at.is_(None)
    row = session.execute(
        select(Project, Workspace).join(Workspace, Workspace.id == Project.workspace_id).where(Project.id == project_id, deleted)
    ).first()
    return tuple(row) if row else None


def live_in_workspace(session: Session, workspace_id: str, *, public_only: bool, limit: int) -> tuple[list[Project], int]:
    """Newest first, at most ``limit``; and how many there are in all."""
    where = [Project.workspace_id == workspace_id, Project.deleted_at.is_(None)]
    if public_only:
        where.append(Project.visibility == "public")
    total = session.scalar(select(func.count()).select_from(Project).where(*where))
    rows = session.scalars(select(Project).where(*where).order_by(Project.created_at.desc(), Project.id.desc()).limit(limit))
    return list(rows), total


def live_models(session: Session, project_ids: Iterable[str], *, public_only: bool = False) -> list[Model]:
    """Live models of the projects, newest first."""
    ids = list(project_ids)
    if not ids:
        return []
    query = select(Model).where(Model.project_id.in_(ids), Model.deleted_at.is_(None))
    if public_only:
        query = query.where(Model.visibility == "public")
    return list(session.scalars(query.order_by(Model.created_at.desc(), Model.id.desc())))


def star_counts(session: Session, project_ids: Iterable[str], user_id: str | None) -> dict[str, tuple[int, bool]]:
    """project id -> (stars, whether ``user_id`` starred it)."""
    ids = list(project_ids)
    if not ids:
        return {}
    counts = dict(
        session.execute(
            select(ProjectStar.project_id, func.count()).where(ProjectStar.project_id.in_(ids)).group_by(ProjectStar.project_id)
        ).all()
    )
    mine = set(session.scalars(select(ProjectStar.project_id).where(ProjectStar.project_id.in_(ids), ProjectStar.user_id == user_id)))
    return {pid: (counts.get(pid, 0), pid in mine) for pid in ids}


def set_star(session: Session, project_id: str, user_id: str, starred: bool) -> None:
    star = session.get(ProjectStar, (project_id, user_id))
    if starred and star is None:
        session.add(ProjectStar(project_id=project_id, user_id=user_id))
    elif not starred and star is not None:
        session.delete(star)
    session.flush()


def set_models_visibility(session: Session, project_id: str, visibility: str) -> None:
    for model in live_models(session, [project_id]):
        model.visibility = visibility


def trash_models(session: Session, project_id: str, at: datetime) -> list[str]:
    """Move the project's live models to the trash with it; the ids of those that went."""
    models = live_models(session, [project_id])
    for model in models:
        model.deleted_at = at
        model.deleted_with_project = True
    return [model.id for model in models]


def models_trashed_with(session: Session, project_id: str) -> list[Model]:
    return list(
        session.scalars(
            select(Model).where(Model.project_id == project_id, Model.deleted_at.is_not(None), Model.deleted_with_project)
        )
    )


def all_model_ids(session: Session, project_id: str) -> list[str]:
    return list(session.scalars(select(Model.id).where(Model.project_id == project_id)))


def trashed_in_workspace(session: Session, workspace_id: str) -> list[Project]:
    return list(
        session.scalars(select(Project).where(Project.workspace_id == workspace_id, Project.deleted_at.is_not(None)))
    )


def delete_forever(session: Session, project: Project) -> None:
    """Delete the row and every model row of the project (stars go with them)."""
    session.execute(delete(Model).where(Model.project_id == project.id))
    session.delete(project)
    session.flush()
