"""Starting training: what is checked before a job is queued, and the devices this machine offers."""

import pytest

from tests.contract import validate
from tests.datasets.test_datasets_api import ingest, make_dataset
from tests.fixtures.archives import write_zip, yolo_members
from yolohost.db.tables import Job


@pytest.fixture
def shapes(client, app, alice, tmp_path):
    make_dataset(client, alice, "shapes", task="detect")
    return ingest(client, app, alice, "shapes", write_zip(tmp_path / "shapes.zip", yolo_members(4, 2)))


@pytest.fixture
def untrained(client, alice):
    r = client.post("/api/models", json={"project": "exp", "model": "det", "name": "Det", "task": "detect"},
                    headers=alice.bearer)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def start(client, account, model_id, **train_args):
    args = {"model": "yolo11n.yaml", "data": "ul://alice/datasets/shapes", "epochs": 1, "imgsz": 64, **train_args}
    return client.post("/api/training/start", json={"modelId": model_id, "trainArgs": args}, headers=account.bearer)


def jobs(app) -> list[Job]:
    with app.state.sessions() as session:
        return session.query(Job).filter(Job.kind == "training").all()


def test_start_queues_a_job_and_the_model_shows_it_pending(client, app, alice, shapes, untrained):
    r = start(client, alice, untrained, batch=4)
    assert r.status_code == 200, r.text
    body = r.json()
    validate("TrainingStartResponse", body)
    assert body["modelId"] == untrained and body["status"] == "starting" and body["billing"]["estimatedCostCents"] == 0
    [job] = jobs(app)
    assert job.status == "queued" and job.subject_id == untrained
    progress = client.get("/api/models/alice/exp/det/training", headers=alice.bearer).json()["job"]
    assert progress["status"] == "pending" and progress["progress"]["totalEpochs"] == 1
    assert progress["trainArgs"] == {"model": "yolo11n.yaml", "epochs": 1, "batch": 4, "imgsz": 64}
    model = client.get("/api/models/alice/exp/det", headers=alice.bearer).json()["model"]
    assert model["status"] == "pending" and model["trainArgs"]["data"] == "ul://alice/datasets/shapes"

    again = start(client, alice, untrained)
    assert again.status_code == 409 and "already training" in again.json()["error"]
    other = client.post("/api/webhooks/training/metrics", headers=alice.bearer,
                        json={"event": "training_started", "modelId": untrained, "data": {}})
    assert other.status_code == 409 and "being trained by this server" in other.json()["error"]
    assert client.get("/api/models/alice/exp/det/training").status_code == 404  # private: not to anyone
    cancelled = client.delete("/api/models/alice/exp/det/training", headers=alice.bearer)
    assert cancelled.status_code == 200 and cancelled.json() == {"success": True, "status": "cancelled"}
    assert [j.status for j in jobs(app)] == ["cancelled"]
    assert client.get("/api/models/alice/exp/det", headers=alice.bearer).json()["model"]["status"] == "cancelled"


@pytest.mark.parametrize(("args", "status", "words"), [
    ({"data": "ul://alice/datasets/missing"}, 404, "missing"),
    ({"data": "shapes"}, 200, None),  # a dataset of the model's workspace by slug
    ({"model": "yolo11n.pt"}, 400, "does not download weights"),
    ({"model": "nonsense.yaml"}, 400, "not an Ultralytics model architecture"),
    ({"model": "../etc/passwd.pt"}, 400, "trainArgs.model"),
    ({"model": "ul://alice/exp/nothing"}, 404, "not found"),
    ({"epochs": 0}, 400, "epochs"),
    ({"lr0": "fast"}, 400, "lr0"),
    ({"no_such_arg": 1}, 400, "no_such_arg"),
    ({"project": "elsewhere"}, 400, "project"),
])
def test_arguments_are_checked_before_anything_is_queued(client, app, alice, shapes, untrained, args, status, words):
    r = start(client, alice, untrained, **args)
    assert r.status_code == status, r.text
    if words:
        assert words in r.json()["error"]
        assert jobs(app) == []


def test_unknown_model_other_users_and_devices(client, app, alice, make_account, shapes, untrained):
    assert start(client, alice, "mdl_000000000000000000000000").status_code == 404
    bobby = make_account("bobby")
    assert start(client, bobby, untrained).status_code == 404
    r = client.post("/api/training/start", json={"modelId": untrained, "gpuType": "h100-sxm",
                                                 "trainArgs": {"model": "yolo11n.yaml", "data": "shapes", "epochs": 1}},
                    headers=alice.bearer)
    assert r.status_code == 503 and "cpu" in r.json()["error"]
    devices = client.get("/api/training/gpu-availability")  # public, as the contract says
    validate("GpuAvailabilityResponse", devices.json())
    assert devices.json()["cpu"] == "High"
    assert start(client, alice, untrained, device="cpu").status_code == 200
    assert client.get("/api/training/gpu-availability", headers=alice.bearer).json()["cpu"] == "Low"
    assert jobs(app)[0].payload["runId"] > 0


def test_a_dataset_of_another_task_is_refused(client, alice, shapes):
    r = client.post("/api/models", json={"project": "exp", "model": "cls", "name": "Cls", "task": "classify"},
                    headers=alice.bearer)
    bad = start(client, alice, r.json()["id"], model="yolo11n-cls.yaml")
    assert bad.status_code == 400 and "is for detect" in bad.json()["error"]


def test_deleting_the_model_or_its_project_stops_its_training(client, app, alice, shapes, untrained):
    assert start(client, alice, untrained).status_code == 200
    assert client.delete("/api/models/alice/exp/det", headers=alice.bearer).status_code == 200
    assert [j.status for j in jobs(app)] == ["cancelled"]
    restored = client.post("/api/trash", json={"id": untrained, "type": "model"}, headers=alice.bearer)
    assert restored.status_code == 200, restored.text
    progress = client.get("/api/models/alice/exp/det/training", headers=alice.bearer).json()["job"]
    assert progress["status"] == "cancelled" and progress["error"]["code"] == "model_deleted"

    assert start(client, alice, untrained).status_code == 200  # a fresh run; then the whole project goes
    assert client.delete("/api/projects/alice/exp", headers=alice.bearer).status_code == 200
    assert [j.status for j in jobs(app)] == ["cancelled", "cancelled"]
