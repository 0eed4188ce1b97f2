"""Models over HTTP beyond create and predict: list, update (rename, move, stars), trash, clone, roles."""

import hashlib

from tests.conftest import add_model
from tests.contract import validate
from tests.projects.helpers import counts, crew, new_model, new_project, weights_path  # noqa: F401


def test_list_newest_first_with_limit(client, crew, checkpoints):
    alice = crew.alice
    first = add_model(client, alice, checkpoints["detect"], project="demo", name="First")
    new_model(client, alice, "demo", "second")
    body = client.get("/api/models/alice/demo", headers=alice.bearer).json()
    validate("ListModelsResponse", body)
    assert [m["model"] for m in body["models"]] == ["second", "first"] and body["region"] == "us"
    det = body["models"][1]
    assert det["id"] == first["id"] and det["hasWeights"] is True and det["task"] == "detect" and "metadata" not in det
    assert [m["model"] for m in client.get("/api/models/alice/demo?limit=1", headers=alice.bearer).json()["models"]] == ["second"]
    for bad in ("0", "101"):
        r = client.get(f"/api/models/alice/demo?limit={bad}", headers=alice.bearer)
        assert r.status_code == 400 and "limit" in r.json()["error"]
    # the seed reference's list by project id
    pid = client.get("/api/projects/alice/demo", headers=alice.bearer).json()["project"]["id"]
    assert client.get(f"/api/models?projectId={pid}", headers=alice.bearer).json() == body
    # members see everything, outsiders nothing of a private project
    assert len(client.get("/api/models/alice/demo", headers=crew.viewer.bearer).json()["models"]) == 2
    assert client.get("/api/models/alice/demo", headers=crew.outsider.bearer).status_code == 404
    assert client.get("/api/models/alice/nope", headers=alice.bearer).status_code == 404
    # a public project shows outsiders its public models only
    client.patch("/api/projects/alice/demo", json={"visibility": "public"}, headers=alice.bearer)
    client.patch("/api/models/alice/demo/second", json={"visibility": "private"}, headers=alice.bearer)
    seen = client.get("/api/models/alice/demo", headers=crew.outsider.bearer).json()["models"]
    assert [m["model"] for m in seen] == ["first"]
    assert [m["model"] for m in client.get("/api/projects/alice/demo", headers=crew.outsider.bearer).json()["models"]] == ["first"]


def test_patch_fields(client, alice, checkpoints):
    created = add_model(client, alice, checkpoints["pose"], project="demo", name="Pose")
    patch = {"description": "keypoints", "metadata": {"run": 3}, "status": "completed", "color": "#00ff00",
             "license": "AGPL-3.0"}
    r = client.patch("/api/models/alice/demo/pose", json=patch, headers=alice.bearer)
    assert r.status_code == 200 and r.json() == {"success": True, "model": "pose"}
    model = client.get(f"/api/models/{created['id']}", headers=alice.bearer).json()["model"]
    assert {k: model[k] for k in patch} == patch
    assert client.patch("/api/models/alice/demo/pose", json={"color": None}, headers=alice.bearer).status_code == 200
    assert "color" not in client.get(f"/api/models/{created['id']}", headers=alice.bearer).json()["model"]
    for body, field in [({"nickname": "x", "visibilty": "public"}, "nickname, visibilty"), ({"status": "done"}, "status"),
                        ({"name": None}, "name"), ({"color": "#1234567"}, "color"), ({"metadata": []}, "metadata"),
                        ({"trainArgs": {"epochs": 3}}, "trainArgs: not supported"), ({"description": "x" * 1001}, "description")]:
        r = client.patch("/api/models/alice/demo/pose", json=body, headers=alice.bearer)
        assert r.status_code == 400 and field in r.json()["error"], (body, r.json())


def test_a_new_name_renames_and_project_id_moves(client, alice, checkpoints):
    created = add_model(client, alice, checkpoints["detect"], project="demo", name="Det")
    new_model(client, alice, "demo", "taken")
    r = client.patch("/api/models/alice/demo/det", json={"name": "Det V2"}, headers=alice.bearer)
    assert r.json() == {"success": True, "model": "det-v2"}
    assert client.get("/api/models/alice/demo/det", headers=alice.bearer).status_code == 404
    assert client.get("/api/models/alice/demo/det-v2", headers=alice.bearer).json()["model"]["name"] == "Det V2"
    r = client.patch("/api/models/alice/demo/det-v2", json={"name": "Taken"}, headers=alice.bearer)
    assert r.status_code == 409 and "'taken' already exists" in r.json()["error"]

    other = new_project(client, alice, "other")
    r = client.patch(f"/api/models/{created['id']}", json={"projectId": other["id"]}, headers=alice.bearer)
    assert r.status_code == 200 and r.json()["model"] == "det-v2"
    moved = client.get("/api/models/alice/other/det-v2", headers=alice.bearer).json()["model"]
    assert moved["id"] == created["id"] and moved["project"] == "other"
    r = client.patch(f"/api/models/{created['id']}", json={"projectId": "prj_nope"}, headers=alice.bearer)
    assert r.status_code == 400 and "projectId" in r.json()["error"]


def test_stars(client, crew, checkpoints):
    created = add_model(client, crew.alice, checkpoints["classify"], project="demo")
    url = f"/api/models/alice/demo/{created['model']}"
    r = client.patch(url, json={"starred": True}, headers=crew.viewer.bearer)  # viewers may star
    assert r.status_code == 200 and r.json() == {"starred": True, "starCount": 1}
    detail = client.get(url, headers=crew.viewer.bearer).json()["model"]
    assert (detail["starCount"], detail["isStarred"]) == (1, True)
    assert client.get(url, headers=crew.alice.bearer).json()["model"]["isStarred"] is False
    assert client.patch(url, json={"starred": True}, headers=crew.outsider.bearer).status_code == 404


def test_roles_and_scopes(client, crew, make_account):
    created = new_model(client, crew.alice, "demo", "m1")
    url = "/api/models/alice/demo/m1"
    assert client.patch(url, json={"description": "x"}, headers=crew.outsider.bearer).status_code == 404
    assert client.delete(url, headers=crew.outsider.bearer).status_code == 404
    r = client.patch(url, json={"description": "x"}, headers=crew.viewer.bearer)
    assert r.status_code == 403 and "editor" in r.json()["error"]
    assert client.delete(url, headers=crew.viewer.bearer).status_code == 403
    assert client.patch(url, json={"description": "by editor"}, headers=crew.editor.bearer).status_code == 200
    projects_only = make_account("planner", scopes=["projects"])
    r = client.patch(url, json={"description": "x"}, headers=projects_only.bearer)
    assert r.status_code == 403 and "'models' scope" in r.json()["error"]
    r = client.delete(f"/api/models/{created['id']}", headers=crew.editor.bearer)
    assert r.status_code == 200 and r.json() == {"success": True}


def test_delete_is_soft(client, app, alice, checkpoints):
    created = add_model(client, alice, checkpoints["detect"], project="demo")
    assert counts(client, alice)["models"] == 1
    r = client.delete(f"/api/models/alice/demo/{created['model']}", headers=alice.bearer)
    assert r.status_code == 200 and r.json() == {"success": True}
    assert client.get(f"/api/models/{created['id']}", headers=alice.bearer).status_code == 404
    assert client.get("/api/models/alice/demo", headers=alice.bearer).json()["models"] == []
    assert counts(client, alice)["models"] == 0 and counts(client, alice)["projects"] == 1
    assert weights_path(app, created["id"]).is_file()  # kept until the trash is emptied
    assert client.delete(f"/api/models/{created['id']}", headers=alice.bearer).status_code == 404
    # the name is free again
    add_model(client, alice, checkpoints["detect"], project="demo")


def test_clone_into_a_project_the_caller_can_edit(client, app, crew, checkpoints):
    alice, outsider = crew.alice, crew.outsider
    src = add_model(client, alice, checkpoints["segment"], project="demo", name="Seg")
    client.patch("/api/models/alice/demo/seg", json={"metadata": {"k": 1}, "color": "#abcdef"}, headers=alice.bearer)
    new_project(client, alice, "other")

    r = client.post("/api/models/alice/demo/seg/clone", json={"project": "other"}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    copy = r.json()
    assert (copy["owner"], copy["project"], copy["model"], copy["name"]) == ("alice", "other", "seg", "Seg")
    assert copy["id"] != src["id"] and copy["region"] == "us"
    model = client.get(f"/api/models/{copy['id']}", headers=alice.bearer).json()["model"]
    assert model["hasWeights"] and model["task"] == "segment" and model["clonedFrom"] == src["id"]
    assert model["metadata"] == {"k": 1} and model["color"] == "#abcdef"
    original, copied = weights_path(app, src["id"]), weights_path(app, copy["id"])
    assert copied != original and hashlib.sha256(copied.read_bytes()).digest() == hashlib.sha256(original.read_bytes()).digest()

    # the same project under another name; a taken name (no 409 in the contract: 400)
    r = client.post("/api/models/alice/demo/seg/clone", json={"project": "demo", "name": "Seg Copy"}, headers=alice.bearer)
    assert r.status_code == 201 and r.json()["model"] == "seg-copy"
    r = client.post("/api/models/alice/demo/seg/clone", json={"project": "demo"}, headers=alice.bearer)
    assert r.status_code == 400 and "'seg' already exists" in r.json()["error"]
    for body, status in [({"project": "missing"}, 404), ({}, 400), ({"project": "other", "model": "Bad Slug"}, 400)]:
        assert client.post("/api/models/alice/demo/seg/clone", json=body, headers=alice.bearer).status_code == status, body

    # others: outsiders cannot see it; a viewer cannot clone into alice's workspace but into their own
    assert client.post("/api/models/alice/demo/seg/clone", json={"project": "x"}, headers=outsider.bearer).status_code == 404
    r = client.post("/api/models/alice/demo/seg/clone", json={"owner": "alice", "project": "other", "model": "v"},
                    headers=crew.viewer.bearer)
    assert r.status_code == 403
    new_project(client, crew.viewer, "mine")
    # the seed reference's id route and field names
    r = client.post(f"/api/models/{src['id']}/clone", json={"targetProjectSlug": "mine", "modelName": "Borrowed"},
                    headers=crew.viewer.bearer)
    assert r.status_code == 201 and (r.json()["owner"], r.json()["model"]) == ("viewer1", "borrowed")
    assert counts(client, crew.viewer)["models"] == 1
