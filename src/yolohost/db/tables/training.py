"""Training runs: one row per run of a model, started here (managed) or reported by any trainer (remote)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yolohost.db.base import Base
from yolohost.kit import clock


class TrainingRun(Base):
    __tablename__ = "training_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)  # the SDK's integer runId
    model_id: Mapped[str] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"), index=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    mode: Mapped[str] = mapped_column(String(16))  # managed (a job here) | remote (reported by webhooks)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|starting|running|completed|failed|cancelled
    job_id: Mapped[str | None] = mapped_column(String(32))
    key_id: Mapped[str | None] = mapped_column(String(32))  # the managed run's own API key, revoked at its end
    gpu_type: Mapped[str | None] = mapped_column(String(64))
    device: Mapped[str | None] = mapped_column(String(64))
    train_args: Mapped[dict] = mapped_column(JSON, default=dict)
    total_epochs: Mapped[int | None] = mapped_column()
    current_epoch: Mapped[int] = mapped_column(default=0)  # epochs finished
    epochs: Mapped[list] = mapped_column(JSON, default=list)  # [{"epoch": n, "metrics": {...}}] per finished epoch
    console: Mapped[str] = mapped_column(Text, default="")  # the newest part of the trainer's output
    environment: Mapped[dict | None] = mapped_column(JSON)
    system: Mapped[dict | None] = mapped_column(JSON)  # the last system metrics reported
    results: Mapped[dict | None] = mapped_column(JSON)
    checkpoint_key: Mapped[str | None] = mapped_column(String(255))  # a staged checkpoint, promoted on completion
    resumed_from: Mapped[int | None] = mapped_column()  # the interrupted run whose checkpoint this one continues
    error_message: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(64))
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
