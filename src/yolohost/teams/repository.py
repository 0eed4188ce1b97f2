"""Every query of teams, members and invites."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from yolohost.db.tables import Invite, User, WorkspaceMember


def members_with_users(session: Session, workspace_id: str) -> list[tuple[WorkspaceMember, User]]:
    """The workspace's member rows (the owner is not one) with their users, oldest first."""
    rows = session.execute(
        select(WorkspaceMember, User)
        .join(User, User.id == WorkspaceMember.user_id)
        .where(WorkspaceMember.workspace_id == workspace_id)
        .order_by(WorkspaceMember.created_at, User.username)
    )
    return [(member, user) for member, user in rows]


def invite_by_id(session: Session, invite_id: str) -> Invite | None:
    return session.get(Invite, invite_id)


def invite_by_token_hash(session: Session, token_hash: str) -> Invite | None:
    return session.scalar(select(Invite).where(Invite.token_hash == token_hash))


def claim_invite(session: Session, invite_id: str, user_id: str, now: datetime) -> bool:
    """Mark a pending invite used, atomically: of two concurrent accepts only one claims it."""
    result = session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.accepted_at.is_(None))
        .values(accepted_at=now, accepted_by_id=user_id)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def pending_invites(session: Session, workspace_id: str) -> list[Invite]:
    """Invites not yet accepted (expired ones included: they can still be resent or revoked)."""
    query = (
        select(Invite)
        .where(Invite.workspace_id == workspace_id, Invite.accepted_at.is_(None))
        .order_by(Invite.created_at, Invite.id)
    )
    return list(session.scalars(query))


def pending_invite_for_email(session: Session, workspace_id: str, email: str) -> Invite | None:
    query = select(Invite).where(
        Invite.workspace_id == workspace_id, Invite.email == email, Invite.accepted_at.is_(None)
    )
    return session.scalar(query)


def member_with_email(session: Session, workspace_id: str, owner_id: str, email: str) -> User | None:
    """The owner or a member of the workspace whose (lower-cased) email is ``email``."""
    members = select(WorkspaceMember.user_id).where(WorkspaceMember.workspace_id == workspace_id)
    query = select(User).where(
        func.lower(User.email) == email, (User.id == owner_id) | User.id.in_(members)
    )
    return session.scalars(query).first()


def users_by_ids(session: Session, ids: set[str]) -> dict[str, User]:
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}

