"""Queries of the trash itself (the kinds' own queries live in their domains)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from yolohost.db.tables import Dataset, Model, Project


def workspaces_trashed_before(session: Session, cutoff: datetime) -> list[str]:
    """Ids of the workspaces holding anything trashed before ``cutoff``."""
    query = union(*(
        select(table.workspace_id).where(table.deleted_at.is_not(None), table.deleted_at <= cutoff)
        for table in (Model, Project, Dataset)
    ))
    return sorted(session.scalars(query))
