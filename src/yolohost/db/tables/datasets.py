"""Datasets, their images (files stored once by content hash) and frozen versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from yolohost.db.base import Base
from yolohost.kit import clock


class Dataset(Base):
    __tablename__ = "datasets"
    # A slug is unique among the workspace's live datasets; trashed ones keep theirs until restored.
    __table_args__ = (
        Index("uq_datasets_workspace_slug_live", "workspace_id", "slug", unique=True,
              sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    task: Mapped[str] = mapped_column(String(16), default="detect")
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    license: Mapped[str | None] = mapped_column(String(32))
    tags: Mapped[list[str] | None] = mapped_column(JSON)
    metadata_: Mapped[dict | None] = mapped_column("metadata", JSON)
    class_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    kpt_shape: Mapped[list[int] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="ready")  # processing | ready | failed
    processing_error: Mapped[str | None] = mapped_column(Text)
    last_ingest: Mapped[dict | None] = mapped_column(JSON)  # {"jobId", "summary", "ms"}
    analyzed_at: Mapped[datetime | None] = mapped_column()  # when the embeddings of its images were last computed
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    deleted_at: Mapped[datetime | None] = mapped_column()


class Image(Base):
    """One image of a dataset. The bytes live once per content hash; labels are YOLO-normalized."""

    __tablename__ = "images"
    __table_args__ = (
        UniqueConstraint("dataset_id", "split", "filename"),
        Index("ix_images_dataset_created", "dataset_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True)  # 24 hex: the contract's ObjectId shape
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(256))
    ext: Mapped[str] = mapped_column(String(10))
    width: Mapped[int] = mapped_column()
    height: Mapped[int] = mapped_column()
    size: Mapped[int] = mapped_column(BigInteger)
    split: Mapped[str] = mapped_column(String(8))  # train | val | test
    labels: Mapped[list[dict]] = mapped_column(JSON, default=list)  # the contract's Label objects
    label_count: Mapped[int] = mapped_column(default=0)
    class_key: Mapped[str] = mapped_column(Text, default=",")  # ",0,3,": the classes present, for LIKE filters
    error: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict | None] = mapped_column("metadata", JSON)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class DatasetVersion(Base):
    """An immutable numbered NDJSON snapshot of a dataset."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column()
    description: Mapped[str] = mapped_column(String(200), default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    image_count: Mapped[int] = mapped_column()
    class_count: Mapped[int] = mapped_column()
    annotation_count: Mapped[int] = mapped_column()
    splits: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
