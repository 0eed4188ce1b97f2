"""Datasets: create, ingest archives as jobs (and refuse bad ones without a trace), images and labels."""

import zipfile
from urllib.parse import urlsplit

import pytest

from tests.fixtures.archives import classify_members, write_tgz, write_zip, yolo_members
from tests.fixtures.models import CLASS_NAMES
from yolohost.jobs.worker import run_one


def make_dataset(client, account, slug="shapes", **extra):
    r = client.post("/api/datasets", json={"dataset": slug, "name": slug.title(), **extra}, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


def upload(client, account, dataset_id: str, path) -> str:
    data = path.read_bytes()
    signed = client.post("/api/upload/signed-url", json={"assetType": "datasets", "assetId": dataset_id, "filename": path.name,
                                                         "contentType": "application/zip", "totalBytes": len(data)},
                         headers=account.bearer)
    assert signed.status_code == 200, signed.text
    url = urlsplit(signed.json()["uploadUrl"])
    assert client.put(f"{url.path}?{url.query}", content=data).status_code == 200
    return signed.json()["sessionId"]


def ingest(client, app, account, slug, path, **body):
    created = client.get(f"/api/datasets/{account.username}/{slug}", headers=account.bearer).json()["dataset"]
    session_id = upload(client, account, created["id"], path)
    r = client.post(f"/api/datasets/{account.username}/{slug}/ingest", json={"sessionId": session_id, **body},
                    headers=account.bearer)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "queued"
    assert client.get(f"/api/datasets/{account.username}/{slug}", headers=account.bearer).json()["dataset"]["status"] == "processing"
    assert run_one(app.state.settings, app.state.sessions, app.state.storage) == r.json()["jobId"]
    return client.get(f"/api/datasets/{account.username}/{slug}", headers=account.bearer).json()["dataset"]


def test_create_list_retrieve_patch_delete(client, alice):
    created = make_dataset(client, alice, classNames=["a", "b"])
    assert created["owner"] == "alice" and created["dataset"] == "shapes" and len(created["id"]) > 3
    listed = client.get("/api/datasets/alice", headers=alice.bearer).json()
    assert [d["dataset"] for d in listed["datasets"]] == ["shapes"] and listed["total"] == 1
    assert client.get(f"/api/datasets/{created['id']}", headers=alice.bearer).json()["dataset"]["classNames"] == ["a", "b"]
    r = client.patch("/api/datasets/alice/shapes", json={"description": "synthetic", "classNames": ["a", "b", "c"]},
                     headers=alice.bearer)
    assert r.json() == {"success": True, "dataset": "shapes"}
    detail = client.get("/api/datasets/alice/shapes", headers=alice.bearer).json()["dataset"]
    assert detail["description"] == "synthetic" and detail["classCount"] == 3
    r = client.patch("/api/datasets/alice/shapes", json={"bogus": 1}, headers=alice.bearer)
    assert r.status_code == 400 and "bogus" in r.json()["error"]
    r = client.post("/api/datasets", json={"dataset": "shapes", "name": "Again"}, headers=alice.bearer)
    assert r.status_code == 400 and "already exists" in r.json()["error"]
    assert client.delete("/api/datasets/alice/shapes", headers=alice.bearer).json() == {"success": True}
    assert client.get("/api/datasets/alice/shapes", headers=alice.bearer).status_code == 404


def test_ingest_a_yolo_zip(client, app, alice, tmp_path):
    make_dataset(client, alice)
    dataset = ingest(client, app, alice, "shapes", write_zip(tmp_path / "shapes.zip", yolo_members(6, 2, unlabeled=1)))
    assert dataset["status"] == "ready" and dataset["task"] == "detect"
    assert dataset["classNames"] == list(CLASS_NAMES.values())
    assert dataset["imageCount"] == 8 and dataset["splits"] == {"train": 6, "val": 2, "test": 0, "labeled": 7}
    assert dataset["lastIngestSummary"]["added"] == 8

    images = client.get("/api/datasets/alice/shapes/images?limit=100&includeLabels=true", headers=alice.bearer).json()
    assert images["total"] == 8 and len(images["images"]) == 8 and images["classes"] == list(CLASS_NAMES.values())
    one = next(i for i in images["images"] if i["labelCount"])
    assert one["width"] == 96 and one["height"] == 96 and one["ext"] == "png"
    assert all(0 <= v <= 1 for label in one["labels"] for v in label["bbox"])
    thumb = urlsplit(one["thumbnailUrl"])
    r = client.get(f"{thumb.path}?{thumb.query}")
    assert r.status_code == 200 and r.content[:3] == b"\xff\xd8\xff"

    # the same archive again: nothing is added twice
    dataset = ingest(client, app, alice, "shapes", tmp_path / "shapes.zip")
    assert dataset["imageCount"] == 8 and dataset["lastIngestSummary"]["skippedCounts"] == {"duplicate": 8}


def test_image_filters_sorts_and_pages(client, app, alice, tmp_path):
    make_dataset(client, alice)
    ingest(client, app, alice, "shapes", write_tgz(tmp_path / "shapes.tgz", yolo_members(8, 4, unlabeled=2)))
    get = lambda q: client.get(f"/api/datasets/alice/shapes/images?{q}", headers=alice.bearer).json()  # noqa: E731
    assert get("split=val")["total"] == 4
    assert get("hasLabel=false")["total"] == 2 and get("hasLabel=true")["total"] == 10
    assert get("hasError=true")["total"] == 0
    everything = get("limit=100&includeLabels=true")["images"]
    with_class_1 = {i["id"] for i in everything if any(lb["classId"] == 1 for lb in i.get("labels", []))}
    assert {i["id"] for i in get("classIds=1&limit=100")["images"]} == with_class_1
    assert get("classIds=&limit=100")["total"] == 0
    names = [i["name"] for i in get("sort=name-asc&limit=100")["images"]]
    assert names == sorted(names)
    assert [i["name"] for i in get("sort=name-desc&limit=100")["images"]] == names[::-1]
    page1, page2 = get("sort=name-asc&limit=5"), get("sort=name-asc&limit=5&offset=5")
    assert page1["hasMore"] and [i["name"] for i in page1["images"] + page2["images"]] == names[:10]
    assert get("search=img003")["total"] == 1
    r = client.get("/api/datasets/alice/shapes/images?limit=5001", headers=alice.bearer)
    assert r.status_code == 400 and "limit" in r.json()["error"]
    r = client.get("/api/datasets/alice/shapes/images?sort=random", headers=alice.bearer)
    assert r.status_code == 400 and "sort" in r.json()["error"]


def test_update_labels_and_metadata(client, app, alice, make_account, tmp_path):
    make_dataset(client, alice)
    ingest(client, app, alice, "shapes", write_zip(tmp_path / "shapes.zip", yolo_members(2, 1)))
    image_id = client.get("/api/datasets/alice/shapes/images", headers=alice.bearer).json()["images"][0]["id"]
    labels = [{"classId": 2, "bbox": [0.5, 0.5, 0.25, 0.25]}]
    r = client.patch(f"/api/images/{image_id}", json={"labels": labels}, headers=alice.bearer)
    assert r.json() == {"success": True, "labels": labels, "labelCount": 1}
    got = client.get(f"/api/images/{image_id}", headers=alice.bearer).json()
    assert got["labels"] == labels and got["properties"]["classIds"] == [2] and got["classNames"] == list(CLASS_NAMES.values())
    for bad, message in [([{"classId": 3, "bbox": [0.5, 0.5, 0.1, 0.1]}], "out of range"),
                         ([{"classId": 0, "bbox": [0.5, 1.5, 0.1, 0.1]}], "from 0 to 1"),
                         ([{"classId": 0}], "bbox"), ([{"classId": 0, "bbox": [0.5, 0.5, 0.1, 0.1], "x": 1}], "unknown")]:
        r = client.patch(f"/api/images/{image_id}", json={"labels": bad}, headers=alice.bearer)
        assert r.status_code == 400 and message in r.json()["error"], (bad, r.json())
    assert client.get(f"/api/images/{image_id}", headers=alice.bearer).json()["labels"] == labels  # unchanged
    r = client.patch(f"/api/images/{image_id}", json={"metadata": {"camera": "north"}}, headers=alice.bearer)
    assert r.json()["metadata"] == {"camera": "north"}
    bob = make_account("bobby")
    assert client.get(f"/api/images/{image_id}", headers=bob.bearer).status_code == 404
    assert client.delete(f"/api/images/{image_id}", headers=alice.bearer).json()["deletedImageId"] == image_id
    assert client.get(f"/api/images/{image_id}", headers=alice.bearer).status_code == 404


def test_classify_folders(client, app, alice, tmp_path):
    make_dataset(client, alice, slug="cls", task="classify")
    dataset = ingest(client, app, alice, "cls", write_zip(tmp_path / "cls.zip", classify_members(2)))
    assert dataset["task"] == "classify" and dataset["imageCount"] == 12
    assert sorted(dataset["classNames"]) == sorted(CLASS_NAMES.values())


def _bomb(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in yolo_members(1, 1).items():
            zf.writestr(name, data)
        zf.writestr("images/train/zeros.png", b"\0" * (3 << 20))
    return path


BAD_ARCHIVES = {
    "traversal": (lambda p: write_zip(p, {**yolo_members(1, 1), "../escape.txt": b"x"}), "path traversal"),
    "bomb": (_bomb, "expands to more than"),
    "not an image": (lambda p: write_zip(p, {**yolo_members(1, 1), "images/train/notes.png": b"hello"}), "not an image"),
    "class out of range": (lambda p: write_zip(p, {**yolo_members(1, 1), "labels/train/img000.txt": b"7 0.5 0.5 0.1 0.1\n"}),
                           "classId 7 is out of range"),
    "coordinates out of range": (lambda p: write_zip(p, {**yolo_members(1, 1), "labels/train/img000.txt": b"0 1.5 0.5 0.1 0.1\n"}),
                                 "from 0 to 1"),
    "garbled label": (lambda p: write_zip(p, {**yolo_members(1, 1), "labels/train/img000.txt": b"zero one\n"}),
                      "not a YOLO label line"),
    "no layout": (lambda p: write_zip(p, {"readme.txt": b"hi"}), "no dataset yaml"),
}


@pytest.mark.parametrize("case", BAD_ARCHIVES)
def test_bad_archives_fail_clearly_and_change_nothing(client, app, alice, tmp_path, case):
    app.state.settings.max_archive_expanded_mb = 2
    make_dataset(client, alice)
    ingest(client, app, alice, "shapes", write_zip(tmp_path / "good.zip", yolo_members(2, 1)))
    before = client.get("/api/datasets/alice/shapes/images?limit=100&includeLabels=true", headers=alice.bearer).json()
    build, message = BAD_ARCHIVES[case]
    dataset = ingest(client, app, alice, "shapes", build(tmp_path / "bad.zip"))
    assert dataset["status"] == "failed" and message in dataset["processingError"]["message"], dataset.get("processingError")
    after = client.get("/api/datasets/alice/shapes/images?limit=100&includeLabels=true", headers=alice.bearer).json()
    assert after["images"] == before["images"] or [i["id"] for i in after["images"]] == [i["id"] for i in before["images"]]
    assert not (tmp_path.parent / "escape.txt").exists()


def test_ingest_refusals(client, app, alice, make_account, tmp_path):
    created = make_dataset(client, alice)
    r = client.post("/api/datasets/alice/shapes/ingest", json={}, headers=alice.bearer)
    assert r.status_code == 400 and "sessionId" in r.json()["error"]
    r = client.post("/api/datasets/alice/shapes/ingest", json={"sessionId": "upl_nope"}, headers=alice.bearer)
    assert r.status_code == 404
    r = client.post("/api/upload/signed-url", json={"assetType": "datasets", "assetId": created["id"], "filename": "x.rar",
                                                    "contentType": "application/x-rar", "totalBytes": 10}, headers=alice.bearer)
    assert r.status_code == 400 and ".zip" in r.json()["error"]
    bob = make_account("bobby")
    session_id = upload(client, alice, created["id"], write_zip(tmp_path / "a.zip", yolo_members(1, 1)))
    r = client.post("/api/datasets/alice/shapes/ingest", json={"sessionId": session_id}, headers=bob.bearer)
    assert r.status_code == 404  # bob cannot see alice's private dataset at all
    r = client.post("/api/datasets/alice/shapes/ingest", json={"sessionId": session_id}, headers=alice.bearer)
    assert r.status_code == 201
    r = client.post("/api/datasets/alice/shapes/ingest", json={"sessionId": session_id}, headers=alice.bearer)
    assert r.status_code == 409 and "already processing" in r.json()["error"]


def test_the_seed_reference_id_routes(client, app, alice, make_account, tmp_path):
    created = make_dataset(client, alice)
    ds = f"/api/datasets/{created['id']}"
    session_id = upload(client, alice, created["id"], write_zip(tmp_path / "s.zip", yolo_members(2, 1)))
    r = client.post("/api/datasets/ingest", json={"datasetId": created["id"], "sessionId": session_id}, headers=alice.bearer)
    assert r.status_code == 201 and r.json()["status"] == "queued"
    run_one(app.state.settings, app.state.sessions, app.state.storage)
    assert client.get(ds, headers=alice.bearer).json()["dataset"]["imageCount"] == 3
    assert client.get(f"{ds}/images?split=val", headers=alice.bearer).json()["total"] == 1
    assert client.patch(ds, json={"description": "by id"}, headers=alice.bearer).json()["success"]
    assert client.post(f"{ds}/export", json={}, headers=alice.bearer).json()["version"] == 1
    assert client.get(f"{ds}/export?v=1", headers=alice.bearer).json()["version"] == 1
    assert client.get(f"{ds}/class-stats", headers=alice.bearer).status_code == 200
    bob = make_account("bobby")
    assert client.get(ds, headers=bob.bearer).status_code == 404
    assert client.get("/api/datasets/ds_000000000000000000000000", headers=alice.bearer).status_code == 404
    assert client.delete(ds, headers=alice.bearer).json() == {"success": True}
    assert client.get(ds, headers=alice.bearer).status_code == 404


def test_semantic_datasets_can_be_created_but_not_yet_ingested(client, app, alice, tmp_path):
    make_dataset(client, alice, slug="masks", task="semantic")
    assert client.get("/api/datasets/alice/masks", headers=alice.bearer).json()["dataset"]["task"] == "semantic"
    dataset = ingest(client, app, alice, "masks", write_zip(tmp_path / "m.zip", yolo_members(1, 1)))
    assert dataset["status"] == "failed" and "semantic" in dataset["processingError"]["message"]
    assert dataset["imageCount"] == 0
