"""Metered usage: per workspace, kind, subject and UTC day, how many calls or jobs and how many compute seconds."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from yolohost.db.base import Base


class UsageRecord(Base):
    """One row per bucket; writers add to it (an additive upsert), so several processes can share it."""

    __tablename__ = "usage_records"

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # predict | training | export
    subject_id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the model; "" when there is none
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # UTC
    quantity: Mapped[int] = mapped_column(BigInteger)  # predict calls, or finished jobs
    seconds: Mapped[float] = mapped_column()  # compute seconds
    created_at: Mapped[datetime] = mapped_column()  # first use in the bucket
    updated_at: Mapped[datetime] = mapped_column()  # last use in the bucket
