"""Similar images: nearest neighbours by cosine similarity over the stored embeddings.

The search is an exact, brute-force scan in chunks over the embeddings the caller may read
(public datasets and those of the caller's workspaces) that the current embedding model made;
it suits a self-hosted server's few hundred thousand images. A query image without a stored
vector of that model is embedded on the spot. Results hold one image per distinct content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from yolohost.accounts.service import Principal
from yolohost.datasets import embeddings_repository as repo
from yolohost.datasets import repository as datasets_repo
from yolohost.datasets.embeddings import EmbeddingModel, from_bytes, read_pixels
from yolohost.datasets.service import blob_key
from yolohost.db.tables import Dataset, Image, Model, Workspace
from yolohost.kit.errors import Conflict
from yolohost.kit.storage import Storage

Embedder = Callable[[list], np.ndarray]  # BGR images -> (n, d) unit vectors of the embedding model
Ranked = list[tuple[float, str, str]]  # (score, image id, sha256), best first
OVERFETCH = 4  # candidates kept per result, so that dropping copies of one content still leaves enough


@dataclass(frozen=True, slots=True)
class Hit:
    score: float
    image: Image
    dataset: Dataset
    workspace: Workspace


def query_vector(session: Session, storage: Storage, model: EmbeddingModel, image: Image, embedder: Embedder):
    """The image's stored vector of this model, else one computed now; None if its file is unreadable."""
    stored = repo.vector_of(session, image.id, model.key)
    if stored is not None:
        return from_bytes(stored)
    pixels = read_pixels(storage.path(blob_key(image.sha256, "." + image.ext)))
    return None if pixels is None else embedder([pixels])[0]


def rank(session: Session, principal: Principal, model_key: str, queries: np.ndarray, *, limit: int,
         exclude_hashes: set[str], exclude_datasets: Iterable[str] = ()) -> list[Ranked]:
    """For each query vector, up to ``limit`` nearest readable images, one per content, best first."""
    keep = limit * OVERFETCH
    best: list[Ranked] = [[] for _ in queries]
    for chunk in repo.scan(session, principal, model_key, exclude_datasets=exclude_datasets):
        chunk = [row for row in chunk if row[1] not in exclude_hashes]
        if not chunk:
            continue
        scores = queries @ np.stack([from_bytes(row[2]) for row in chunk]).T
        for q, row in enumerate(scores):
            top = np.argsort(-row, kind="stable")[:keep]
            merged = best[q] + [(float(row[i]), chunk[i][0], chunk[i][1]) for i in top]
            merged.sort(key=lambda hit: (-hit[0], hit[1]))
            best[q] = merged[:keep]
    return [_distinct(ranked, limit) for ranked in best]


def _distinct(ranked: Ranked, limit: int) -> Ranked:
    seen, out = set(), []
    for hit in ranked:
        if hit[2] not in seen:
            seen.add(hit[2])
            out.append(hit)
    return out[:limit]


def _hits(session: Session, ranked: Ranked) -> list[Hit]:
    found = repo.hits(session, (image_id for _, image_id, _ in ranked))
    return [Hit(score, *found[image_id]) for score, image_id, _ in ranked if image_id in found]


def like_image(session: Session, principal: Principal, storage: Storage, model: EmbeddingModel, image: Image,
               embedder: Embedder, *, include_source: bool, limit: int) -> list[Hit]:
    """Images like ``image``, never its copies; unless ``include_source``, none from its dataset or from
    datasets that hold a copy of it."""
    vector = query_vector(session, storage, model, image, embedder)
    if vector is None:
        raise Conflict(f"Image '{image.id}' cannot be read on this server, so it cannot be compared")
    excluded = set() if include_source else {image.dataset_id} | repo.datasets_holding(session, image.sha256)
    ranked = rank(session, principal, model.key, vector[None, :], limit=limit, exclude_hashes={image.sha256},
                  exclude_datasets=excluded)
    return _hits(session, ranked[0])


def like_training_images(session: Session, principal: Principal, storage: Storage, model: EmbeddingModel,
                         trained: Model, hashes: list[str], embedder: Embedder, *, limit: int) -> list[Hit]:
    """Images like the given ones (content hashes of images the caller can read), taken from each one's
    nearest neighbours in turn, leaving out the given images and whatever the model's training dataset
    (``trainArgs.data`` = ``ul://owner/datasets/slug``) already holds. Unknown hashes are ignored."""
    first: dict[str, Image] = {}
    for image in repo.readable_images_with_hashes(session, principal, hashes):
        first.setdefault(image.sha256, image)
    vectors = [query_vector(session, storage, model, first[h], embedder) for h in dict.fromkeys(hashes) if h in first]
    vectors = [v for v in vectors if v is not None]
    if not vectors:
        return []
    excluded = set(hashes) | _training_hashes(session, trained)
    per_query = rank(session, principal, model.key, np.stack(vectors), limit=limit, exclude_hashes=excluded)
    picked, seen = [], set()
    for position in range(limit):
        for ranked in per_query:
            if position < len(ranked) and ranked[position][2] not in seen and len(picked) < limit:
                seen.add(ranked[position][2])
                picked.append(ranked[position])
    return _hits(session, picked)


def _training_hashes(session: Session, trained: Model) -> set[str]:
    data = str((trained.train_args or {}).get("data") or "")
    owner, kind, slug = (data.removeprefix("ul://").split("?")[0].strip("/").split("/") + ["", "", ""])[:3]
    if not data.startswith("ul://") or kind != "datasets":
        return set()
    found = datasets_repo.located_by_slugs(session, owner, slug)
    return repo.hashes_in(session, found[0].id) if found else set()
