"""Projects: named groups of models inside a workspace, and who starred them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from yolohost.db.base import Base
from yolohost.kit import clock


class Project(Base):
    __tablename__ = "projects"
    # A slug is unique among the workspace's live projects; trashed ones keep theirs until restored.
    __table_args__ = (
        Index(
            "uq_projects_workspace_slug_live", "workspace_id", "slug", unique=True,
            sqlite_where=text("deleted_at IS NULL"), postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    metadata_: Mapped[dict | None] = mapped_column("metadata", JSON)
    tags: Mapped[list[str] | None] = mapped_column(JSON)
    license: Mapped[str | None] = mapped_column(String(32))
    archived: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    icon_color: Mapped[str | None] = mapped_column(String(50))
    icon_letter: Mapped[str | None] = mapped_column(String(2))
    view_preferences: Mapped[dict | None] = mapped_column(JSON)
    cloned_from: Mapped[str | None] = mapped_column(String(32))  # the source project's id
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    deleted_at: Mapped[datetime | None] = mapped_column()


class ProjectStar(Base):
    """A user's star on a project."""

    __tablename__ = "project_stars"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
