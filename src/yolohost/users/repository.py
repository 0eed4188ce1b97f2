"""Every query of profiles and follows."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from yolohost.db.tables import Follow, Workspace


def handles_taken(session: Session, candidates: list[str]) -> set[str]:
    if not candidates:
        return set()
    return set(session.scalars(select(Workspace.username).where(Workspace.username.in_(candidates))))


def follower_count(session: Session, workspace_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Follow).where(Follow.workspace_id == workspace_id))


def follows(session: Session, user_id: str, workspace_id: str) -> bool:
    return session.get(Follow, (user_id, workspace_id)) is not None


def set_follow(session: Session, user_id: str, workspace_id: str, followed: bool) -> None:
    follow = session.get(Follow, (user_id, workspace_id))
    if followed and follow is None:
        session.add(Follow(follower_id=user_id, workspace_id=workspace_id))
    elif not followed and follow is not None:
        session.delete(follow)
    session.flush()
