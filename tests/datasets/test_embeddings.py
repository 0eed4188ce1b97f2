"""Dataset analysis: embeddings from the suite's trained detector, the clustering layout, similar images,
cancelling, refusing without a model, and failures that leave the previous analysis in place."""

import typing

import cv2
import numpy as np
import pytest
import yaml
from sqlalchemy import select, update
from ultralytics_platform import types as sdk

from tests.conftest import add_model
from tests.datasets.test_datasets_api import ingest, make_dataset
from tests.fixtures.archives import write_zip
from tests.fixtures.models import CLASS_NAMES, synthetic_scene
from yolohost.config import Settings
from yolohost.datasets import embeddings
from yolohost.db.engine import transaction
from yolohost.db.tables import Image, ImageEmbedding, Job, Model
from yolohost.jobs.worker import Cancelled, JobContext, run_one

# Where each class's single shape sits (x, y, side): images of one class are near-duplicates, two classes are not.
LAYOUT = {0: (12, 14, 38), 1: (44, 20, 34), 2: (22, 46, 40)}


@pytest.fixture
def settings(tmp_path, database_url, detector) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, redis_url=None, embedding_model=str(detector))


def scenes(per_class: int = 6, seed: int = 0) -> dict[str, bytes]:
    """A YOLO detect archive: one shape per image at its class's place, give or take 2 px, on fresh noise."""
    rng = np.random.default_rng(seed)
    members = {"data.yaml": yaml.safe_dump({"train": "images/train", "val": "images/val", "names": CLASS_NAMES}).encode()}
    for i in range(3 * per_class):
        cls = i % 3
        x, y, side = (v + int(d) for v, d in zip(LAYOUT[cls], rng.integers(-2, 3, 3)))
        ok, png = cv2.imencode(".png", synthetic_scene((96, 96), [(cls, x, y, x + side, y + side)], seed=seed * 1000 + i))
        assert ok
        split = "val" if i % 6 == 5 else "train"
        name = f"s{seed}-{i:03d}"
        members[f"images/{split}/{name}.png"] = png.tobytes()
        label = f"{cls} {(x + side / 2) / 96:.6f} {(y + side / 2) / 96:.6f} {side / 96:.6f} {side / 96:.6f}\n"
        members[f"labels/{split}/{name}.txt"] = label.encode()
    return members


def sdk_images(body: dict, item_type) -> list[dict]:
    """The ``images`` of a similar-images body, each checked against the SDK's TypedDict (these routes are SDK-only)."""
    licenses = typing.get_args(item_type.__annotations__["dataset"].__annotations__["license"])
    assert set(body) == {"images"}
    for item in body["images"]:
        assert item_type.__required_keys__ <= set(item) <= item_type.__required_keys__ | item_type.__optional_keys__
        assert set(item["dataset"]) == {"owner", "dataset", "license"} and item["dataset"]["license"] in licenses
        assert isinstance(item["score"], float) and isinstance(item["width"], int)
    return body["images"]


def shapes(client, app, account, tmp_path, slug="shapes", **kwargs) -> dict:
    make_dataset(client, account, slug)
    return ingest(client, app, account, slug, write_zip(tmp_path / f"{slug}.zip", scenes(**kwargs)))


def analyze(client, app, account, slug="shapes") -> dict:
    r = client.post(f"/api/datasets/{account.username}/{slug}/embeddings", headers=account.bearer)
    assert r.status_code == 202, r.text
    assert run_one(app.state.settings, app.state.sessions, app.state.storage) == r.json()["jobId"]
    with transaction(app.state.sessions) as session:
        job = session.get(Job, r.json()["jobId"])
        return {"status": job.status, "error": job.error, "result": job.result, "payload": job.payload}


def state(client, account, slug="shapes") -> dict:
    r = client.get(f"/api/datasets/{account.username}/{slug}/embeddings", headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()


def layout_of(client, account, slug="shapes", query="") -> dict:
    return client.get(f"/api/datasets/{account.username}/{slug}/images/clustering{query}", headers=account.bearer)


def test_analysis_embeds_every_image_and_lays_them_out(client, app, alice, tmp_path):
    shapes(client, app, alice, tmp_path)
    before = state(client, alice)
    assert before["analyzedAt"] is None and before["embeddingsCount"] == 0 and before["activeJob"] is None
    assert before["latestImageAt"] is not None
    assert layout_of(client, alice).status_code == 404

    r = client.post("/api/datasets/alice/shapes/embeddings", headers=alice.bearer)
    assert r.status_code == 202
    job_id = r.json()["jobId"]
    again = client.post("/api/datasets/alice/shapes/embeddings", headers=alice.bearer)
    assert again.status_code == 409 and "already being analyzed" in again.json()["error"]
    queued = state(client, alice)["activeJob"]
    assert queued["id"] == job_id and queued["status"] == "queued" and queued["progress"] is None

    assert run_one(app.state.settings, app.state.sessions, app.state.storage) == job_id
    with transaction(app.state.sessions) as session:
        job = session.get(Job, job_id)
        assert job.status == "completed", job.error
        assert job.result["embeddings"] == 18 and job.result["dimensions"] > 0
        vectors = [embeddings.from_bytes(v) for v in session.scalars(select(ImageEmbedding.vector))]
    assert len(vectors) == 18 and all(abs(np.linalg.norm(v) - 1) < 1e-4 for v in vectors)
    after = state(client, alice)
    assert after["embeddingsCount"] == 18 and after["analyzedAt"] and after["activeJob"] is None
    dataset_id = client.get("/api/datasets/alice/shapes", headers=alice.bearer).json()["dataset"]["id"]
    assert client.get(f"/api/datasets/{dataset_id}/embeddings", headers=alice.bearer).json() == after  # the seed's id route

    layout = layout_of(client, alice).json()
    assert layout["total"] == 18 and len(layout["images"]) == 18 and layout["hasMore"] is False
    assert layout["nextOffset"] is None and layout["updatedAt"] == after["analyzedAt"]
    points = np.array([[i["umapX"], i["umapY"]] for i in layout["images"]])
    assert points.shape == (18, 2) and np.abs(points).max() == pytest.approx(1.0) and points.std(axis=0).min() > 0
    assert all(len(i["classIds"]) == 1 and i["labeled"] and not i["missing"] for i in layout["images"])
    assert {i["split"] for i in layout["images"]} == {"train", "val"}
    page = layout_of(client, alice, query="?offset=5&limit=5").json()
    assert [i["id"] for i in page["images"]] == [i["id"] for i in layout["images"][5:10]]
    assert page["hasMore"] is True and page["nextOffset"] == 10
    assert layout_of(client, alice, query="?limit=50001").status_code == 400

    # the nearest neighbour of an image of class k is (mostly) another image of class k
    cls = {i["id"]: i["classIds"][0] for i in layout["images"]}
    agree = []
    for image_id, k in cls.items():
        r = client.get(f"/api/images/{image_id}/similar?includeSourceDataset=true&limit=1", headers=alice.bearer)
        assert r.status_code == 200, r.text
        (hit,) = sdk_images(r.json(), sdk.ImagesFindSimilarImagesResponseImagesItem)
        assert hit["id"] != image_id and hit["dataset"] == {"owner": "alice", "dataset": "shapes", "license": "None"}
        assert 0 < hit["score"] <= 1 and hit["thumbnailUrl"] and hit["imageUrl"]
        agree.append(cls[hit["id"]] == k)
    assert np.mean(agree) >= 0.8, agree
    # by default the query's own dataset is left out, and there is no other
    assert client.get(f"/api/images/{image_id}/similar", headers=alice.bearer).json() == {"images": []}


def test_similar_images_across_readable_datasets(client, app, alice, make_account, detector, tmp_path):
    bob = make_account("bobby")
    shapes(client, app, alice, tmp_path, "shapes", per_class=3, seed=0)
    base, more = scenes(per_class=3, seed=0), scenes(per_class=3, seed=1)
    more["images/train/copy.png"] = base["images/train/s0-000.png"]  # a copy of one image of "shapes"
    more["labels/train/copy.txt"] = base["labels/train/s0-000.txt"]
    make_dataset(client, alice, "more")
    ingest(client, app, alice, "more", write_zip(tmp_path / "more.zip", more))
    make_dataset(client, bob, "secret")
    ingest(client, app, bob, "secret", write_zip(tmp_path / "secret.zip", scenes(per_class=3, seed=2)))
    for account, slug in ((alice, "shapes"), (alice, "more"), (bob, "secret")):
        analyze(client, app, account, slug)

    images = client.get("/api/datasets/alice/shapes/images?limit=100", headers=alice.bearer).json()["images"]
    query = next(i for i in images if i["name"] == "s0-000.png")
    other = next(i for i in images if i["name"] == "s0-001.png")
    def got(image, q=""):
        r = client.get(f"/api/images/{image['id']}/similar{q}", headers=alice.bearer)
        return sdk_images(r.json(), sdk.ImagesFindSimilarImagesResponseImagesItem)

    # bob's private dataset is never searched; "more" holds a copy of the query, so it is left out with "shapes"
    assert got(query) == []
    hits = got(other, "?limit=100")
    assert {h["dataset"]["dataset"] for h in hits} == {"more"} and len(hits) == 10
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    # with the source datasets, still never a copy of the query itself
    hits = got(query, "?includeSourceDataset=true&limit=100")
    assert {h["dataset"]["dataset"] for h in hits} == {"shapes", "more"}
    assert query["hash"] not in {h["hash"] for h in hits} and len(hits) == 8 + 9
    assert len({h["hash"] for h in hits}) == len(hits)
    # bob's dataset becomes public: now it is searched too
    r = client.patch("/api/datasets/bobby/secret", json={"visibility": "public"}, headers=bob.bearer)
    assert r.status_code == 200
    assert {h["dataset"]["dataset"] for h in got(other, "?limit=100")} == {"more", "secret"}
    assert client.get(f"/api/images/{query['id']}/similar", headers=bob.bearer).status_code == 404  # alice's, private
    # an image of a dataset never analyzed is embedded on the spot
    make_dataset(client, alice, "fresh")
    ingest(client, app, alice, "fresh", write_zip(tmp_path / "fresh.zip", scenes(per_class=1, seed=3)))
    fresh = client.get("/api/datasets/alice/fresh/images", headers=alice.bearer).json()["images"][0]
    hits = got(fresh, "?limit=5")
    assert len(hits) == 5 and {h["dataset"]["dataset"] for h in hits} <= {"shapes", "more", "secret"}
    assert state(client, alice, "fresh")["embeddingsCount"] == 0  # nothing was stored for it

    # a model's similar training images: neighbours of the given images, minus its training dataset
    add_model(client, alice, detector, project="demo", name="detector")
    with transaction(app.state.sessions) as session:
        session.execute(update(Model).values(train_args={"data": "ul://alice/datasets/more"}))
    url = "/api/models/alice/demo/detector/similar-images"
    assert client.get(url, headers=alice.bearer).json() == {"images": []}  # no per-image results recorded
    r = client.get(f"{url}?hashes={query['hash']},{other['hash']},{'0' * 64}&limit=6", headers=alice.bearer)
    hits = sdk_images(r.json(), sdk.ModelsFindSimilarTrainingImagesResponseImagesItem)
    hashes = {h["hash"] for h in hits}
    assert len(hits) == 6 and not hashes & {query["hash"], other["hash"]}
    assert {h["dataset"]["dataset"] for h in hits} <= {"shapes", "secret"}  # nothing "more" (its training data) holds
    assert client.get(f"{url}?hashes={','.join(['a'] * 101)}", headers=alice.bearer).status_code == 400


def test_cancel_a_queued_and_a_running_analysis(client, app, alice, tmp_path):
    shapes(client, app, alice, tmp_path, per_class=2)
    assert client.delete("/api/datasets/alice/shapes/embeddings", headers=alice.bearer).json() == {"cancelled": None}
    job_id = client.post("/api/datasets/alice/shapes/embeddings", headers=alice.bearer).json()["jobId"]
    assert client.delete("/api/datasets/alice/shapes/embeddings", headers=alice.bearer).json() == {"cancelled": job_id}
    assert run_one(app.state.settings, app.state.sessions, app.state.storage) is None  # nothing left to run
    now = state(client, alice)
    assert now["analyzedAt"] is None and now["embeddingsCount"] == 0 and now["activeJob"] is None
    assert client.delete("/api/datasets/alice/shapes/embeddings", headers=alice.bearer).json() == {"cancelled": None}

    # a running job is asked to stop, and its handler stops at the next batch without touching the stored analysis
    first = analyze(client, app, alice)
    assert first["status"] == "completed"
    analyzed_at = state(client, alice)["analyzedAt"]
    job_id = client.post("/api/datasets/alice/shapes/embeddings", headers=alice.bearer).json()["jobId"]
    with transaction(app.state.sessions) as session:
        session.execute(update(Job).where(Job.id == job_id).values(status="running", message="embedding 0/6 images"))
    running = state(client, alice)["activeJob"]
    assert running["status"] == "running"
    assert running["progress"] == {"stage": "embedding", "percent": 0.0, "processed": 0, "total": 6}
    assert client.delete("/api/datasets/alice/shapes/embeddings", headers=alice.bearer).json() == {"cancelled": job_id}
    with transaction(app.state.sessions) as session:
        assert session.get(Job, job_id).cancel_requested
    ctx = JobContext(job_id, first["payload"], app.state.settings, app.state.sessions, app.state.storage)
    ctx.cancel_event.set()  # what the heartbeat does when it sees the request
    with pytest.raises(Cancelled):
        embeddings.analyze(ctx)
    assert state(client, alice)["analyzedAt"] == analyzed_at and state(client, alice)["embeddingsCount"] == 6


def test_refused_without_a_model_or_images(client, app, alice, tmp_path):
    make_dataset(client, alice, "empty")
    r = client.post("/api/datasets/alice/empty/embeddings", headers=alice.bearer)
    assert r.status_code == 409 and "no images" in r.json()["error"]
    app.state.settings.embedding_model = None
    r = client.post("/api/datasets/alice/empty/embeddings", headers=alice.bearer)
    assert r.status_code == 409 and "YOLOHOST_EMBEDDING_MODEL" in r.json()["error"]
    app.state.settings.embedding_model = str(tmp_path / "nowhere.pt")
    r = client.post("/api/datasets/alice/empty/embeddings", headers=alice.bearer)
    assert r.status_code == 409 and "nowhere.pt" in r.json()["error"]
    app.state.settings.embedding_model = "ul://alice/demo/missing"
    r = client.post("/api/datasets/alice/empty/embeddings", headers=alice.bearer)
    assert r.status_code == 409 and "ul://alice/demo/missing" in r.json()["error"]
    assert client.post("/api/datasets/alice/nothing/embeddings", headers=alice.bearer).status_code == 404


def test_a_failed_run_leaves_the_previous_analysis(client, app, alice, detector, tmp_path):
    shapes(client, app, alice, tmp_path, per_class=2)
    add_model(client, alice, detector, project="demo", name="embedder")
    app.state.settings.embedding_model = "ul://alice/demo/embedder"  # a model stored in yolohost
    assert analyze(client, app, alice)["status"] == "completed"
    before, layout = state(client, alice), layout_of(client, alice).json()
    assert before["embeddingsCount"] == 6

    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    app.state.settings.embedding_model = str(broken)
    failed = analyze(client, app, alice)
    assert failed["status"] == "failed" and failed["error"]
    assert state(client, alice) == before and layout_of(client, alice).json() == layout

    # an image whose file is gone is skipped (and counted), not fatal
    app.state.settings.embedding_model = str(detector)
    with transaction(app.state.sessions) as session:
        image = session.scalars(select(Image).order_by(Image.id)).first()
    app.state.storage.path(f"blobs/{image.sha256[:2]}/{image.sha256}.{image.ext}").unlink()
    done = analyze(client, app, alice)
    assert done["status"] == "completed" and done["result"]["unreadable"] == 1
    assert state(client, alice)["embeddingsCount"] == 5 and state(client, alice)["analyzedAt"] > before["analyzedAt"]
    assert image.id not in {i["id"] for i in layout_of(client, alice).json()["images"]}

    # deleting an image takes its embedding with it
    gone = layout["images"][-1]["id"]
    assert client.delete(f"/api/images/{gone}", headers=alice.bearer).status_code == 200
    assert state(client, alice)["embeddingsCount"] == 4


def test_layout_is_pca_with_stable_signs():
    line = np.outer(np.linspace(-3, 5, 9), [1.0, 2.0, 0.0]) + np.array([1.0, 1.0, 1.0])
    xy = embeddings.layout(line.astype(np.float32))
    assert xy.shape == (9, 2) and np.abs(xy[:, 1]).max() < 1e-5 and np.abs(xy).max() == pytest.approx(1.0)
    assert np.all(np.diff(xy[:, 0]) > 0)  # the largest loading (the 2.0) made positive: x grows along the line
    assert np.allclose(embeddings.layout(line.astype(np.float32) * 3), xy, atol=1e-5)
    assert embeddings.layout(np.ones((1, 4), np.float32)).tolist() == [[0.0, 0.0]]
    assert embeddings.layout(np.zeros((0, 4), np.float32)).shape == (0, 2)
    job = Job(status="running", progress=42.04, message="embedding 16/40 images, 2 unreadable")
    assert embeddings.describe_progress(job) == {"stage": "embedding", "percent": 42.0, "processed": 16, "total": 40,
                                                 "failedDownloads": 2}
    job = Job(status="running", progress=97.0, message="layout 38/38 images")
    assert embeddings.describe_progress(job)["stage"] == "umap"
