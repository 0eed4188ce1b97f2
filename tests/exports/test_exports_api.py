"""Model exports through the API: a job converts the checkpoint in a process of its own, the file downloads
with a signed link; failures, cancels and refusals leave the model as it was."""

from __future__ import annotations

import hashlib
import threading
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.contract import validate
from tests.exports.conftest import EXPORTS, export_row, run_job
from yolohost.db.tables import Job, UsageRecord
from yolohost.exports.formats import FORMATS


def events(client, account) -> list[dict]:
    return client.get("/api/activity", headers=account.bearer).json()["events"]


def test_an_onnx_export_completes_downloads_and_deletes(client, app, alice, det):
    r = client.post(EXPORTS, json={"format": "onnx", "args": {"imgsz": 64}}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created == {"id": created["id"], "format": "onnx", "status": "queued", "region": "us"}
    export_id = created["id"]
    queued = client.get(f"{EXPORTS}/{export_id}", headers=alice.bearer).json()["export"]
    assert queued["status"] == "queued" and queued["args"] == {"imgsz": 64} and "file" not in queued

    assert run_job(app) is not None
    detail = client.get(f"{EXPORTS}/{export_id}", headers=alice.bearer).json()
    validate("ExportDetailResponse", detail)
    export = detail["export"]
    assert export["status"] == "completed", export
    assert export["file"]["downloadFilename"] == "det.onnx" and export["file"]["size"] > 100_000
    assert export["startedAt"] <= export["completedAt"] and "error" not in export

    url = urlsplit(export["file"]["downloadUrl"])
    data = client.get(f"{url.path}?{url.query}").content  # the signed link needs no key
    assert len(data) == export["file"]["size"]
    import onnxruntime

    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == [1, 3, 64, 64]
    row = export_row(app, export_id)
    assert row.sha256 == hashlib.sha256(data).hexdigest() and row.imgsz == 64 and row.dynamic is False

    listed = client.get(EXPORTS, headers=alice.bearer).json()
    validate("ListExportsResponse", listed)
    assert [e["id"] for e in listed["exports"]] == [export_id] and listed["region"] == "us"
    assert client.get(f"{EXPORTS}?status=failed", headers=alice.bearer).json()["exports"] == []
    assert client.get(EXPORTS).status_code == 404  # a private model's exports are not listed to outsiders
    r = client.post(f"/api/exports/{export_id}/track-download", headers=alice.bearer)
    assert r.json() == {"success": True, "downloadCount": 1}

    assert [e["type"] for e in events(client, alice)][0] == "export.completed"
    with app.state.sessions() as s:
        usage = s.scalars(select(UsageRecord).where(UsageRecord.kind == "export")).all()
    assert [(u.subject_id, u.quantity) for u in usage] == [(det["id"], 1)] and usage[0].seconds > 0

    storage = client.get("/api/storage?details=true", headers=alice.bearer).json()
    assert storage["breakdown"]["byCategory"]["exports"] == {"bytes": row.size, "count": 1}
    assert {"_id": export_id, "type": "export", "sizeBytes": row.size}.items() <= [
        i for i in storage["breakdown"]["topItems"] if i["_id"] == export_id][0].items()

    stored = app.state.storage.path(row.file_key)
    assert stored.is_file()
    r = client.delete(f"{EXPORTS}/{export_id}", headers=alice.bearer)
    assert r.json() == {"success": True, "action": "deleted"}
    assert not stored.parent.exists()
    assert client.get(f"{EXPORTS}/{export_id}", headers=alice.bearer).status_code == 404
    assert client.get(f"{url.path}?{url.query}").status_code == 404
    assert client.get("/api/storage", headers=alice.bearer).json()["breakdown"]["byCategory"]["exports"]["count"] == 0


def test_a_failing_export_records_the_reason_and_leaves_the_model_alone(client, app, alice, det):
    model_before = client.get("/api/models/alice/demo/det", headers=alice.bearer).json()
    weights = app.state.storage.path(f"models/{det['id']}/best.pt")
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()

    r = client.post(EXPORTS, json={"format": "onnx", "args": {"nms": True, "opset": 9}}, headers=alice.bearer)
    export_id = r.json()["id"]
    run_job(app)
    export = client.get(f"{EXPORTS}/{export_id}", headers=alice.bearer).json()["export"]
    assert export["status"] == "failed" and "file" not in export
    assert "opset>=11" in export["error"]["message"], export["error"]
    assert not export["error"]["message"].startswith("ExportFailed")

    assert client.get("/api/models/alice/demo/det", headers=alice.bearer).json() == model_before
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in weights.parent.iterdir()) == ["best.pt"]  # nothing left behind
    assert events(client, alice)[0]["type"] == "export.failed"
    with app.state.sessions() as s:
        assert s.scalar(select(UsageRecord.quantity).where(UsageRecord.kind == "export")) == 1


def test_cancelling_a_running_export_stops_its_process(client, app, alice, det, settings):
    settings.job_heartbeat_seconds = 0.05
    export_id = client.post(EXPORTS, json={"format": "openvino"}, headers=alice.bearer).json()["id"]
    worker = threading.Thread(target=run_job, args=(app,))
    worker.start()
    deadline = time.monotonic() + 60
    while export_row(app, export_id).status != "running":
        assert time.monotonic() < deadline and worker.is_alive()
        time.sleep(0.02)
    r = client.delete(f"{EXPORTS}/{export_id}", headers=alice.bearer)
    assert r.json() == {"success": True, "action": "cancelled"}
    worker.join(60)
    assert not worker.is_alive()

    export = client.get(f"{EXPORTS}/{export_id}", headers=alice.bearer).json()["export"]
    assert export["status"] == "cancelled" and "file" not in export
    row = export_row(app, export_id)
    with app.state.sessions() as s:
        assert s.get(Job, row.job_id).status == "cancelled"
    assert not app.state.storage.path(row.file_key).parent.exists()
    assert client.delete(f"{EXPORTS}/{export_id}", headers=alice.bearer).json()["action"] == "deleted"


def test_bad_requests_are_refused_with_what_to_change(client, app, alice, det, make_account):
    def post(body, path=EXPORTS, account=alice):
        return client.post(path, json=body, headers=account.bearer)

    r = post({"format": "bogus"})
    assert r.status_code == 400 and "format must be one of torchscript, onnx, openvino" in r.json()["error"]
    missing = next(name for name, fmt in FORMATS.items() if fmt.missing() and not fmt.gpu)
    r = post({"format": missing})
    assert r.status_code == 400, r.text
    message = r.json()["error"]
    assert f"format '{missing}'" in message and "not available on this server" in message
    assert "Formats available here: torchscript, onnx, openvino" in message

    r = post({"format": "onnx", "args": {"epochs": 3}})
    assert r.status_code == 400 and "args.epochs" in r.json()["error"]
    r = post({"format": "onnx", "args": {"imgsz": 16}})
    assert r.status_code == 400 and "args.imgsz" in r.json()["error"]
    r = post({"format": "openvino", "args": {"int8": True}})  # calibration would need a data set from the internet
    assert r.status_code == 400 and "args.quantize: 8 (INT8)" in r.json()["error"]
    assert post({"format": "onnx"}, "/api/models/alice/demo/nope/exports").status_code == 404

    client.post("/api/models", json={"project": "demo", "model": "empty", "task": "detect"}, headers=alice.bearer)
    r = post({"format": "onnx"}, "/api/models/alice/demo/empty/exports")
    assert r.status_code == 400 and "has no weights to export" in r.json()["error"]

    first = post({"format": "onnx", "args": {"imgsz": 96}})
    assert first.status_code == 201
    r = post({"format": "onnx", "args": {"imgsz": 96}})
    assert r.status_code == 409 and first.json()["id"] in r.json()["error"]

    viewer = make_account("viewer", scopes=["models"])
    assert post({"format": "onnx"}, account=viewer).status_code == 403  # a key without the exports scope
    assert client.get(f"{EXPORTS}/not-an-id", headers=alice.bearer).status_code == 400
    assert client.get(f"{EXPORTS}/{'0' * 24}", headers=alice.bearer).status_code == 404

    assert client.delete(f"{EXPORTS}/{first.json()['id']}", headers=alice.bearer).json()["action"] == "cancelled"
    assert run_job(app) is None  # a cancelled export never runs


def test_the_seed_reference_routes(client, app, alice, det):
    r = client.post("/api/exports", json={"modelId": det["id"], "format": "TorchScript"}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    export_id = r.json()["id"]
    assert r.json()["format"] == "torchscript"
    listed = client.get(f"/api/exports?modelId={det['id']}", headers=alice.bearer).json()
    assert [e["id"] for e in listed["exports"]] == [export_id]
    assert client.get(f"/api/exports/{export_id}", headers=alice.bearer).json()["export"]["status"] == "queued"
    r = client.post(f"/api/exports/{export_id}/track-download", headers=alice.bearer)
    assert r.status_code == 409

    assert client.delete(f"/api/exports/{export_id}", headers=alice.bearer).json() == {"success": True,
                                                                                      "action": "cancelled"}
    assert client.get(f"/api/exports/{export_id}", headers=alice.bearer).json()["export"]["status"] == "cancelled"
    assert client.delete(f"/api/exports/{export_id}", headers=alice.bearer).json()["action"] == "deleted"
    assert client.get(f"/api/exports/{export_id}", headers=alice.bearer).status_code == 404
    r = client.post("/api/exports", json={"modelId": "mdl_" + "0" * 24, "format": "onnx"}, headers=alice.bearer)
    assert r.status_code == 404


def test_the_signed_upload_of_a_remote_runner(client, app, alice, det, settings):
    export_id = client.post(EXPORTS, json={"format": "onnx"}, headers=alice.bearer).json()["id"]
    path = f"/exports/{export_id}/artifact"
    good = app.state.signer.sign(path, 600)
    assert client.put(path + "?expires=9999999999&signature=forged", content=b"x").status_code == 403

    settings.max_export_mb = 1
    assert client.put(good, content=b"\0" * ((1 << 20) + 1)).status_code == 413
    row = export_row(app, export_id)
    assert not app.state.storage.path(row.file_key).exists()

    r = client.put(good, content=b"onnx bytes")
    assert r.status_code == 200 and r.json() == {"success": True, "size": 10}
    assert app.state.storage.path(row.file_key).read_bytes() == b"onnx bytes"

    client.delete(f"{EXPORTS}/{export_id}", headers=alice.bearer)  # queued: cancelled at once
    assert client.put(good, content=b"late").status_code == 409


@pytest.mark.parametrize("runtime", ["onnx", "bogus"])
def test_predicting_on_an_export_that_is_not_there_is_refused(client, alice, det, runtime):
    from tests.fixtures.models import ASSETS

    with open(ASSETS / "bus.jpg", "rb") as fh:
        r = client.post("/api/models/alice/demo/det/predict", files={"file": fh}, data={"runtime": runtime},
                        headers=alice.bearer)
    assert r.status_code == 400
    expected = "has no completed onnx export" if runtime == "onnx" else "runtime must be one of pt, auto, onnx"
    assert expected in r.json()["error"]
