"""The trash over HTTP: what deletes put there, listing with filters and pages, restoring (projects bring
their models back), deleting for good (rows and files), retention, roles and scopes."""

from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import add_model
from tests.contract import validate
from tests.projects.helpers import counts, crew, new_model, new_project, weights_path  # noqa: F401
from yolohost.db.engine import transaction
from yolohost.db.tables import Model, Project
from yolohost.db.tables.models import ModelStar
from yolohost.db.tables.projects import ProjectStar
from yolohost.kit import clock


def _trash(client, account, query: str = "") -> dict:
    r = client.get(f"/api/trash{query}", headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()


def _fill(client, alice, checkpoints) -> dict:
    """demo (two models, one with weights) trashed whole; lone (one model) loses only its model."""
    ids = {"det": add_model(client, alice, checkpoints["detect"], project="demo", name="Det")["id"]}
    ids["empty"] = new_model(client, alice, "demo", "empty")["id"]
    ids["solo"] = add_model(client, alice, checkpoints["classify"], project="lone", name="Solo")["id"]
    ids["demo"] = client.get("/api/projects/alice/demo", headers=alice.bearer).json()["project"]["id"]
    ids["lone"] = client.get("/api/projects/alice/lone", headers=alice.bearer).json()["project"]["id"]
    assert client.delete("/api/models/alice/lone/solo", headers=alice.bearer).status_code == 200
    assert client.delete("/api/projects/alice/demo", headers=alice.bearer).json()["cascadedModels"] == 2
    return ids


def test_listing_shows_what_was_deleted(client, alice, checkpoints):
    ids = _fill(client, alice, checkpoints)
    body = _trash(client, alice)
    validate("ListTrashResponse", body)
    assert [(i["type"], i["_id"]) for i in body["items"]] == [("project", ids["demo"]), ("model", ids["solo"])]
    project, model = body["items"]
    assert project["slug"] == "demo" and project["cascadedCount"] == 2 and project["daysRemaining"] == 30
    assert project["sizeBytes"] == checkpoints["detect"].stat().st_size
    assert model["parentProject"] == {"_id": ids["lone"], "name": "lone", "slug": "lone"}
    assert model["sizeBytes"] == checkpoints["classify"].stat().st_size
    assert (body["total"], body["page"], body["limit"], body["totalPages"]) == (2, 1, 50, 1)
    summary = body["summary"]
    assert summary["totalItems"] == 2 and summary["byType"]["projects"] == {"count": 1}
    assert summary["byType"]["models"] == {"count": 1, "sizeBytes": model["sizeBytes"]}
    assert summary["totalSizeBytes"] == project["sizeBytes"] + model["sizeBytes"]

    assert [i["type"] for i in _trash(client, alice, "?type=model")["items"]] == ["model"]
    assert _trash(client, alice, "?type=dataset")["items"] == []
    page2 = _trash(client, alice, "?limit=1&page=2")
    assert [i["_id"] for i in page2["items"]] == [ids["solo"]] and page2["totalPages"] == 2
    for query in ("?limit=201", "?page=0", "?type=models"):
        assert client.get(f"/api/trash{query}", headers=alice.bearer).status_code == 400, query
    summary = counts(client, alice)
    assert (summary["projects"], summary["models"]) == (1, 0)


def test_restoring_a_project_brings_back_the_models_trashed_with_it(client, alice, checkpoints):
    ids = _fill(client, alice, checkpoints)
    r = client.post("/api/trash", json={"id": ids["demo"], "type": "project"}, headers=alice.bearer)
    assert r.status_code == 200 and r.json() == {"success": True, "restoredModels": 2}
    detail = client.get("/api/projects/alice/demo", headers=alice.bearer).json()
    assert sorted(m["model"] for m in detail["models"]) == ["det", "empty"]
    assert client.get(f"/api/models/{ids['solo']}", headers=alice.bearer).status_code == 404  # still trashed on its own
    r = client.post("/api/trash", json={"id": ids["solo"], "type": "model"}, headers=alice.bearer)
    assert r.status_code == 200 and r.json() == {"success": True}
    assert client.get(f"/api/models/{ids['solo']}", headers=alice.bearer).json()["model"]["hasWeights"] is True
    assert _trash(client, alice)["items"] == []
    summary = counts(client, alice)
    assert (summary["projects"], summary["models"]) == (2, 3)
    # restoring what is not in the trash
    r = client.post("/api/trash", json={"id": ids["demo"], "type": "project"}, headers=alice.bearer)
    assert r.status_code == 404 and "not found in the trash" in r.json()["error"]
    for body in ({"id": ids["demo"]}, {"id": ids["demo"], "type": "folder"}, {"id": ids["demo"], "type": "project", "x": 1}):
        assert client.post("/api/trash", json=body, headers=alice.bearer).status_code == 400, body


def test_restore_refuses_a_name_taken_meanwhile(client, alice, checkpoints):
    ids = _fill(client, alice, checkpoints)
    new_project(client, alice, "demo")  # the trashed project's name, taken by a new one
    r = client.post("/api/trash", json={"id": ids["demo"], "type": "project"}, headers=alice.bearer)
    # the contract's restore lists no 409: a 400 that names the conflict
    assert r.status_code == 400 and "'demo' already exists" in r.json()["error"]
    new_model(client, alice, "lone", "solo")
    r = client.post("/api/trash", json={"id": ids["solo"], "type": "model"}, headers=alice.bearer)
    assert r.status_code == 400 and "'solo' already exists" in r.json()["error"]
    # a model trashed with its project comes back only with it
    r = client.post("/api/trash", json={"id": ids["det"], "type": "model"}, headers=alice.bearer)
    assert r.status_code == 400 and "restore the project" in r.json()["error"]


def test_restoring_a_model_needs_its_project_back_first(client, alice):
    solo = new_model(client, alice, "lone", "solo")
    client.delete("/api/models/alice/lone/solo", headers=alice.bearer)
    client.delete("/api/projects/alice/lone", headers=alice.bearer)
    r = client.post("/api/trash", json={"id": solo["id"], "type": "model"}, headers=alice.bearer)
    assert r.status_code == 400 and "project first" in r.json()["error"]
    pid = _trash(client, alice, "?type=project")["items"][0]["_id"]
    assert client.post("/api/trash", json={"id": pid, "type": "project"}, headers=alice.bearer).json()["restoredModels"] == 0
    assert client.post("/api/trash", json={"id": solo["id"], "type": "model"}, headers=alice.bearer).status_code == 200


def test_permanent_delete_removes_rows_and_files(client, app, alice, checkpoints):
    ids = _fill(client, alice, checkpoints)
    # stars go with what they star
    client.post("/api/trash", json={"id": ids["demo"], "type": "project"}, headers=alice.bearer)
    assert client.patch("/api/projects/alice/demo", json={"starred": True}, headers=alice.bearer).status_code == 200
    assert client.patch("/api/models/alice/demo/det", json={"starred": True}, headers=alice.bearer).status_code == 200
    client.delete("/api/projects/alice/demo", headers=alice.bearer)
    clone = client.post(f"/api/models/{ids['det']}/clone", json={"project": "lone"}, headers=alice.bearer)
    assert clone.status_code == 404  # a trashed model cannot be cloned
    assert weights_path(app, ids["solo"]).is_file() and weights_path(app, ids["det"]).is_file()

    r = client.request("DELETE", "/api/trash", json={"id": ids["solo"], "type": "model"}, headers=alice.bearer)
    assert r.status_code == 200 and r.json() == {"success": True, "deletedCount": 1, "cascadedModels": 0}
    assert not weights_path(app, ids["solo"]).parent.exists()
    assert client.post("/api/trash", json={"id": ids["solo"], "type": "model"}, headers=alice.bearer).status_code == 404

    r = client.request("DELETE", "/api/trash", json={"id": ids["demo"], "type": "project"}, headers=alice.bearer)
    assert r.status_code == 200 and r.json() == {"success": True, "deletedCount": 1, "cascadedModels": 2}
    assert not weights_path(app, ids["det"]).parent.exists()
    with app.state.sessions() as session:
        assert session.get(Project, ids["demo"]) is None
        assert session.get(Model, ids["det"]) is None and session.get(Model, ids["empty"]) is None
        assert session.scalar(select(func.count()).select_from(ProjectStar)) == 0
        assert session.scalar(select(func.count()).select_from(ModelStar)) == 0
    assert _trash(client, alice)["total"] == 0
    r = client.request("DELETE", "/api/trash", json={"id": ids["demo"], "type": "project"}, headers=alice.bearer)
    assert r.status_code == 404
    for body in ({"all": False}, {"all": True, "id": "x"}, {"id": "x"}, None):
        assert client.request("DELETE", "/api/trash", json=body, headers=alice.bearer).status_code == 400, body


def test_emptying_the_trash_spares_clones_and_live_resources(client, app, alice, checkpoints):
    src = add_model(client, alice, checkpoints["detect"], project="demo", name="Det")
    new_project(client, alice, "keep")
    kept = client.post(f"/api/models/{src['id']}/clone", json={"project": "keep"}, headers=alice.bearer).json()
    solo = new_model(client, alice, "demo", "solo")
    client.delete("/api/models/alice/demo/solo", headers=alice.bearer)  # on its own, then with... nothing: demo next
    client.delete("/api/projects/alice/demo", headers=alice.bearer)
    r = client.request("DELETE", "/api/trash", json={"all": True}, headers=alice.bearer)
    assert r.status_code == 200 and r.json() == {"success": True, "deletedCount": 2, "cascadedModels": 1}
    assert _trash(client, alice)["items"] == []
    assert not weights_path(app, src["id"]).parent.exists() and weights_path(app, kept["id"]).is_file()
    with app.state.sessions() as session:
        assert session.get(Model, solo["id"]) is None
    model = client.get(f"/api/models/{kept['id']}", headers=alice.bearer).json()["model"]
    assert model["hasWeights"] and model["clonedFrom"] == src["id"]
    summary = counts(client, alice)
    assert (summary["projects"], summary["models"]) == (1, 1)


def test_items_past_retention_are_gone_from_view(client, app, alice):
    new_model(client, alice, "old", "m")
    new_project(client, alice, "recent")
    client.delete("/api/projects/alice/old", headers=alice.bearer)
    client.delete("/api/projects/alice/recent", headers=alice.bearer)
    items = {i["slug"]: i for i in _trash(client, alice)["items"]}
    with transaction(app.state.sessions) as session:
        session.get(Project, items["old"]["_id"]).deleted_at = clock.now() - timedelta(days=31)
        session.get(Project, items["recent"]["_id"]).deleted_at = clock.now() - timedelta(days=29, hours=1)
    listed = _trash(client, alice)
    assert [(i["slug"], i["daysRemaining"]) for i in listed["items"]] == [("recent", 1)]
    r = client.post("/api/trash", json={"id": items["old"]["_id"], "type": "project"}, headers=alice.bearer)
    assert r.status_code == 404 and "30 days have passed" in r.json()["error"]
    app.state.settings.trash_retention_days = 60
    assert [(i["slug"], i["daysRemaining"]) for i in _trash(client, alice)["items"]] == [("recent", 31), ("old", 29)]
    app.state.settings.trash_retention_days = 30
    r = client.request("DELETE", "/api/trash", json={"all": True}, headers=alice.bearer)
    assert r.json()["deletedCount"] == 2 and r.json()["cascadedModels"] == 1  # expired items are purged too


def test_roles_owners_and_scopes(client, crew, make_account):
    alice = crew.alice
    pid = new_project(client, alice, "team-work")["id"]
    client.delete("/api/projects/alice/team-work", headers=alice.bearer)
    # the workspace's trash: members read it, editors change it; outsiders see nothing
    assert [i["_id"] for i in _trash(client, crew.viewer, "?owner=alice")["items"]] == [pid]
    assert _trash(client, crew.viewer)["items"] == []  # their own trash is empty
    assert client.get("/api/trash?owner=alice", headers=crew.outsider.bearer).status_code == 403
    assert client.get("/api/trash?owner=nobody", headers=crew.outsider.bearer).status_code == 403
    item = {"id": pid, "type": "project"}
    assert client.post("/api/trash", json=item, headers=crew.viewer.bearer).status_code == 403
    assert client.post("/api/trash", json=item, headers=crew.outsider.bearer).status_code == 404
    assert client.request("DELETE", "/api/trash", json=item, headers=crew.viewer.bearer).status_code == 403
    assert client.request("DELETE", "/api/trash?owner=alice", json={"all": True}, headers=crew.viewer.bearer).status_code == 403
    assert client.request("DELETE", "/api/trash?owner=alice", json={"all": True}, headers=crew.outsider.bearer).status_code == 404
    assert client.post("/api/trash", json=item, headers=crew.editor.bearer).json() == {"success": True, "restoredModels": 0}

    # a key limited to models sees and restores models only
    modeller = make_account("modeller", scopes=["models"])
    new_model(client, modeller, "p", "m")
    client.delete("/api/models/modeller/p/m", headers=modeller.bearer)
    assert [i["type"] for i in _trash(client, modeller)["items"]] == ["model"]
    r = client.get("/api/trash?type=project", headers=modeller.bearer)
    assert r.status_code == 403 and "'projects' scope" in r.json()["error"]
    r = client.request("DELETE", "/api/trash", json={"all": True}, headers=modeller.bearer)
    assert r.status_code == 403
