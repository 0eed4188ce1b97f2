"""Image embeddings: one vector per image and its place in the dataset's 2-D layout."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from yolohost.db.base import Base
from yolohost.kit import clock


class ImageEmbedding(Base):
    """Written by the ``dataset_embeddings`` job; goes with its image (and dataset) on delete."""

    __tablename__ = "image_embeddings"

    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    # sha256 of the checkpoint that made the vector: only vectors of one checkpoint are compared.
    model_key: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # little-endian float32, unit length
    x: Mapped[float] = mapped_column()  # the 2-D layout (PCA), in [-1, 1]
    y: Mapped[float] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
