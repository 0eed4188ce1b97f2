"""Images in bulk (split moves, deletes, signed URLs, selections) and auto-annotation with a stored model."""

from urllib.parse import urlsplit

from tests.conftest import add_model
from tests.datasets.test_datasets_api import ingest, make_dataset
from tests.fixtures.archives import write_zip, yolo_members


def image_ids(client, account, query="sort=name-asc&limit=100"):
    return [i["id"] for i in client.get(f"/api/datasets/{account.username}/shapes/images?{query}", headers=account.bearer).json()["images"]]


def test_bulk_split_move_delete_and_urls(client, app, alice, make_account, tmp_path):
    make_dataset(client, alice)
    ingest(client, app, alice, "shapes", write_zip(tmp_path / "s.zip", yolo_members(4, 2)))
    train = image_ids(client, alice, "split=train&sort=name-asc")
    r = client.patch("/api/images/bulk", json={"imageIds": train[:2], "split": "test"}, headers=alice.bearer)
    assert r.json() == {"success": True, "modifiedCount": 2, "skippedCount": 0, "targetSplit": "test"}
    assert image_ids(client, alice, "split=test&sort=name-asc") == train[:2]
    r = client.patch("/api/images/bulk", json={"imageIds": train[:1], "split": "test"}, headers=alice.bearer)
    assert r.json()["skippedCount"] == 1  # already there

    urls = client.post("/api/images/urls", json={"imageIds": train[:2]}, headers=alice.bearer).json()
    assert set(urls["urls"]) == set(train[:2]) and urls["depths"] == {}
    full = urlsplit(urls["urls"][train[0]])
    assert client.get(f"{full.path}?{full.query}").content[:4] == b"\x89PNG"

    selected = client.post("/api/datasets/alice/shapes/images?split=test", json={"imageIds": train[:3]}, headers=alice.bearer).json()
    assert {i["id"] for i in selected["images"]} == set(train[:2]) and selected["total"] == 2 and not selected["hasMore"]

    bob = make_account("bobby")
    assert client.request("DELETE", "/api/images/bulk", json={"imageIds": train[:2]}, headers=bob.bearer).status_code == 404
    r = client.request("DELETE", "/api/images/bulk", json={"imageIds": ["nothex"]}, headers=alice.bearer)
    assert r.status_code == 400 and "not an image id" in r.json()["error"]
    r = client.request("DELETE", "/api/images/bulk", json={"imageIds": train[:2]}, headers=alice.bearer)
    assert r.json()["deletedCount"] == 2 and sorted(r.json()["deletedImageIds"]) == sorted(train[:2])
    assert len(image_ids(client, alice)) == 4


def test_conflicting_names_need_a_policy(client, app, alice, tmp_path):
    make_dataset(client, alice)
    members = yolo_members(1, 1)
    members["images/val/img000.png"] = members["images/train/img000.png"]  # the same name in both splits
    members["labels/val/img000.txt"] = members["labels/train/img000.txt"]
    ingest(client, app, alice, "shapes", write_zip(tmp_path / "s.zip", members))
    train_id = image_ids(client, alice, "split=train")[0]
    r = client.patch("/api/images/bulk", json={"imageIds": [train_id], "split": "val"}, headers=alice.bearer)
    assert r.status_code == 409 and "conflictPolicy" in r.json()["error"]
    r = client.patch("/api/images/bulk", json={"imageIds": [train_id], "split": "val", "conflictPolicy": "keep_both"},
                     headers=alice.bearer)
    assert r.json()["modifiedCount"] == 1
    names = [i["name"] for i in client.get("/api/datasets/alice/shapes/images?split=val", headers=alice.bearer).json()["images"]]
    assert len(set(names)) == len(names) == 3


def test_auto_annotation_with_a_trained_detector(client, app, alice, detector, tmp_path):
    model = add_model(client, alice, detector, project="det", name="shapes")
    make_dataset(client, alice)
    members = yolo_members(3, 0)
    for name in list(members):
        if name.startswith("labels/"):
            del members[name]  # unlabeled images, to be annotated
    ingest(client, app, alice, "shapes", write_zip(tmp_path / "s.zip", members))
    image_id = image_ids(client, alice)[0]
    r = client.post(f"/api/images/{image_id}/predict", json={"modelId": f"ul://alice/det/{model['model']}", "confidence": 0.25},
                    headers=alice.bearer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] and body["modelUsed"] == f"ul://alice/det/{model['model']}" and body["predictions"]
    assert all(0 <= p["classId"] < 3 and len(p["bbox"]) == 4 for p in body["predictions"])
    # the truth drawn into this image (yolo_members' first scene) is matched class for class
    truth = sorted(int(line.split()[0]) for line in yolo_members(3, 0)["labels/train/img000.txt"].decode().split("\n") if line)
    assert sorted(p["classId"] for p in body["predictions"]) == truth
    assert client.get(f"/api/images/{image_id}", headers=alice.bearer).json()["labels"] == []  # predicting does not save

    # the seed reference's form keeps the labels of an unlabeled image
    image = client.get(f"/api/images/{image_id}", headers=alice.bearer).json()["properties"]
    r = client.post(f"/api/datasets/{image['datasetId']}/predict",
                    json={"imageHash": image["hash"], "modelId": f"ul://alice/det/{model['model']}"}, headers=alice.bearer)
    assert r.status_code == 200 and client.get(f"/api/images/{image_id}", headers=alice.bearer).json()["labels"] == r.json()["predictions"]

    r = client.post(f"/api/images/{image_id}/predict", json={"modelId": "ul://alice/det/missing"}, headers=alice.bearer)
    assert r.status_code == 404
    r = client.post(f"/api/images/{image_id}/predict", json={"modelId": "not-a-uri"}, headers=alice.bearer)
    assert r.status_code == 400 and "modelId" in r.json()["error"]


def test_single_image_upload_joins_the_dataset(client, app, alice, tmp_path):
    from tests.fixtures.models import ASSETS

    created = make_dataset(client, alice)
    data = (ASSETS / "zidane.jpg").read_bytes()
    for _ in range(2):  # the same name twice: the second gets a suffix, the bytes are stored once
        signed = client.post("/api/upload/signed-url", json={"assetType": "images", "assetId": created["id"], "filename": "zidane.jpg",
                                                             "contentType": "image/jpeg", "totalBytes": len(data)}, headers=alice.bearer).json()
        url = urlsplit(signed["uploadUrl"])
        assert client.put(f"{url.path}?{url.query}", content=data, headers={"content-type": "image/jpeg"}).status_code == 200
        assert client.post("/api/upload/complete", json={"sessionId": signed["sessionId"]}, headers=alice.bearer).status_code == 200
    images = client.get("/api/datasets/alice/shapes/images?sort=name-asc", headers=alice.bearer).json()["images"]
    assert [(i["name"], i["width"], i["height"], i["split"], i["labelCount"]) for i in images] == [
        ("zidane-2.jpg", 1280, 720, "train", 0), ("zidane.jpg", 1280, 720, "train", 0)]
    assert images[0]["hash"] == images[1]["hash"]
    r = client.post("/api/upload/signed-url", json={"assetType": "images", "assetId": created["id"], "filename": "notes.txt",
                                                    "contentType": "text/plain", "totalBytes": 5}, headers=alice.bearer)
    assert r.status_code == 400 and "image" in r.json()["error"]
