"""Models: a checkpoint and what was read from it (task, class names, image size), and stars."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from yolohost.db.base import Base
from yolohost.kit import clock


class Model(Base):
    __tablename__ = "models"
    # A slug is unique among the project's live models; trashed ones keep theirs until restored.
    __table_args__ = (
        Index(
            "uq_models_project_slug_live", "project_id", "slug", unique=True,
            sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    status: Mapped[str] = mapped_column(String(16), default="untrained")
    task: Mapped[str | None] = mapped_column(String(16))
    class_names: Mapped[list[str] | None] = mapped_column(JSON)
    imgsz: Mapped[int | None] = mapped_column()
    metadata_: Mapped[dict | None] = mapped_column("metadata", JSON)
    train_args: Mapped[dict | None] = mapped_column(JSON)
    metrics: Mapped[dict | None] = mapped_column(JSON)
    color: Mapped[str | None] = mapped_column(String(7))
    license: Mapped[str | None] = mapped_column(String(32))
    cloned_from: Mapped[str | None] = mapped_column(String(32))  # the source model's id
    # The weights: present once a checkpoint was uploaded; the digest names the version.
    weights_sha256: Mapped[str | None] = mapped_column(String(64))
    weights_size: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    deleted_at: Mapped[datetime | None] = mapped_column()
    # True when the model went to the trash with its project (and comes back with it).
    deleted_with_project: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class ModelStar(Base):
    """A user's star on a model."""

    __tablename__ = "model_stars"

    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
