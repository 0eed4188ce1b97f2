"""Expired uploads are cleared out with their staged files (the clock is moved, not waited for), except
an archive a waiting ingest still reads and a checkpoint an interrupted training run keeps for resume."""

from datetime import timedelta
from urllib.parse import urlsplit

from tests.datasets.test_datasets_api import make_dataset, upload
from tests.fixtures.archives import write_zip, yolo_members
from tests.training.test_webhooks import report, started, upload_checkpoint
from yolohost.jobs.worker import run_one
from yolohost.kit import clock
from yolohost.uploads.sweep import sweep_expired

REAL_NOW = clock.now


def later(monkeypatch, hours: float) -> None:
    monkeypatch.setattr(clock, "now", lambda: REAL_NOW() + timedelta(hours=hours))


def staged(app) -> set[str]:
    root = app.state.storage.path("uploads")
    return {p.name for p in root.iterdir()} if root.exists() else set()


def test_expired_uploads_go_unless_an_ingest_or_a_run_still_needs_them(client, app, alice, checkpoints, tmp_path,
                                                                       monkeypatch):
    dataset = make_dataset(client, alice, "shapes", task="detect")
    archive = upload(client, alice, dataset["id"], write_zip(tmp_path / "a.zip", yolo_members(2, 1)))
    r = client.post("/api/datasets/alice/shapes/ingest", json={"sessionId": archive}, headers=alice.bearer)
    assert r.status_code == 201, r.text

    abandoned = client.post("/api/upload/signed-url", headers=alice.bearer, json={
        "assetType": "datasets", "assetId": dataset["id"], "filename": "b.zip", "contentType": "application/zip",
        "totalBytes": 10}).json()
    url = urlsplit(abandoned["uploadUrl"])
    assert client.put(f"{url.path}?{url.query}", content=b"0123456789").status_code == 200

    run = started(client, alice)
    answer, _ = upload_checkpoint(client, alice, run["modelId"], run["runId"], checkpoints["detect"])
    report(client, alice, "checkpoint_saved", {"modelPath": answer["gcsPath"], "runId": run["runId"]},
           modelId=run["modelId"])
    report(client, alice, "training_failed", {"error": "preempted"}, modelId=run["modelId"])
    kept = answer["gcsPath"].split("/")[1]

    assert sweep_expired(app.state.sessions, app.state.storage) == 0  # nothing has expired yet
    assert staged(app) == {archive, abandoned["sessionId"], kept}

    later(monkeypatch, 13)  # past the 12-hour life of an upload session
    assert sweep_expired(app.state.sessions, app.state.storage) == 1  # only the abandoned one
    assert staged(app) == {archive, kept}

    assert run_one(app.state.settings, app.state.sessions, app.state.storage)  # the ingest reads its archive
    assert client.get("/api/datasets/alice/shapes", headers=alice.bearer).json()["dataset"]["imageCount"] == 3
    assert sweep_expired(app.state.sessions, app.state.storage) == 1  # ingested: its archive goes now
    assert staged(app) == {kept}  # the interrupted run keeps its checkpoint for resume
