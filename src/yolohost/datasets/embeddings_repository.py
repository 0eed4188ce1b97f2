"""Every query of dataset analysis: embeddings, the layout, and the scan behind similar images."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from yolohost.accounts.service import Principal
from yolohost.db.tables import Dataset, Image, ImageEmbedding, Workspace, WorkspaceMember

SCAN_CHUNK = 4096  # rows of vectors held in memory at once by a similarity scan


def images_to_embed(session: Session, dataset_id: str) -> list[tuple[str, str, str]]:
    """(id, sha256, ext) of every image of the dataset."""
    query = select(Image.id, Image.sha256, Image.ext).where(Image.dataset_id == dataset_id).order_by(Image.id)
    rows = session.execute(query)
    return [tuple(r) for r in rows]


def has_images(session: Session, dataset_id: str) -> bool:
    return session.scalar(select(Image.id).where(Image.dataset_id == dataset_id).limit(1)) is not None


def image_ids(session: Session, dataset_id: str) -> set[str]:
    return set(session.scalars(select(Image.id).where(Image.dataset_id == dataset_id)))


def replace(session: Session, dataset_id: str, rows: list[dict]) -> None:
    """The dataset's embeddings become ``rows`` (dicts of ImageEmbedding columns)."""
    session.execute(delete(ImageEmbedding).where(ImageEmbedding.dataset_id == dataset_id))
    if rows:
        session.execute(insert(ImageEmbedding), rows)


def count(session: Session, dataset_id: str) -> int:
    return session.scalar(select(func.count()).select_from(ImageEmbedding).where(ImageEmbedding.dataset_id == dataset_id))


def latest_image_at(session: Session, dataset_id: str) -> datetime | None:
    return session.scalar(select(func.max(Image.created_at)).where(Image.dataset_id == dataset_id))


def layout_page(session: Session, dataset_id: str, offset: int, limit: int) -> list[tuple[float, float, Image]]:
    """(x, y, image) in image id order."""
    rows = session.execute(
        select(ImageEmbedding.x, ImageEmbedding.y, Image).join(Image, Image.id == ImageEmbedding.image_id)
        .where(ImageEmbedding.dataset_id == dataset_id).order_by(Image.id).offset(offset).limit(limit)
    )
    return [tuple(r) for r in rows]


def vector_of(session: Session, image_id: str, model_key: str) -> bytes | None:
    return session.scalar(
        select(ImageEmbedding.vector).where(ImageEmbedding.image_id == image_id, ImageEmbedding.model_key == model_key)
    )


# --- what a caller may search ---------------------------------------------------------------------


def readable(principal: Principal):
    """A condition on Dataset: live, and public or in a workspace the caller owns or belongs to."""
    owned = select(Workspace.id).where(Workspace.owner_id == principal.user_id)
    joined = select(WorkspaceMember.workspace_id).where(WorkspaceMember.user_id == principal.user_id)
    return Dataset.deleted_at.is_(None) & or_(
        Dataset.visibility == "public", Dataset.workspace_id.in_(owned), Dataset.workspace_id.in_(joined)
    )


def readable_images_with_hashes(session: Session, principal: Principal, hashes: Iterable[str]) -> list[Image]:
    return list(session.scalars(
        select(Image).join(Dataset, Dataset.id == Image.dataset_id)
        .where(Image.sha256.in_(list(hashes)), readable(principal)).order_by(Image.created_at, Image.id)
    ))


def datasets_holding(session: Session, sha256: str) -> set[str]:
    """Ids of the datasets that hold an image with this content."""
    return set(session.scalars(select(Image.dataset_id).where(Image.sha256 == sha256).distinct()))


def hashes_in(session: Session, dataset_id: str) -> set[str]:
    return set(session.scalars(select(Image.sha256).where(Image.dataset_id == dataset_id).distinct()))


def scan(session: Session, principal: Principal, model_key: str, *, exclude_datasets: Iterable[str] = ()) -> Iterator[list]:
    """Chunks of (image id, sha256, vector bytes) of the caller's readable embeddings made by ``model_key``."""
    query = (
        select(ImageEmbedding.image_id, Image.sha256, ImageEmbedding.vector)
        .join(Image, Image.id == ImageEmbedding.image_id).join(Dataset, Dataset.id == ImageEmbedding.dataset_id)
        .where(ImageEmbedding.model_key == model_key, readable(principal))
    )
    excluded = list(exclude_datasets)
    if excluded:
        query = query.where(ImageEmbedding.dataset_id.not_in(excluded))
    result = session.execute(query.execution_options(yield_per=SCAN_CHUNK))
    for chunk in result.partitions():
        yield list(chunk)


def hits(session: Session, ids: Iterable[str]) -> dict[str, tuple[Image, Dataset, Workspace]]:
    """Images by id, with their dataset and its workspace."""
    rows = session.execute(
        select(Image, Dataset, Workspace).join(Dataset, Dataset.id == Image.dataset_id)
        .join(Workspace, Workspace.id == Dataset.workspace_id).where(Image.id.in_(list(ids)))
    )
    return {image.id: (image, dataset, workspace) for image, dataset, workspace in rows}
