"""The real `ultralytics-platform` SDK against a real `yolohost serve`: a project and a dataset, an
archive ingested, images listed and labels edited, a version exported, a model uploaded and used,
then deleted and found in the trash."""

import time

import requests

from tests.conftest import owner_key_from
from tests.contract import validate
from tests.fixtures.archives import write_zip, yolo_members
from tests.fixtures.models import ASSETS


def test_platform_workflow_through_the_sdk(serve, checkpoints, tmp_path):
    from ultralytics_platform import Platform

    server = serve(env={"YOLOHOST_JOB_POLL_SECONDS": "0.1"})
    key = owner_key_from(server.text())
    with Platform(api_key=key, base_url=server.url) as client:
        created = client.projects.create(project="demo", name="Demo")
        validate("CreateProjectResponse", created)
        dataset = client.datasets.create(dataset="shapes", name="Shapes")
        validate("CreateDatasetResponse", dataset)

        archive = write_zip(tmp_path / "shapes.zip", yolo_members(4, 2))
        signed = client.upload.signed_url(body={"assetType": "datasets", "assetId": dataset["id"], "filename": "shapes.zip",
                                                "contentType": "application/zip", "totalBytes": archive.stat().st_size})
        assert requests.put(signed["uploadUrl"], data=archive.read_bytes(), timeout=60).ok
        client.upload.complete(session_id=signed["sessionId"])
        job = client.datasets.ingest("admin", "shapes", body={"sessionId": signed["sessionId"]})
        assert job["status"] == "queued"
        deadline = time.monotonic() + 120
        while (detail := client.datasets.retrieve("admin", "shapes"))["dataset"]["status"] == "processing":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        validate("DatasetDetailResponse", detail)
        assert detail["dataset"]["status"] == "ready" and detail["dataset"]["imageCount"] == 6

        images = client.datasets.images("admin", "shapes", limit=10, sort="name-asc", include_labels="true")
        validate("ListDatasetImagesResponse", images)
        first = images["images"][0]
        labels = [{"classId": 1, "bbox": [0.5, 0.5, 0.2, 0.2]}]
        updated = client.images.update(first["id"], body={"labels": labels})
        assert updated["labels"] == labels
        assert client.images.retrieve(first["id"])["labels"] == labels

        version = client.datasets.create_export("admin", "shapes", description="v1")
        validate("CreateDatasetVersionResponse", version)
        assert version["version"] == 1
        assert requests.get(version["downloadUrl"], timeout=60).text.count('"type": "image"') == 6

        model = client.models.create(body={"project": "demo", "model": "det", "name": "Det", "task": "detect"})
        checkpoint = checkpoints["detect"]
        signed = client.upload.signed_url(body={"assetType": "models", "assetId": model["id"], "filename": "best.pt",
                                                "contentType": "application/octet-stream",
                                                "totalBytes": checkpoint.stat().st_size})
        assert requests.put(signed["uploadUrl"], data=checkpoint.read_bytes(), timeout=60).ok
        client.upload.complete(session_id=signed["sessionId"])
        with open(ASSETS / "bus.jpg", "rb") as fh:
            prediction = client.models.predict("admin", "demo", "det", body={"file": fh})
        validate("PredictResponse", prediction)
        assert prediction["images"][0]["results"] and prediction["metadata"]["task"] == "detect"

        client.models.delete("admin", "demo", "det")
        trash = client.lifecycle.trash(type="model")
        validate("ListTrashResponse", trash)
        assert [(item["type"], item["slug"]) for item in trash["items"]] == [("model", "det")]
