"""A team built through the API: its owner creates it and invites everyone else, who accept."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.conftest import Account

TEAM = "acme-team"


def invite(client, inviter: Account, email: str, role: str, owner: str = TEAM) -> dict:
    r = client.post("/api/members", json={"email": email, "role": role, "owner": owner}, headers=inviter.bearer)
    assert r.status_code == 201, r.text
    return r.json()["invite"]


def accept(client, account: Account, token: str) -> dict:
    r = client.post("/api/invites/accept", json={"token": token}, headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()


def join(client, owner: Account, account: Account, role: str, team: str = TEAM) -> None:
    accept(client, account, invite(client, owner, f"{account.username}@example.com", role, team)["token"])


@dataclass
class Team:
    """``acme-team``, owned by owner1, with a viewer, an editor, an admin and a spare viewer; outsider is not in it."""

    name: str
    owner: Account
    viewer: Account
    editor: Account
    admin: Account
    spare: Account
    outsider: Account

    def who(self, name: str) -> Account:
        return getattr(self, name)


@pytest.fixture
def team(client, make_account) -> Team:
    people = {name: make_account(f"{name}1" if name != "outsider" else name)
              for name in ("owner", "viewer", "editor", "admin", "spare", "outsider")}
    r = client.post("/api/teams/create", json={"username": TEAM, "fullName": "Acme Team"}, headers=people["owner"].bearer)
    assert r.status_code == 201, r.text
    for name, role in (("viewer", "viewer"), ("editor", "editor"), ("admin", "admin"), ("spare", "viewer")):
        join(client, people["owner"], people[name], role)
    return Team(TEAM, **people)
