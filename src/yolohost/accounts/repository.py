"""Every query of the accounts domain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from yolohost.db.tables import ApiKey, Model, Project, User, Workspace, WorkspaceMember


def user_by_username(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def user_by_id(session: Session, user_id: str) -> User | None:
    return session.get(User, user_id)


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User))


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.created_at)))


def workspace_by_username(session: Session, username: str) -> Workspace | None:
    return session.scalar(select(Workspace).where(Workspace.username == username))


def workspace_by_id(session: Session, workspace_id: str) -> Workspace | None:
    return session.get(Workspace, workspace_id)


def personal_workspace(session: Session, user_id: str) -> Workspace | None:
    return session.scalar(select(Workspace).where(Workspace.owner_id == user_id, Workspace.kind == "personal"))


def membership(session: Session, workspace_id: str, user_id: str) -> WorkspaceMember | None:
    return session.get(WorkspaceMember, (workspace_id, user_id))


def team_memberships(session: Session, user_id: str) -> list[tuple[Workspace, str]]:
    """Team workspaces the user owns or belongs to, with the user's role in each."""
    owned = session.scalars(select(Workspace).where(Workspace.owner_id == user_id, Workspace.kind == "team"))
    joined = session.execute(
        select(Workspace, WorkspaceMember.role)
        .join(WorkspaceMember, WorkspaceMember.workspace_id == Workspace.id)
        .where(WorkspaceMember.user_id == user_id, Workspace.kind == "team")
    )
    return [(ws, "owner") for ws in owned] + [(ws, role) for ws, role in joined]


def active_key_by_hash(session: Session, key_hash: str) -> tuple[ApiKey, User] | None:
    row = session.execute(
        select(ApiKey, User)
        .join(User, User.id == ApiKey.user_id)
        .where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    ).first()
    return (row[0], row[1]) if row else None


def active_keys(session: Session, user_id: str | None = None) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.revoked_at.is_(None)).order_by(ApiKey.created_at)
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    return list(session.scalars(query))


def key_by_id(session: Session, key_id: str) -> ApiKey | None:
    return session.get(ApiKey, key_id)


def record_last_used(session: Session, times: Iterable[tuple[str, datetime]]) -> None:
    """Bulk UPDATE by primary key, one statement for every key touched since the last flush; keys
    deleted meanwhile (their account was) are skipped."""
    times = dict(times)
    existing = set(session.scalars(select(ApiKey.id).where(ApiKey.id.in_(list(times))))) if times else set()
    rows = [{"id": key_id, "last_used_at": at} for key_id, at in times.items() if key_id in existing]
    if rows:
        session.execute(update(ApiKey), rows)


def resource_counts(session: Session, workspace_id: str) -> dict[str, int]:
    def active(table) -> int:
        query = select(func.count()).select_from(table).where(table.workspace_id == workspace_id, table.deleted_at.is_(None))
        return session.scalar(query)

    return {"projects": active(Project), "datasets": 0, "models": active(Model)}
