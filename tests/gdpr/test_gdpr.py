"""GDPR: an export is a job whose archive holds the account's rows and files (and nobody else's); a delete
removes every row and file of the account, found by scanning every table and the whole storage afterwards,
and leaves other accounts as they were."""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import urlsplit

from sqlalchemy import select

from tests.gdpr.conftest import World, blob_hashes, run_jobs
from yolohost.db.base import Base
from yolohost.db.tables import Job, Project
from yolohost.jobs import repository as jobs_repo


def export(client, app, account) -> tuple[dict, zipfile.ZipFile]:
    r = client.post("/api/gdpr", json={"action": "export"}, headers=account.bearer)
    assert r.status_code == 202, r.text
    queued = r.json()
    assert queued["success"] is True and queued["data"]["status"] == "queued" and "downloadUrl" not in queued["data"]
    job_id = queued["data"]["jobId"]
    assert run_jobs(app) == [job_id]
    r = client.get("/api/gdpr", params={"jobId": job_id}, headers=account.bearer)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["status"] == "completed" and data["progress"] == 100 and data["action"] == "export"
    url = urlsplit(data["downloadUrl"])
    download = client.get(f"{url.path}?{url.query}")  # a signed link: no key needed
    assert download.status_code == 200 and len(download.content) == data["sizeBytes"]
    return data, zipfile.ZipFile(io.BytesIO(download.content))


def table(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return json.loads(archive.read(f"tables/{name}.json"))


def test_export_holds_the_accounts_rows_and_files_and_nobody_elses(client, app, world: World, weights):
    alice, bob = world.alice, world.bob
    data, archive = export(client, app, alice.account)
    assert data["fileName"].startswith("yolohost-export-alice-") and data["fileName"].endswith(".zip")
    names = set(archive.namelist())
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["user"] == {"id": alice.account.user_id, "username": "alice"}
    assert "README.txt" in names

    assert [u["username"] for u in table(archive, "users")] == ["alice"]
    assert {w["username"] for w in table(archive, "workspaces")} == {"alice", "alice-lab"}
    projects = {(p["workspace_id"], p["slug"]) for p in table(archive, "projects")}
    assert {slug for _, slug in projects} == {"vision", "guest-work"}  # her own, and bob's in her team
    assert [m["id"] for m in table(archive, "models")] == [alice.model["id"]]
    assert {d["id"] for d in table(archive, "datasets")} == {alice.dataset["id"], world.mine["id"]}
    assert len(table(archive, "images")) == 6 and len(table(archive, "dataset_versions")) == 1
    keys = table(archive, "api_keys")
    assert [k["id"] for k in keys] == [alice.account.key_id] and "key_hash" not in keys[0]
    assert all("token_hash" not in i for i in table(archive, "invites"))
    memberships = {(m["workspace_id"], m["user_id"]) for m in table(archive, "workspace_members")}
    assert memberships == {(alice.team_id, bob.account.user_id), (bob.team_id, alice.account.user_id)}
    assert {f["follower_id"] for f in table(archive, "follows")} == {alice.account.user_id, bob.account.user_id}
    assert [s["user_id"] for s in table(archive, "project_stars")] == [alice.account.user_id]
    assert {j["kind"] for j in table(archive, "jobs")} >= {"dataset_ingest", "gdpr_export"}
    assert manifest["tables"]["images"] == 6

    # the files: the checkpoint and every image, byte for byte
    assert archive.read(f"files/models/{alice.model['id']}/best.pt") == weights.read_bytes()
    for dataset, members in ((world.mine, world.mine_members), (alice.dataset, world.shared_members)):
        for name, content in members.items():
            if name.endswith(".png"):
                split, filename = name.split("/")[1:]
                assert archive.read(f"files/datasets/{dataset['id']}/{split}/{filename}") == content
    assert f"files/versions/{world.mine['id']}/1.json" in names
    assert not any(n.startswith("files/gdpr/") for n in names)  # no archive inside the archive

    # nothing of bob's own: not his rows (her star on his project names it, nothing more), not his files
    rows = {name: {r.get("id") for r in table(archive, name)} for name in ("projects", "models", "datasets", "images")}
    assert not {bob.project["id"], world.bob_clone["id"], world.alice_in_bobs_team["id"]} & rows["projects"]
    assert bob.model["id"] not in rows["models"] and bob.dataset["id"] not in rows["datasets"]
    assert not (bob.ids & rows["images"])
    assert [s["project_id"] for s in table(archive, "project_stars")] == [bob.project["id"]]
    assert not any(bob.model["id"] in n or bob.dataset["id"] in n for n in names)
    for event in table(archive, "activity_events"):  # her workspaces' feeds, and what she did elsewhere
        assert event["workspace_id"] in alice.ids or event["actor_id"] == alice.account.user_id, event
    assert any(e["workspace_id"] == bob.team_id for e in table(archive, "activity_events"))


def test_only_the_requester_reads_an_export(client, app, world: World):
    alice, bob = world.alice.account, world.bob.account
    r = client.post("/api/gdpr", json={"action": "export"}, headers=alice.bearer)
    job_id = r.json()["data"]["jobId"]
    again = client.post("/api/gdpr", json={"action": "export"}, headers=alice.bearer)
    assert again.json()["data"]["jobId"] == job_id  # one export at a time
    r = client.get("/api/gdpr", params={"jobId": job_id}, headers=bob.bearer)
    assert r.status_code == 404 and job_id in r.json()["error"]
    with app.state.sessions() as session:
        other_kind = session.scalar(select(Job.id).where(Job.kind == "dataset_ingest", Job.user_id == alice.user_id))
    assert client.get("/api/gdpr", params={"jobId": other_kind}, headers=alice.bearer).status_code == 404
    r = client.get("/api/gdpr", headers=alice.bearer)
    assert r.status_code == 400 and "jobId" in r.json()["error"]
    assert client.get("/api/gdpr", params={"jobId": job_id}).status_code == 401

    # a newer export replaces the older archive
    run_jobs(app)
    first = client.get("/api/gdpr", params={"jobId": job_id}, headers=alice.bearer).json()["data"]
    assert "downloadUrl" in first
    newer = client.post("/api/gdpr", json={"action": "export"}, headers=alice.bearer).json()["data"]["jobId"]
    run_jobs(app)
    old = client.get("/api/gdpr", params={"jobId": job_id}, headers=alice.bearer).json()["data"]
    assert old["status"] == "completed" and old["expired"] is True and "downloadUrl" not in old
    assert "downloadUrl" in client.get("/api/gdpr", params={"jobId": newer}, headers=alice.bearer).json()["data"]
    assert not app.state.storage.path(f"gdpr/{job_id}").exists()


def test_bodies_and_keys_are_checked(client, make_account, world: World):
    alice = world.alice.account
    for body, needle in (({}, "action must be one of export, delete"), ({"action": "erase"}, "'erase'"),
                         ([1], "JSON object"), ({"action": "delete"}, 'confirmationWord is required'),
                         ({"action": "delete", "confirmationWord": "delete"}, 'confirmationWord must be "DELETE"'),
                         ({"action": "delete", "confirmationWord": 1}, "confirmationWord must be a string"),
                         ({"action": "delete", "confirmationWord": "DELETE", "teamUsername": " "},
                          "teamUsername must not be blank")):
        r = client.post("/api/gdpr", json=body, headers=alice.bearer)
        assert r.status_code == 400 and needle in r.json()["error"], (body, r.text)
    assert client.get("/api/account/summary", headers=alice.bearer).status_code == 200  # nothing was deleted
    unknown = client.post("/api/gdpr", json={"action": "export"}, headers={"Authorization": "Bearer ul_" + "0" * 40})
    assert unknown.status_code == 401
    limited = make_account("limited", scopes=["projects", "models", "datasets"])
    r = client.post("/api/gdpr", json={"action": "delete", "confirmationWord": "DELETE"}, headers=limited.bearer)
    assert r.status_code == 403 and "account" in r.json()["error"]
    assert client.get("/api/account/summary", headers=limited.bearer).status_code == 200


def rows_mentioning(app, ids: set[str], username: str) -> list[str]:
    """Every row of every table that holds one of ``ids`` (anywhere in any column) or ``username`` (as a value)."""
    found = []
    with app.state.sessions() as session:
        for tbl in Base.metadata.sorted_tables:
            for row in session.execute(select(tbl)):
                values = list(row)
                text = json.dumps(values, default=str)
                if any(i in text for i in ids) or username in values:
                    found.append(f"{tbl.name}: {dict(row._mapping)}")
    return found


def stored_files(app) -> list[str]:
    root = app.state.storage.root
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_delete_removes_every_row_and_file_of_the_account(client, app, world: World):
    alice, bob = world.alice, world.bob
    export(client, app, alice.account)  # an archive to delete as well
    with app.state.sessions() as session:
        alice.ids |= set(session.scalars(select(Job.id).where(Job.user_id == alice.account.user_id)))
    assert rows_mentioning(app, alice.ids, "alice")  # the scan finds her before
    files_before = stored_files(app)
    assert any(alice.model["id"] in f for f in files_before) and any(f.startswith("gdpr/") for f in files_before)

    r = client.post("/api/gdpr", json={"action": "delete", "confirmationWord": "DELETE"}, headers=alice.account.bearer)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["action"] == "delete" and data["deleted"]["users"] == 1 and data["deleted"]["workspaces"] == 2
    assert data["deleted"]["images"] == 6 and data["filesRemoved"] > 0

    assert rows_mentioning(app, alice.ids, "alice") == []
    left = stored_files(app)
    assert [f for f in left if any(i in f for i in alice.ids)] == []
    assert not any(f.startswith("gdpr/") for f in left)
    blobs = {f.split("/")[-1].split(".")[0] for f in left if f.startswith("blobs/")}
    assert blobs == blob_hashes(world.shared_members)  # her own images went; the ones bob has too stayed
    thumbs = {f.split("/")[-1].split(".")[0] for f in left if f.startswith("thumbs/")}
    assert thumbs == blob_hashes(world.shared_members)

    # her key is gone, and the pending "last used" time of it does not trip the next batch
    assert client.get("/api/account/summary", headers=alice.account.bearer).status_code == 401
    assert client.post("/api/gdpr", json={"action": "export"}, headers=alice.account.bearer).status_code == 401
    assert client.get("/api/account/summary", headers=bob.account.bearer).status_code == 200
    assert app.state.last_used.flush(app.state.sessions) >= 1

    # bob's things are as they were
    me = bob.account
    assert client.get("/api/projects/bobby/vision", headers=me.bearer).status_code == 200
    assert app.state.storage.path(f"models/{bob.model['id']}/best.pt").is_file()
    assert client.get("/api/datasets/bobby/shapes", headers=me.bearer).json()["dataset"]["imageCount"] == 3
    images = client.get("/api/datasets/bobby/shapes/images?includeImageUrls=true", headers=me.bearer).json()["images"]
    for image in images:
        url = urlsplit(image["imageUrl"])
        assert client.get(f"{url.path}?{url.query}").status_code == 200
    assert [t["username"] for t in client.get("/api/teams", headers=me.bearer).json()["teams"]] == ["bob-crew"]
    members = client.get("/api/members", params={"owner": "bob-crew"}, headers=me.bearer).json()["members"]
    assert [m["username"] for m in members] == ["bobby"]
    assert client.get("/api/projects/bob-crew/shared-work", headers=me.bearer).status_code == 200  # the team's
    assert client.get("/api/projects/bobby/alices-vision", headers=me.bearer).status_code == 200
    with app.state.sessions() as session:
        assert session.get(Project, world.bob_clone["id"]).cloned_from is None  # the link to her project went
    profile = client.get("/api/users", params={"username": "bobby"}, headers=me.bearer)
    assert profile.status_code == 200
    assert client.get("/api/users", params={"username": "alice"}, headers=me.bearer).status_code == 404


def test_delete_one_team(client, app, world: World):
    alice, bob = world.alice, world.bob
    body = {"action": "delete", "confirmationWord": "DELETE"}
    r = client.post("/api/gdpr", json={**body, "teamUsername": "alice-lab"}, headers=bob.account.bearer)
    assert r.status_code == 403 and "owner" in r.json()["error"]  # bob is only an editor there
    r = client.post("/api/gdpr", json={**body, "teamUsername": "alice"}, headers=alice.account.bearer)
    assert r.status_code == 400 and "personal workspace" in r.json()["error"]
    r = client.post("/api/gdpr", json={**body, "teamUsername": "no-such-team"}, headers=alice.account.bearer)
    assert r.status_code == 404

    r = client.post("/api/gdpr", json={**body, "teamUsername": "alice-lab"}, headers=alice.account.bearer)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["teamUsername"] == "alice-lab" and r.json()["data"]["deleted"]["workspaces"] == 1
    gone = {alice.team_id, world.bob_in_alices_team["id"]}
    assert rows_mentioning(app, gone, "alice-lab") == []
    assert client.get("/api/teams", headers=alice.account.bearer).json()["teams"][0]["username"] == "bob-crew"
    assert [t["username"] for t in client.get("/api/teams", headers=bob.account.bearer).json()["teams"]] == ["bob-crew"]
    # her own account and workspace are untouched
    assert client.get("/api/projects/alice/vision", headers=alice.account.bearer).status_code == 200
    assert client.get("/api/datasets/alice/mine", headers=alice.account.bearer).json()["dataset"]["imageCount"] == 3


def test_the_instance_owner_cannot_delete_its_account(client, app, make_account):
    owner = make_account(app.state.settings.owner)
    r = client.post("/api/gdpr", json={"action": "delete", "confirmationWord": "DELETE"}, headers=owner.bearer)
    assert r.status_code == 403 and "instance owner" in r.json()["error"]
    assert client.get("/api/account/summary", headers=owner.bearer).status_code == 200
    assert client.post("/api/teams/create", json={"username": "admin-team"}, headers=owner.bearer).status_code == 201
    r = client.post("/api/gdpr", json={"action": "delete", "confirmationWord": "DELETE", "teamUsername": "admin-team"},
                    headers=owner.bearer)
    assert r.status_code == 200  # its teams can go


def test_nothing_is_deleted_while_a_job_of_the_account_runs(client, app, world: World):
    alice = world.alice.account
    client.post("/api/gdpr", json={"action": "export"}, headers=alice.bearer)
    with app.state.sessions() as session, session.begin():
        job_id = jobs_repo.claim(session, "elsewhere:1", ["gdpr_export"])  # a worker took it and runs it
    r = client.post("/api/gdpr", json={"action": "delete", "confirmationWord": "DELETE"}, headers=alice.bearer)
    assert r.status_code == 409 and job_id in r.json()["error"]
    assert client.get("/api/account/summary", headers=alice.bearer).status_code == 200
    with app.state.sessions() as session, session.begin():
        jobs_repo.finish(session, job_id, "failed", error="stopped")
    r = client.post("/api/gdpr", json={"action": "delete", "confirmationWord": "DELETE"}, headers=alice.bearer)
    assert r.status_code == 200
