"""Member changes appear in the team's activity feed: invites sent, members joining, role changes,
removals and ownership transfers, each recorded with the change itself (a refused change leaves none)."""

from __future__ import annotations

from tests.teams.conftest import TEAM, accept, invite


def events(client, account, owner=TEAM) -> list[dict]:
    r = client.get("/api/activity", params={"owner": owner, "limit": 100}, headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()["events"]


def member_events(client, account) -> list[tuple]:
    """(type, resourceType, resourceName, actor, data), oldest first, of the team's member and invite events."""
    return [(e["type"], e["resourceType"], e["resourceName"], e["actor"], e["data"])
            for e in reversed(events(client, account)) if e["resourceType"] in ("member", "invite", "team")]


def test_an_invite_and_its_acceptance(client, alice, make_account):
    bob = make_account("bobby")
    assert client.post("/api/teams/create", json={"username": TEAM}, headers=alice.bearer).status_code == 201
    sent = invite(client, alice, "Bob@Example.com", "editor")
    accept(client, bob, sent["token"])
    found = member_events(client, alice)
    assert found == [
        ("invite.sent", "invite", "bob@example.com", "alice", {"role": "editor"}),
        ("member.added", "member", "bobby", "bobby", {"role": "editor", "inviteId": sent["inviteId"]}),
    ]
    feed = events(client, bob)  # the new member sees the team's feed, with both events unseen
    joined = next(e for e in feed if e["type"] == "member.added")
    assert joined["resourceId"] == bob.user_id and joined["message"] == "member bobby joined" and not joined["seen"]
    assert next(e for e in feed if e["type"] == "invite.sent")["resourceId"] == sent["inviteId"]
    # a personal workspace's feed does not get the team's events
    assert [e for e in events(client, alice, owner=None) if e["resourceType"] in ("member", "invite")] == []


def test_role_changes_removals_and_leaving(client, team):
    before = len(member_events(client, team.owner))
    assert client.patch(f"/api/members/{team.viewer.user_id}", json={"role": "editor", "owner": TEAM},
                        headers=team.admin.bearer).status_code == 200
    # the same role again changes nothing and records nothing; a refused change records nothing either
    assert client.patch(f"/api/members/{team.viewer.user_id}", json={"role": "editor", "owner": TEAM},
                        headers=team.admin.bearer).status_code == 200
    assert client.patch(f"/api/members/{team.editor.user_id}", json={"role": "admin", "owner": TEAM},
                        headers=team.admin.bearer).status_code == 403
    assert client.delete(f"/api/members/{team.spare.user_id}", params={"owner": TEAM},
                         headers=team.admin.bearer).status_code == 200
    assert client.delete(f"/api/members/{team.editor.username}", params={"owner": TEAM},
                         headers=team.editor.bearer).status_code == 200  # leaves on its own
    assert member_events(client, team.owner)[before:] == [
        ("member.role_changed", "member", team.viewer.username, team.admin.username,
         {"from": "viewer", "to": "editor"}),
        ("member.removed", "member", team.spare.username, team.admin.username, {"role": "viewer", "left": False}),
        ("member.removed", "member", team.editor.username, team.editor.username, {"role": "editor", "left": True}),
    ]


def test_ownership_transfer(client, team):
    r = client.post("/api/members/transfer-ownership", json={"userId": team.admin.user_id, "owner": TEAM},
                    headers=team.owner.bearer)
    assert r.status_code == 200, r.text
    last = events(client, team.admin)[0]
    assert (last["type"], last["resourceType"], last["resourceName"], last["actor"]) == \
        ("team.transferred", "team", TEAM, team.owner.username)
    assert last["data"] == {"newOwnerId": team.admin.user_id, "newOwner": team.admin.username,
                            "previousOwnerId": team.owner.user_id, "previousOwner": team.owner.username}
    assert last["message"] == f"team {TEAM} changed owner"
    # a refused transfer (the old owner is only an admin now) adds nothing
    r = client.post("/api/members/transfer-ownership", json={"userId": team.viewer.user_id, "owner": TEAM},
                    headers=team.owner.bearer)
    assert r.status_code == 403
    assert events(client, team.admin)[0]["id"] == last["id"]
