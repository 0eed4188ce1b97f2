"""The stored files of a footprint: what an export copies and what a delete removes.

- folders named after a row that goes, one level under a storage area (``models/<id>``,
  ``versions/<id>``, ``uploads/<id>``, ``gdpr/<jobId>``, and any area added later that keeps this shape);
- storage keys held in ``*_key`` columns of rows that go (e.g. a staged checkpoint);
- dataset images, stored once per content hash (``blobs/``, ``thumbs/``): those of the images that
  go and those the datasets' frozen versions list; a delete keeps the ones any other dataset or
  version still uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import String, select
from sqlalchemy.orm import Session

from yolohost.datasets.service import blob_key, thumb_key
from yolohost.datasets.versions import snapshot_key
from yolohost.db.tables import Dataset, DatasetVersion, Image
from yolohost.gdpr.footprint import Footprint, pk_in, tables
from yolohost.kit.errors import Invalid
from yolohost.kit.storage import Storage

MIN_ID_LENGTH = 16  # generated ids are long and random; short values (integer ids) never name a folder
SHARED_AREAS = ("blobs", "thumbs")  # content-addressed: shared between datasets and workspaces
EXPORTS_AREA = "gdpr"


@dataclass(frozen=True, slots=True)
class StoredImage:
    dataset_id: str
    split: str
    filename: str
    sha256: str
    ext: str

    @property
    def key(self) -> str:
        return blob_key(self.sha256, "." + self.ext)


def id_folders(storage: Storage, ids: set[str], *, skip: tuple[str, ...] = ()) -> list[str]:
    """Keys of ``<area>/<id>`` folders or files for the given row ids."""
    if not storage.root.is_dir():
        return []
    wanted = {i for i in ids if len(i) >= MIN_ID_LENGTH}
    found = []
    for area in sorted(p for p in storage.root.iterdir() if p.is_dir()):
        if area.name in SHARED_AREAS or area.name in skip:
            continue
        found += [f"{area.name}/{child.name}" for child in sorted(area.iterdir()) if child.name in wanted]
    return found


def column_keys(session: Session, storage: Storage, fp: Footprint) -> list[str]:
    """Storage keys named by ``*_key`` columns of the rows that go, where such a file exists."""
    found = []
    for table in tables():
        columns = [c for c in table.columns if isinstance(c.type, String) and c.name.endswith("_key")]
        owned = sorted(fp.owned.get(table, ()))
        if not columns or not owned:
            continue
        for start in range(0, len(owned), 400):
            for row in session.execute(select(*columns).where(pk_in(table, owned[start:start + 400]))):
                for value in row:
                    if isinstance(value, str) and "/" in value and _exists(storage, value):
                        found.append(value)
    return sorted(set(found))


def _exists(storage: Storage, key: str) -> bool:
    try:
        return storage.path(key).exists()
    except Invalid:
        return False


def images(session: Session, fp: Footprint) -> Iterator[StoredImage]:
    owned = sorted(fp.owned.get(Image.__table__, ()))
    for start in range(0, len(owned), 400):
        query = (select(Image.dataset_id, Image.split, Image.filename, Image.sha256, Image.ext)
                 .where(pk_in(Image.__table__, owned[start:start + 400])))
        for row in session.execute(query):
            yield StoredImage(*row)


def snapshot_blobs(storage: Storage, dataset_ids: set[str]) -> set[tuple[str, str]]:
    """(sha256, ext) of every image the frozen versions of these datasets list."""
    found = set()
    for dataset_id in sorted(dataset_ids):
        folder = storage.path(snapshot_key(dataset_id, 1)).parent
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            found |= {(r["sha256"], r["ext"]) for r in json.loads(path.read_bytes()).get("images", [])}
    return found


def owned_dataset_ids(fp: Footprint) -> set[str]:
    return {pk[0] for pk in fp.owned.get(Dataset.__table__, ())}


def unshared_blob_keys(session: Session, storage: Storage, candidates: set[tuple[str, str]]) -> list[str]:
    """Image and thumbnail keys of ``candidates`` that no remaining image or frozen version uses.

    Run after the rows went (in the same transaction): what is left is what others still need.
    """
    hashes = {sha for sha, _ in candidates}
    if not hashes:
        return []
    keep = set()
    ordered = sorted(hashes)
    for start in range(0, len(ordered), 400):
        keep |= set(session.scalars(select(Image.sha256).where(Image.sha256.in_(ordered[start:start + 400]))))
    remaining = set(session.scalars(select(DatasetVersion.dataset_id).distinct()))
    keep |= {sha for sha, _ in snapshot_blobs(storage, remaining)} & hashes
    gone = sorted((sha, ext) for sha, ext in candidates if sha not in keep)
    return [blob_key(sha, "." + ext) for sha, ext in gone] + sorted({thumb_key(sha) for sha, _ in gone})


def files_under(storage: Storage, key: str) -> Iterator[tuple[str, Path]]:
    """(key, path) of every file at or under ``key``."""
    path = storage.path(key)
    if path.is_file():
        yield key, path
    elif path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and not child.name.startswith(".tmp-"):
                yield f"{key}/{child.relative_to(path).as_posix()}", child
