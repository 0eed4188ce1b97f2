"""Training webhooks: the events `ultralytics/utils/callbacks/platform.py` sends, in its order, make a
model with live progress, per-epoch metrics, console output and, on completion, the run's weights."""

import hashlib
from urllib.parse import urlsplit

from tests.conftest import add_model
from tests.contract import validate
from tests.fixtures.models import ASSETS

METRICS = "/api/webhooks/training/metrics"


def report(client, account, event, data, **identity):
    r = client.post(METRICS, json={"event": event, "data": data, **identity}, headers=account.bearer)
    return r


def started(client, account, project="alice/exp", name="run", epochs=3):
    r = report(client, account, "training_started",
               {"trainArgs": {"epochs": str(epochs), "imgsz": "64", "batch": "4", "model": "yolo11n.yaml"},
                "epochs": epochs, "device": "cpu", "environment": {"os": "Linux"}},
               project=project, name=name)
    assert r.status_code == 200, r.text
    return r.json()


def epoch_end(client, account, model_id, epoch, **extra):
    metrics = {"train/box_loss": 1.5 - 0.1 * epoch, "metrics/mAP50(B)": 0.1 * (epoch + 1), "lr": 0.01}
    return report(client, account, "epoch_end", {"epoch": epoch, "metrics": metrics, "fitness": 0.05 * epoch,
                                                 "system": {"cpu": 10}, **extra}, modelId=model_id)


def upload_checkpoint(client, account, model_id, run_id, checkpoint, size=None):
    body = {"modelId": model_id, "runId": run_id, "filename": "best.pt"}
    if size is not None:
        body["size"] = size
    r = client.post("/api/webhooks/models/upload", json=body, headers=account.bearer)
    assert r.status_code == 200, r.text
    answer = r.json()
    url = urlsplit(answer["uploadUrl"])
    put = client.put(f"{url.path}?{url.query}", content=checkpoint.read_bytes(),
                     headers={"Content-Type": "application/octet-stream"})
    return answer, put


def progress(client, account, path="alice/exp/run"):
    r = client.get(f"/api/models/{path}/training", headers=account.bearer)
    assert r.status_code == 200, r.text
    validate("TrainingProgressResponse", r.json())
    return r.json()["job"]


def test_a_reported_run_becomes_a_model_with_progress_metrics_and_weights(client, alice, checkpoints):
    first = started(client, alice)
    assert first["received"] is True and first["modelSlug"] == "run" and isinstance(first["runId"], int)
    assert first["modelUrl"].endswith("/alice/exp/run") and "cancelled" not in first
    assert started(client, alice)["modelSlug"] == "run-2"  # a second run with the same name gets its own model
    model_id = first["modelId"]

    job = progress(client, alice)
    assert job["status"] == "running" and job["progress"]["totalEpochs"] == 3 and job["progress"]["currentEpoch"] == 0

    for epoch in range(2):
        assert epoch_end(client, alice, model_id, epoch).json()["received"] is True
    assert report(client, alice, "console_output", {"chunkId": 1, "content": "Epoch 1/3 ...", "lineCount": 1},
                  modelId=model_id).status_code == 200
    job = progress(client, alice)
    assert job["progress"]["currentEpoch"] == 2 and job["progress"]["percentage"] == 66.7
    assert job["epochMetrics"]["metrics/mAP50(B)"] == 0.2 and job["epochMetrics"]["fitness"] == 0.05
    assert job["timing"]["etaMs"] >= 0 and job["trainArgs"]["epochs"] == 3
    epochs = client.get("/api/models/alice/exp/run/training/epochs", headers=alice.bearer).json()
    assert [e["epoch"] for e in epochs["epochs"]] == [0, 1] and "Epoch 1/3" in epochs["console"]
    assert epochs["epochs"][0]["metrics"]["train/box_loss"] == 1.5

    checkpoint = checkpoints["detect"]
    answer, put = upload_checkpoint(client, alice, model_id, first["runId"], checkpoint)
    assert put.status_code == 200 and answer["modelId"] == model_id
    saved = report(client, alice, "checkpoint_saved", {"modelPath": answer["gcsPath"], "runId": first["runId"],
                                                        "uploadPath": answer["uploadPath"]}, modelId=model_id)
    assert saved.status_code == 200, saved.text
    before = client.get("/api/models/alice/exp/run", headers=alice.bearer).json()
    assert before["model"]["hasWeights"] is False  # staged until the run completes

    done = report(client, alice, "training_complete", {
        "results": {"metrics": {"metrics/mAP50(B)": 0.3, "fitness": 0.2}, "bestEpoch": 2},
        "classNames": ["circle", "square"], "plots": [{"type": "pr_curve", "x": [0, 1], "y": [[1, 0]]}],
        "runId": first["runId"]}, modelId=model_id)
    assert done.status_code == 200, done.text
    job = progress(client, alice)
    assert job["status"] == "completed" and job["progress"]["percentage"] == 100
    model = client.get("/api/models/alice/exp/run", headers=alice.bearer).json()["model"]
    assert model["status"] == "completed" and model["hasWeights"] is True
    assert model["metrics"] == {"metrics/mAP50(B)": 0.3, "fitness": 0.2}
    assert model["classNames"] == ["circle", "square"]
    assert model["metadata"]["plots"][0]["type"] == "pr_curve"
    assert model["file"]["size"] == checkpoint.stat().st_size

    events = client.get("/api/activity?search=exp/run&limit=100", headers=alice.bearer).json()["events"]
    kinds = [e["type"] for e in events if e["resourceId"] == model_id]
    assert kinds[:2] == ["model.training_completed", "model.training_started"] and "model.created" in kinds

    with open(ASSETS / "bus.jpg", "rb") as fh:  # the run's weights answer predictions at once
        r = client.post("/api/models/alice/exp/run/predict", files={"file": ("bus.jpg", fh, "image/jpeg")},
                        headers=alice.bearer)
    assert r.status_code == 200, r.text
    assert r.json()["images"][0]["results"]


def test_a_failed_run_leaves_the_model_as_it_was(client, alice, checkpoints, app):
    created = add_model(client, alice, checkpoints["detect"], project="exp", name="run")
    model_id = created["id"]
    digest = hashlib.sha256(checkpoints["detect"].read_bytes()).hexdigest()
    first = report(client, alice, "training_started", {"epochs": 2}, modelId=model_id).json()
    epoch_end(client, alice, model_id, 0)
    other = checkpoints["segment"]
    answer, _ = upload_checkpoint(client, alice, model_id, first["runId"], other)
    report(client, alice, "checkpoint_saved", {"modelPath": answer["gcsPath"], "runId": first["runId"]}, modelId=model_id)
    r = report(client, alice, "training_failed", {"error": "CUDA out of memory", "code": "oom"}, modelId=model_id)
    assert r.status_code == 200
    job = progress(client, alice)
    assert job["status"] == "failed" and job["error"]["message"] == "CUDA out of memory" and job["error"]["code"] == "oom"
    model = client.get("/api/models/alice/exp/run", headers=alice.bearer).json()["model"]
    assert model["status"] == "completed" and model["task"] == "detect"
    from yolohost.db.tables import Model

    with app.state.sessions() as session:
        assert session.get(Model, model_id).weights_sha256 == digest


def test_cancel_reaches_the_trainer_in_the_next_answer(client, alice):
    first = started(client, alice)
    r = client.delete("/api/models/alice/exp/run/training", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["status"] == "cancelled" and "warning" in r.json()
    assert epoch_end(client, alice, first["modelId"], 0).json()["cancelled"] is True
    assert progress(client, alice)["status"] == "cancelled"
    again = client.delete("/api/models/alice/exp/run/training", headers=alice.bearer)
    assert again.status_code == 409 and "no active training" in again.json()["error"]


def test_uploads_are_checked_against_the_announced_size(client, alice, checkpoints):
    first = started(client, alice)
    checkpoint = checkpoints["detect"]
    _, put = upload_checkpoint(client, alice, first["modelId"], first["runId"], checkpoint,
                               size=checkpoint.stat().st_size - 10)
    assert put.status_code == 413 and "announced" in put.json()["error"]
    answer, put = upload_checkpoint(client, alice, first["modelId"], first["runId"], checkpoint)  # size not announced
    assert put.status_code == 200
    bad = report(client, alice, "checkpoint_saved", {"modelPath": "uploads/upl_000000000000000000000000/upload.pt",
                                                      "runId": first["runId"]}, modelId=first["modelId"])
    assert bad.status_code == 404 and "No checkpoint upload" in bad.json()["error"]


def test_other_users_models_and_bad_reports_are_refused(client, alice, make_account):
    bob = make_account("bobby")
    first = started(client, alice)
    assert epoch_end(client, bob, first["modelId"], 0).status_code == 404
    r = client.post("/api/webhooks/models/upload", json={"modelId": first["modelId"], "filename": "best.pt"},
                    headers=bob.bearer)
    assert r.status_code == 404
    assert report(client, bob, "training_started", {}, project="alice/exp", name="x").status_code == 404
    assert report(client, alice, "nonsense", {}, modelId=first["modelId"]).status_code == 400
    assert report(client, alice, "epoch_end", {"epoch": -1}, modelId=first["modelId"]).status_code == 400
    assert client.post(METRICS, json={"event": "epoch_end", "data": {}}).status_code == 401
    bad = client.post("/api/webhooks/models/upload", json={"modelId": first["modelId"], "filename": "x.zip"},
                      headers=alice.bearer)
    assert bad.status_code == 400 and "filename" in bad.json()["error"]
