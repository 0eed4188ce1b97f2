"""Every query of storage use. Only live resources count; an image blob counts once per workspace
(and once per dataset in a dataset's own size), as it is stored once by content hash."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yolohost.db.tables import Dataset, DatasetVersion, Export, Image, Model, Project


def _live_datasets(workspace_id: str):
    return (Dataset.workspace_id == workspace_id, Dataset.deleted_at.is_(None))


def dataset_totals(session: Session, workspace_id: str) -> tuple[int, int]:
    """(bytes of the distinct image blobs of the live datasets, live datasets)."""
    blobs = (
        select(Image.sha256, func.max(Image.size).label("size"))
        .join(Dataset, Dataset.id == Image.dataset_id)
        .where(*_live_datasets(workspace_id))
        .group_by(Image.sha256)
        .subquery()
    )
    size = session.scalar(select(func.coalesce(func.sum(blobs.c.size), 0)))
    count = session.scalar(select(func.count()).select_from(Dataset).where(*_live_datasets(workspace_id)))
    return int(size), int(count)


def model_totals(session: Session, workspace_id: str) -> tuple[int, int]:
    """(bytes of the weights of the live models, live models with weights)."""
    row = session.execute(
        select(func.coalesce(func.sum(Model.weights_size), 0), func.count())
        .where(Model.workspace_id == workspace_id, Model.deleted_at.is_(None), Model.weights_size.is_not(None))
    ).one()
    return int(row[0]), int(row[1])


def export_totals(session: Session, workspace_id: str) -> tuple[int, int]:
    """(bytes, count) of the version snapshots of the live datasets and the finished exports of live models."""
    versions = session.execute(
        select(func.coalesce(func.sum(DatasetVersion.size), 0), func.count())
        .join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(*_live_datasets(workspace_id))
    ).one()
    exports = session.execute(
        select(func.coalesce(func.sum(Export.size), 0), func.count())
        .join(Model, Model.id == Export.model_id)
        .where(*_live_model_exports(workspace_id))
    ).one()
    return int(versions[0]) + int(exports[0]), int(versions[1]) + int(exports[1])


def _live_model_exports(workspace_id: str):
    return Export.workspace_id == workspace_id, Export.status == "completed", Model.deleted_at.is_(None)


def largest_model_exports(session: Session, workspace_id: str, limit: int) -> list[tuple[Export, Model]]:
    rows = session.execute(
        select(Export, Model).join(Model, Model.id == Export.model_id)
        .where(*_live_model_exports(workspace_id))
        .order_by(Export.size.desc(), Export.id).limit(limit)
    )
    return [tuple(r) for r in rows]


def largest_datasets(session: Session, workspace_id: str, limit: int) -> list[tuple[Dataset, int]]:
    per_blob = (
        select(Image.dataset_id, Image.sha256, func.max(Image.size).label("size"))
        .join(Dataset, Dataset.id == Image.dataset_id)
        .where(*_live_datasets(workspace_id))
        .group_by(Image.dataset_id, Image.sha256)
        .subquery()
    )
    sizes = (
        select(per_blob.c.dataset_id, func.sum(per_blob.c.size).label("size"))
        .group_by(per_blob.c.dataset_id)
        .subquery()
    )
    rows = session.execute(
        select(Dataset, sizes.c.size).join(sizes, sizes.c.dataset_id == Dataset.id)
        .order_by(sizes.c.size.desc(), Dataset.id).limit(limit)
    )
    return [(d, int(size)) for d, size in rows]


def largest_models(session: Session, workspace_id: str, limit: int) -> list[tuple[Model, Project]]:
    rows = session.execute(
        select(Model, Project).join(Project, Project.id == Model.project_id)
        .where(Model.workspace_id == workspace_id, Model.deleted_at.is_(None), Model.weights_size.is_not(None))
        .order_by(Model.weights_size.desc(), Model.id).limit(limit)
    )
    return [tuple(r) for r in rows]


def largest_exports(session: Session, workspace_id: str, limit: int) -> list[tuple[DatasetVersion, Dataset]]:
    rows = session.execute(
        select(DatasetVersion, Dataset).join(Dataset, Dataset.id == DatasetVersion.dataset_id)
        .where(*_live_datasets(workspace_id))
        .order_by(DatasetVersion.size.desc(), DatasetVersion.id).limit(limit)
    )
    return [tuple(r) for r in rows]
