"""Dataset-wide operations: class statistics, deleting and merging classes (labels rewritten, never
orphaned), redistributing splits, the models trained on a dataset, and cloning."""

from collections import Counter
from urllib.parse import urlsplit

import pytest
import yaml

from tests.datasets.test_datasets_api import ingest, make_dataset
from tests.fixtures.archives import classify_members, write_zip, yolo_members
from tests.fixtures.models import CLASS_NAMES
from yolohost.accounts import repository as accounts_repo
from yolohost.datasets.classes import histogram, quotas
from yolohost.db.engine import transaction
from yolohost.db.tables import Model, Project
from yolohost.kit import clock
from yolohost.kit.ids import new_id

NAMES = list(CLASS_NAMES.values())


def shapes(client, app, account, tmp_path, slug="shapes", **members):
    make_dataset(client, account, slug=slug)
    return ingest(client, app, account, slug, write_zip(tmp_path / f"{slug}.zip", yolo_members(**members)))


def images(client, account, slug="shapes") -> list[dict]:
    r = client.get(f"/api/datasets/{account.username}/{slug}/images?limit=1000&includeLabels=true&sort=name-asc",
                   headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()["images"]


def labels_by_image(client, account, slug="shapes") -> dict[str, list[dict]]:
    return {i["id"]: i["labels"] for i in images(client, account, slug)}


def snapshot(client, account, slug="shapes"):
    """Everything a refused request must leave as it was."""
    dataset = client.get(f"/api/datasets/{account.username}/{slug}", headers=account.bearer).json()["dataset"]
    listed = [{k: i[k] for k in ("id", "name", "split", "labels")} for i in images(client, account, slug)]
    return dataset["classNames"], dataset["splits"], dataset["annotationCount"], listed


# --- class statistics -------------------------------------------------------------------------------


def test_class_stats_of_a_detect_dataset(client, app, alice, tmp_path):
    shapes(client, app, alice, tmp_path, n_train=6, n_val=2, unlabeled=1)
    r = client.get("/api/datasets/alice/shapes/class-stats", headers=alice.bearer)
    assert r.status_code == 200, r.text
    stats = r.json()
    labels = [lb for i in images(client, alice) for lb in i["labels"]]
    per_class = Counter(lb["classId"] for lb in labels)
    assert stats["classNames"] == NAMES and stats["cached"] is False
    assert [c["classId"] for c in stats["classes"]] == [0, 1, 2]
    assert {c["classId"]: c["count"] for c in stats["classes"]} == {c: per_class[c] for c in range(3)}
    for c in stats["classes"]:
        with_class = [i for i in images(client, alice) if any(lb["classId"] == c["classId"] for lb in i["labels"])]
        assert c["imageCount"] == len(with_class)

    s = stats["imageStats"]
    assert s["formatDistribution"] == {"png": 8}
    assert s["widthHistogram"] == s["heightHistogram"] == [{"bin": 95, "count": 8, "size": 5}]  # every image is 96x96
    objects = Counter(len(i["labels"]) for i in images(client, alice))
    assert {h["bin"]: h["count"] for h in s["objectsPerImageHistogram"] if h["count"]} == dict(objects)
    assert all(h["size"] == 1 for h in s["objectsPerImageHistogram"])
    assert s["pointsHistogram"] == [{"bin": 4, "count": len(labels), "size": 1}]
    assert sum(h["count"] for h in s["fileSizeHistogram"]) == 8
    for key in ("bboxWidthHistogram", "bboxHeightHistogram", "bboxWidthNormHistogram", "bboxHeightNormHistogram"):
        assert sum(h["count"] for h in s[key]) == len(labels), key
    assert len(s["bboxWidthNormHistogram"]) == 20 and s["bboxWidthNormHistogram"][1] == {"bin": 0.05, "count": 0, "size": 0.05}
    widest = max(lb["bbox"][2] * 96 for lb in labels)
    last = [h for h in s["bboxWidthHistogram"] if h["count"]][-1]
    assert last["bin"] <= widest < last["bin"] + last["size"]

    location = stats["locationHeatmap"]
    assert len(location["bins"]) == 20 and all(len(row) == 20 for row in location["bins"])
    assert sum(map(sum, location["bins"])) == len(labels) and location["maxCount"] == max(map(max, location["bins"]))
    first = labels[0]["bbox"]
    assert location["bins"][int(first[1] * 20)][int(first[0] * 20)] >= 1  # rows are y, columns x
    dims = stats["dimensionHeatmap"]
    assert (dims["minWidth"], dims["maxWidth"], dims["minHeight"], dims["maxHeight"]) == (96, 96, 96, 96)
    assert dims["bins"][0][0] == dims["maxCount"] == 8


def _one_image(task_yaml: dict, label_lines: list[str]) -> dict[str, bytes]:
    members = yolo_members(1, 0)
    members["data.yaml"] = yaml.safe_dump({"train": "images/train", "val": "images/train", **task_yaml}).encode()
    members["labels/train/img000.txt"] = ("\n".join(label_lines) + "\n").encode()
    return members


GEOMETRY = {
    # a triangle: its box is centred at (0.3, 0.4), 0.4 x 0.4
    "segment": ({"names": NAMES}, ["1 0.1 0.2 0.5 0.2 0.3 0.6"], (0.3, 0.4, 0.4, 0.4), 3),
    # an oriented box whose corners span x 0.6-0.9, y 0.6-0.8
    "obb": ({"names": NAMES}, ["2 0.6 0.6 0.9 0.6 0.9 0.8 0.6 0.8"], (0.75, 0.7, 0.3, 0.2), 4),
    "pose": ({"names": NAMES, "kpt_shape": [2, 3]}, ["0 0.5 0.5 0.2 0.1 0.45 0.45 2 0.55 0.55 2"], (0.5, 0.5, 0.2, 0.1), 2),
}


@pytest.mark.parametrize("task", GEOMETRY)
def test_class_stats_derive_boxes_from_geometry(client, app, alice, tmp_path, task):
    spec, lines, (cx, cy, w, h), n_points = GEOMETRY[task]
    make_dataset(client, alice, slug="geo", task=task)
    dataset = ingest(client, app, alice, "geo", write_zip(tmp_path / "geo.zip", _one_image(spec, lines)))
    assert dataset["status"] == "ready" and dataset["task"] == task, dataset.get("processingError")
    stats = client.get("/api/datasets/alice/geo/class-stats", headers=alice.bearer).json()
    s = stats["imageStats"]
    assert s["pointsHistogram"] == [{"bin": n_points, "count": 1, "size": 1}]
    assert [h["bin"] for h in s["bboxWidthNormHistogram"] if h["count"]] == [pytest.approx(int(w * 20 + 1e-6) / 20)]
    assert [h["bin"] for h in s["bboxHeightNormHistogram"] if h["count"]] == [pytest.approx(int(h * 20 + 1e-6) / 20)]
    pixel = [b for b in s["bboxWidthHistogram"] if b["count"]]
    assert len(pixel) == 1 and pixel[0]["bin"] <= w * 96 < pixel[0]["bin"] + pixel[0]["size"]
    assert stats["locationHeatmap"]["bins"][int(cy * 20 + 1e-6)][int(cx * 20 + 1e-6)] == 1
    assert stats["locationHeatmap"]["maxCount"] == 1


def test_class_stats_of_classify_and_empty_datasets(client, app, alice, tmp_path):
    make_dataset(client, alice, slug="empty", classNames=["a", "b"])
    stats = client.get("/api/datasets/alice/empty/class-stats", headers=alice.bearer).json()
    assert stats["classes"] == [{"classId": 0, "count": 0, "imageCount": 0}, {"classId": 1, "count": 0, "imageCount": 0}]
    assert stats["imageStats"]["widthHistogram"] == [] and stats["locationHeatmap"]["maxCount"] == 0

    make_dataset(client, alice, slug="cls", task="classify")
    ingest(client, app, alice, "cls", write_zip(tmp_path / "cls.zip", classify_members(2)))
    stats = client.get("/api/datasets/alice/cls/class-stats", headers=alice.bearer).json()
    assert [c["count"] for c in stats["classes"]] == [4, 4, 4] and [c["imageCount"] for c in stats["classes"]] == [4, 4, 4]
    assert stats["imageStats"]["pointsHistogram"] == [] and stats["imageStats"]["bboxWidthHistogram"] == []
    assert stats["imageStats"]["objectsPerImageHistogram"] == [{"bin": 1, "count": 12, "size": 1}]


def test_histogram_bins():
    assert histogram([]) == []
    counts = [(0, 1), (1, 2), (2, 0), (3, 1)]
    assert histogram([0, 1, 1, 3], integer=True) == [{"bin": k, "count": c, "size": 1} for k, c in counts]
    wide = histogram([100, 2000, 5000], integer=True)
    assert wide[0]["bin"] == 0 and wide[0]["size"] == 500 and len(wide) == 11 and sum(h["count"] for h in wide) == 3
    assert histogram([0.5, 0.5]) == [{"bin": 0.5, "count": 2, "size": 0.05}]


# --- deleting and merging classes ----------------------------------------------------------------


def test_delete_classes_shifts_the_ids_above(client, app, alice, tmp_path):
    shapes(client, app, alice, tmp_path, n_train=8, n_val=2)
    before = labels_by_image(client, alice)
    doomed = sum(lb["classId"] == 0 for labels in before.values() for lb in labels)
    assert doomed  # the fixture has class-0 objects
    r = client.post("/api/datasets/alice/shapes/classes/delete", json={"classIds": [0, 0]}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    assert r.json() == {"success": True, "classNames": NAMES[1:], "classColors": {}, "deletedClassIds": [0],
                        "deletedAnnotations": doomed}
    after = labels_by_image(client, alice)
    for image_id, labels in before.items():
        expected = [{**lb, "classId": lb["classId"] - 1} for lb in labels if lb["classId"] != 0]
        assert after[image_id] == expected
        got = client.get(f"/api/images/{image_id}", headers=alice.bearer).json()
        assert got["properties"]["classIds"] == sorted({lb["classId"] for lb in expected})
        assert got["properties"]["annotationCount"] == len(expected) and got["classNames"] == NAMES[1:]
    with_new_1 = {i for i, labels in after.items() if any(lb["classId"] == 1 for lb in labels)}
    filtered = client.get("/api/datasets/alice/shapes/images?classIds=1&limit=100", headers=alice.bearer).json()
    assert {i["id"] for i in filtered["images"]} == with_new_1
    dataset = client.get("/api/datasets/alice/shapes", headers=alice.bearer).json()["dataset"]
    assert dataset["classCount"] == 2 and dataset["annotationCount"] == sum(map(len, after.values()))

    # a label that names a deleted class cannot be written any more; the shifted ids can
    r = client.patch(f"/api/images/{next(iter(after))}", json={"labels": [{"classId": 2, "bbox": [0.5, 0.5, 0.1, 0.1]}]},
                     headers=alice.bearer)
    assert r.status_code == 400 and "out of range" in r.json()["error"]


def test_delete_every_class_and_several_at_once(client, app, alice, tmp_path):
    shapes(client, app, alice, tmp_path, n_train=4, n_val=1)
    before = labels_by_image(client, alice)
    r = client.post("/api/datasets/alice/shapes/classes/delete", json={"classIds": [2, 0]}, headers=alice.bearer)
    assert r.json()["classNames"] == ["green_circle"] and r.json()["deletedClassIds"] == [0, 2]
    after = labels_by_image(client, alice)
    assert after == {i: [{**lb, "classId": 0} for lb in labels if lb["classId"] == 1] for i, labels in before.items()}
    r = client.post("/api/datasets/alice/shapes/classes/delete", json={"classIds": [0]}, headers=alice.bearer)
    assert r.json()["classNames"] == [] and all(not labels for labels in labels_by_image(client, alice).values())
    assert client.get("/api/datasets/alice/shapes", headers=alice.bearer).json()["dataset"]["splits"]["labeled"] == 0


def test_merge_classes(client, app, alice, tmp_path):
    shapes(client, app, alice, tmp_path, n_train=8, n_val=2)
    before = labels_by_image(client, alice)
    r = client.post("/api/datasets/alice/shapes/classes/merge", json={"sourceClassIds": [0], "targetClassId": 2},
                    headers=alice.bearer)
    assert r.status_code == 200, r.text
    # red_square goes into blue_triangle, which moves from id 2 to 1; green_circle from 1 to 0
    assert r.json() == {"success": True, "classNames": ["green_circle", "blue_triangle"], "classColors": {},
                        "mergedClassIds": [0], "targetClassId": 1}
    new_id = {0: 1, 1: 0, 2: 1}
    assert labels_by_image(client, alice) == {
        i: [{**lb, "classId": new_id[lb["classId"]]} for lb in labels] for i, labels in before.items()}
    stats = client.get("/api/datasets/alice/shapes/class-stats", headers=alice.bearer).json()
    old = Counter(lb["classId"] for labels in before.values() for lb in labels)
    assert [c["count"] for c in stats["classes"]] == [old[1], old[0] + old[2]]

    r = client.post("/api/datasets/alice/shapes/classes/merge", json={"sourceClassIds": [1], "targetClassId": 0},
                    headers=alice.bearer)
    assert r.json()["classNames"] == ["green_circle"] and r.json()["targetClassId"] == 0
    assert {lb["classId"] for labels in labels_by_image(client, alice).values() for lb in labels} == {0}


BAD_CLASS_REQUESTS = [
    ("delete", {"classIds": [3]}, "class 3 is not a class"),
    ("delete", {"classIds": [1, 7]}, "class 7"),
    ("delete", {"classIds": []}, "classIds"),
    ("delete", {"classIds": [-1]}, "classIds"),
    ("delete", {}, "classIds"),
    ("merge", {"sourceClassIds": [0, 1], "targetClassId": 1}, "cannot also be a source"),
    ("merge", {"sourceClassIds": [0], "targetClassId": 3}, "targetClassId: class 3"),
    ("merge", {"sourceClassIds": [5], "targetClassId": 0}, "sourceClassIds: class 5"),
    ("merge", {"sourceClassIds": [], "targetClassId": 0}, "sourceClassIds"),
    ("merge", {"sourceClassIds": [1]}, "targetClassId"),
]


@pytest.mark.parametrize("op, body, message", BAD_CLASS_REQUESTS)
def test_refused_class_changes_change_nothing(client, app, alice, tmp_path, op, body, message):
    shapes(client, app, alice, tmp_path, n_train=3, n_val=1)
    before = snapshot(client, alice)
    r = client.post(f"/api/datasets/alice/shapes/classes/{op}", json=body, headers=alice.bearer)
    assert r.status_code == 400 and message in r.json()["error"], r.json()
    assert snapshot(client, alice) == before


def test_writes_need_the_editor_role(client, app, alice, make_account, tmp_path):
    shapes(client, app, alice, tmp_path, n_train=3, n_val=1)
    bob = make_account("bobby")
    writes = [("classes/delete", {"classIds": [0]}), ("classes/merge", {"sourceClassIds": [0], "targetClassId": 1}),
              ("splits/redistribute", {"train": 100, "val": 0, "test": 0})]
    for path, body in writes:  # private: bob cannot even see it
        assert client.post(f"/api/datasets/alice/shapes/{path}", json=body, headers=bob.bearer).status_code == 404
    for path in ("class-stats", "models"):
        assert client.get(f"/api/datasets/alice/shapes/{path}", headers=bob.bearer).status_code == 404
    assert client.get("/api/datasets/alice/shapes/class-stats").status_code == 401
    client.patch("/api/datasets/alice/shapes", json={"visibility": "public"}, headers=alice.bearer)
    before = snapshot(client, alice)
    for path, body in writes:  # public: bob may read but not change it
        r = client.post(f"/api/datasets/alice/shapes/{path}", json=body, headers=bob.bearer)
        assert r.status_code == 403 and "editor" in r.json()["error"]
    assert snapshot(client, alice) == before
    assert client.get("/api/datasets/alice/shapes/class-stats", headers=bob.bearer).status_code == 200


# --- splits -----------------------------------------------------------------------------------------


def test_quotas_are_as_exact_as_counts_allow():
    assert quotas(10, (70, 20, 10)) == [7, 2, 1]
    assert quotas(10, (33, 33, 34)) == [3, 3, 4]
    assert quotas(7, (50, 50, 0)) == [4, 3, 0]
    assert quotas(3, (34, 33, 33)) == [1, 1, 1]
    assert all(sum(quotas(n, (60, 25, 15))) == n for n in range(50))


def test_redistribute_splits(client, app, alice, tmp_path):
    shapes(client, app, alice, tmp_path, n_train=8, n_val=2)
    before = {i["id"]: i for i in images(client, alice)}
    r = client.post("/api/datasets/alice/shapes/splits/redistribute", json={"train": 60, "val": 20, "test": 20},
                    headers=alice.bearer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and body["splits"] == {"train": 6, "val": 2, "test": 2}
    after = {i["id"]: i for i in images(client, alice)}
    assert body["modified"] == sum(after[i]["split"] != before[i]["split"] for i in before) > 0
    assert Counter(i["split"] for i in after.values()) == {"train": 6, "val": 2, "test": 2}
    assert {i: a["labels"] for i, a in after.items()} == {i: b["labels"] for i, b in before.items()}
    dataset = client.get("/api/datasets/alice/shapes", headers=alice.bearer).json()["dataset"]
    assert dataset["splits"] == {"train": 6, "val": 2, "test": 2, "labeled": 10}

    # seeded by the dataset: the same request again changes nothing
    again = client.post("/api/datasets/alice/shapes/splits/redistribute", json={"train": 60, "val": 20, "test": 20},
                        headers=alice.bearer).json()
    assert again["modified"] == 0
    assert {i["id"]: i["split"] for i in images(client, alice)} == {i: a["split"] for i, a in after.items()}
    r = client.post("/api/datasets/alice/shapes/splits/redistribute", json={"train": 100, "val": 0, "test": 0},
                    headers=alice.bearer)
    assert r.json() == {"success": True, "splits": {"train": 10, "val": 0, "test": 0}, "modified": 4}


@pytest.mark.parametrize("body, message", [
    ({"train": 50, "val": 50, "test": 10}, "add up to 100"),
    ({"train": 90, "val": 5, "test": 4}, "add up to 100"),
    ({"train": 101, "val": 0, "test": 0}, "train"),
    ({"train": -10, "val": 60, "test": 50}, "train"),
    ({"train": 80, "val": 20}, "test"),
])
def test_redistribute_refusals(client, app, alice, tmp_path, body, message):
    shapes(client, app, alice, tmp_path, n_train=3, n_val=1)
    before = snapshot(client, alice)
    r = client.post("/api/datasets/alice/shapes/splits/redistribute", json=body, headers=alice.bearer)
    assert r.status_code == 400 and message in r.json()["error"], r.json()
    assert snapshot(client, alice) == before


def test_redistribute_an_empty_dataset_is_refused(client, alice):
    make_dataset(client, alice, slug="empty")
    r = client.post("/api/datasets/alice/empty/splits/redistribute", json={"train": 80, "val": 20, "test": 0},
                    headers=alice.bearer)
    assert r.status_code == 400 and "no images" in r.json()["error"]


def test_redistribute_keeps_filenames_unique_per_split(client, app, alice, tmp_path):
    """Classify folders hold the same file names in train and val; moved together, one of each pair is renamed."""
    make_dataset(client, alice, slug="cls", task="classify")
    ingest(client, app, alice, "cls", write_zip(tmp_path / "cls.zip", classify_members(2)))
    before = {i["id"]: i for i in images(client, alice, "cls")}
    assert len({i["name"] for i in before.values()}) == 6  # 12 images, 6 names
    r = client.post("/api/datasets/alice/cls/splits/redistribute", json={"train": 100, "val": 0, "test": 0},
                    headers=alice.bearer)
    assert r.json() == {"success": True, "splits": {"train": 12, "val": 0, "test": 0}, "modified": 6}
    after = {i["id"]: i for i in images(client, alice, "cls")}
    assert len({i["name"] for i in after.values()}) == 12
    for image_id, image in after.items():
        if before[image_id]["split"] == "train":
            assert image["name"] == before[image_id]["name"]  # images that stay keep their names
        else:
            stem, ext = before[image_id]["name"].rsplit(".", 1)
            assert image["name"] == f"{stem}-{image_id[:6]}.{ext}"
        assert image["labels"] == before[image_id]["labels"]
    # and back to a mix: swaps between splits of same-named images go through
    r = client.post("/api/datasets/alice/cls/splits/redistribute", json={"train": 50, "val": 25, "test": 25},
                    headers=alice.bearer)
    assert r.status_code == 200 and r.json()["splits"] == {"train": 6, "val": 3, "test": 3}
    final = images(client, alice, "cls")
    assert len({(i["split"], i["name"]) for i in final}) == 12


# --- models trained on a dataset ----------------------------------------------------------------------


def _add_models(app, owner_id: str, specs: list[dict]) -> list[str]:
    with transaction(app.state.sessions) as session:
        workspace = accounts_repo.personal_workspace(session, owner_id)
        project = Project(id=new_id("prj"), workspace_id=workspace.id, slug="trained", name="Trained", icon_color="#ff0000")
        session.add(project)
        session.flush()
        ids = []
        for i, spec in enumerate(specs):
            model = Model(id=new_id("mdl"), workspace_id=workspace.id, project_id=project.id, slug=f"m{i}", name=f"M{i}",
                          **spec)
            session.add(model)
            ids.append(model.id)
        return ids


def test_models_trained_on_a_dataset(client, app, alice, make_account, tmp_path):
    make_dataset(client, alice, visibility="public")
    data = "ul://alice/datasets/shapes"
    mine = _add_models(app, alice.user_id, [
        dict(train_args={"data": data, "epochs": 3, "model": "yolo11n.pt"}, status="completed", task="detect",
             metrics={"metrics/mAP50(B)": 0.5, "note": "text is not a metric"}),
        dict(train_args={"data": "ul://alice/datasets/other"}),
        dict(train_args=None),
        dict(train_args={"data": data}, deleted_at=clock.now()),
    ])
    bob = make_account("bobby")
    bobs = _add_models(app, bob.user_id, [dict(train_args={"data": data}, visibility="public"),
                                          dict(train_args={"data": data}, visibility="private")])

    listed = client.get("/api/datasets/alice/shapes/models", headers=alice.bearer).json()
    assert listed["count"] == 2 and {m["id"] for m in listed["models"]} == {mine[0], bobs[0]}
    first = next(m for m in listed["models"] if m["id"] == mine[0])
    assert first == {"id": mine[0], "owner": "alice", "project": "trained", "model": "m0", "name": "M0",
                     "status": "completed", "task": "detect", "epochs": 3, "metrics": {"metrics/mAP50(B)": 0.5},
                     "createdAt": first["createdAt"], "projectIconColor": "#ff0000"}
    as_bob = client.get("/api/datasets/alice/shapes/models", headers=bob.bearer).json()
    assert {m["id"] for m in as_bob["models"]} == {bobs[0], bobs[1]} and as_bob["count"] == 2
    make_dataset(client, alice, slug="unused")
    assert client.get("/api/datasets/alice/unused/models", headers=alice.bearer).json() == {"models": [], "count": 0}


# --- cloning -----------------------------------------------------------------------------------------


def _content(client, account, slug):
    return sorted((i["split"], i["name"], i["hash"], str(i["labels"])) for i in images(client, account, slug))


def test_clone_copies_rows_and_shares_files(client, app, alice, tmp_path):
    shapes(client, app, alice, tmp_path, n_train=6, n_val=2, unlabeled=1)
    r = client.post("/api/datasets/alice/shapes/clone", json={"dataset": "shapes-copy", "name": "Copy"}, headers=alice.bearer)
    assert r.status_code == 201, r.text
    created = r.json()
    assert {k: v for k, v in created.items() if k != "id"} == {
        "owner": "alice", "dataset": "shapes-copy", "name": "Copy", "imageCount": 8, "classCount": 3, "region": "us"}
    source = client.get("/api/datasets/alice/shapes", headers=alice.bearer).json()["dataset"]
    copy = client.get("/api/datasets/alice/shapes-copy", headers=alice.bearer).json()["dataset"]
    assert copy["id"] == created["id"] != source["id"]
    for key in ("task", "classNames", "splits", "annotationCount", "totalBytes", "imageCount"):
        assert copy[key] == source[key], key
    assert copy["status"] == "ready" and copy["visibility"] == "private" and "versions" not in copy
    assert _content(client, alice, "shapes-copy") == _content(client, alice, "shapes")
    assert not {i["id"] for i in images(client, alice, "shapes")} & {i["id"] for i in images(client, alice, "shapes-copy")}
    thumb = urlsplit(images(client, alice, "shapes-copy")[0]["thumbnailUrl"])
    assert client.get(f"{thumb.path}?{thumb.query}").status_code == 200  # the same stored file

    # the copy is independent: its class changes leave the source alone
    original = _content(client, alice, "shapes")
    client.post("/api/datasets/alice/shapes-copy/classes/delete", json={"classIds": [0]}, headers=alice.bearer)
    assert _content(client, alice, "shapes") == original
    assert client.get("/api/datasets/alice/shapes", headers=alice.bearer).json()["dataset"]["classNames"] == NAMES


def test_clone_conflicts_and_access(client, app, alice, make_account, tmp_path):
    shapes(client, app, alice, tmp_path, n_train=2, n_val=1)
    for body in ({}, {"dataset": "shapes"}):
        r = client.post("/api/datasets/alice/shapes/clone", json=body, headers=alice.bearer)
        assert r.status_code == 409 and "already exists" in r.json()["error"], r.json()
    r = client.post("/api/datasets/alice/shapes/clone", headers=alice.bearer)  # no body at all
    assert r.status_code == 409
    bob = make_account("bobby")
    assert client.post("/api/datasets/alice/shapes/clone", json={}, headers=bob.bearer).status_code == 404
    client.patch("/api/datasets/alice/shapes", json={"visibility": "public"}, headers=alice.bearer)
    r = client.post("/api/datasets/alice/shapes/clone", json={"owner": "alice", "dataset": "mine"}, headers=bob.bearer)
    assert r.status_code == 403
    r = client.post("/api/datasets/alice/shapes/clone", json={"owner": "nobody-here"}, headers=bob.bearer)
    assert r.status_code == 400 and "nobody-here" in r.json()["error"]
    r = client.post("/api/datasets/alice/shapes/clone", json={"dataset": "Bad Slug"}, headers=bob.bearer)
    assert r.status_code == 400 and "dataset" in r.json()["error"]
    r = client.post("/api/datasets/alice/shapes/clone", json={"license": "WTFPL"}, headers=bob.bearer)
    assert r.status_code == 400 and "license" in r.json()["error"]
    r = client.post("/api/datasets/alice/shapes/clone", json={}, headers=bob.bearer)
    assert r.status_code == 201 and r.json()["owner"] == "bobby" and r.json()["dataset"] == "shapes"
    assert _content(client, bob, "shapes") == _content(client, alice, "shapes")
    listed = client.get("/api/datasets/bobby", headers=bob.bearer).json()
    assert [d["dataset"] for d in listed["datasets"]] == ["shapes"] and listed["datasets"][0]["visibility"] == "private"


def test_clone_a_selection(client, app, alice, tmp_path):
    shapes(client, app, alice, tmp_path, n_train=4, n_val=2)
    r = client.post("/api/datasets/alice/shapes/clone",
                    json={"dataset": "val-raw", "splits": ["val"], "annotations": False, "description": "raw val",
                          "visibility": "public", "license": "MIT"},
                    headers=alice.bearer)
    assert r.status_code == 201 and r.json()["imageCount"] == 2
    copy = client.get("/api/datasets/alice/val-raw", headers=alice.bearer).json()["dataset"]
    assert copy["splits"] == {"train": 0, "val": 2, "test": 0, "labeled": 0} and copy["classNames"] == NAMES
    assert (copy["description"], copy["visibility"], copy["license"]) == ("raw val", "public", "MIT")

    picked = [i["id"] for i in images(client, alice)][:3]
    r = client.post("/api/datasets/alice/shapes/clone", json={"dataset": "picked", "imageIds": picked}, headers=alice.bearer)
    assert r.status_code == 201 and r.json()["imageCount"] == 3
    r = client.post("/api/datasets/alice/shapes/clone", json={"dataset": "nope", "imageIds": ["0" * 24]}, headers=alice.bearer)
    assert r.status_code == 400 and "imageIds" in r.json()["error"]
    assert client.get("/api/datasets/alice/nope", headers=alice.bearer).status_code == 404

    # a saved version, not the live images
    assert client.post("/api/datasets/alice/shapes/export", json={}, headers=alice.bearer).json()["version"] == 1
    client.post("/api/datasets/alice/shapes/classes/delete", json={"classIds": [1]}, headers=alice.bearer)
    r = client.post("/api/datasets/alice/shapes/clone", json={"dataset": "v1", "version": 1}, headers=alice.bearer)
    assert r.status_code == 201 and r.json()["classCount"] == 3
    v1 = client.get("/api/datasets/alice/v1", headers=alice.bearer).json()["dataset"]
    assert v1["classNames"] == NAMES and v1["imageCount"] == 6
    assert client.post("/api/datasets/alice/shapes/clone", json={"dataset": "v9", "version": 9},
                       headers=alice.bearer).status_code == 404
