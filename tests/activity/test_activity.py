"""The activity feed: events recorded with the changes, per-user seen and archived marks, search."""


def feed(client, account, query=""):
    r = client.get(f"/api/activity?{query}", headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()


def test_events_are_recorded_seen_archived_and_searched(client, alice, make_account):
    client.post("/api/projects", json={"project": "demo", "name": "Demo"}, headers=alice.bearer)
    client.post("/api/models", json={"project": "demo", "model": "det"}, headers=alice.bearer)
    client.post("/api/datasets", json={"dataset": "shapes", "name": "Shapes"}, headers=alice.bearer)
    client.delete("/api/models/alice/demo/det", headers=alice.bearer)

    body = feed(client, alice)
    assert [e["type"] for e in body["events"]] == ["model.deleted", "dataset.created", "model.created", "project.created"]
    assert body["total"] == 4 and body["unseenCount"] == 4
    assert all(e["actor"] == "alice" and not e["seen"] for e in body["events"])
    assert body["events"][0]["message"] == "model demo/det moved to the trash"

    first = body["events"][0]["id"]
    assert client.post("/api/activity/mark-seen", json={"eventIds": [first]}, headers=alice.bearer).json()["updated"] == 1
    body = feed(client, alice)
    assert body["unseenCount"] == 3 and body["events"][0]["seen"] is True

    assert [e["type"] for e in feed(client, alice, "search=shapes")["events"]] == ["dataset.created"]
    assert feed(client, alice, "limit=2&page=2")["events"][0]["type"] == "model.created"

    client.post("/api/activity/archive", json={"all": True, "archive": True}, headers=alice.bearer)
    assert feed(client, alice)["events"] == [] and feed(client, alice)["unseenCount"] == 0
    assert feed(client, alice, "archived=true")["total"] == 4
    client.post("/api/activity/archive", json={"eventIds": [first], "archive": False}, headers=alice.bearer)
    assert [e["id"] for e in feed(client, alice)["events"]] == [first]

    r = client.post("/api/activity/mark-seen", json={}, headers=alice.bearer)
    assert r.status_code == 400 and "all" in r.json()["error"]
    bob = make_account("bobby")
    assert client.get("/api/activity?owner=alice", headers=bob.bearer).status_code == 404
    assert feed(client, bob)["events"] == []


def test_trash_and_ingest_events(client, app, alice, tmp_path):
    from tests.datasets.test_datasets_api import ingest, make_dataset
    from tests.fixtures.archives import write_zip, yolo_members

    make_dataset(client, alice)
    ingest(client, app, alice, "shapes", write_zip(tmp_path / "s.zip", yolo_members(1, 1)))
    client.delete("/api/datasets/alice/shapes", headers=alice.bearer)
    dataset_id = client.get("/api/trash", headers=alice.bearer).json()["items"][0]["_id"]
    client.post("/api/trash", json={"id": dataset_id, "type": "dataset"}, headers=alice.bearer)
    types = [e["type"] for e in client.get("/api/activity", headers=alice.bearer).json()["events"]]
    assert types == ["dataset.restored", "dataset.deleted", "dataset.ingested", "dataset.created"]
