"""HTTP routes of teams, members and invites (the seed reference's "Teams and members" API).

The workspace is chosen by an ``owner`` query or body field (a team's username); without it,
the caller's personal workspace. Every route needs a key with the ``account`` scope, except
``GET /api/invites/info``, which any valid key may call.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from yolohost.accounts.deps import AccountUser, CurrentUser
from yolohost.accounts.roles import Role
from yolohost.db.deps import DbSession
from yolohost.db.tables import Invite, Workspace
from yolohost.kit import clock
from yolohost.teams import schemas, service

router = APIRouter(prefix="/api", tags=["Teams"])

#: A self-hosted platform has no plans or regions to choose (as in the account summary).
PLAN = "enterprise"
REGION = "us"

Owner = Query(default=None, description="Workspace username (a team); default: the caller's personal workspace")


def _team(workspace: Workspace, role: str) -> dict:
    return {
        "userId": workspace.id,
        "username": workspace.username,
        "fullName": workspace.name,
        "accountType": workspace.kind,
        "plan": PLAN,
        "region": REGION,
        "role": role,
        "createdAt": clock.iso(workspace.created_at),
    }


def _member(member: service.Member) -> dict:
    user = member.user
    return {
        "userId": user.id,
        "username": user.username,
        "name": user.name,
        "email": user.email,
        "role": member.role,
        "joinedAt": clock.iso(member.joined_at),
    }


def _invite(invite: Invite, invited_by: str | None) -> dict:
    return {
        "inviteId": invite.id,
        "email": invite.email,
        "role": invite.role,
        "invitedBy": invited_by,
        "createdAt": clock.iso(invite.created_at),
        "expiresAt": clock.iso(invite.expires_at),
        "expired": service.is_expired(invite),
    }


def _issued(request: Request, workspace: Workspace, invite: Invite, token: str, principal) -> dict:
    """An invite with its token: there is no mail server, so the inviter passes the token on."""
    base = (request.app.state.settings.public_url or str(request.base_url)).rstrip("/")
    item = _invite(invite, principal.username)
    return {
        "success": True,
        "owner": workspace.username,
        "invite": {**item, "token": token, "acceptUrl": f"{base}/api/invites/accept?token={token}"},
    }


# --- teams ------------------------------------------------------------------------------------


@router.get("/teams")
def list_teams(principal: AccountUser, session: DbSession):
    return {"teams": [_team(ws, role) for ws, role in service.teams_of(session, principal)]}


@router.post("/teams/create", status_code=201)
def create_team(body: schemas.CreateTeamBody, principal: AccountUser, session: DbSession):
    team = service.create_team(session, principal, body.username, body.fullName)
    return {"success": True, "team": _team(team, Role.owner.name)}


# --- members ----------------------------------------------------------------------------------


@router.get("/members")
def list_members(principal: AccountUser, session: DbSession, owner: str | None = Owner):
    workspace, people, invites, inviters = service.list_members(session, principal, owner)
    return {
        "owner": workspace.username,
        "accountType": workspace.kind,
        "members": [_member(m) for m in people],
        "invites": [_invite(i, inviters.get(i.invited_by_id)) for i in invites],
    }


@router.post("/members", status_code=201)
def invite_member(request: Request, body: schemas.InviteBody, principal: AccountUser, session: DbSession,
                  owner: str | None = Owner):
    ttl = request.app.state.settings.invite_ttl_hours
    workspace, invite, token = service.invite(session, principal, body.owner or owner, body.email, body.role, ttl_hours=ttl)
    return _issued(request, workspace, invite, token, principal)


@router.post("/members/transfer-ownership")
def transfer_ownership(body: schemas.TransferBody, principal: AccountUser, session: DbSession, owner: str | None = Owner):
    workspace, new_owner = service.transfer_ownership(session, principal, body.owner or owner, body.userId)
    return {
        "success": True,
        "owner": workspace.username,
        "newOwner": {"userId": new_owner.id, "username": new_owner.username},
        "previousOwner": {"userId": principal.user_id, "username": principal.username, "role": Role.admin.name},
    }


@router.patch("/members/{user_id}")
def change_role(user_id: str, body: schemas.RoleBody, principal: AccountUser, session: DbSession,
                owner: str | None = Owner):
    member = service.change_role(session, principal, body.owner or owner, user_id, body.role)
    return {"success": True, "member": _member(member)}


@router.delete("/members/{user_id}")
def remove_member(user_id: str, principal: AccountUser, session: DbSession, owner: str | None = Owner):
    user = service.remove_member(session, principal, owner, user_id)
    return {"success": True, "userId": user.id}


# --- invites ----------------------------------------------------------------------------------


@router.post("/invites/accept")
def accept_invite(principal: AccountUser, session: DbSession, body: schemas.AcceptBody | None = None,
                  token: str | None = Query(default=None)):
    """The token comes in the body (``{"token": ...}``) or, as in an invite's ``acceptUrl``, the query."""
    workspace, role = service.accept(session, principal, (body.token if body else None) or token or "")
    return {"success": True, "team": _team(workspace, role)}


@router.get("/invites/info")
def invite_info(principal: CurrentUser, session: DbSession, token: str = Query(min_length=1)):
    invite, workspace, inviter = service.invite_info(session, token)
    return {
        "inviteId": invite.id,
        "workspace": {"userId": workspace.id, "username": workspace.username, "fullName": workspace.name,
                      "accountType": workspace.kind},
        "email": invite.email,
        "role": invite.role,
        "invitedBy": {"username": inviter.username, "name": inviter.name} if inviter else None,
        "createdAt": clock.iso(invite.created_at),
        "expiresAt": clock.iso(invite.expires_at),
        "expired": service.is_expired(invite),
    }


@router.delete("/invites/{invite_id}")
def revoke_invite(invite_id: str, principal: AccountUser, session: DbSession):
    service.revoke(session, principal, invite_id)
    return {"success": True, "inviteId": invite_id}


@router.post("/invites/{invite_id}/resend")
def resend_invite(request: Request, invite_id: str, principal: AccountUser, session: DbSession):
    ttl = request.app.state.settings.invite_ttl_hours
    workspace, invite, token = service.resend(session, principal, invite_id, ttl_hours=ttl)
    return _issued(request, workspace, invite, token, principal)
