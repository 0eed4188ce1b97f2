"""Every query of the datasets domain."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yolohost.db.tables import Dataset, DatasetVersion, Image, Workspace


def by_slug(session: Session, workspace_id: str, slug: str) -> Dataset | None:
    return session.scalar(
        select(Dataset).where(Dataset.workspace_id == workspace_id, Dataset.slug == slug, Dataset.deleted_at.is_(None))
    )


def located_by_slugs(session: Session, owner: str, slug: str) -> tuple[Dataset, Workspace] | None:
    row = session.execute(
        select(Dataset, Workspace).join(Workspace, Workspace.id == Dataset.workspace_id)
        .where(Workspace.username == owner, Dataset.slug == slug, Dataset.deleted_at.is_(None))
    ).first()
    return tuple(row) if row else None


def located_by_id(session: Session, dataset_id: str) -> tuple[Dataset, Workspace] | None:
    row = session.execute(
        select(Dataset, Workspace).join(Workspace, Workspace.id == Dataset.workspace_id)
        .where(Dataset.id == dataset_id, Dataset.deleted_at.is_(None))
    ).first()
    return tuple(row) if row else None


def list_for(session: Session, workspace_id: str, limit: int) -> tuple[list[Dataset], int]:
    where = (Dataset.workspace_id == workspace_id, Dataset.deleted_at.is_(None))
    total = session.scalar(select(func.count()).select_from(Dataset).where(*where))
    rows = session.scalars(select(Dataset).where(*where).order_by(Dataset.created_at.desc()).limit(limit))
    return list(rows), total


def split_counts(session: Session, dataset_id: str) -> dict[str, int]:
    counts = {"train": 0, "val": 0, "test": 0, "labeled": 0}
    for split, n in session.execute(
        select(Image.split, func.count()).where(Image.dataset_id == dataset_id).group_by(Image.split)
    ):
        counts[split] = n
    counts["labeled"] = session.scalar(
        select(func.count()).select_from(Image).where(Image.dataset_id == dataset_id, Image.label_count > 0)
    )
    return counts


def totals(session: Session, dataset_id: str) -> tuple[int, int, int, int]:
    """(images, annotations, bytes, images with errors)."""
    row = session.execute(
        select(func.count(), func.coalesce(func.sum(Image.label_count), 0), func.coalesce(func.sum(Image.size), 0))
        .where(Image.dataset_id == dataset_id)
    ).one()
    errors = session.scalar(select(func.count()).select_from(Image).where(Image.dataset_id == dataset_id, Image.error.is_not(None)))
    return int(row[0]), int(row[1]), int(row[2]), errors


def images(session: Session, dataset_id: str) -> list[Image]:
    return list(session.scalars(select(Image).where(Image.dataset_id == dataset_id).order_by(Image.split, Image.filename)))


def existing_names(session: Session, dataset_id: str) -> set[tuple[str, str]]:
    return set(session.execute(select(Image.split, Image.filename).where(Image.dataset_id == dataset_id)).all())


def versions(session: Session, dataset_id: str) -> list[DatasetVersion]:
    return list(session.scalars(select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id).order_by(DatasetVersion.number)))


def trashed_in_workspace(session: Session, workspace_id: str) -> list[Dataset]:
    return list(session.scalars(select(Dataset).where(Dataset.workspace_id == workspace_id, Dataset.deleted_at.is_not(None))
                                .order_by(Dataset.deleted_at.desc())))


def trashed_by_id(session: Session, dataset_id: str) -> tuple[Dataset, Workspace] | None:
    row = session.execute(
        select(Dataset, Workspace).join(Workspace, Workspace.id == Dataset.workspace_id)
        .where(Dataset.id == dataset_id, Dataset.deleted_at.is_not(None))
    ).first()
    return tuple(row) if row else None


def blobs_of(session: Session, dataset_id: str) -> set[tuple[str, str]]:
    return set(session.execute(select(Image.sha256, Image.ext).where(Image.dataset_id == dataset_id)).all())


def blobs_used_elsewhere(session: Session, dataset_id: str, hashes: set[str]) -> set[str]:
    if not hashes:
        return set()
    return set(session.scalars(select(Image.sha256).where(Image.dataset_id != dataset_id, Image.sha256.in_(hashes))))


def other_version_datasets(session: Session, dataset_id: str) -> list[tuple[str, int]]:
    return list(session.execute(select(DatasetVersion.dataset_id, DatasetVersion.number)
                                .where(DatasetVersion.dataset_id != dataset_id)).all())
