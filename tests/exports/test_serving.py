"""Predictions served by an ONNX or OpenVINO export agree with the checkpoint's: same objects, boxes within a few
pixels, confidences within 0.02. The runtime is chosen per request (``runtime``) or by the server (``auto``)."""

from __future__ import annotations

import cv2
import pytest

from tests.conftest import add_model
from tests.exports.conftest import run_job
from tests.fixtures.models import random_objects, synthetic_scene

PREDICT = "/api/models/alice/shapes/detector/predict"


@pytest.fixture
def database_url():
    """Serving does not depend on the database: SQLite only."""
    return None


def scenes() -> list[bytes]:
    return [cv2.imencode(".png", synthetic_scene((128, 128), random_objects(seed, (128, 128)), seed=seed))[1].tobytes()
            for seed in (11, 12, 13)]


def predict(client, alice, image: bytes, **data) -> list[dict]:
    r = client.post(PREDICT, files={"file": ("scene.png", image)}, data={"imgsz": 128, **data}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    return r.json()["images"][0]["results"]


def assert_close(got: list[dict], want: list[dict]) -> None:
    assert [r["name"] for r in got] == [r["name"] for r in want]
    for a, b in zip(got, want):
        assert abs(a["confidence"] - b["confidence"]) <= 0.02, (a, b)
        assert all(abs(a["box"][k] - b["box"][k]) <= 2.0 for k in ("x1", "y1", "x2", "y2")), (a, b)


def test_onnx_and_openvino_exports_serve_the_same_predictions(client, app, alice, detector, settings):
    add_model(client, alice, detector, project="shapes", name="detector")
    ids = {}
    for fmt in ("onnx", "openvino"):
        r = client.post("/api/models/alice/shapes/detector/exports", json={"format": fmt}, headers=alice.bearer)
        ids[fmt] = r.json()["id"]
        run_job(app)
    for fmt, export_id in ids.items():
        export = client.get(f"/api/models/alice/shapes/detector/exports/{export_id}", headers=alice.bearer).json()
        assert export["export"]["status"] == "completed", export

    images = scenes()
    expected = [predict(client, alice, image) for image in images]
    assert all(expected), "the detector finds the drawn shapes"
    loads = app.state.engine.cache.loads
    for runtime in ("onnx", "openvino"):
        for image, want in zip(images, expected):
            assert_close(predict(client, alice, image, runtime=runtime), want)
    assert app.state.engine.cache.loads == loads + 2  # each export loaded once, beside the checkpoint
    assert {key[1] for key in app.state.engine.cache._entries} == {"pt", "onnx", "openvino"}

    r = client.post(PREDICT, files={"file": ("scene.png", images[0])}, data={"runtime": "onnx", "imgsz": 640},
                    headers=alice.bearer)
    assert r.status_code == 400 and "takes imgsz 128 only" in r.json()["error"]

    settings.predict_runtime = "auto"  # the fastest export that fits, else the checkpoint
    openvino = predict(client, alice, images[0], runtime="openvino")
    assert predict(client, alice, images[0]) == openvino
    client.delete(f"/api/models/alice/shapes/detector/exports/{ids['openvino']}", headers=alice.bearer)
    assert predict(client, alice, images[0]) == predict(client, alice, images[0], runtime="onnx")
    r = client.post(PREDICT, files={"file": ("scene.png", images[0])}, data={"imgsz": 320}, headers=alice.bearer)
    assert r.json()["images"][0]["results"] == predict(client, alice, images[0], runtime="pt", imgsz=320)
