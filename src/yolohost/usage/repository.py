"""Every query of metered usage."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from yolohost.db.tables import Model, Project, UsageRecord, Workspace

KEY = ("workspace_id", "kind", "subject_id", "day")


def add(session: Session, rows: list[dict]) -> None:
    """Add each row's quantity and seconds to its bucket, creating missing buckets: one additive upsert,
    so writers in several processes never overwrite each other. Rows carry ``KEY``, ``quantity``, ``seconds``,
    ``created_at`` and ``updated_at``; one row per key."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # A fixed order, so concurrent batches lock the same rows in the same order (no deadlock on PostgreSQL).
    stmt = dialect.insert(UsageRecord).values(sorted(rows, key=lambda r: tuple(str(r[k]) for k in KEY)))
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=list(KEY),
        set_={
            "quantity": UsageRecord.quantity + new.quantity,
            "seconds": UsageRecord.seconds + new.seconds,
            "created_at": case((new.created_at < UsageRecord.created_at, new.created_at), else_=UsageRecord.created_at),
            "updated_at": case((new.updated_at > UsageRecord.updated_at, new.updated_at), else_=UsageRecord.updated_at),
        },
    )
    session.execute(stmt)


def existing_workspaces(session: Session, ids: Iterable[str]) -> set[str]:
    return set(session.scalars(select(Workspace.id).where(Workspace.id.in_(set(ids)))))


def _window(query, start: datetime | None, end: datetime | None):
    if start is not None:
        query = query.where(UsageRecord.updated_at >= start)
    if end is not None:
        query = query.where(UsageRecord.updated_at <= end)
    return query


def totals(session: Session, workspace_id: str, start: datetime | None, end: datetime | None) -> list[tuple[str, int, float]]:
    """(kind, quantity, seconds) summed over a workspace's buckets last used within [start, end]."""
    query = (
        select(UsageRecord.kind, func.sum(UsageRecord.quantity), func.sum(UsageRecord.seconds))
        .where(UsageRecord.workspace_id == workspace_id)
        .group_by(UsageRecord.kind)
    )
    return [tuple(row) for row in session.execute(_window(query, start, end))]


def records(session: Session, workspace_id: str, start: datetime | None, end: datetime | None,
            limit: int) -> list[tuple[UsageRecord, Model | None, Project | None]]:
    """A workspace's buckets last used within [start, end], most recent first, with their model if it still exists."""
    query = (
        select(UsageRecord, Model, Project)
        .outerjoin(Model, Model.id == UsageRecord.subject_id)
        .outerjoin(Project, Project.id == Model.project_id)
        .where(UsageRecord.workspace_id == workspace_id)
    )
    query = _window(query, start, end).order_by(
        UsageRecord.updated_at.desc(), UsageRecord.day.desc(), UsageRecord.kind, UsageRecord.subject_id
    ).limit(limit)
    return [tuple(row) for row in session.execute(query)]
