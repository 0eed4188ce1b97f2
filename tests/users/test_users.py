"""Users: public profiles (with or without a key), follow/unfollow with follower counts, username
availability with suggestions, and the caller's profile settings."""

from tests.contract import validate
from yolohost.accounts.service import create_user
from yolohost.db.engine import transaction
from yolohost.db.tables import Workspace
from yolohost.kit.ids import new_id


def _profile(client, username, headers=None) -> dict:
    r = client.get(f"/api/users?username={username}", headers=headers or {})
    assert r.status_code == 200, r.text
    validate("PublicUserResponse", r.json())
    return r.json()["user"]


def test_profiles_follow_and_unfollow(client, alice, make_account):
    bob = make_account("bobby")
    assert _profile(client, "alice") == {"username": "alice", "fullName": "alice", "accountType": "personal",
                                         "iconLetter": "A", "followerCount": 0, "isFollowed": False}
    r = client.patch("/api/users", json={"username": "alice", "followed": True}, headers=bob.bearer)
    assert r.status_code == 200 and r.json() == {"followed": True, "followerCount": 1}
    assert client.patch("/api/users", json={"username": "alice", "followed": True}, headers=bob.bearer).json() == {
        "followed": True, "followerCount": 1}  # idempotent
    assert _profile(client, "alice", bob.bearer)["isFollowed"] is True
    assert _profile(client, "alice")["followerCount"] == 1 and _profile(client, "alice")["isFollowed"] is False
    assert _profile(client, "alice", alice.bearer)["isFollowed"] is False
    r = client.patch("/api/users", json={"username": "alice", "followed": False}, headers=bob.bearer)
    assert r.json() == {"followed": False, "followerCount": 0}

    r = client.patch("/api/users", json={"username": "alice", "followed": True}, headers=alice.bearer)
    assert r.status_code == 400 and "yourself" in r.json()["error"]
    assert client.patch("/api/users", json={"username": "nobody", "followed": True}, headers=bob.bearer).status_code == 404
    assert client.patch("/api/users", json={"username": "alice"}, headers=bob.bearer).status_code == 400
    assert client.patch("/api/users", json={"username": "alice", "followed": True}).status_code == 401
    assert client.get("/api/users?username=nobody").status_code == 404
    assert client.get("/api/users").status_code == 400
    assert client.get("/api/users?username=alice", headers={"Authorization": "Bearer ul_x"}).status_code == 401


def test_a_team_has_a_profile_too(client, app, alice, make_account):
    bob = make_account("bobby")
    with transaction(app.state.sessions) as session:
        owner = create_user(session, "teamowner")
        session.add(Workspace(id=new_id("ws"), username="vision-team", name="Vision Team", kind="team", owner_id=owner.id))
    assert client.patch("/api/users", json={"username": "vision-team", "followed": True}, headers=bob.bearer).status_code == 200
    team = _profile(client, "vision-team", bob.bearer)
    assert (team["accountType"], team["fullName"], team["followerCount"], team["isFollowed"]) == ("team", "Vision Team", 1, True)


def test_username_check_and_suggestions(client, alice, make_account):
    make_account("alice-ai")
    r = client.get("/api/username/check?username=newbie")
    assert r.status_code == 200 and r.json() == {"username": "newbie", "available": True, "valid": True}
    taken = client.get("/api/username/check?username=alice&suggest=true").json()
    assert taken["available"] is False and "already taken" in taken["reason"]
    assert len(taken["suggestions"]) == 5 and "alice-ai" not in taken["suggestions"]
    assert all(s.startswith("alice") for s in taken["suggestions"])
    for s in taken["suggestions"]:
        assert client.get(f"/api/username/check?username={s}").json()["available"] is True
    assert "suggestions" not in client.get("/api/username/check?username=alice").json()
    invalid = client.get("/api/username/check?username=Bad_Name!&suggest=true").json()
    assert invalid["valid"] is False and invalid["available"] is False and "lowercase" in invalid["reason"]
    assert invalid["suggestions"][0] == "bad-name"
    assert client.get("/api/username/check").status_code == 400


def test_settings_are_the_public_profile(client, alice):
    r = client.get("/api/settings", headers=alice.bearer)
    assert r.status_code == 200
    assert r.json() == {"settings": {"username": "alice", "fullName": "alice", "email": "", "bio": "", "company": "",
                                     "useCase": "", "socials": {}}}
    body = {"fullName": "Alice Liddell", "bio": "Detects rabbits.", "company": "Wonderland",
            "socials": {"github": "https://github.com/alice", "discord": "alice#1"}}
    r = client.post("/api/settings", json=body, headers=alice.bearer)
    assert r.status_code == 200 and r.json()["success"] is True
    assert r.json()["settings"]["socials"] == {"github": "https://github.com/alice", "discord": "alice#1"}
    profile = _profile(client, "alice")
    assert profile["fullName"] == "Alice Liddell" and profile["bio"] == "Detects rabbits."
    assert profile["company"] == "Wonderland" and profile["socials"] == body["socials"] and "useCase" not in profile
    # partial updates keep the rest; an empty string clears one field
    client.post("/api/settings", json={"bio": "", "socials": {"discord": ""}}, headers=alice.bearer)
    settings = client.get("/api/settings", headers=alice.bearer).json()["settings"]
    assert settings["bio"] == "" and settings["company"] == "Wonderland"
    assert settings["socials"] == {"github": "https://github.com/alice"}
    assert client.get("/api/account/summary", headers=alice.bearer).json()["name"] == "Alice Liddell"
    for bad in ({"socials": {"github": "javascript:alert(1)"}}, {"fullName": ""}, {"nickname": "x"},
                {"socials": {"myspace": "https://x"}}, {"bio": "x" * 1001}):
        r = client.post("/api/settings", json=bad, headers=alice.bearer)
        assert r.status_code == 400, bad
    assert client.get("/api/settings").status_code == 401
