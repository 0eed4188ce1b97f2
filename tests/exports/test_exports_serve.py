"""Exports against a real ``yolohost serve``: the ``ultralytics-platform`` SDK and its ``ul cloud export``, and the
runner delivering through signed URLs, as it does on a remote (Ray) worker that cannot see the server's files."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import owner_key_from
from tests.contract import validate
from yolohost.kit.signing import Signer


def add_model(server, key: str, checkpoint: Path) -> dict:
    with open(checkpoint, "rb") as fh:
        r = requests.post(f"{server.url}/api/models", files={"file": ("det.pt", fh)},
                          data={"projectId": "demo", "name": "det"}, headers={"Authorization": f"Bearer {key}"},
                          timeout=60)
    assert r.status_code == 201, r.text
    return r.json()


def test_the_sdk_and_ul_cloud_export(serve, checkpoints, tmp_path):
    from ultralytics_platform import Platform

    server = serve(env={"YOLOHOST_JOB_POLL_SECONDS": "0.1"})
    key = owner_key_from(server.text())
    add_model(server, key, checkpoints["detect"])
    with Platform(api_key=key, base_url=server.url) as client:
        job = client.exports.create("admin", "demo", "det", format="torchscript", args={"imgsz": 64})
        validate("CreateExportResponse", job)
        deadline = time.monotonic() + 120
        while (detail := client.exports.retrieve("admin", "demo", "det", job["id"]))["export"]["status"] in ("queued",
                                                                                                           "running"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        validate("ExportDetailResponse", detail)
        file = detail["export"]["file"]
        assert detail["export"]["status"] == "completed" and file["downloadFilename"] == "det.torchscript"
        data = requests.get(file["downloadUrl"], timeout=60).content
        assert len(data) == file["size"] and data[:2] == b"PK"  # a TorchScript archive is a zip

        env = {**os.environ, "ULTRALYTICS_PLATFORM_URL": server.url, "ULTRALYTICS_API_KEY": key,
               "YOLO_CONFIG_DIR": str(tmp_path / "cfg"), "YOLO_OFFLINE": "1"}
        out = tmp_path / "out"
        cli = subprocess.run([str(Path(sys.executable).with_name("ul")), "cloud", "export", "model=ul://admin/demo/det",
                              "format=onnx", "imgsz=64", f"save_dir={out}"], env=env, capture_output=True, text=True,
                             timeout=300)
        assert cli.returncode == 0, cli.stdout + cli.stderr
        import onnxruntime

        session = onnxruntime.InferenceSession(str(out / "det.onnx"), providers=["CPUExecutionProvider"])
        assert session.get_inputs()[0].shape == [1, 3, 64, 64]

        listed = client.exports.list("admin", "demo", "det")
        validate("ListExportsResponse", listed)
        assert [e["format"] for e in listed["exports"]] == ["onnx", "torchscript"]
        assert client.exports.delete("admin", "demo", "det", job["id"]) == {"success": True, "action": "deleted"}


def test_the_runner_fetches_and_delivers_through_signed_urls(serve, checkpoints, tmp_path):
    server = serve(env={"YOLOHOST_SECRET_KEY": "exports-test-secret", "YOLOHOST_JOB_WORKERS": "0"})
    key = owner_key_from(server.text())
    model = add_model(server, key, checkpoints["detect"])
    r = requests.post(f"{server.url}/api/models/admin/demo/det/exports", json={"format": "openvino", "args": {"imgsz": 64}},
                      headers={"Authorization": f"Bearer {key}"}, timeout=60)
    export_id = r.json()["id"]  # queued: no worker runs it here

    signer = Signer(b"exports-test-secret")
    weights = server.url + signer.sign(f"/files/models/{model['id']}/best.pt", 600)
    output = server.url + signer.sign(f"/exports/{export_id}/artifact", 600)
    cmd = [sys.executable, "-m", "yolohost.exports.runner", "--weights", weights, "--format", "openvino",
           "--args", json.dumps({"imgsz": 64}), "--output", output, "--name", "det"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "YOLO_CONFIG_DIR": str(tmp_path / "cfg")})
    assert run.returncode == 0, run.stdout[-3000:]
    lines = run.stdout.splitlines()
    assert [line.split()[1] for line in lines if line.startswith("progress ")] == ["5", "15", "25", "85", "90"]
    result = json.loads(next(line for line in lines if line.startswith("result "))[len("result "):])
    assert result["file"] == "det_openvino_model.zip" and result["imgsz"] == [64, 64]

    stored = tmp_path / "data" / "files" / "models" / model["id"] / "exports" / export_id / "det_openvino_model.zip"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == result["sha256"]
    import zipfile

    assert sorted(zipfile.ZipFile(stored).namelist()) == ["det_openvino_model/det.bin", "det_openvino_model/det.xml",
                                                          "det_openvino_model/metadata.yaml"]

    forged = [weights.replace("signature=", "signature=0") if arg == weights else arg for arg in cmd]
    bad = subprocess.run(forged, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "YOLO_CONFIG_DIR": str(tmp_path / "cfg")})
    assert bad.returncode == 1 and "error: RuntimeError: downloading the weights answered HTTP 403" in bad.stdout
    assert requests.put(output.replace("signature=", "signature=0"), data=b"x", timeout=60).status_code == 403


def test_yolohost_export_waits_with_a_progress_bar_and_prints_the_link(serve, checkpoints):
    server = serve(env={"YOLOHOST_JOB_POLL_SECONDS": "0.1"})
    key = owner_key_from(server.text())
    add_model(server, key, checkpoints["detect"])
    env = {**os.environ, "YOLOHOST_URL": server.url, "YOLOHOST_API_KEY": key}
    done = subprocess.run([sys.executable, "-m", "yolohost", "export", "admin/demo/det", "--format", "onnx",
                           "--arg", "imgsz=64"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("exporting admin/demo/det to onnx") and lines[1].startswith("completed: det.onnx, ")
    assert requests.get(lines[2], timeout=60).content[:1] == b"\x08"  # an ONNX protobuf starts with its ir_version
    assert "completed" in done.stderr and "1/1 export" in done.stderr  # the bar, drawn on stderr
    bad = subprocess.run([sys.executable, "-m", "yolohost", "export", "admin/demo/det", "--format", "nonsense"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "HTTP 400" in bad.stderr and "nonsense" in bad.stderr
