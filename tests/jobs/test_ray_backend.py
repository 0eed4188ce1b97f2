"""The Ray backend against a real Ray cluster (a head node started for the test): a training run's
trainer runs as a Ray task on a cluster node, reports as any trainer does, and a cancel stops it."""

import os
import secrets
import shutil
import tempfile
from pathlib import Path
import subprocess
import sys
import time

import pytest

from tests.conftest import free_port, owner_key_from
from tests.training.test_training_e2e import TRAIN_ARGS, Api, dataset, finished_job, model, runner_processes

pytest.importorskip("ray")


@pytest.fixture
def ray_cluster():
    port = free_port()
    ray = [sys.executable, "-m", "ray.scripts.scripts"]
    temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))  # Ray's socket paths must stay short
    # token authentication with a token of its own: nothing read from or left in ~/.ray
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32), "RAY_USAGE_STATS_ENABLED": "0"}
    started = subprocess.run([*ray, "start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
                              "--disable-usage-stats", f"--temp-dir={temp}"],
                             capture_output=True, text=True, timeout=180, env={**os.environ, **auth})
    assert started.returncode == 0, started.stdout + started.stderr
    yield {"YOLOHOST_RAY_ADDRESS": f"127.0.0.1:{port}", **auth}
    subprocess.run([*ray, "stop", "--force"], capture_output=True, timeout=120, env={**os.environ, **auth})
    shutil.rmtree(temp, ignore_errors=True)


def test_training_runs_on_a_ray_node_and_cancel_stops_it(serve, ray_cluster, tmp_path):
    server = serve(env={"YOLOHOST_JOB_BACKEND": "ray", **ray_cluster,
                        "YOLOHOST_JOB_POLL_SECONDS": "0.1", "YOLOHOST_JOB_HEARTBEAT_SECONDS": "0.5"})
    api = Api(server, owner_key_from(server.text()))
    dataset(api, tmp_path)

    model(api, "onray")
    r = api("POST", "/api/training/start", json={"modelId": api("GET", "/api/models/admin/exp/onray").json()["model"]["id"],
                                                 "trainArgs": {**TRAIN_ARGS, "epochs": 1}})
    assert r.status_code == 200, r.text
    job = api.wait("/api/models/admin/exp/onray/training", lambda b: b["job"]["status"] not in ("pending", "starting", "running"))["job"]
    assert job["status"] == "completed", job["error"]
    assert api("GET", "/api/models/admin/exp/onray").json()["model"]["hasWeights"]

    log = finished_job(tmp_path / "data").log
    assert "submitted to Ray" in log and "ran on Ray node" in log and "Epoch" in log

    model(api, "cancelled")
    model_id = api("GET", "/api/models/admin/exp/cancelled").json()["model"]["id"]
    assert api("POST", "/api/training/start", json={"modelId": model_id, "trainArgs": {**TRAIN_ARGS, "epochs": 500}}).ok
    api.wait("/api/models/admin/exp/cancelled/training", lambda b: b["job"]["progress"]["currentEpoch"] >= 1)
    assert api("DELETE", "/api/models/admin/exp/cancelled/training").json()["status"] == "cancelled"
    api.wait("/api/models/admin/exp/cancelled/training", lambda b: b["job"]["status"] == "cancelled")
    deadline = time.monotonic() + 60
    while runner_processes("cancelled"):
        assert time.monotonic() < deadline, "the trainer outlived its cancelled Ray task"
        time.sleep(0.3)
