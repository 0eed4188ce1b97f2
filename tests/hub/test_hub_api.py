"""The HUB generations: the shared `POST /` API and legacy `/v1`, in-process and against a real
`yolohost serve`, called exactly as the seed documents' Python and cURL snippets do."""

import json
import shutil
import subprocess
import sys

import pytest
import requests

from tests.conftest import add_model, owner_key_from
from tests.contract import validate
from tests.fixtures.models import ASSETS
from tests.inference.test_predict_api import expected

BUS = ASSETS / "bus.jpg"


def test_shared_api_takes_a_model_url_or_id(client, alice, checkpoints):
    created = add_model(client, alice, checkpoints["pose"])
    want = expected(checkpoints["pose"], str(BUS), imgsz=640, conf=0.25, iou=0.45)[0]
    for model in (f"https://hub.ultralytics.com/models/{created['id']}", created["id"]):
        with open(BUS, "rb") as fh:
            r = client.post("/", headers={"x-api-key": alice.key}, files={"file": fh},
                            data={"model": model, "imgsz": 640, "conf": 0.25, "iou": 0.45})
        assert r.status_code == 200, r.text
        validate("PredictResponse", r.json())
        assert r.json()["images"][0]["results"] == want


def test_shared_api_defaults_to_the_hub_iou(client, alice, checkpoints):
    created = add_model(client, alice, checkpoints["detect"])
    with open(BUS, "rb") as fh:
        r = client.post("/", headers={"x-api-key": alice.key}, files={"file": fh}, data={"model": created["id"]})
    assert r.json()["images"][0]["results"] == expected(checkpoints["detect"], str(BUS), iou=0.45)[0]


def test_shared_api_errors(client, alice, checkpoints):
    with open(BUS, "rb") as fh:
        r = client.post("/", headers={"x-api-key": alice.key}, files={"file": fh})
    assert r.status_code == 400 and "model is required" in r.json()["error"]
    with open(BUS, "rb") as fh:
        r = client.post("/", headers={"x-api-key": alice.key}, files={"file": fh}, data={"model": "https://x/models/"})
    assert r.status_code == 400 and "model must be a model URL" in r.json()["error"]
    r = client.post("/", files={"file": ("b.jpg", b"x")}, data={"model": "abc"})
    assert r.status_code == 401


def test_v1_predict_shape_and_arguments(client, alice, checkpoints):
    created = add_model(client, alice, checkpoints["segment"])
    with open(BUS, "rb") as fh:
        r = client.post(f"/v1/predict/{created['id']}", headers={"x-api-key": alice.key}, files={"image": fh},
                        data={"size": 320, "confidence": 0.3, "iou": 0.5, "normalize": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and body["message"] == "Inference complete."
    assert body["data"] == expected(checkpoints["segment"], str(BUS), imgsz=320, conf=0.3, iou=0.5, normalize=True)[0]
    assert body["data"]


def test_v1_errors_have_the_v1_shape(client, alice, make_account, checkpoints):
    created = add_model(client, alice, checkpoints["detect"])
    with open(BUS, "rb") as fh:
        r = client.post(f"/v1/predict/{created['id']}", headers={"x-api-key": alice.key}, files={"image": fh}, data={"size": 5000})
    assert r.status_code == 400 and r.json() == {"success": False, "message": "size must be an integer from 32 to 1280; got '5000'"}
    bob = make_account("bobby")
    with open(BUS, "rb") as fh:
        r = client.post(f"/v1/predict/{created['id']}", headers={"x-api-key": bob.key}, files={"image": fh})
    assert r.status_code == 404 and r.json()["success"] is False
    r = client.post("/v1/auth", headers={"x-api-key": "ul_" + "1" * 40})
    assert r.status_code == 401 and r.json() == {"success": False, "message": "Invalid or missing API key"}
    assert client.post("/v1/auth", headers={"x-api-key": alice.key}).json() == {"success": True}


# --- against a real server, as the seed documents call it --------------------------------------------


@pytest.fixture
def live(serve, tmp_path, checkpoints):
    """A running server with the owner's key and one model per task added by the CLI."""
    data = tmp_path / "data"
    server = serve(data)
    key = owner_key_from(server.text())
    ids = {}
    for task in ("detect", "classify"):
        out = subprocess.run([sys.executable, "-m", "yolohost", "models", "add", str(checkpoints[task]), "--project", "seed",
                              "--name", task], env={**__import__("os").environ, "YOLOHOST_DATA_DIR": str(data)},
                             capture_output=True, text=True, check=True).stdout
        assert out.strip().splitlines()[-1] == f"ul://admin/seed/{task}"
        ids[task] = out.split("added ")[1].split()[0]
    return server, key, ids


def test_seed_snippets_with_requests(live, checkpoints):
    server, key, ids = live
    # HUB shared inference API
    headers = {"x-api-key": key}
    data = {"model": f"https://hub.ultralytics.com/models/{ids['detect']}", "imgsz": 640, "conf": 0.25, "iou": 0.45}
    with open(BUS, "rb") as image_file:
        response = requests.post(server.url, headers=headers, files={"file": image_file}, data=data, timeout=120)
    response.raise_for_status()
    assert response.json()["images"][0]["results"] == expected(checkpoints["detect"], str(BUS), iou=0.45)[0]
    # legacy v1
    data = {"size": 640, "confidence": 0.25, "iou": 0.45}
    with open(BUS, "rb") as image_file:
        response = requests.post(f"{server.url}/v1/predict/{ids['classify']}", headers=headers, files={"image": image_file},
                                 data=data, timeout=120)
    assert response.json()["success"] is True
    assert response.json()["data"] == expected(checkpoints["classify"], str(BUS), iou=0.45)[0]
    # Platform, Bearer key
    with open(BUS, "rb") as f:
        response = requests.post(f"{server.url}/api/models/{ids['detect']}/predict", headers={"Authorization": f"Bearer {key}"},
                                 files={"file": f}, data={"conf": 0.5}, timeout=120)
    assert response.json()["images"][0]["results"] == expected(checkpoints["detect"], str(BUS), conf=0.5)[0]
    assert int(response.headers["X-RateLimit-Limit"]) == 20


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_seed_snippets_with_curl(live, checkpoints):
    server, key, ids = live
    hub = subprocess.run(["curl", "-s", "-X", "POST", server.url, "-H", f"x-api-key: {key}",
                          "-F", f"model=https://hub.ultralytics.com/models/{ids['detect']}", "-F", f"file=@{BUS}",
                          "-F", "imgsz=640", "-F", "conf=0.25", "-F", "iou=0.45"], capture_output=True, text=True, check=True)
    assert json.loads(hub.stdout)["images"][0]["results"] == expected(checkpoints["detect"], str(BUS), iou=0.45)[0]
    v1 = subprocess.run(["curl", "-s", "-X", "POST", f"{server.url}/v1/predict/{ids['detect']}", "-H", f"x-api-key: {key}",
                         "-F", f"image=@{BUS}", "-F", "size=640", "-F", "confidence=0.25", "-F", "iou=0.45"],
                        capture_output=True, text=True, check=True)
    assert json.loads(v1.stdout)["data"] == expected(checkpoints["detect"], str(BUS), iou=0.45)[0]
    platform = subprocess.run(["curl", "-s", "-X", "POST", "-H", f"Authorization: Bearer {key}", "-F", f"file=@{BUS}", "-F", "conf=0.5",
                               f"{server.url}/api/models/{ids['classify']}/predict"], capture_output=True, text=True, check=True)
    assert json.loads(platform.stdout)["images"][0]["results"] == expected(checkpoints["classify"], str(BUS), conf=0.5)[0]


def test_platform_sdk_and_the_ultralytics_package(live, checkpoints, tmp_path):
    from ultralytics_platform import Platform

    server, key, ids = live
    with Platform(api_key=key, base_url=server.url) as client:
        with open(BUS, "rb") as fh:
            out = client.models.predict("admin", "seed", "detect", body={"file": fh, "conf": 0.3, "normalize": True})
        assert out["images"][0]["results"] == expected(checkpoints["detect"], str(BUS), conf=0.3, normalize=True)[0]
        assert out["metadata"]["task"] == "detect"
        files = client.models.files("admin", "seed", "detect")["files"]
        assert files[0]["name"] == "best.pt"

    # YOLO("ul://...") downloads the weights through the signed URL and predicts with them
    code = (
        "import sys; from ultralytics import YOLO, settings\n"
        f"settings.update(weights_dir={str(tmp_path / 'weights')!r})\n"
        "m = YOLO('ul://admin/seed/detect')\n"
        f"print('NAMES', len(m.names)); print('N', len(m.predict({str(BUS)!r}, verbose=False)[0].summary()))\n"
    )
    env = {**__import__("os").environ, "ULTRALYTICS_PLATFORM_URL": server.url, "ULTRALYTICS_API_KEY": key,
           "YOLO_CONFIG_DIR": str(tmp_path / "cfg")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "weights" / "admin" / "seed" / "detect" / "best.pt").read_bytes() == checkpoints["detect"].read_bytes()
    assert f"N {len(expected(checkpoints['detect'], str(BUS))[0])}" in out.stdout
