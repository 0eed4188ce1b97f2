"""Every query of the exports domain."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from yolohost.db.tables import Export

ACTIVE = ("queued", "running")


def get(session: Session, export_id: str) -> Export | None:
    return session.get(Export, export_id)


def for_model(session: Session, model_id: str, *, status: str | None, limit: int) -> list[Export]:
    """Newest first."""
    query = select(Export).where(Export.model_id == model_id)
    if status is not None:
        query = query.where(Export.status == status)
    return list(session.scalars(query.order_by(Export.created_at.desc(), Export.id.desc()).limit(limit)))


def active_like(session: Session, model_id: str, fmt: str, args: dict, gpu_type: str | None) -> Export | None:
    """A queued or running export of the model with the same format and options."""
    rows = session.scalars(select(Export).where(Export.model_id == model_id, Export.format == fmt,
                                                Export.status.in_(ACTIVE)))
    return next((e for e in rows if (e.args or {}) == args and e.gpu_type == gpu_type), None)


def servable(session: Session, model_id: str, source_sha256: str, formats: Sequence[str]) -> list[Export]:
    """Completed exports of the model's current checkpoint in ``formats``, newest first."""
    return list(session.scalars(
        select(Export)
        .where(Export.model_id == model_id, Export.source_sha256 == source_sha256, Export.format.in_(formats),
               Export.status == "completed", Export.serve_key.is_not(None))
        .order_by(Export.completed_at.desc(), Export.id.desc())
    ))
