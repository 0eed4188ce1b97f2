"""Every query of explore: public, live projects and datasets, filtered, sorted and paged in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, literal, or_, select
from sqlalchemy.orm import Session

from yolohost.db.tables import Dataset, Image, Model, Project, Workspace
from yolohost.db.tables.projects import ProjectStar


@dataclass(frozen=True, slots=True)
class Filters:
    q: str = ""
    tasks: tuple[str, ...] = ()
    author: str | None = None
    starred_by: str | None = None  # a user id: only what that user starred


def _matches(q: str, *columns) -> ColumnElement[bool]:
    term = f"%{q.lower()}%"
    return or_(*(func.lower(c).like(term) for c in columns))


def _public_models(project_id_column):
    return (Model.project_id == project_id_column, Model.deleted_at.is_(None), Model.visibility == "public")


def _order(sort: str, *, name, created, count, stars, ident) -> list:
    return {
        "newest": [created.desc()],
        "oldest": [created.asc()],
        "name-asc": [func.lower(name).asc()],
        "name-desc": [func.lower(name).desc()],
        "count-desc": [count.desc(), created.desc()],
        "count-asc": [count.asc(), created.desc()],
        "stars": [stars.desc(), created.desc()],
    }[sort] + [ident.asc()]


def projects(session: Session, f: Filters, sort: str, offset: int, limit: int) -> list[tuple[Project, Workspace]]:
    model_count = select(func.count()).where(*_public_models(Project.id)).correlate(Project).scalar_subquery()
    stars = select(func.count()).where(ProjectStar.project_id == Project.id).correlate(Project).scalar_subquery()
    query = (
        select(Project, Workspace).join(Workspace, Workspace.id == Project.workspace_id)
        .where(Project.visibility == "public", Project.deleted_at.is_(None))
    )
    if f.q:
        query = query.where(_matches(f.q, Project.name, Project.slug, Project.description))
    if f.tasks:  # a project's task is its models'
        query = query.where(select(Model.id).where(*_public_models(Project.id), Model.task.in_(f.tasks)).exists())
    if f.author:
        query = query.where(Workspace.username == f.author)
    if f.starred_by:
        query = query.where(
            select(ProjectStar.project_id).where(ProjectStar.project_id == Project.id, ProjectStar.user_id == f.starred_by).exists()
        )
    order = _order(sort, name=Project.name, created=Project.created_at, count=model_count, stars=stars, ident=Project.id)
    return [tuple(r) for r in session.execute(query.order_by(*order).offset(offset).limit(limit))]


def datasets(session: Session, f: Filters, sort: str, offset: int, limit: int) -> list[tuple[Dataset, Workspace]]:
    if f.starred_by:  # datasets cannot be starred here
        return []
    image_count = select(func.count()).where(Image.dataset_id == Dataset.id).correlate(Dataset).scalar_subquery()
    query = (
        select(Dataset, Workspace).join(Workspace, Workspace.id == Dataset.workspace_id)
        .where(Dataset.visibility == "public", Dataset.deleted_at.is_(None))
    )
    if f.q:
        query = query.where(_matches(f.q, Dataset.name, Dataset.slug, Dataset.description))
    if f.tasks:
        query = query.where(Dataset.task.in_(f.tasks))
    if f.author:
        query = query.where(Workspace.username == f.author)
    order = _order(sort, name=Dataset.name, created=Dataset.created_at, count=image_count, stars=literal(0),
                   ident=Dataset.id)
    return [tuple(r) for r in session.execute(query.order_by(*order).offset(offset).limit(limit))]


def public_models(session: Session, project_ids: Iterable[str]) -> list[Model]:
    ids = list(project_ids)
    if not ids:
        return []
    return list(session.scalars(
        select(Model).where(Model.project_id.in_(ids), Model.deleted_at.is_(None), Model.visibility == "public")
        .order_by(Model.created_at.desc(), Model.id)
    ))


def sample_images(session: Session, dataset_id: str, limit: int) -> list[Image]:
    return list(session.scalars(
        select(Image).where(Image.dataset_id == dataset_id, Image.error.is_(None))
        .order_by(Image.label_count.desc(), Image.created_at, Image.id).limit(limit)
    ))


def task_counts(session: Session) -> list[tuple[str, int]]:
    """Public live datasets per task, most first."""
    rows = session.execute(
        select(Dataset.task, func.count()).where(Dataset.visibility == "public", Dataset.deleted_at.is_(None))
        .group_by(Dataset.task).order_by(func.count().desc(), Dataset.task)
    )
    return [(task, int(n)) for task, n in rows]


def top_authors(session: Session, limit: int) -> list[tuple[Workspace, int, int]]:
    """Workspaces with the most public live projects and datasets: (workspace, projects, datasets)."""
    p = (select(Project.workspace_id.label("ws"), func.count().label("n"))
         .where(Project.visibility == "public", Project.deleted_at.is_(None)).group_by(Project.workspace_id).subquery())
    d = (select(Dataset.workspace_id.label("ws"), func.count().label("n"))
         .where(Dataset.visibility == "public", Dataset.deleted_at.is_(None)).group_by(Dataset.workspace_id).subquery())
    projects_n, datasets_n = func.coalesce(p.c.n, 0), func.coalesce(d.c.n, 0)
    rows = session.execute(
        select(Workspace, projects_n, datasets_n)
        .outerjoin(p, p.c.ws == Workspace.id).outerjoin(d, d.c.ws == Workspace.id)
        .where(or_(p.c.n.is_not(None), d.c.n.is_not(None)))
        .order_by((projects_n + datasets_n).desc(), Workspace.username).limit(limit)
    )
    return [(ws, int(np_), int(nd)) for ws, np_, nd in rows]
