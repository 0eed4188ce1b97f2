"""``GET /api/storage``: real byte counts by category (a shared image blob counts once per workspace),
the largest items, members only; the quota refuses uploads that would go over it."""

from urllib.parse import urlsplit

from tests.conftest import add_model
from tests.contract import validate
from tests.datasets.test_datasets_api import ingest, make_dataset
from tests.fixtures.archives import write_zip, yolo_members
from tests.projects.helpers import crew, new_model  # noqa: F401
from yolohost.db.tables import DatasetVersion, Image


def _storage(client, account, query=""):
    r = client.get(f"/api/storage{query}", headers=account.bearer)
    assert r.status_code == 200, r.text
    validate("StorageInfoResponse", r.json())
    return r.json()


def _blob_bytes(app, dataset_ids) -> tuple[int, int]:
    """(sum of image sizes, sum over distinct hashes) of the datasets' images."""
    with app.state.sessions() as session:
        images = session.query(Image).filter(Image.dataset_id.in_(dataset_ids)).all()
    return sum(i.size for i in images), sum({i.sha256: i.size for i in images}.values())


def test_an_empty_workspace(client, alice):
    body = _storage(client, alice, "?details=true")
    assert body["usage"]["storage"] == {"current": 0, "limit": 0, "percent": 0}
    assert body["breakdown"] == {"byCategory": {k: {"bytes": 0, "count": 0} for k in ("datasets", "models", "exports")},
                                 "topItems": []}
    assert body["username"] == "alice" and body["tier"] == "enterprise"


def test_bytes_by_category_and_the_largest_items(client, app, alice, checkpoints, tmp_path):
    det = add_model(client, alice, checkpoints["detect"], project="demo", name="Det")
    cls = add_model(client, alice, checkpoints["classify"], project="demo", name="Cls")
    new_model(client, alice, "demo", "untrained")  # no weights: not counted
    first = make_dataset(client, alice, slug="first")
    ingest(client, app, alice, "first", write_zip(tmp_path / "a.zip", yolo_members(2, 1, seed=0)))
    second = make_dataset(client, alice, slug="second")  # shares two images with "first"
    ingest(client, app, alice, "second", write_zip(tmp_path / "b.zip", yolo_members(2, 1, seed=1)))
    assert client.post("/api/datasets/alice/first/export", json={}, headers=alice.bearer).status_code in (200, 201)
    with app.state.sessions() as session:
        version = session.query(DatasetVersion).one()

    listed, distinct = _blob_bytes(app, [first["id"], second["id"]])
    assert distinct < listed  # the shared blobs are stored once
    weights = checkpoints["detect"].stat().st_size + checkpoints["classify"].stat().st_size
    body = _storage(client, alice)
    by = body["breakdown"]["byCategory"]
    assert by["datasets"] == {"bytes": distinct, "count": 2}
    assert by["models"] == {"bytes": weights, "count": 2}
    assert by["exports"] == {"bytes": version.size, "count": 1}
    assert body["usage"]["storage"]["current"] == distinct + weights + version.size
    assert body["breakdown"]["topItems"] == []

    top = _storage(client, alice, "?details=true")["breakdown"]["topItems"]
    assert [t["sizeBytes"] for t in top] == sorted((t["sizeBytes"] for t in top), reverse=True)
    by_id = {t["_id"]: t for t in top}
    assert by_id[det["id"]] == {"_id": det["id"], "name": "Det", "slug": "det", "type": "model",
                                "sizeBytes": checkpoints["detect"].stat().st_size, "parentName": "demo", "parentSlug": "demo"}
    assert by_id[cls["id"]]["type"] == "model"
    assert by_id[first["id"]]["type"] == "dataset" and by_id[first["id"]]["sizeBytes"] == _blob_bytes(app, [first["id"]])[1]
    assert by_id[version.id]["type"] == "export" and by_id[version.id]["parentSlug"] == "first"

    # trashed resources no longer count
    client.delete("/api/datasets/alice/second", headers=alice.bearer)
    client.delete("/api/models/alice/demo/cls", headers=alice.bearer)
    by = _storage(client, alice)["breakdown"]["byCategory"]
    assert by["datasets"] == {"bytes": _blob_bytes(app, [first["id"]])[1], "count": 1}
    assert by["models"] == {"bytes": checkpoints["detect"].stat().st_size, "count": 1}


def test_members_see_a_workspace_s_storage_outsiders_do_not(client, crew):
    assert _storage(client, crew.viewer, "?owner=alice")["username"] == "alice"
    assert client.get("/api/storage?owner=alice", headers=crew.outsider.bearer).status_code == 403
    assert client.get("/api/storage?details=yes", headers=crew.alice.bearer).status_code == 400
    assert client.get("/api/storage").status_code == 401


def _signed(client, account, asset_type, asset_id, filename, size):
    return client.post("/api/upload/signed-url", json={"assetType": asset_type, "assetId": asset_id, "filename": filename,
                                                       "contentType": "application/octet-stream", "totalBytes": size},
                       headers=account.bearer)


def test_the_quota_refuses_uploads_that_would_go_over_it(client, app, alice, checkpoints, tmp_path):
    app.state.settings.storage_quota_mb = 1
    mb = 1 << 20
    dataset = make_dataset(client, alice, slug="shapes")
    model = new_model(client, alice, "demo", "m")
    assert _signed(client, alice, "datasets", dataset["id"], "a.zip", mb // 2).status_code == 200
    for asset_type, asset_id, name in (("datasets", dataset["id"], "a.zip"), ("images", dataset["id"], "a.jpg"),
                                       ("models", model["id"], "best.pt")):
        r = _signed(client, alice, asset_type, asset_id, name, mb + 1)
        assert r.status_code == 403, r.text  # the contract's "storage quota denied"
        assert "Storage quota exceeded" in r.json()["error"] and "1 MB quota" in r.json()["error"]

    # what is stored counts: fill most of the quota with an ingested dataset, then a small upload no longer fits
    ingest(client, app, alice, "shapes", write_zip(tmp_path / "a.zip", yolo_members(2, 1, seed=0)))
    used = _storage(client, alice)["usage"]["storage"]
    assert used["limit"] == mb and used["percent"] == round(100 * used["current"] / mb, 2)
    room = mb - used["current"]
    assert _signed(client, alice, "images", dataset["id"], "b.jpg", room).status_code == 200
    assert _signed(client, alice, "images", dataset["id"], "b.jpg", room + 1).status_code == 403

    # a checkpoint larger than the room left is refused by the multipart create too, and nothing is kept
    assert checkpoints["detect"].stat().st_size > room
    with open(checkpoints["detect"], "rb") as fh:
        r = client.post("/api/models", files={"file": ("det.pt", fh, "application/octet-stream")},
                        data={"projectId": "demo", "name": "det"}, headers=alice.bearer)
    assert r.status_code == 403 and "Storage quota exceeded" in r.json()["error"]
    assert client.get("/api/models/alice/demo/det", headers=alice.bearer).status_code == 404
    app.state.settings.storage_quota_mb = 0  # unlimited again
    assert _signed(client, alice, "images", dataset["id"], "c.jpg", 50 * mb).status_code == 200
    add_model(client, alice, checkpoints["detect"], project="demo", name="Det")


def test_the_upload_path_still_works_under_the_quota(client, app, alice, tmp_path):
    app.state.settings.storage_quota_mb = 100
    dataset = make_dataset(client, alice, slug="shapes")
    data = write_zip(tmp_path / "a.zip", yolo_members(1, 1, seed=0)).read_bytes()
    r = _signed(client, alice, "datasets", dataset["id"], "a.zip", len(data))
    url = urlsplit(r.json()["uploadUrl"])
    assert client.put(f"{url.path}?{url.query}", content=data).status_code == 200
