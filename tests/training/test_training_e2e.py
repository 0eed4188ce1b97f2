"""Training for real against a real `yolohost serve`: a managed run trains, reports and hands its weights
to the model; a cancelled run stops its process tree; and the official `ultralytics` package logs in,
predicts with `ul://` weights and trains on a `ul://` dataset, reporting to yolohost as its platform."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests
import sqlalchemy as sa

from tests.conftest import owner_key_from
from tests.contract import validate
from tests.fixtures.archives import write_zip, yolo_members
from tests.fixtures.models import ASSETS, CLASS_NAMES

TRAIN_ARGS = {"model": "yolo11n.yaml", "data": "ul://admin/datasets/shapes", "imgsz": 64, "batch": 4, "workers": 0,
              "device": "cpu", "mosaic": 0, "amp": False, "plots": False}


class Api:
    def __init__(self, server, key):
        self.url, self.headers = server.url, {"Authorization": f"Bearer {key}"}

    def __call__(self, method, path, **kwargs):
        return requests.request(method, self.url + path, headers=self.headers, timeout=60, **kwargs)

    def wait(self, path, done, timeout=600):
        deadline = time.monotonic() + timeout
        while not done(body := self("GET", path).json()):
            assert time.monotonic() < deadline, body
            time.sleep(0.3)
        return body


def dataset(api, tmp_path):
    """An ingested detection dataset ``admin/shapes`` on the server."""
    created = api("POST", "/api/datasets", json={"dataset": "shapes", "name": "Shapes", "task": "detect"}).json()
    archive = write_zip(tmp_path / "shapes.zip", yolo_members(6, 2))
    signed = api("POST", "/api/upload/signed-url", json={
        "assetType": "datasets", "assetId": created["id"], "filename": "shapes.zip",
        "contentType": "application/zip", "totalBytes": archive.stat().st_size}).json()
    assert requests.put(signed["uploadUrl"], data=archive.read_bytes(), timeout=60).ok
    assert api("POST", "/api/datasets/admin/shapes/ingest", json={"sessionId": signed["sessionId"]}).status_code == 201
    api.wait("/api/datasets/admin/shapes", lambda b: b["dataset"]["status"] != "processing")


def model(api, slug):
    r = api("POST", "/api/models", json={"project": "exp", "model": slug, "name": slug, "task": "detect"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def finished_job(data_dir, kind="training", timeout=120):
    """The job row once its worker has finished it (a run reports completion before its trainer exits)."""
    engine = sa.create_engine(f"sqlite:///{data_dir / 'yolohost.db'}")
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as conn:
                row = conn.execute(sa.text("SELECT status, log, error FROM jobs WHERE kind = :k ORDER BY created_at DESC"),
                                   {"k": kind}).first()
            if row is not None and row.status in ("completed", "failed", "cancelled"):
                return row
            assert time.monotonic() < deadline, row
            time.sleep(0.2)
    finally:
        engine.dispose()


def runner_processes(slug):
    return [p for p in psutil.process_iter(["cmdline"])
            if "yolohost.training.runner" in " ".join(p.info["cmdline"] or []) and slug in (p.info["cmdline"] or [])]


@pytest.fixture
def server(serve, tmp_path):
    server = serve(env={"YOLOHOST_JOB_POLL_SECONDS": "0.1", "YOLOHOST_JOB_HEARTBEAT_SECONDS": "0.5"})
    api = Api(server, owner_key_from(server.text()))
    dataset(api, tmp_path)
    return server, api


def test_a_managed_run_trains_reports_and_gives_the_model_its_weights(server, tmp_path):
    _, api = server
    model_id = model(api, "det")
    r = api("POST", "/api/training/start", json={"modelId": model_id, "trainArgs": {**TRAIN_ARGS, "epochs": 2}})
    assert r.status_code == 200, r.text
    body = api.wait("/api/models/admin/exp/det/training", lambda b: b["job"]["status"] not in ("pending", "starting", "running"))
    validate("TrainingProgressResponse", body)
    job = body["job"]
    assert job["status"] == "completed", job
    assert job["progress"] == {**job["progress"], "currentEpoch": 2, "totalEpochs": 2, "percentage": 100}
    assert "metrics/mAP50(B)" in job["epochMetrics"] and job["timing"]["elapsedMs"] > 0
    epochs = api("GET", "/api/models/admin/exp/det/training/epochs").json()
    assert [e["epoch"] for e in epochs["epochs"]] == [0, 1] and "Epoch" in epochs["console"]

    detail = api("GET", "/api/models/admin/exp/det").json()["model"]
    assert detail["status"] == "completed" and detail["hasWeights"] and detail["classNames"] == list(CLASS_NAMES.values())
    assert "metrics/mAP50(B)" in detail["metrics"]
    with open(ASSETS / "bus.jpg", "rb") as fh:
        predicted = api("POST", "/api/models/admin/exp/det/predict", files={"file": fh})
    assert predicted.status_code == 200 and predicted.json()["metadata"]["task"] == "detect"
    job = finished_job(tmp_path / "data")
    assert job.status == "completed" and "Epoch" in job.log
    keys = api("GET", "/api/api-keys").json()["keys"]
    assert keys and not [k for k in keys if k["name"].startswith("training run")]  # the run's own key is revoked


def test_cancel_stops_the_trainer_and_leaves_the_model_as_it_was(server, tmp_path):
    _, api = server
    model_id = model(api, "long")
    r = api("POST", "/api/training/start", json={"modelId": model_id, "trainArgs": {**TRAIN_ARGS, "epochs": 500}})
    assert r.status_code == 200, r.text
    api.wait("/api/models/admin/exp/long/training", lambda b: b["job"]["progress"]["currentEpoch"] >= 1)
    assert runner_processes("long")
    other = api("POST", "/api/datasets", json={"dataset": "more", "name": "More", "task": "detect"}).json()
    archive = write_zip(tmp_path / "more.zip", yolo_members(2, 1))
    signed = api("POST", "/api/upload/signed-url", json={
        "assetType": "datasets", "assetId": other["id"], "filename": "more.zip", "contentType": "application/zip",
        "totalBytes": archive.stat().st_size}).json()
    assert requests.put(signed["uploadUrl"], data=archive.read_bytes(), timeout=60).ok
    assert api("POST", "/api/datasets/admin/more/ingest", json={"sessionId": signed["sessionId"]}).status_code == 201
    ingested = api.wait("/api/datasets/admin/more", lambda b: b["dataset"]["status"] != "processing")["dataset"]
    assert ingested["status"] == "ready" and runner_processes("long")  # done while the run goes on
    cancelled = api("DELETE", "/api/models/admin/exp/long/training")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    job = api.wait("/api/models/admin/exp/long/training", lambda b: b["job"]["status"] == "cancelled")["job"]
    assert job["progress"]["currentEpoch"] < 500
    deadline = time.monotonic() + 30
    while runner_processes("long"):
        assert time.monotonic() < deadline, "the trainer outlived its cancelled job"
        time.sleep(0.2)
    detail = api("GET", "/api/models/admin/exp/long").json()["model"]
    assert detail["hasWeights"] is False and detail["status"] == "cancelled"


def ultralytics_env(server, tmp_path, key=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "ULTRALYTICS_"))}
    env.update({"ULTRALYTICS_PLATFORM_URL": server.url, "YOLO_CONFIG_DIR": str(tmp_path / "yolo-config"),
                "YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "false"})
    if key:
        env["ULTRALYTICS_API_KEY"] = key
    return env


def test_the_ultralytics_package_uses_yolohost_as_its_platform(server, checkpoints, tmp_path):
    srv, api = server
    key = api.headers["Authorization"].split()[1]
    env = ultralytics_env(srv, tmp_path)
    yolo = [sys.executable, "-c", "from ultralytics.cfg import entrypoint; entrypoint()"]
    bad = subprocess.run([*yolo, "login", "ul_" + "0" * 40], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "Invalid API key" in bad.stdout + bad.stderr
    good = subprocess.run([*yolo, "login", key], env=env, capture_output=True, text=True, timeout=120)
    assert good.returncode == 0 and "authentication successful" in good.stdout + good.stderr

    with open(checkpoints["detect"], "rb") as fh:
        assert api("POST", "/api/models", files={"file": ("best.pt", fh)}, data={"projectId": "exp", "name": "base"}).ok
    script = f"""
from ultralytics import YOLO
from ultralytics.utils import SETTINGS
SETTINGS.update(runs_dir={str(tmp_path / 'runs')!r}, datasets_dir={str(tmp_path / 'datasets')!r})
base = YOLO("ul://admin/exp/base")
print("PREDICTED", len(base.predict({str(ASSETS / 'bus.jpg')!r}, imgsz=320, verbose=False)[0].boxes))
model = YOLO("yolo11n.yaml")
model.train(data="ul://admin/datasets/shapes", epochs=1, imgsz=64, batch=4, workers=0, device="cpu", mosaic=0,
            amp=False, plots=False, project="admin/exp", name="run")
"""
    run = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=900)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "PREDICTED" in output and "Streaming training metrics to Platform" in output

    listed = subprocess.run([str(Path(sys.executable).with_name("ul")), "cloud", "models", "list", "project=exp"],
                            env={**env, "ULTRALYTICS_API_KEY": key}, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert {m["model"] for m in json.loads(listed.stdout)["models"]} >= {"base", "run"}

    from ultralytics_platform import Platform

    with Platform(api_key=key, base_url=srv.url) as client:
        trained = client.models.retrieve("admin", "exp", "run")["model"]
        assert trained["status"] == "completed" and trained["hasWeights"] and trained["classNames"] == list(CLASS_NAMES.values())
        assert "metrics/mAP50(B)" in trained["metrics"]
        progress = client.models.training("admin", "exp", "run")["job"]
        assert progress["status"] == "completed" and progress["progress"]["currentEpoch"] == 1
        files = client.models.files("admin", "exp", "run")["files"]
        assert requests.get(files[0]["downloadUrl"], timeout=60).content[:2] == b"PK"  # a torch zip checkpoint


def test_yolohost_train_waits_with_a_progress_bar(server):
    srv, api = server
    model(api, "cli")
    env = {**os.environ, "YOLOHOST_URL": srv.url, "YOLOHOST_API_KEY": api.headers["Authorization"].split()[1]}
    extra = [a for k, v in TRAIN_ARGS.items() if k not in ("model", "data", "imgsz", "batch")
             for a in ("--arg", f"{k}={str(v).lower() if isinstance(v, bool) else v}")]
    done = subprocess.run([sys.executable, "-m", "yolohost", "train", "admin/exp/cli", "--data", "shapes", "--epochs", "2",
                           "--imgsz", "64", "--batch", "4", *extra], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "training admin/exp/cli on cpu" in done.stdout and done.stdout.strip().endswith("completed")
    assert "2/2" in done.stderr and "epoch" in done.stderr  # the bar, drawn on stderr
    bad = subprocess.run([sys.executable, "-m", "yolohost", "train", "admin/exp/cli", "--data", "missing", "--epochs", "1"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "HTTP 404" in bad.stderr and "missing" in bad.stderr


def test_arguments_the_trainer_rejects_fail_the_run_with_its_message(server, tmp_path):
    _, api = server
    model(api, "bogus")
    model_id = api("GET", "/api/models/admin/exp/bogus").json()["model"]["id"]
    r = api("POST", "/api/training/start", json={"modelId": model_id, "trainArgs": {**TRAIN_ARGS, "epochs": 1,
                                                                                     "optimizer": "Bogus"}})
    assert r.status_code == 200, r.text  # Ultralytics only finds out once the optimizer is built
    job = api.wait("/api/models/admin/exp/bogus/training", lambda b: b["job"]["status"] in ("completed", "failed"))["job"]
    assert job["status"] == "failed" and "Bogus" in job["error"]["message"]
    detail = api("GET", "/api/models/admin/exp/bogus").json()["model"]
    assert detail["hasWeights"] is False and detail["status"] == "failed"
    assert finished_job(tmp_path / "data").status == "failed"


INTERRUPTED = """
import sys
from pathlib import Path
from ultralytics import YOLO
from ultralytics.utils import SETTINGS
SETTINGS.update(runs_dir=str(Path.cwd() / "runs"), datasets_dir=str(Path.cwd()))

def stop(trainer):  # a crash right after the first epoch's checkpoint was written
    Path("last.pt").write_bytes(Path(trainer.last).read_bytes())
    raise SystemExit(3)

model = YOLO("yolo11n.yaml")
model.add_callback("on_model_save", stop)
model.train(data=sys.argv[1], epochs=2, imgsz=64, batch=4, workers=0, device="cpu", mosaic=0, amp=False, plots=False,
            project="admin/exp", name="interrupted")
"""


def test_an_interrupted_run_resumes_from_its_checkpoint(server, tmp_path):
    srv, api = server
    root = tmp_path / "local"
    for name, data in yolo_members(6, 2).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "data.yaml").write_text((root / "data.yaml").read_text() + f"\npath: {root}\n")
    env = ultralytics_env(srv, tmp_path)
    crashed = subprocess.run([sys.executable, "-c", INTERRUPTED, str(root / "data.yaml")], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=600)
    assert crashed.returncode == 3 and (tmp_path / "last.pt").is_file(), crashed.stdout + crashed.stderr

    model_id = model(api, "resumable")
    started = api("POST", "/api/webhooks/training/metrics", json={"event": "training_started", "modelId": model_id,
                                                                  "data": {"epochs": 2}}).json()
    upload = api("POST", "/api/webhooks/models/upload", json={"modelId": model_id, "runId": started["runId"],
                                                              "filename": "last.pt"}).json()
    assert requests.put(upload["uploadUrl"], data=(tmp_path / "last.pt").read_bytes(), timeout=60).ok
    for event, data in (("checkpoint_saved", {"modelPath": upload["gcsPath"], "runId": started["runId"]}),
                        ("training_failed", {"error": "the machine went away"})):
        assert api("POST", "/api/webhooks/training/metrics", json={"event": event, "modelId": model_id, "data": data}).ok

    r = api("POST", "/api/training/start", json={"modelId": model_id, "trainArgs": {
        "model": "yolo11n.yaml", "data": "ul://admin/datasets/shapes", "epochs": 2, "resume": True, "workers": 0}})
    assert r.status_code == 200, r.text
    job = api.wait("/api/models/admin/exp/resumable/training",
                   lambda b: b["job"]["status"] not in ("pending", "starting", "running"))["job"]
    assert job["status"] == "completed", job["error"]
    epochs = api("GET", "/api/models/admin/exp/resumable/training/epochs").json()["epochs"]
    assert [e["epoch"] for e in epochs] == [1]  # it went on from the second epoch, not from scratch
    assert api("GET", "/api/models/admin/exp/resumable").json()["model"]["hasWeights"]

    again = api("POST", "/api/training/start", json={"modelId": model_id, "trainArgs": {
        "model": "yolo11n.yaml", "data": "shapes", "epochs": 2, "resume": True}})
    assert again.status_code == 400 and "no interrupted run" in again.json()["error"]


def test_ul_cloud_train_starts_a_run_here_and_downloads_its_weights(server, checkpoints, tmp_path):
    srv, api = server
    key = api.headers["Authorization"].split()[1]
    with open(checkpoints["detect"], "rb") as fh:
        assert api("POST", "/api/models", files={"file": ("best.pt", fh)}, data={"projectId": "exp", "name": "base"}).ok
    env = {**ultralytics_env(srv, tmp_path), "ULTRALYTICS_API_KEY": key}
    cli = subprocess.run([str(Path(sys.executable).with_name("ul")), "cloud", "train", "model=ul://admin/exp/base",
                          "data=ul://admin/datasets/shapes", "epochs=1", "imgsz=64", "batch=4", "workers=0", "mosaic=0",
                          "amp=False", "plots=False", "project=exp", "name=cloud", "watch", f"save_dir={tmp_path / 'out'}"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    output = cli.stdout + cli.stderr
    assert cli.returncode == 0, output[-4000:]
    assert "Model: ul://admin/exp/cloud" in output
    job = api("GET", "/api/models/admin/exp/cloud/training").json()["job"]
    assert job["status"] == "completed" and job["trainArgs"]["model"] == "ul://admin/exp/base"
    assert list((tmp_path / "out").rglob("*.pt")), output[-2000:]  # `watch` downloaded the run's weights
