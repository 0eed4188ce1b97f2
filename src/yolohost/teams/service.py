"""The rules of teams and members: team workspaces, invites, roles, removal and ownership transfer.

Who may do what (``Role`` is ordered owner > admin > editor > viewer):

- any member reads the member list; admins and the owner invite, revoke and resend invites,
  change roles and remove members;
- only the owner assigns or takes away the admin role, and transfers ownership;
- nobody changes the owner's role or removes the owner; any member may leave.

There is no mail server: an invite's secret token is returned to whoever creates (or resends) it,
to pass on. Only its SHA-256 is stored. The invited email is recorded but not checked against
the accepting user: whoever holds the token may accept it, once, before it expires.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from yolohost.accounts import repository as accounts_repo
from yolohost.accounts import service as accounts
from yolohost.accounts.roles import MEMBER_ROLES, Role
from yolohost.accounts.service import Principal
from yolohost.activity import service as activity
from yolohost.db.tables import Invite, User, Workspace, WorkspaceMember
from yolohost.kit import clock
from yolohost.kit.errors import Conflict, Forbidden, Invalid, NotFound
from yolohost.kit.ids import check_handle, new_id
from yolohost.teams import repository as repo

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_MAX = 256


@dataclass(frozen=True, slots=True)
class Member:
    """A person in a workspace: the owner (implicit) or a member row."""

    user: User
    role: str
    joined_at: datetime


# --- teams ------------------------------------------------------------------------------------


def create_team(session: Session, principal: Principal, username: str, full_name: str | None = None) -> Workspace:
    """A team workspace owned by the caller. Its handle shares the namespace of usernames."""
    check_handle(username)
    name = (full_name or "").strip() or username
    if len(name) > 128:
        raise Invalid("fullName must be at most 128 characters")
    if accounts_repo.workspace_by_username(session, username) is not None:
        raise Conflict(f"username '{username}' is already taken")
    team = Workspace(id=new_id("ws"), username=username, name=name, kind="team", owner_id=principal.user_id)
    session.add(team)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent create of the same handle won the race
        raise Conflict(f"username '{username}' is already taken") from exc
    return team


def teams_of(session: Session, principal: Principal) -> list[tuple[Workspace, str]]:
    """The team workspaces the caller owns or belongs to, with the caller's role in each."""
    return sorted(accounts_repo.team_memberships(session, principal.user_id), key=lambda t: t[0].username)


# --- finding workspaces and members -----------------------------------------------------------


def workspace_for(session: Session, principal: Principal, owner: str | None) -> Workspace:
    """The workspace ``owner`` (default: the caller's personal one), if the caller is in it; else 404."""
    if not owner:
        return accounts_repo.personal_workspace(session, principal.user_id)
    workspace = accounts_repo.workspace_by_username(session, owner)
    if workspace is None or accounts.role_in(session, workspace, principal.user_id) is None:
        raise NotFound(f"Workspace '{owner}' not found")
    return workspace


def members(session: Session, workspace: Workspace) -> list[Member]:
    """The owner first, then the members in the order they joined."""
    owner = accounts_repo.user_by_id(session, workspace.owner_id)
    people = [Member(owner, Role.owner.name, workspace.created_at)]
    people += [Member(user, row.role, row.created_at) for row, user in repo.members_with_users(session, workspace.id)]
    return people


def list_members(
    session: Session, principal: Principal, owner: str | None
) -> tuple[Workspace, list[Member], list[Invite], dict[str, str]]:
    """Members, pending invites and the usernames of who invited them (by user id)."""
    workspace = workspace_for(session, principal, owner)
    invites = repo.pending_invites(session, workspace.id)
    inviters = repo.users_by_ids(session, {i.invited_by_id for i in invites if i.invited_by_id})
    return workspace, members(session, workspace), invites, {uid: u.username for uid, u in inviters.items()}


def _user(session: Session, ref: str) -> User | None:
    """A user by id (``usr_...``) or username."""
    return accounts_repo.user_by_id(session, ref) or accounts_repo.user_by_username(session, ref)


def _member(session: Session, workspace: Workspace, ref: str) -> tuple[User, Role]:
    user = _user(session, ref)
    role = accounts.role_in(session, workspace, user.id) if user is not None else None
    if role is None:
        raise NotFound(f"Member '{ref}' not found in workspace '{workspace.username}'")
    return user, role


def _check_role(role: str) -> str:
    if role == Role.owner.name:
        raise Invalid("role: the owner role cannot be given; use POST /api/members/transfer-ownership")
    if role not in MEMBER_ROLES:
        raise Invalid(f"role must be one of {', '.join(MEMBER_ROLES)}; got {role!r}")
    return role


def _require_owner_for_admin(session: Session, principal: Principal, workspace: Workspace, *roles: str) -> None:
    if Role.admin.name in roles:
        if accounts.role_in(session, workspace, principal.user_id) is not Role.owner:
            raise Forbidden("Only the workspace owner can assign or take away the admin role")


# --- invites ----------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(invite: Invite, ttl_hours: int) -> str:
    token = secrets.token_urlsafe(32)
    invite.token_hash = _digest(token)
    invite.expires_at = clock.now() + timedelta(hours=ttl_hours)
    return token


def is_expired(invite: Invite, now: datetime | None = None) -> bool:
    at = invite.expires_at
    if at.tzinfo is None:  # SQLite gives naive datetimes back; they are stored in UTC
        at = at.replace(tzinfo=clock.now().tzinfo)
    return at <= (now or clock.now())


def _normal_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > EMAIL_MAX or not EMAIL_RE.match(email):
        raise Invalid(f"email must be an email address (at most {EMAIL_MAX} characters); got {email!r}")
    return email


def invite(
    session: Session, principal: Principal, owner: str | None, email: str, role: str, *, ttl_hours: int
) -> tuple[Workspace, Invite, str]:
    """A pending invite to a team and its token (returned only here and by ``resend``)."""
    workspace = workspace_for(session, principal, owner)
    accounts.require_role(session, principal, workspace, Role.admin)
    _check_role(role)
    _require_owner_for_admin(session, principal, workspace, role)
    if workspace.kind != "team":
        raise Invalid(
            f"owner: '{workspace.username}' is a personal workspace; members join teams "
            "(create one with POST /api/teams/create)"
        )
    email = _normal_email(email)
    if repo.member_with_email(session, workspace.id, workspace.owner_id, email) is not None:
        raise Conflict(f"{email} is already a member of '{workspace.username}'")
    if repo.pending_invite_for_email(session, workspace.id, email) is not None:
        raise Conflict(f"{email} already has a pending invite to '{workspace.username}'; resend or revoke it")
    pending = Invite(id=new_id("inv"), workspace_id=workspace.id, email=email, role=role, invited_by_id=principal.user_id)
    token = _new_token(pending, ttl_hours)
    session.add(pending)
    session.flush()
    activity.record(session, workspace.id, principal.user_id, "invite.sent", "invite", pending.id, email, {"role": role})
    return workspace, pending, token


def _managed_invite(session: Session, principal: Principal, invite_id: str) -> tuple[Workspace, Invite]:
    """A pending invite of a workspace the caller administers; outsiders (and used invites) get 404."""
    found = repo.invite_by_id(session, invite_id)
    workspace = accounts_repo.workspace_by_id(session, found.workspace_id) if found else None
    if found is None or found.accepted_at is not None or accounts.role_in(session, workspace, principal.user_id) is None:
        raise NotFound(f"Invite '{invite_id}' not found")
    accounts.require_role(session, principal, workspace, Role.admin)
    return workspace, found


def revoke(session: Session, principal: Principal, invite_id: str) -> None:
    _, found = _managed_invite(session, principal, invite_id)
    session.delete(found)
    session.flush()


def resend(session: Session, principal: Principal, invite_id: str, *, ttl_hours: int) -> tuple[Workspace, Invite, str]:
    """A fresh token and expiry for a pending invite; the old token stops working."""
    workspace, found = _managed_invite(session, principal, invite_id)
    _require_owner_for_admin(session, principal, workspace, found.role)
    token = _new_token(found, ttl_hours)
    found.invited_by_id = principal.user_id
    session.flush()
    return workspace, found, token


def _by_token(session: Session, token: str) -> tuple[Invite, Workspace]:
    """A pending invite by its token; unknown, revoked, replaced and used tokens look alike (404)."""
    found = repo.invite_by_token_hash(session, _digest(token)) if token else None
    if found is None or found.accepted_at is not None:
        raise NotFound("Invite not found: the token is unknown, revoked, replaced by a resend, or already used")
    return found, accounts_repo.workspace_by_id(session, found.workspace_id)


def invite_info(session: Session, token: str) -> tuple[Invite, Workspace, User | None]:
    found, workspace = _by_token(session, token)
    inviter = accounts_repo.user_by_id(session, found.invited_by_id) if found.invited_by_id else None
    return found, workspace, inviter


def accept(session: Session, principal: Principal, token: str) -> tuple[Workspace, str]:
    """The caller joins the invite's workspace with the invited role; the token is then spent."""
    found, workspace = _by_token(session, token)
    if is_expired(found):
        raise Invalid(f"token: this invite expired at {clock.iso(found.expires_at)}; ask a workspace admin to resend it")
    current = accounts.role_in(session, workspace, principal.user_id)
    if current is not None:
        raise Conflict(f"You are already in '{workspace.username}' (role {current.name})")
    if not repo.claim_invite(session, found.id, principal.user_id, clock.now()):
        raise NotFound("Invite not found: the token is unknown, revoked, replaced by a resend, or already used")
    session.add(WorkspaceMember(workspace_id=workspace.id, user_id=principal.user_id, role=found.role))
    try:
        session.flush()
    except IntegrityError as exc:  # joined by a concurrent request
        raise Conflict(f"You are already in '{workspace.username}'") from exc
    activity.record(session, workspace.id, principal.user_id, "member.added", "member", principal.user_id,
                    principal.username, {"role": found.role, "inviteId": found.id})
    return workspace, found.role


# --- roles, removal, ownership ------------------------------------------------------------------


def change_role(session: Session, principal: Principal, owner: str | None, ref: str, role: str) -> Member:
    workspace = workspace_for(session, principal, owner)
    accounts.require_role(session, principal, workspace, Role.admin)
    _check_role(role)
    user, current = _member(session, workspace, ref)
    if current is Role.owner:
        raise Forbidden("The owner's role cannot be changed; transfer ownership instead")
    _require_owner_for_admin(session, principal, workspace, role, current.name)
    row = accounts_repo.membership(session, workspace.id, user.id)
    if row.role != role:
        activity.record(session, workspace.id, principal.user_id, "member.role_changed", "member", user.id,
                        user.username, {"from": row.role, "to": role})
    row.role = role
    session.flush()
    return Member(user, role, row.created_at)


def remove_member(session: Session, principal: Principal, owner: str | None, ref: str) -> User:
    """Admins remove members (only the owner removes an admin); anyone may leave; the owner stays."""
    workspace = workspace_for(session, principal, owner)
    user, current = _member(session, workspace, ref)
    if current is Role.owner:
        raise Forbidden("The workspace owner cannot be removed; transfer ownership first")
    if user.id != principal.user_id:
        accounts.require_role(session, principal, workspace, Role.admin)
        _require_owner_for_admin(session, principal, workspace, current.name)
    session.delete(accounts_repo.membership(session, workspace.id, user.id))
    activity.record(session, workspace.id, principal.user_id, "member.removed", "member", user.id, user.username,
                    {"role": current.name, "left": user.id == principal.user_id})
    session.flush()
    return user


def transfer_ownership(session: Session, principal: Principal, owner: str | None, ref: str) -> tuple[Workspace, User]:
    """The owner hands a team to one of its members and stays on as an admin."""
    workspace = workspace_for(session, principal, owner)
    accounts.require_role(session, principal, workspace, Role.owner)
    if workspace.kind != "team":
        raise Invalid(f"owner: '{workspace.username}' is a personal workspace; only a team's ownership can move")
    user, current = _member(session, workspace, ref)
    if current is Role.owner:
        raise Invalid(f"userId: '{user.username}' already owns '{workspace.username}'")
    session.delete(accounts_repo.membership(session, workspace.id, user.id))
    session.flush()
    workspace.owner_id = user.id
    session.add(WorkspaceMember(workspace_id=workspace.id, user_id=principal.user_id, role=Role.admin.name))
    activity.record(session, workspace.id, principal.user_id, "team.transferred", "team", workspace.id,
                    workspace.username, {"newOwnerId": user.id, "newOwner": user.username,
                                         "previousOwnerId": principal.user_id, "previousOwner": principal.username})
    session.flush()
    return workspace, user
