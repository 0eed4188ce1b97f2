"""Projects over HTTP: create, list, retrieve, update (rename, stars), trash, clone, and who may do what.

Every response is also checked against the contract by the client fixture."""

import hashlib

from tests.conftest import add_model
from tests.contract import validate
from tests.projects.helpers import counts, crew, new_model, new_project, weights_path  # noqa: F401


def test_create_retrieve_and_list_newest_first(client, alice):
    created = new_project(client, alice, "inspection", name="Inspection", description="Line 3",
                          metadata={"site": "north", "cams": [1, 2]}, tags=["qa", "line-3"], license="MIT",
                          visibility="public")
    assert created["owner"] == "alice" and created["project"] == "inspection" and created["id"].startswith("prj_")
    assert created["region"] == "us"
    new_project(client, alice, "second")

    detail = client.get("/api/projects/alice/inspection", headers=alice.bearer).json()
    project = detail["project"]
    assert project["name"] == "Inspection" and project["description"] == "Line 3"
    assert project["metadata"] == {"site": "north", "cams": [1, 2]} and project["tags"] == ["qa", "line-3"]
    assert project["license"] == "MIT" and project["visibility"] == "public"
    assert project["modelCount"] == 0 and project["starCount"] == 0 and project["isStarred"] is False
    assert detail["models"] == [] and detail["isOwner"] is True
    assert client.get(f"/api/projects/{created['id']}", headers=alice.bearer).json() == detail

    listed = client.get("/api/projects/alice", headers=alice.bearer).json()
    validate("ListProjectsResponse", listed)
    assert [p["project"] for p in listed["projects"]] == ["second", "inspection"] and listed["total"] == 2
    one = client.get("/api/projects/alice?limit=1", headers=alice.bearer).json()
    assert [p["project"] for p in one["projects"]] == ["second"] and one["total"] == 2
    # the seed reference's list: ?owner= (the caller's own by default)
    assert client.get("/api/projects?limit=1", headers=alice.bearer).json() == one
    assert client.get("/api/projects?owner=alice", headers=alice.bearer).json() == listed
    for bad in ("0", "501", "x"):
        r = client.get(f"/api/projects/alice?limit={bad}", headers=alice.bearer)
        assert r.status_code == 400 and "limit" in r.json()["error"]
    assert client.get("/api/projects/nobody", headers=alice.bearer).status_code == 404
    assert counts(client, alice)["projects"] == 2


def test_create_refuses_bad_input_and_taken_slugs(client, crew):
    alice = crew.alice
    new_project(client, alice, "demo")
    r = client.post("/api/projects", json={"project": "demo", "name": "Again"}, headers=alice.bearer)
    assert r.status_code == 400 and "'demo' already exists" in r.json()["error"]
    for body, field in [
        ({"name": "No Slug!"}, None),  # a slug is made from the name
        ({"project": "Bad Slug", "name": "x"}, "project"),
        ({"project": "ok", "name": "tab\there"}, "name"),
        ({"project": "ok", "name": "x" * 101}, "name"),
        ({"project": "ok", "name": "x", "license": "WTFPL"}, "license"),
        ({"project": "ok", "name": "x", "tags": ["t"] * 51}, "tags"),
        ({"project": "ok", "name": "x", "colour": "red"}, "colour"),
        ({"project": "ok", "name": None}, "name"),
        ({}, "project"),
    ]:
        r = client.post("/api/projects", json=body, headers=alice.bearer)
        if field is None:
            assert r.status_code == 201 and r.json()["project"] == "no-slug", r.text
        else:
            assert r.status_code == 400 and field in r.json()["error"], (body, r.json())
    # the seed reference's spelling: slug instead of project
    r = client.post("/api/projects", json={"slug": "seed-style", "name": "Seed"}, headers=alice.bearer)
    assert r.status_code == 201 and r.json()["project"] == "seed-style"

    # other workspaces: editors may, viewers and outsiders may not, unknown ones are named
    r = client.post("/api/projects", json={"project": "team", "name": "T", "owner": "alice"}, headers=crew.editor.bearer)
    assert r.status_code == 201 and r.json()["owner"] == "alice"
    for who in (crew.viewer, crew.outsider):
        r = client.post("/api/projects", json={"project": "nope", "name": "N", "owner": "alice"}, headers=who.bearer)
        assert r.status_code == 403 and "editor" in r.json()["error"]
    r = client.post("/api/projects", json={"project": "nope", "name": "N", "owner": "nobody"}, headers=alice.bearer)
    assert r.status_code == 400 and "nobody" in r.json()["error"]


def test_detail_summarises_models(client, alice, checkpoints):
    created = add_model(client, alice, checkpoints["detect"], project="demo", name="Det")
    new_model(client, alice, "demo", "empty")
    detail = client.get("/api/projects/alice/demo", headers=alice.bearer).json()
    models = {m["model"]: m for m in detail["models"]}
    assert list(models) == ["empty", "det"]  # newest first
    det = models["det"]
    assert det["id"] == created["id"] and det["hasWeights"] is True and det["task"] == "detect"
    assert det["file"]["size"] == checkpoints["detect"].stat().st_size and det["status"] == "completed"
    assert models["empty"]["hasWeights"] is False and models["empty"]["status"] == "untrained"
    project = detail["project"]
    assert project["modelCount"] == 2 and project["totalBytes"] == det["file"]["size"] and project["task"] == "detect"


def test_patch_changes_fields_and_a_new_name_renames(client, alice, checkpoints):
    new_project(client, alice, "demo")
    new_project(client, alice, "taken")
    model = add_model(client, alice, checkpoints["classify"], project="demo")
    patch = {"description": "new", "metadata": {"k": {"nested": True}}, "tags": ["a"], "license": "Apache-2.0",
             "archived": True, "iconColor": "#ff0000", "iconLetter": "D", "visibility": "public",
             "viewPreferences": {"sortBy": "oldest", "groupBy": "task"}}
    r = client.patch("/api/projects/alice/demo", json=patch, headers=alice.bearer)
    assert r.status_code == 200 and r.json() == {"success": True, "project": "demo"}
    project = client.get("/api/projects/alice/demo", headers=alice.bearer).json()["project"]
    assert {k: project[k] for k in patch if k != "metadata"} == {k: v for k, v in patch.items() if k != "metadata"}
    assert project["metadata"] == {"k": {"nested": True}}
    # the project's visibility is its models' visibility
    assert client.get(f"/api/models/{model['id']}", headers=alice.bearer).json()["model"]["visibility"] == "public"
    r = client.patch("/api/projects/alice/demo", json={"iconLetter": None}, headers=alice.bearer)
    assert r.status_code == 200
    assert "iconLetter" not in client.get("/api/projects/alice/demo", headers=alice.bearer).json()["project"]

    # a new display name changes the URL name too (the contract's rule); the old one is gone
    r = client.patch("/api/projects/alice/demo", json={"name": "Demo Two"}, headers=alice.bearer)
    assert r.json() == {"success": True, "project": "demo-two"}
    assert client.get("/api/projects/alice/demo", headers=alice.bearer).status_code == 404
    assert client.get("/api/projects/alice/demo-two", headers=alice.bearer).json()["project"]["name"] == "Demo Two"
    assert client.get(f"/api/models/alice/demo-two/{model['model']}", headers=alice.bearer).status_code == 200
    r = client.patch("/api/projects/alice/demo-two", json={"name": "Taken"}, headers=alice.bearer)
    assert r.status_code == 409 and "'taken' already exists" in r.json()["error"]

    for body, names in [({"colour": 1, "project": "x"}, ("colour", "project")), ({"name": None}, ("name",)),
                        ({"visibility": "hidden"}, ("visibility",)), ({"viewPreferences": {"sortBy": "size"}}, ("sortBy",)),
                        ({"metadata": {"k" * 129: 1}}, ("metadata",))]:
        r = client.patch("/api/projects/alice/demo-two", json=body, headers=alice.bearer)
        assert r.status_code == 400 and all(n in r.json()["error"] for n in names), (body, r.json())


def test_stars_need_only_read_access(client, crew):
    new_project(client, crew.alice, "public-one", visibility="public")
    new_project(client, crew.alice, "private-one")
    r = client.patch("/api/projects/alice/public-one", json={"starred": True}, headers=crew.outsider.bearer)
    assert r.status_code == 200 and r.json() == {"starred": True, "starCount": 1}
    r = client.patch("/api/projects/alice/public-one", json={"starred": True}, headers=crew.viewer.bearer)
    assert r.json() == {"starred": True, "starCount": 2}
    mine = client.get("/api/projects/alice/public-one", headers=crew.outsider.bearer).json()["project"]
    theirs = client.get("/api/projects/alice/public-one", headers=crew.alice.bearer).json()["project"]
    assert (mine["isStarred"], mine["starCount"], theirs["isStarred"]) == (True, 2, False)
    r = client.patch("/api/projects/alice/public-one", json={"starred": False}, headers=crew.outsider.bearer)
    assert r.json() == {"starred": False, "starCount": 1}
    # starring does not let an outsider change anything else, nor see private projects
    r = client.patch("/api/projects/alice/public-one", json={"starred": True, "name": "Mine"}, headers=crew.outsider.bearer)
    assert r.status_code == 403
    assert client.patch("/api/projects/alice/public-one", json={}, headers=crew.outsider.bearer).status_code == 403
    r = client.patch("/api/projects/alice/private-one", json={"starred": True}, headers=crew.outsider.bearer)
    assert r.status_code == 404


def test_roles_decide_who_reads_and_who_changes(client, crew):
    new_project(client, crew.alice, "secret")
    new_project(client, crew.alice, "open", visibility="public")
    # outsiders: private projects do not exist for them, public ones are read-only
    assert client.get("/api/projects/alice/secret", headers=crew.outsider.bearer).status_code == 404
    for method in ("patch", "delete"):
        kwargs = {"json": {"description": "x"}} if method == "patch" else {}
        r = getattr(client, method)("/api/projects/alice/secret", headers=crew.outsider.bearer, **kwargs)
        assert r.status_code == 404, method
        r = getattr(client, method)("/api/projects/alice/open", headers=crew.outsider.bearer, **kwargs)
        assert r.status_code == 403, method
        r = getattr(client, method)("/api/projects/alice/secret", headers=crew.viewer.bearer, **kwargs)
        assert r.status_code == 403 and "editor" in r.json()["error"], method
    listed = client.get("/api/projects/alice", headers=crew.outsider.bearer).json()
    assert [p["project"] for p in listed["projects"]] == ["open"] and listed["total"] == 1
    assert client.get("/api/projects/alice", headers=crew.viewer.bearer).json()["total"] == 2
    detail = client.get("/api/projects/alice/secret", headers=crew.viewer.bearer).json()
    assert detail["isOwner"] is False
    # editors change and delete
    r = client.patch("/api/projects/alice/secret", json={"description": "by editor"}, headers=crew.editor.bearer)
    assert r.status_code == 200
    r = client.delete("/api/projects/alice/secret", headers=crew.editor.bearer)
    assert r.status_code == 200 and r.json() == {"success": True, "cascadedModels": 0}


def test_scopes_apply_to_projects(client, make_account):
    models_only = make_account("modeller", scopes=["models"])
    r = client.post("/api/projects", json={"project": "p", "name": "P"}, headers=models_only.bearer)
    assert r.status_code == 403 and "'projects' scope" in r.json()["error"]
    assert client.delete("/api/projects/modeller/p", headers=models_only.bearer).status_code == 403
    # reads list no 403 in the contract: without the scope a key reads what anyone may (public projects)
    new_model(client, models_only, "private-demo", "m")  # creates the (private) project on the way
    assert client.get("/api/projects/modeller", headers=models_only.bearer).json()["total"] == 0
    assert client.get("/api/projects/modeller/private-demo", headers=models_only.bearer).status_code == 404
    projects_only = make_account("planner", scopes=["projects"])
    assert client.post("/api/projects", json={"project": "p", "name": "P"}, headers=projects_only.bearer).status_code == 201
    assert client.get("/api/projects/planner/p", headers=projects_only.bearer).json()["isOwner"] is True


def test_delete_moves_the_project_and_its_models_to_the_trash(client, alice, checkpoints):
    model = add_model(client, alice, checkpoints["detect"], project="demo")
    new_model(client, alice, "demo", "second")
    assert counts(client, alice)["models"] == 2
    r = client.delete("/api/projects/alice/demo", headers=alice.bearer)
    assert r.status_code == 200 and r.json() == {"success": True, "cascadedModels": 2}
    assert client.get("/api/projects/alice/demo", headers=alice.bearer).status_code == 404
    assert client.get(f"/api/models/{model['id']}", headers=alice.bearer).status_code == 404
    assert client.get("/api/projects/alice", headers=alice.bearer).json()["total"] == 0
    summary = counts(client, alice)
    assert (summary["projects"], summary["models"]) == (0, 0)
    # the slug is free again for a new project; the trashed one keeps its files until purged
    new_project(client, alice, "demo")
    assert client.get("/api/projects/alice/demo", headers=alice.bearer).json()["project"]["modelCount"] == 0
    assert client.delete("/api/projects/alice/gone", headers=alice.bearer).status_code == 404


def test_id_routes(client, crew):
    created = new_project(client, crew.alice, "by-id")
    pid = created["id"]
    r = client.patch(f"/api/projects/{pid}", json={"description": "via id"}, headers=crew.alice.bearer)
    assert r.status_code == 200 and r.json() == {"success": True, "project": "by-id"}
    assert client.get(f"/api/projects/{pid}", headers=crew.alice.bearer).json()["project"]["description"] == "via id"
    assert client.get(f"/api/projects/{pid}", headers=crew.outsider.bearer).status_code == 404
    assert client.delete(f"/api/projects/{pid}", headers=crew.viewer.bearer).status_code == 403
    r = client.delete(f"/api/projects/{pid}", headers=crew.alice.bearer)
    assert r.status_code == 200 and r.json()["success"] is True
    assert client.get(f"/api/projects/{pid}", headers=crew.alice.bearer).status_code == 404
    assert client.get("/api/projects/prj_" + "0" * 24, headers=crew.alice.bearer).status_code == 404


def test_clone_copies_the_project_and_its_completed_models(client, app, crew, checkpoints):
    alice, outsider = crew.alice, crew.outsider
    new_project(client, alice, "shared", tags=["x"], license="MIT", metadata={"a": 1})
    done = add_model(client, alice, checkpoints["detect"], project="shared", name="Done")
    new_model(client, alice, "shared", "untrained")
    # models are created private; publishing the project publishes them
    assert client.patch("/api/projects/alice/shared", json={"visibility": "public"}, headers=alice.bearer).status_code == 200

    r = client.post("/api/projects/alice/shared/clone", json={"name": "My Copy"}, headers=outsider.bearer)
    assert r.status_code == 201, r.text
    clone = r.json()
    assert (clone["owner"], clone["project"], clone["name"], clone["modelCount"]) == ("outsider", "shared", "My Copy", 1)
    detail = client.get("/api/projects/outsider/shared", headers=outsider.bearer).json()
    project = detail["project"]
    assert project["visibility"] == "private" and project["clonedFrom"] and project["tags"] == ["x"]
    assert project["license"] == "MIT" and project["metadata"] == {"a": 1} and detail["isOwner"] is True
    (copy,) = detail["models"]
    assert copy["model"] == "done" and copy["id"] != done["id"] and copy["hasWeights"] is True
    # the weights are a copy of their own, byte for byte
    original, copied = weights_path(app, done["id"]), weights_path(app, copy["id"])
    assert copied != original and hashlib.sha256(copied.read_bytes()).digest() == hashlib.sha256(original.read_bytes()).digest()
    assert counts(client, outsider)["models"] == 1

    # into the source's own workspace only under a free name (the contract lists no 409 here)
    r = client.post("/api/projects/alice/shared/clone", json={}, headers=alice.bearer)
    assert r.status_code == 400 and "'shared' already exists" in r.json()["error"]
    r = client.post("/api/projects/alice/shared/clone", json={"project": "shared-copy", "models": ["untrained", done["id"]]},
                    headers=alice.bearer)
    assert r.status_code == 201 and r.json()["modelCount"] == 2
    r = client.post("/api/projects/alice/shared/clone", json={"project": "x", "models": ["nope"]}, headers=alice.bearer)
    assert r.status_code == 400 and "'nope'" in r.json()["error"]
    # a destination the caller cannot edit, a project the caller cannot see
    r = client.post("/api/projects/alice/shared/clone", json={"owner": "alice", "project": "v"}, headers=crew.viewer.bearer)
    assert r.status_code == 403
    new_project(client, alice, "hidden")
    assert client.post("/api/projects/alice/hidden/clone", headers=outsider.bearer).status_code == 404
    # the seed reference's id route
    pid = client.get("/api/projects/alice/shared", headers=alice.bearer).json()["project"]["id"]
    r = client.post(f"/api/projects/{pid}/clone", json={"owner": "alice", "project": "by-id"}, headers=crew.editor.bearer)
    assert r.status_code == 201 and r.json()["owner"] == "alice" and r.json()["modelCount"] == 1
