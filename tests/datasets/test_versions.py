"""Dataset versions: numbered immutable snapshots, NDJSON downloads, restore; and the NDJSON is what
ultralytics reads: converted with its own `convert_ndjson_to_yolo` and trained on for an epoch."""

import json
import os
import subprocess
import sys
import time
from urllib.parse import urlsplit

import requests

from tests.conftest import owner_key_from
from tests.datasets.test_datasets_api import ingest, make_dataset
from tests.fixtures.archives import write_zip, yolo_members
from tests.fixtures.models import CLASS_NAMES


def fetch(client, url: str) -> list[dict]:
    parts = urlsplit(url)
    r = client.get(f"{parts.path}?{parts.query}")
    assert r.status_code == 200, r.text
    return [json.loads(line) for line in r.text.splitlines()]


def unsigned(records: list[dict]) -> list[dict]:
    """Records with their image links' expiry and signature left out."""
    return [{**r, "url": urlsplit(r["url"]).path} for r in records]


def test_versions_are_numbered_frozen_and_restorable(client, app, alice, tmp_path):
    make_dataset(client, alice)
    ingest(client, app, alice, "shapes", write_zip(tmp_path / "s.zip", yolo_members(3, 1)))
    v1 = client.post("/api/datasets/alice/shapes/export", json={"description": "first"}, headers=alice.bearer).json()
    assert v1["version"] == 1 and v1["reused"] is False
    again = client.post("/api/datasets/alice/shapes/export", json={}, headers=alice.bearer).json()
    assert again["version"] == 1 and again["reused"] is True  # nothing changed

    lines = fetch(client, v1["downloadUrl"])
    head, records = lines[0], lines[1:]
    assert head["type"] == "dataset" and head["task"] == "detect" and head["version"] == 1
    assert head["class_names"] == {str(k): v for k, v in CLASS_NAMES.items()}
    assert "path" not in head  # it would re-root the dataset in ultralytics
    assert len(records) == 4 and {r["split"] for r in records} == {"train", "val"}
    assert all(r["annotations"]["boxes"] and len(r["annotations"]["boxes"][0]) == 5 for r in records)

    # change a label, export again: version 2, while version 1 stays as it was
    image_id = client.get("/api/datasets/alice/shapes/images?sort=name-asc", headers=alice.bearer).json()["images"][0]["id"]
    client.patch(f"/api/images/{image_id}", json={"labels": []}, headers=alice.bearer)
    v2 = client.post("/api/datasets/alice/shapes/export", json={}, headers=alice.bearer).json()
    assert v2["version"] == 2 and v2["reused"] is False
    again_v1 = fetch(client, client.get("/api/datasets/alice/shapes/export?v=1", headers=alice.bearer).json()["downloadUrl"])
    assert unsigned(again_v1[1:]) == unsigned(records)  # image links are signed afresh on each download
    live = client.get("/api/datasets/alice/shapes/export", headers=alice.bearer).json()
    assert live["cached"] is False and sum(not r["annotations"] for r in fetch(client, live["downloadUrl"])[1:]) == 1

    versions = client.get("/api/datasets/alice/shapes", headers=alice.bearer).json()["dataset"]["versions"]
    assert [(v["version"], v["description"], v["imageCount"]) for v in versions] == [(1, "first", 4), (2, "", 4)]
    assert client.patch("/api/datasets/alice/shapes/export", json={"version": 2, "description": "no label on one"},
                        headers=alice.bearer).json() == {"ok": True}
    r = client.post("/api/datasets/alice/shapes/restore", json={"version": 1}, headers=alice.bearer)
    assert r.json() == {"version": 1, "imageCount": 4}
    assert client.get(f"/api/images/{image_id}", headers=alice.bearer).json()["labels"]  # label is back
    assert client.get("/api/datasets/alice/shapes/export?v=9", headers=alice.bearer).status_code == 404

    tampered = urlsplit(v1["downloadUrl"])
    assert client.get(f"{tampered.path.replace('/1/', '/2/')}?{tampered.query}").status_code == 403


def test_ultralytics_converts_the_export_and_trains_an_epoch(serve, tmp_path):
    server = serve(env={"YOLOHOST_JOB_POLL_SECONDS": "0.1"})
    key = owner_key_from(server.text())
    headers = {"Authorization": f"Bearer {key}"}
    api = server.url + "/api"
    dataset_id = requests.post(f"{api}/datasets", json={"dataset": "shapes", "name": "Shapes"}, headers=headers).json()["id"]
    archive = write_zip(tmp_path / "shapes.zip", yolo_members(8, 2))
    signed = requests.post(f"{api}/upload/signed-url", headers=headers, json={
        "assetType": "datasets", "assetId": dataset_id, "filename": "shapes.zip", "contentType": "application/zip",
        "totalBytes": archive.stat().st_size}).json()
    assert requests.put(signed["uploadUrl"], data=archive.read_bytes(), timeout=60).ok
    assert requests.post(f"{api}/datasets/admin/shapes/ingest", json={"sessionId": signed["sessionId"]}, headers=headers).status_code == 201
    deadline = time.monotonic() + 120
    while (status := requests.get(f"{api}/datasets/admin/shapes", headers=headers).json()["dataset"]["status"]) == "processing":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert status == "ready"
    version = requests.post(f"{api}/datasets/admin/shapes/export", json={}, headers=headers).json()
    ndjson = tmp_path / "shapes.ndjson"
    ndjson.write_bytes(requests.get(version["downloadUrl"], timeout=60).content)

    # the export is also an ingest source: a second dataset built from its NDJSON has the same images and labels
    requests.post(f"{api}/datasets", json={"dataset": "copy", "name": "Copy"}, headers=headers)
    r = requests.post(f"{api}/datasets/admin/copy/ingest", json={"sourceUrl": version["downloadUrl"]}, headers=headers)
    assert r.status_code == 201, r.text
    while (copy := requests.get(f"{api}/datasets/admin/copy", headers=headers).json()["dataset"])["status"] == "processing":
        assert time.monotonic() < deadline + 120
        time.sleep(0.2)
    assert copy["status"] == "ready", copy.get("processingError")
    original = requests.get(f"{api}/datasets/admin/shapes/images?limit=100&includeLabels=true&sort=name-asc", headers=headers).json()
    copied = requests.get(f"{api}/datasets/admin/copy/images?limit=100&includeLabels=true&sort=name-asc", headers=headers).json()
    key = lambda i: (i["name"], i["hash"], i["split"], str(i["labels"]))  # noqa: E731
    assert sorted(map(key, copied["images"])) == sorted(map(key, original["images"]))
    assert copy["classNames"] == list(CLASS_NAMES.values())

    code = f"""
import asyncio, sys
from pathlib import Path
from ultralytics import YOLO
from ultralytics.data.converter import convert_ndjson_to_yolo
data = asyncio.run(convert_ndjson_to_yolo({str(ndjson)!r}, output_path={str(tmp_path / 'converted')!r}))
root = Path(data).parent
print("IMAGES", len(list(root.glob('images/*/*'))), "LABELS", len(list(root.glob('labels/*/*.txt'))))
YOLO("yolo11n.yaml").train(data=str(data), epochs=1, imgsz=64, batch=4, workers=0, device="cpu", plots=False,
                           project={str(tmp_path / 'runs')!r}, name="one", amp=False, val=True)
print("TRAINED", (Path({str(tmp_path / 'runs')!r}) / "one" / "weights" / "last.pt").exists())
"""
    env = {**os.environ, "YOLO_CONFIG_DIR": str(tmp_path / "cfg"), "YOLO_OFFLINE": "1"}
    env.pop("ULTRALYTICS_API_KEY", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "IMAGES 10 LABELS 10" in out.stdout
    assert "TRAINED True" in out.stdout
