"""Teams, members and invites through the HTTP API (the seed reference's "Teams and members" routes)."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest

from tests.teams.conftest import TEAM, accept, invite, join
from yolohost.accounts import repository, service
from yolohost.db.engine import transaction
from yolohost.kit import clock
from yolohost.kit.errors import Conflict


def members_of(client, account, owner=TEAM) -> dict:
    r = client.get("/api/members", params={"owner": owner} if owner else None, headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()


def roles(body: dict) -> dict[str, str]:
    return {m["username"]: m["role"] for m in body["members"]}


def summary_teams(client, account) -> dict[str, str]:
    r = client.get("/api/account/summary", headers=account.bearer)
    assert r.status_code == 200, r.text
    return {t["username"]: t["role"] for t in r.json()["teams"]}


# --- teams ------------------------------------------------------------------------------------


def test_create_and_list_teams(app, client, alice, make_account):
    bob = make_account("bobby")
    r = client.post("/api/teams/create", json={"username": "acme-team", "fullName": "Acme Team"}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    team = r.json()["team"]
    assert team["username"] == "acme-team" and team["fullName"] == "Acme Team" and team["role"] == "owner"
    assert team["accountType"] == "team" and team["userId"].startswith("ws_")

    r = client.get("/api/teams", headers=alice.bearer)
    assert [(t["username"], t["role"]) for t in r.json()["teams"]] == [("acme-team", "owner")]
    assert client.get("/api/teams", headers=bob.bearer).json() == {"teams": []}
    assert summary_teams(client, alice) == {"acme-team": "owner"}

    # The handle shares one namespace with usernames, validated like them.
    for taken in ("acme-team", "alice", "bobby"):
        r = client.post("/api/teams/create", json={"username": taken}, headers=bob.bearer)
        assert r.status_code == 409, r.text
        assert "already taken" in r.json()["error"]
    for bad in ("abc", "Acme", "acme team", "-acme", "x" * 33):
        r = client.post("/api/teams/create", json={"username": bad}, headers=bob.bearer)
        assert r.status_code == 400 and "username" in r.json()["error"], r.text
    with transaction(app.state.sessions) as session, pytest.raises(Conflict):
        service.create_user(session, "acme-team")

    # Without a fullName the handle is the name; the summary lists each caller's own role.
    r = client.post("/api/teams/create", json={"username": "bobs-team"}, headers=bob.bearer)
    assert r.status_code == 201 and r.json()["team"]["fullName"] == "bobs-team"
    join(client, alice, bob, "editor", "acme-team")
    assert summary_teams(client, bob) == {"acme-team": "editor", "bobs-team": "owner"}
    assert [t["username"] for t in client.get("/api/teams", headers=bob.bearer).json()["teams"]] == ["acme-team", "bobs-team"]


def test_team_routes_need_the_account_scope(client, make_account):
    limited = make_account("limited", scopes=["projects"])
    assert client.get("/api/teams", headers=limited.bearer).status_code == 403
    assert client.post("/api/teams/create", json={"username": "nope-team"}, headers=limited.bearer).status_code == 403
    assert client.get("/api/members", headers=limited.bearer).status_code == 403
    assert client.get("/api/members").status_code == 401


# --- members ----------------------------------------------------------------------------------


def test_personal_workspace_members_are_its_owner(client, alice):
    body = members_of(client, alice, owner=None)
    assert body["owner"] == "alice" and body["accountType"] == "personal" and body["invites"] == []
    assert [(m["username"], m["role"], m["name"], m["email"]) for m in body["members"]] == [("alice", "owner", "alice", None)]
    r = client.post("/api/members", json={"email": "x@example.com", "role": "viewer"}, headers=alice.bearer)
    assert r.status_code == 400 and "personal workspace" in r.json()["error"]


def test_list_members_and_invites(client, team):
    pending = invite(client, team.admin, "new@example.com", "editor")
    for reader in (team.owner, team.admin, team.editor, team.viewer):
        body = members_of(client, reader)
        assert body["owner"] == TEAM
        assert roles(body) == {"owner1": "owner", "viewer1": "viewer", "editor1": "editor", "admin1": "admin",
                               "spare1": "viewer"}
        assert [m["username"] for m in body["members"]][0] == "owner1"
        [listed] = body["invites"]
        assert listed["inviteId"] == pending["inviteId"] and listed["email"] == "new@example.com"
        assert listed["role"] == "editor" and listed["invitedBy"] == "admin1" and listed["expired"] is False
        assert "token" not in listed
    for stranger in ("nope-team", TEAM):
        r = client.get("/api/members", params={"owner": stranger}, headers=team.outsider.bearer)
        assert r.status_code == 404


# --- invites ----------------------------------------------------------------------------------


def test_invite_accept_once(app, client, make_account):
    owner, bob = make_account("owner1"), make_account("bobby")
    client.post("/api/teams/create", json={"username": TEAM}, headers=owner.bearer)
    issued = invite(client, owner, "  Bob@Example.com ", "editor")
    assert issued["email"] == "bob@example.com" and issued["role"] == "editor" and issued["invitedBy"] == "owner1"
    assert issued["inviteId"].startswith("inv_")
    token = issued["token"]
    expires = clock.now() + timedelta(hours=app.state.settings.invite_ttl_hours)
    assert abs((datetime.fromisoformat(issued["expiresAt"]) - expires).total_seconds()) < 60

    # Info by token: the workspace, role, inviter and expiry (any valid key; none: 401).
    r = client.get("/api/invites/info", params={"token": token}, headers=bob.bearer)
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["workspace"]["username"] == TEAM and info["role"] == "editor" and info["email"] == "bob@example.com"
    assert info["invitedBy"]["username"] == "owner1" and info["expiresAt"] == issued["expiresAt"]
    assert info["expired"] is False
    assert client.get("/api/invites/info", params={"token": token}).status_code == 401
    assert client.get("/api/invites/info", params={"token": "nope"}, headers=bob.bearer).status_code == 404

    # The acceptUrl works as given (token in the query); the email is not checked against the user.
    url = urlsplit(issued["acceptUrl"])
    assert url.path == "/api/invites/accept"
    r = client.post(f"{url.path}?{url.query}", headers=bob.bearer)
    assert r.status_code == 200, r.text
    assert r.json()["team"]["username"] == TEAM and r.json()["team"]["role"] == "editor"
    assert roles(members_of(client, owner))["bobby"] == "editor"
    assert members_of(client, owner)["invites"] == []

    # Used once: the token stops working, for info as for accepting.
    carol = make_account("carol")
    assert client.post("/api/invites/accept", json={"token": token}, headers=carol.bearer).status_code == 404
    assert client.get("/api/invites/info", params={"token": token}, headers=carol.bearer).status_code == 404
    assert client.post("/api/invites/accept", json={}, headers=carol.bearer).status_code == 404


def test_already_in_the_team_cannot_accept(client, team):
    issued = invite(client, team.owner, "someone@example.com", "admin")
    for inside in (team.owner, team.viewer):
        r = client.post("/api/invites/accept", json={"token": issued["token"]}, headers=inside.bearer)
        assert r.status_code == 409 and "already in" in r.json()["error"]
    # Not spent by the refusal: the person it was meant for can still use it.
    assert accept(client, team.outsider, issued["token"])["team"]["role"] == "admin"


def test_invite_rules(app, client, team):
    def post(account, **body):
        return client.post("/api/members", json={"owner": TEAM, "email": "z@example.com", **body}, headers=account.bearer)

    assert post(team.viewer, role="viewer").status_code == 403
    assert post(team.editor, role="viewer").status_code == 403
    assert post(team.outsider, role="viewer").status_code == 404
    r = post(team.admin, role="admin")
    assert r.status_code == 403 and "owner" in r.json()["error"]  # only the owner assigns admin
    r = post(team.owner, role="owner")
    assert r.status_code == 400 and "transfer-ownership" in r.json()["error"]
    assert post(team.owner, role="superuser").status_code == 400
    assert post(team.owner, role="viewer", email="not-an-email").status_code == 400
    assert client.post("/api/members", json={"owner": "nope-team", "email": "z@example.com"},
                       headers=team.owner.bearer).status_code == 404

    assert post(team.admin, role="editor").status_code == 201
    r = post(team.owner, role="viewer", email="Z@example.com")
    assert r.status_code == 409 and "pending invite" in r.json()["error"]
    assert post(team.owner, role="admin", email="boss@example.com").status_code == 201

    # An email already known as a member's is refused.
    with transaction(app.state.sessions) as session:
        repository.user_by_id(session, team.editor.user_id).email = "ed@example.com"
    r = post(team.admin, role="viewer", email="ED@example.com")
    assert r.status_code == 409 and "already a member" in r.json()["error"]
    emails = {m["username"]: m["email"] for m in members_of(client, team.viewer)["members"]}
    assert emails["editor1"] == "ed@example.com" and emails["viewer1"] is None


def test_expired_invite_can_be_resent(client, team, monkeypatch):
    issued = invite(client, team.admin, "late@example.com", "viewer")
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(hours=169))  # past the 168 h default

    r = client.get("/api/invites/info", params={"token": issued["token"]}, headers=team.outsider.bearer)
    assert r.status_code == 200 and r.json()["expired"] is True
    assert members_of(client, team.admin)["invites"][0]["expired"] is True
    r = client.post("/api/invites/accept", json={"token": issued["token"]}, headers=team.outsider.bearer)
    assert r.status_code == 400 and "expired" in r.json()["error"]

    # Resending gives a fresh token and expiry; the old token no longer works.
    assert client.post(f"/api/invites/{issued['inviteId']}/resend", headers=team.editor.bearer).status_code == 403
    assert client.post(f"/api/invites/{issued['inviteId']}/resend", headers=team.outsider.bearer).status_code == 404
    r = client.post(f"/api/invites/{issued['inviteId']}/resend", headers=team.owner.bearer)
    assert r.status_code == 200, r.text
    fresh = r.json()["invite"]
    assert fresh["inviteId"] == issued["inviteId"] and fresh["token"] != issued["token"]
    assert fresh["expiresAt"] > issued["expiresAt"] and fresh["expired"] is False and fresh["invitedBy"] == "owner1"
    r = client.post("/api/invites/accept", json={"token": issued["token"]}, headers=team.outsider.bearer)
    assert r.status_code == 404
    assert accept(client, team.outsider, fresh["token"])["team"]["role"] == "viewer"
    # A used invite is gone for revoke and resend too.
    assert client.post(f"/api/invites/{issued['inviteId']}/resend", headers=team.owner.bearer).status_code == 404


def test_resending_an_admin_invite_is_for_the_owner(client, team):
    issued = invite(client, team.owner, "boss@example.com", "admin")
    assert client.post(f"/api/invites/{issued['inviteId']}/resend", headers=team.admin.bearer).status_code == 403
    assert client.post(f"/api/invites/{issued['inviteId']}/resend", headers=team.owner.bearer).status_code == 200


def test_revoke_invite(client, team):
    issued = invite(client, team.owner, "gone@example.com", "editor")
    path = f"/api/invites/{issued['inviteId']}"
    assert client.delete(path, headers=team.viewer.bearer).status_code == 403
    assert client.delete(path, headers=team.editor.bearer).status_code == 403
    assert client.delete(path, headers=team.outsider.bearer).status_code == 404
    r = client.delete(path, headers=team.admin.bearer)
    assert r.status_code == 200 and r.json() == {"success": True, "inviteId": issued["inviteId"]}
    assert client.delete(path, headers=team.admin.bearer).status_code == 404
    assert members_of(client, team.owner)["invites"] == []
    r = client.post("/api/invites/accept", json={"token": issued["token"]}, headers=team.outsider.bearer)
    assert r.status_code == 404


# --- roles, removal, ownership ------------------------------------------------------------------


def patch_role(client, account, target, role):
    return client.patch(f"/api/members/{target}", json={"role": role, "owner": TEAM}, headers=account.bearer)


def test_change_roles(client, team):
    spare = team.spare.user_id
    assert patch_role(client, team.viewer, spare, "editor").status_code == 403
    assert patch_role(client, team.editor, spare, "editor").status_code == 403
    assert patch_role(client, team.outsider, spare, "editor").status_code == 404
    r = patch_role(client, team.admin, spare, "editor")
    assert r.status_code == 200, r.text
    assert r.json()["member"]["role"] == "editor" and r.json()["member"]["username"] == "spare1"
    # By username as well as by id; the owner in the query works like the body field.
    r = client.patch("/api/members/spare1", params={"owner": TEAM}, json={"role": "viewer"}, headers=team.admin.bearer)
    assert r.status_code == 200 and r.json()["member"]["role"] == "viewer"

    # Only the owner gives or takes away admin; nobody changes the owner's role.
    assert patch_role(client, team.admin, spare, "admin").status_code == 403
    assert patch_role(client, team.admin, team.admin.user_id, "viewer").status_code == 403
    assert patch_role(client, team.owner, spare, "admin").status_code == 200
    assert patch_role(client, team.owner, team.admin.user_id, "editor").status_code == 200
    for who in (team.owner, team.spare):
        r = patch_role(client, who, team.owner.user_id, "viewer")
        assert r.status_code == 403 and "owner" in r.json()["error"]
    assert patch_role(client, team.owner, spare, "owner").status_code == 400
    assert patch_role(client, team.owner, spare, "root").status_code == 400
    assert patch_role(client, team.owner, team.outsider.user_id, "viewer").status_code == 404
    assert roles(members_of(client, team.owner)) == {"owner1": "owner", "viewer1": "viewer", "editor1": "editor",
                                                     "admin1": "editor", "spare1": "admin"}


def test_remove_members(client, team):
    def remove(account, target):
        return client.delete(f"/api/members/{target}", params={"owner": TEAM}, headers=account.bearer)

    private = client.post("/api/projects", json={"owner": TEAM, "project": "secret"}, headers=team.owner.bearer)
    assert private.status_code == 201
    for who in (team.owner, team.admin):
        r = remove(who, team.owner.user_id)
        assert r.status_code == 403 and "owner cannot be removed" in r.json()["error"]
    assert remove(team.viewer, team.spare.user_id).status_code == 403
    assert remove(team.editor, team.spare.user_id).status_code == 403
    assert remove(team.outsider, team.spare.user_id).status_code == 404
    assert remove(team.admin, team.owner.user_id).status_code == 403

    # Anyone may leave; admins remove others, except admins, whom only the owner removes.
    r = remove(team.viewer, "viewer1")
    assert r.status_code == 200 and r.json() == {"success": True, "userId": team.viewer.user_id}
    assert client.get(f"/api/projects/{TEAM}/secret", headers=team.viewer.bearer).status_code == 404
    assert remove(team.admin, team.editor.user_id).status_code == 200
    assert remove(team.admin, team.admin.user_id).status_code == 200  # leaving
    join(client, team.owner, team.admin, "admin")
    join(client, team.owner, team.editor, "admin")
    assert remove(team.admin, team.editor.user_id).status_code == 403
    assert remove(team.owner, team.editor.user_id).status_code == 200
    assert remove(team.owner, team.editor.user_id).status_code == 404
    assert roles(members_of(client, team.owner)) == {"owner1": "owner", "admin1": "admin", "spare1": "viewer"}


def test_transfer_ownership(client, team):
    def transfer(account, target, **extra):
        return client.post("/api/members/transfer-ownership", json={"userId": target, "owner": TEAM, **extra},
                           headers=account.bearer)

    assert transfer(team.admin, team.editor.user_id).status_code == 403
    assert transfer(team.viewer, team.editor.user_id).status_code == 403
    assert transfer(team.outsider, team.editor.user_id).status_code == 404
    assert transfer(team.owner, team.outsider.user_id).status_code == 404
    assert transfer(team.owner, team.owner.user_id).status_code == 400
    r = client.post("/api/members/transfer-ownership", json={"userId": team.editor.user_id}, headers=team.owner.bearer)
    assert r.status_code == 400 and "personal workspace" in r.json()["error"]

    r = transfer(team.owner, team.editor.user_id)
    assert r.status_code == 200, r.text
    assert r.json()["newOwner"] == {"userId": team.editor.user_id, "username": "editor1"}
    assert r.json()["previousOwner"]["role"] == "admin"
    assert roles(members_of(client, team.editor)) == {"editor1": "owner", "owner1": "admin", "viewer1": "viewer",
                                                      "admin1": "admin", "spare1": "viewer"}
    assert summary_teams(client, team.editor) == {TEAM: "owner"}
    assert summary_teams(client, team.owner) == {TEAM: "admin"}
    # The new owner is now the one who cannot be removed, and may remove the old one (an admin now).
    r = client.delete(f"/api/members/{team.editor.user_id}", params={"owner": TEAM}, headers=team.editor.bearer)
    assert r.status_code == 403
    r = client.delete(f"/api/members/{team.owner.user_id}", params={"owner": TEAM}, headers=team.editor.bearer)
    assert r.status_code == 200
    assert summary_teams(client, team.owner) == {}
