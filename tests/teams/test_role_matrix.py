"""The role matrix over HTTP: in a team workspace, who may read, write, delete and manage members.

Every domain's authorization follows the workspace roles: viewers read, editors create, change and
delete, admins (and the owner) manage members; outsiders do not even see private resources (404).
"""

from __future__ import annotations

import pytest

from tests.teams.conftest import TEAM

WHO = ("owner", "admin", "editor", "viewer", "outsider")
READERS = {"owner", "admin", "editor", "viewer"}
WRITERS = {"owner", "admin", "editor"}
MANAGERS = {"owner", "admin"}


def expect(who: str, allowed: set[str], ok: int, *, refused: int = 403, outsider: int = 404) -> int:
    """The status ``who`` should get: ``ok`` if allowed, else 404 for the outsider and ``refused`` for members."""
    if who in allowed:
        return ok
    return outsider if who == "outsider" else refused


@pytest.fixture
def resources(client, team) -> dict:
    """A private project with a model, and a private dataset, all created by the team's owner."""
    owner = team.owner.bearer
    r = client.post("/api/projects", json={"owner": TEAM, "project": "proj", "name": "Proj"}, headers=owner)
    assert r.status_code == 201, r.text
    project_id = r.json()["id"]
    r = client.post("/api/models", json={"owner": TEAM, "project": "proj", "model": "m1", "name": "M1"}, headers=owner)
    assert r.status_code == 201, r.text
    model_id = r.json()["id"]
    r = client.post("/api/datasets", json={"owner": TEAM, "dataset": "ds1", "name": "DS1"}, headers=owner)
    assert r.status_code == 201, r.text
    return {"project": project_id, "model": model_id, "dataset": r.json()["id"]}


@pytest.mark.parametrize("who", WHO)
def test_projects(client, team, resources, who):
    auth = team.who(who).bearer
    for path in (f"/api/projects/{TEAM}/proj", f"/api/projects/{resources['project']}"):
        assert client.get(path, headers=auth).status_code == expect(who, READERS, 200), path
    listed = client.get("/api/projects", params={"owner": TEAM}, headers=auth)
    assert [p["id"] for p in listed.json()["projects"]] == ([resources["project"]] if who in READERS else [])

    r = client.patch(f"/api/projects/{TEAM}/proj", json={"description": f"by {who}"}, headers=auth)
    assert r.status_code == expect(who, WRITERS, 200), r.text
    # Creating in a workspace is refused with 403 (the contract lists no 404 for POST /api/projects).
    r = client.post("/api/projects", json={"owner": TEAM, "project": f"new-{who}"}, headers=auth)
    assert r.status_code == expect(who, WRITERS, 201, outsider=403), r.text
    r = client.delete(f"/api/projects/{resources['project']}", headers=auth)
    assert r.status_code == expect(who, WRITERS, 200), r.text


@pytest.mark.parametrize("who", WHO)
def test_models(client, team, resources, who):
    auth = team.who(who).bearer
    path = f"/api/models/{resources['model']}"
    assert client.get(path, headers=auth).status_code == expect(who, READERS, 200)
    assert client.get(f"/api/models/{TEAM}/proj/m1", headers=auth).status_code == expect(who, READERS, 200)

    r = client.patch(path, json={"description": f"by {who}"}, headers=auth)
    assert r.status_code == expect(who, WRITERS, 200), r.text
    r = client.post("/api/models", json={"owner": TEAM, "project": "proj", "model": f"new-{who}"}, headers=auth)
    assert r.status_code == expect(who, WRITERS, 201), r.text
    r = client.delete(path, headers=auth)
    assert r.status_code == expect(who, WRITERS, 200), r.text


@pytest.mark.parametrize("who", WHO)
def test_datasets(client, team, resources, who):
    auth = team.who(who).bearer
    path = f"/api/datasets/{TEAM}/ds1"
    assert client.get(path, headers=auth).status_code == expect(who, READERS, 200)

    r = client.patch(path, json={"description": f"by {who}"}, headers=auth)
    assert r.status_code == expect(who, WRITERS, 200), r.text
    if who != "outsider":  # see test_an_outsider_creating_a_dataset_is_forbidden
        r = client.post("/api/datasets", json={"owner": TEAM, "dataset": f"new-{who}", "name": "New"}, headers=auth)
        assert r.status_code == expect(who, WRITERS, 201), r.text
    r = client.delete(path, headers=auth)
    assert r.status_code == expect(who, WRITERS, 200), r.text


def test_an_outsider_creating_a_dataset_is_forbidden(client, team):
    r = client.post("/api/datasets", json={"owner": TEAM, "dataset": "sneaky", "name": "Sneaky"},
                    headers=team.outsider.bearer)
    assert r.status_code == 403


@pytest.mark.parametrize("who", WHO)
def test_members(client, team, who):
    auth = team.who(who).bearer
    spare, owner = team.spare.user_id, team.owner.user_id
    assert client.get("/api/members", params={"owner": TEAM}, headers=auth).status_code == expect(who, READERS, 200)

    r = client.post("/api/members", json={"owner": TEAM, "email": f"{who}-pick@example.com", "role": "editor"},
                    headers=auth)
    assert r.status_code == expect(who, MANAGERS, 201), r.text
    r = client.patch(f"/api/members/{spare}", json={"owner": TEAM, "role": "editor"}, headers=auth)
    assert r.status_code == expect(who, MANAGERS, 200), r.text
    r = client.delete(f"/api/members/{spare}", params={"owner": TEAM}, headers=auth)
    assert r.status_code == expect(who, MANAGERS, 200), r.text
    # The owner stays, whoever asks.
    r = client.delete(f"/api/members/{owner}", params={"owner": TEAM}, headers=auth)
    assert r.status_code == (404 if who == "outsider" else 403), r.text
