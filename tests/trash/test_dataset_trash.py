"""Datasets in the trash: listed, restored, and purged with the files no other dataset needs."""

from tests.datasets.test_datasets_api import ingest, make_dataset
from tests.fixtures.archives import write_zip, yolo_members


def blob_files(app) -> set[str]:
    root = app.state.settings.files_dir / "blobs"
    return {p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_trash_restore_and_purge_a_dataset(client, app, alice, tmp_path):
    make_dataset(client, alice, slug="first")
    ingest(client, app, alice, "first", write_zip(tmp_path / "a.zip", yolo_members(2, 1, seed=0)))
    make_dataset(client, alice, slug="second")  # shares two of its three images with "first"
    ingest(client, app, alice, "second", write_zip(tmp_path / "b.zip", yolo_members(2, 1, seed=1)))
    assert len(blob_files(app)) == 4

    assert client.delete("/api/datasets/alice/first", headers=alice.bearer).json() == {"success": True}
    items = client.get("/api/trash?type=dataset", headers=alice.bearer).json()["items"]
    assert [(i["type"], i["slug"]) for i in items] == [("dataset", "first")] and items[0]["sizeBytes"] > 0
    assert client.post("/api/trash", json={"id": items[0]["_id"], "type": "dataset"}, headers=alice.bearer).json()["success"]
    assert client.get("/api/datasets/alice/first", headers=alice.bearer).json()["dataset"]["imageCount"] == 3

    client.delete("/api/datasets/alice/first", headers=alice.bearer)
    make_dataset(client, alice, slug="first")  # the slug is free again while the old one is in the trash
    r = client.post("/api/trash", json={"id": items[0]["_id"], "type": "dataset"}, headers=alice.bearer)
    assert r.status_code == 400 and "exists again" in r.json()["error"]
    r = client.request("DELETE", "/api/trash", json={"id": items[0]["_id"], "type": "dataset"}, headers=alice.bearer)
    assert r.json()["deletedCount"] == 1
    # the image only "first" had is gone; the ones "second" shares stay
    assert len(blob_files(app)) == 3
    assert client.get("/api/datasets/alice/second/images?limit=10", headers=alice.bearer).json()["total"] == 3
