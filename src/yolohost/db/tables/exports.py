"""Model exports: one row per conversion of a model's checkpoint to another format, and the file it made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yolohost.db.base import Base
from yolohost.kit import clock


class Export(Base):
    __tablename__ = "exports"
    __table_args__ = (Index("ix_exports_model_created", "model_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True)  # 24 hex, the contract's export id
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    job_id: Mapped[str | None] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(16))
    args: Mapped[dict] = mapped_column(JSON, default=dict)
    gpu_type: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|completed|failed|cancelled
    task: Mapped[str | None] = mapped_column(String(16))
    source_sha256: Mapped[str] = mapped_column(String(64))  # the checkpoint it is made from
    # The downloadable file (a directory format is zipped), and what serves predictions (unpacked).
    file_key: Mapped[str] = mapped_column(String(512))
    file_name: Mapped[str] = mapped_column(String(256))
    serve_key: Mapped[str | None] = mapped_column(String(512))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    imgsz: Mapped[int | None] = mapped_column()  # the input size it was made for
    dynamic: Mapped[bool] = mapped_column(default=False)  # whether it accepts other input sizes
    compute_seconds: Mapped[float | None] = mapped_column()
    download_count: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    error_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    started_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
