"""Predictions over the Platform routes: parity with in-process ultralytics for every task,
arguments, video, inputs by URL and base64, bad inputs, and an event loop that stays free."""

import base64
import http.server
import threading
import time
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import TASKS, add_model
from tests.contract import validate
from tests.fixtures.models import ASSETS, CLASS_NAMES, DETECTOR_IMGSZ, make_video, synthetic_scene

IMAGES = ("bus.jpg", "zidane.jpg")


@cache
def local_model(path: Path):
    from ultralytics import YOLO

    return YOLO(str(path))


def expected(checkpoint: Path, source, *, imgsz=640, conf=0.25, iou=0.7, normalize=False, decimals=5, **kw):
    results = local_model(checkpoint).predict(source, imgsz=imgsz, conf=conf, iou=iou, verbose=False, **kw)
    return [r.summary(normalize=normalize, decimals=decimals) for r in results]


def post_image(client, account, model_path: str, image: Path, **data):
    with open(image, "rb") as fh:
        return client.post(f"{model_path}/predict", files={"file": (image.name, fh, "image/jpeg")},
                           data={k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in data.items()},
                           headers=account.bearer)


@pytest.mark.parametrize("task", TASKS)
def test_server_results_equal_in_process_summary(client, alice, checkpoints, task):
    created = add_model(client, alice, checkpoints[task], name=f"{task}-model")
    for image in IMAGES:
        r = post_image(client, alice, f"/api/models/alice/demo/{created['model']}", ASSETS / image)
        assert r.status_code == 200, r.text
        body = r.json()
        validate("PredictResponse", body)
        (entry,) = body["images"]
        want = expected(checkpoints[task], str(ASSETS / image))[0]
        assert entry["results"] == want, f"{task} on {image}"
        assert entry["results"], f"{task} fixture gave no results on {image}"
        if task == "classify":
            assert len(entry["results"]) == min(5, len(local_model(checkpoints[task]).names))
        import cv2

        assert entry["shape"] == list(cv2.imread(str(ASSETS / image)).shape[:2])
        meta = body["metadata"]
        assert meta["task"] == task and meta["imageCount"] == 1
        assert set(meta["version"]) == {"ultralytics", "torch", "python"}
        assert meta["functionTimeCall"] >= 0 and meta["functionTimeAlive"] >= meta["functionTimeCall"]


def test_arguments_reach_the_model(client, alice, checkpoints):
    created = add_model(client, alice, checkpoints["detect"])
    args = {"imgsz": 320, "conf": 0.3, "iou": 0.5, "normalize": True, "decimals": 3}
    r = post_image(client, alice, f"/api/models/{created['id']}", ASSETS / "bus.jpg", **args)
    assert r.status_code == 200
    got = r.json()["images"][0]["results"]
    assert got == expected(checkpoints["detect"], str(ASSETS / "bus.jpg"), **args)[0]
    assert all(0 <= v <= 1 for row in got for v in row["box"].values())
    assert got != expected(checkpoints["detect"], str(ASSETS / "bus.jpg"))[0]


def test_trained_detector_finds_objects_where_they_were_drawn(client, alice, detector, tmp_path):
    import cv2

    created = add_model(client, alice, detector, name="shapes")
    objects = [(0, 20, 30, 70, 80), (1, 110, 40, 170, 100), (2, 60, 120, 120, 180)]
    scene = synthetic_scene(size=(200, 200), objects=objects, seed=12345)
    path = tmp_path / "scene.png"
    cv2.imwrite(str(path), scene)
    r = post_image(client, alice, f"/api/models/{created['id']}", path, imgsz=DETECTOR_IMGSZ)
    found = r.json()["images"][0]["results"]
    for cls, *box in objects:
        match = [row for row in found if row["class"] == cls and iou(box, row["box"]) > 0.5]
        assert match, f"no {CLASS_NAMES[cls]} found near {box}: {found}"
        assert match[0]["name"] == CLASS_NAMES[cls]


def iou(a, b) -> float:
    bx = (b["x1"], b["y1"], b["x2"], b["y2"])
    ix = max(0, min(a[2], bx[2]) - max(a[0], bx[0]))
    iy = max(0, min(a[3], bx[3]) - max(a[1], bx[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (bx[2] - bx[0]) * (bx[3] - bx[1]) - inter)


@pytest.mark.parametrize("stride", [1, 3])
def test_video_gives_one_entry_per_processed_frame(client, alice, checkpoints, tmp_path, stride):
    created = add_model(client, alice, checkpoints["detect"])
    video = make_video(tmp_path / "clip.mp4", frames=9, size=(96, 128))
    with open(video, "rb") as fh:  # named like an SDK in-memory upload: the type comes from the bytes
        r = client.post(f"/api/models/{created['id']}/predict", files={"file": ("upload", fh)},
                        data={"vid_stride": str(stride), "imgsz": "128"}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    body = r.json()
    want = expected(checkpoints["detect"], str(video), imgsz=128, vid_stride=stride)
    assert len(body["images"]) == body["metadata"]["imageCount"] == len(want) == 9 // stride
    assert [e["results"] for e in body["images"]] == want
    assert all(e["shape"] == [96, 128] for e in body["images"])


def test_source_as_base64_and_as_url(client, alice, checkpoints):
    created = add_model(client, alice, checkpoints["detect"])
    url_path = f"/api/models/{created['id']}/predict"
    want = expected(checkpoints["detect"], str(ASSETS / "zidane.jpg"))[0]
    b64 = base64.b64encode((ASSETS / "zidane.jpg").read_bytes()).decode()
    r = client.post(url_path, data={"source": b64}, headers=alice.bearer)  # URL-encoded, as the SDK sends it
    assert r.status_code == 200 and r.json()["images"][0]["results"] == want
    r = client.post(url_path, json={"source": "data:image/jpeg;base64," + b64}, headers=alice.bearer)
    assert r.status_code == 200 and r.json()["images"][0]["results"] == want

    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(ASSETS), **k)  # noqa: E731
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        r = client.post(url_path, data={"source": f"http://127.0.0.1:{port}/zidane.jpg"}, headers=alice.bearer)
        assert r.status_code == 200 and r.json()["images"][0]["results"] == want
        r = client.post(url_path, data={"source": f"http://127.0.0.1:{port}/missing.jpg"}, headers=alice.bearer)
        assert r.status_code == 400 and "HTTP 404" in r.json()["error"]
        server.shutdown()


def test_bad_inputs(client, alice, checkpoints, app, tmp_path):
    created = add_model(client, alice, checkpoints["detect"])
    path = f"/api/models/{created['id']}/predict"
    bus = (ASSETS / "bus.jpg").read_bytes()
    cases = [
        ({"file": ("x.jpg", bus[: len(bus) // 3])}, {}, 400, "could not be decoded"),
        ({"file": ("x.txt", b"hello world")}, {}, 400, "unsupported file type"),
        ({"file": ("x.jpg", bus)}, {"imgsz": "4000"}, 400, "imgsz must be an integer from 32 to 1280"),
        ({"file": ("x.jpg", bus)}, {"conf": "high"}, 400, "conf must be a number from 0.01 to 1.0"),
        ({"file": ("x.jpg", bus)}, {"iou": "0.99"}, 400, "iou must be a number from 0.0 to 0.95"),
        (None, {}, 400, "file or source is required"),
    ]
    for files, data, status, message in cases:
        r = client.post(path, files=files, data=data, headers=alice.bearer) if files else client.post(path, data=data, headers=alice.bearer)
        assert r.status_code == status and message in r.json()["error"], (message, r.text)
        validate("ErrorResponse", r.json())

    app.state.settings.max_upload_mb = 1
    big = b"\xff\xd8\xff" + b"\0" * (1 << 20)
    r = client.post(path, files={"file": ("big.jpg", big)}, headers=alice.bearer)
    assert r.status_code == 413 and "1 MB" in r.json()["error"]


def test_unknown_and_foreign_models_are_404(client, alice, make_account, checkpoints):
    created = add_model(client, alice, checkpoints["detect"])
    bob = make_account("bobby")
    bus = (ASSETS / "bus.jpg").read_bytes()
    for path in (f"/api/models/{created['id']}/predict", f"/api/models/alice/demo/{created['model']}/predict",
                 "/api/models/mdl_000000000000000000000000/predict", "/api/models/alice/demo/nope/predict"):
        r = client.post(path, files={"file": ("bus.jpg", bus)}, headers=bob.bearer)
        assert r.status_code == 404 and "not found" in r.json()["error"], path


def test_missing_weights_is_503_at_once(client, alice, checkpoints, app):
    created = add_model(client, alice, checkpoints["detect"])
    (app.state.settings.files_dir / "models" / created["id"] / "best.pt").unlink()
    r = post_image(client, alice, f"/api/models/{created['id']}", ASSETS / "bus.jpg")
    assert r.status_code == 503 and "missing" in r.json()["error"]


def test_a_replaced_checkpoint_is_served_at_once(client, alice, checkpoints, detector, app):
    created = add_model(client, alice, checkpoints["detect"])
    path = f"/api/models/{created['id']}"
    first = post_image(client, alice, path, ASSETS / "bus.jpg").json()
    assert post_image(client, alice, path, ASSETS / "bus.jpg").json()["images"][0]["results"] == first["images"][0]["results"]
    loads = app.state.engine.cache.loads
    # upload another detect checkpoint (the trained detector) into the same model
    from urllib.parse import urlsplit

    data = detector.read_bytes()

    signed = client.post("/api/upload/signed-url", json={"assetType": "models", "assetId": created["id"], "filename": "best.pt",
                                                         "contentType": "x", "totalBytes": len(data)}, headers=alice.bearer).json()
    url = urlsplit(signed["uploadUrl"])
    assert client.put(f"{url.path}?{url.query}", content=data).status_code == 200
    assert client.post("/api/upload/complete", json={"sessionId": signed["sessionId"]}, headers=alice.bearer).status_code == 200
    second = post_image(client, alice, path, ASSETS / "bus.jpg").json()
    assert app.state.engine.cache.loads == loads + 1
    assert second["images"][0]["results"] == expected(detector, str(ASSETS / "bus.jpg"))[0]


def test_health_answers_while_a_model_is_busy(client, alice, checkpoints, app):
    created = add_model(client, alice, checkpoints["segment"])
    path = f"/api/models/{created['id']}"
    post_image(client, alice, path, ASSETS / "bus.jpg")  # loaded and warm
    model = next(iter(app.state.engine.cache._entries.values()))
    model.lock.acquire()  # the model is busy: a prediction now has to wait
    try:
        result = {}
        worker = threading.Thread(target=lambda: result.update(r=post_image(client, alice, path, ASSETS / "bus.jpg")))
        worker.start()
        time.sleep(0.3)
        assert worker.is_alive()  # waiting for the model ...
        assert client.get("/health").json()["status"] == "ok"  # ... while the server answers others
        assert client.get("/api/account/summary", headers=alice.bearer).status_code == 200
    finally:
        model.lock.release()
    worker.join(60)
    assert result["r"].status_code == 200


def test_predict_counts_against_its_own_rate_limit(client, alice, checkpoints, app):
    created = add_model(client, alice, checkpoints["classify"])
    app.state.settings.rate_limit_predict = 2
    codes = [post_image(client, alice, f"/api/models/{created['id']}", ASSETS / "bus.jpg").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/api/account/summary", headers=alice.bearer).status_code == 200


def test_concurrent_first_requests_share_one_load(client, alice, checkpoints, app):
    created = add_model(client, alice, checkpoints["obb"])
    before = app.state.engine.cache.loads
    results = []
    threads = [threading.Thread(target=lambda: results.append(
        post_image(client, alice, f"/api/models/{created['id']}", ASSETS / "zidane.jpg"))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [r.status_code for r in results] == [200, 200, 200]
    assert app.state.engine.cache.loads == before + 1
    assert len({str(r.json()["images"][0]["results"]) for r in results}) == 1


def test_least_recently_used_models_are_evicted(client, alice, checkpoints, app):
    app.state.engine.cache.size = 1
    a = add_model(client, alice, checkpoints["classify"], name="a")
    b = add_model(client, alice, checkpoints["detect"], name="b")
    before = app.state.engine.cache.loads
    for created in (a, a, b, b, a):
        assert post_image(client, alice, f"/api/models/{created['id']}", ASSETS / "bus.jpg").status_code == 200
    assert app.state.engine.cache.loads == before + 3  # a, b, then a again after b took its place
