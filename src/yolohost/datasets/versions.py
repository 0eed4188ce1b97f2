"""Dataset versions: immutable numbered snapshots, served as the NDJSON that ``ultralytics`` reads
for ``ul://owner/datasets/slug`` (``data/converter.py`` ``convert_ndjson_to_yolo``).

A snapshot stores each image's content hash, split and labels; the NDJSON is rendered when it is
downloaded, with freshly signed image URLs, so a version never holds a link that expires.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator

from sqlalchemy.orm import Session

from yolohost.datasets import labels as labels_mod
from yolohost.datasets import repository as repo
from yolohost.datasets import service
from yolohost.db.tables import Dataset, DatasetVersion, Image
from yolohost.kit import clock
from yolohost.kit.errors import Conflict, Invalid, NotFound
from yolohost.kit.ids import new_id
from yolohost.kit.storage import Storage

LIVE = 0  # the version number that stands for "the dataset as it is now"


def snapshot_key(dataset_id: str, number: int) -> str:
    return f"versions/{dataset_id}/{number}.json"


def _records(images: list[Image]) -> list[dict]:
    return [{"id": i.id, "sha256": i.sha256, "ext": i.ext, "filename": i.filename, "width": i.width, "height": i.height,
             "size": i.size, "split": i.split, "labels": i.labels} for i in images]


def _snapshot(dataset: Dataset, images: list[Image]) -> dict:
    return {"task": dataset.task, "classNames": list(dataset.class_names), "kptShape": dataset.kpt_shape,
            "images": _records(images)}


def _digest(snapshot: dict) -> str:
    return hashlib.sha256(json.dumps(snapshot, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _splits(records: list[dict]) -> dict[str, int]:
    counts = {"train": 0, "val": 0, "test": 0, "labeled": 0}
    for r in records:
        counts[r["split"]] += 1
        counts["labeled"] += bool(r["labels"])
    return counts


def create(session: Session, storage: Storage, located: service.Located, description: str) -> tuple[DatasetVersion, bool]:
    """Freeze the dataset as the next version; if nothing changed since the last one, that one is returned."""
    dataset = located.dataset
    if dataset.status == "processing":
        raise Conflict(f"Dataset '{dataset.slug}' is processing an ingest; export it when it is ready")
    images = repo.images(session, dataset.id)
    if not images:
        raise Invalid(f"Dataset '{dataset.slug}' has no images to export")
    snapshot = _snapshot(dataset, images)
    digest = _digest(snapshot)
    existing = repo.versions(session, dataset.id)
    if existing and existing[-1].content_hash == digest:
        return existing[-1], True
    number = (existing[-1].number if existing else 0) + 1
    data = json.dumps(snapshot, separators=(",", ":")).encode()
    path = storage.path(snapshot_key(dataset.id, number))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    version = DatasetVersion(
        id=new_id("dsv"), dataset_id=dataset.id, number=number, description=description, content_hash=digest, size=len(data),
        image_count=len(images), class_count=len(dataset.class_names),
        annotation_count=sum(len(i.labels) for i in images), splits=_splits(snapshot["images"]),
    )
    session.add(version)
    session.flush()
    return version, False


def get(session: Session, dataset_id: str, number: int) -> DatasetVersion:
    for version in repo.versions(session, dataset_id):
        if version.number == number:
            return version
    raise NotFound(f"Version {number} of this dataset not found")


def load(session: Session, storage: Storage, dataset: Dataset, number: int) -> dict:
    """A version's snapshot, or the live dataset for ``LIVE``."""
    if number == LIVE:
        return _snapshot(dataset, repo.images(session, dataset.id))
    get(session, dataset.id, number)
    return json.loads(storage.path(snapshot_key(dataset.id, number)).read_bytes())


def ndjson_lines(dataset: Dataset, number: int, snapshot: dict, sign: Callable[[str], str]) -> Iterator[str]:
    """The Ultralytics NDJSON: a dataset record, then one record per image with a signed URL."""
    head = {"type": "dataset", "task": snapshot["task"], "name": dataset.name, "description": dataset.description,
            "class_names": {str(i): n for i, n in enumerate(snapshot["classNames"])}}
    if snapshot.get("kptShape"):
        head["kpt_shape"] = snapshot["kptShape"]
    if number != LIVE:
        head["version"] = number
    yield json.dumps(head) + "\n"
    for r in snapshot["images"]:
        record = {"type": "image", "file": r["filename"], "url": sign(service.blob_key(r["sha256"], "." + r["ext"])),
                  "width": r["width"], "height": r["height"], "split": r["split"],
                  "annotations": labels_mod.to_ndjson(r["labels"], snapshot["task"])}
        yield json.dumps(record) + "\n"


def restore(session: Session, storage: Storage, located: service.Located, number: int) -> int:
    """Make the dataset what version ``number`` was: its images, splits, labels and classes."""
    dataset = located.dataset
    if dataset.status == "processing":
        raise Conflict(f"Dataset '{dataset.slug}' is processing an ingest; restore it when it is ready")
    snapshot = load(session, storage, dataset, number)
    for image in repo.images(session, dataset.id):
        session.delete(image)
    session.flush()
    for r in snapshot["images"]:
        session.add(Image(id=r["id"], dataset_id=dataset.id, sha256=r["sha256"], filename=r["filename"], ext=r["ext"],
                          width=r["width"], height=r["height"], size=r["size"], split=r["split"], labels=r["labels"],
                          label_count=len(r["labels"]), class_key=service.class_key(r["labels"])))
    dataset.task, dataset.class_names, dataset.kpt_shape = snapshot["task"], snapshot["classNames"], snapshot["kptShape"]
    dataset.updated_at = clock.now()
    session.flush()
    return len(snapshot["images"])
