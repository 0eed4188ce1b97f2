"""Dataset analysis: an embedding per image, a 2-D layout of them, and the job that computes both.

The ``dataset_embeddings`` job embeds every image of a dataset with the checkpoint the
``embedding_model`` setting names (``YOLO(...).embed``: the second-to-last layer, average-pooled),
L2-normalises the vectors and lays them out in 2-D with PCA (numpy SVD). PCA stands in for the
Platform's UMAP: linear, deterministic and without another dependency; clients read the result as
``umapX``/``umapY`` all the same. Everything is written in one transaction at the end, so a run
that fails or is cancelled leaves the previous analysis exactly as it was.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from yolohost.accounts.service import Principal
from yolohost.config import Settings
from yolohost.datasets import embeddings_repository as repo
from yolohost.datasets import service as datasets
from yolohost.db.tables import Dataset, Job
from yolohost.jobs import repository as jobs_repo
from yolohost.jobs import service as jobs
from yolohost.jobs.registry import register
from yolohost.kit import clock
from yolohost.kit.errors import Conflict, NotFound
from yolohost.kit.storage import Storage

KIND = "dataset_embeddings"
BATCH = 16  # images per forward pass
ACTIVE = ("queued", "running")
NO_MODEL = (
    "Dataset analysis needs an embedding model: set YOLOHOST_EMBEDDING_MODEL (the embedding_model setting) to an "
    "Ultralytics .pt checkpoint path or ul://owner/project/model, then restart the server"
)


@dataclass(frozen=True, slots=True)
class EmbeddingModel:
    spec: str  # the setting as given
    path: Path
    key: str  # sha256 of the weights: vectors are comparable only within one key


def resolve_model(session: Session, settings: Settings, storage: Storage) -> EmbeddingModel:
    """The checkpoint of the ``embedding_model`` setting; 409 when it is unset or names nothing."""
    spec = settings.embedding_model
    if not spec:
        raise Conflict(NO_MODEL)
    if spec.startswith("ul://"):
        from yolohost.models import repository as models_repo
        from yolohost.models.service import weights_key

        parts = spec.removeprefix("ul://").strip("/").split("/")
        found = models_repo.located_by_slugs(session, *parts) if len(parts) == 3 else None
        if found is None or not found[0].weights_sha256:
            raise Conflict(f"The embedding model {spec} (YOLOHOST_EMBEDDING_MODEL) is not a stored model with weights")
        return EmbeddingModel(spec, storage.path(weights_key(found[0].id)), found[0].weights_sha256)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise Conflict(f"The embedding model {spec} (YOLOHOST_EMBEDDING_MODEL) is not a file on this server")
    stat = path.stat()
    return EmbeddingModel(spec, path, _digest(str(path.resolve()), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=8)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# --- vectors ----------------------------------------------------------------------------------


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, "<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, "<f4")


def normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, so a dot product is the cosine similarity."""
    matrix = np.asarray(matrix, np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def layout(matrix: np.ndarray) -> np.ndarray:
    """(n, 2) coordinates in [-1, 1]: the rows projected on their first two principal components.

    SVD leaves each component's sign arbitrary; the largest loading is made positive so that the
    same vectors always give the same picture."""
    n = len(matrix)
    out = np.zeros((n, 2), np.float32)
    if n < 2:
        return out
    centred = matrix - matrix.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    coords = centred @ (components * np.where(signs == 0, 1, signs)[:, None]).T
    scale = np.abs(coords).max()
    out[:, : coords.shape[1]] = coords / scale if scale > 0 else coords
    return out


def read_pixels(path: Path):
    """The BGR image of a stored file, or None when it is missing or unreadable."""
    import cv2

    return cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None


def embed(loaded, images: list) -> np.ndarray:
    """(n, d) unit vectors of BGR images, from a loaded model (``inference.runtime.LoadedModel``)."""
    with loaded.lock:
        tensors = loaded.yolo.embed(images, verbose=False)
    return normalise(np.stack([t.detach().float().cpu().numpy().reshape(-1) for t in tensors]))


def engine_embedder(engine, model: EmbeddingModel):
    """Embed with the API process's inference engine (``inference.engine.Engine``), whose cache keeps the model."""
    from yolohost.inference.engine import ModelRef

    ref = ModelRef(id="embedding-model", uri=model.spec, weights=model.path, digest=model.key)
    return lambda images: embed(engine.cache.get(ref), images)


_loaded: dict[str, object] = {}  # the worker keeps its last embedding model between jobs


def _load(model: EmbeddingModel):
    if model.key not in _loaded:
        from yolohost.inference import runtime

        _loaded.clear()
        _loaded[model.key] = runtime.load(model.path)
    return _loaded[model.key]


# --- progress, as a job message the status route reads back ------------------------------------

STAGES = {"embedding": "embedding", "layout": "umap"}  # our stage -> the contract's name for it
_PROGRESS = re.compile(r"^(embedding|layout) (\d+)/(\d+) images(?:, (\d+) unreadable)?$")


def progress_message(stage: str, processed: int, total: int, unreadable: int = 0) -> str:
    return f"{stage} {processed}/{total} images" + (f", {unreadable} unreadable" if unreadable else "")


def describe_progress(job: Job) -> dict | None:
    if job.status != "running":
        return None
    out = {"stage": "embedding", "percent": round(job.progress, 1)}
    match = _PROGRESS.match(job.message or "")
    if match:
        stage, processed, total, unreadable = match.groups()
        out.update(stage=STAGES[stage], processed=int(processed), total=int(total))
        if unreadable:
            out["failedDownloads"] = int(unreadable)
    return out


# --- the job ------------------------------------------------------------------------------------


@register(KIND)
def analyze(ctx) -> dict:
    dataset_id = ctx.payload["datasetId"]
    with ctx.transaction() as session:
        model = resolve_model(session, ctx.settings, ctx.storage)
        images = repo.images_to_embed(session, dataset_id)
    ctx.progress(1, progress_message("embedding", 0, len(images)))
    ids, matrix, unreadable = _embed_all(ctx, _load(model), images)
    ctx.check_cancelled()
    ctx.progress(96, progress_message("layout", len(ids), len(ids), unreadable))
    stored = _commit(ctx, dataset_id, model.key, ids, matrix, layout(matrix))
    ctx.log(f"embedded {stored} images with {model.spec}" + (f"; {unreadable} unreadable" if unreadable else ""))
    return {"embeddings": stored, "unreadable": unreadable, "dimensions": int(matrix.shape[1]) if stored else 0}


def _embed_all(ctx, loaded, images: list[tuple[str, str, str]]) -> tuple[list[str], np.ndarray, int]:
    """(ids, unit vectors, how many files could not be read), a batch at a time, stopping when asked to."""
    ids, vectors, unreadable, total = [], [], 0, len(images)
    for start in range(0, total, BATCH):
        ctx.check_cancelled()
        batch = []
        for image_id, sha, ext in images[start : start + BATCH]:
            pixels = read_pixels(ctx.storage.path(datasets.blob_key(sha, "." + ext)))
            if pixels is None:
                unreadable += 1
            else:
                batch.append(pixels)
                ids.append(image_id)
        if batch:
            vectors.append(embed(loaded, batch))
        done = min(start + BATCH, total)
        ctx.progress(2 + 93 * done / total, progress_message("embedding", done, total, unreadable))
    return ids, np.concatenate(vectors) if vectors else np.zeros((0, 0), np.float32), unreadable


def _commit(ctx, dataset_id: str, model_key: str, ids: list[str], matrix: np.ndarray, xy: np.ndarray) -> int:
    """Replace the dataset's embeddings in one transaction; images deleted meanwhile are left out."""
    ctx.check_cancelled()
    with ctx.transaction() as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None:
            return 0
        alive = repo.image_ids(session, dataset_id)
        rows = [
            {"image_id": image_id, "dataset_id": dataset_id, "model_key": model_key, "vector": to_bytes(matrix[i]),
             "x": float(xy[i, 0]), "y": float(xy[i, 1]), "created_at": clock.now()}
            for i, image_id in enumerate(ids) if image_id in alive
        ]
        repo.replace(session, dataset_id, rows)
        dataset.analyzed_at = clock.now()
    return len(rows)


# --- the rules behind the routes -----------------------------------------------------------------


def active_job(session: Session, dataset_id: str) -> Job | None:
    job = jobs_repo.latest_for(session, dataset_id, KIND)
    return job if job is not None and job.status in ACTIVE else None


def start(session: Session, principal: Principal, located: datasets.Located, settings: Settings, storage: Storage) -> Job:
    """Queue an analysis (the caller checked write access); 409 without a model, images, or while one runs."""
    dataset = located.dataset
    resolve_model(session, settings, storage)
    session.refresh(dataset, with_for_update=True)  # PostgreSQL: concurrent starts queue one job
    if active_job(session, dataset.id) is not None:
        raise Conflict(f"Dataset '{dataset.slug}' is already being analyzed; cancel it with DELETE first")
    if not repo.has_images(session, dataset.id):
        raise Conflict(f"Dataset '{dataset.slug}' has no images to analyze")
    return jobs.enqueue(session, KIND, {"datasetId": dataset.id}, user_id=principal.user_id,
                        workspace_id=located.workspace.id, subject_id=dataset.id)


def status(session: Session, located: datasets.Located) -> dict:
    """The contract's DatasetEmbeddingsResponse."""
    dataset = located.dataset
    job = active_job(session, dataset.id)
    active = None
    if job is not None:
        active = {"id": job.id, "status": job.status, "progress": describe_progress(job),
                  "createdAt": clock.iso(job.created_at)}
    return {
        "analyzedAt": clock.iso(dataset.analyzed_at),
        "embeddingsCount": repo.count(session, dataset.id),
        "latestImageAt": clock.iso(repo.latest_image_at(session, dataset.id)),
        "activeJob": active,
    }


def cancel(session: Session, located: datasets.Located) -> str | None:
    """Cancel the queued analysis, or ask the running one to stop; the id of that job, or None."""
    job = active_job(session, located.dataset.id)
    if job is None:
        return None
    jobs.cancel(session, job)
    return job.id


def clustering(session: Session, located: datasets.Located, offset: int, limit: int) -> dict:
    """The contract's DatasetClusteringResponse; 404 before the first completed analysis.

    Only images with an embedding are listed, and an embedding goes when its image does, so
    ``missing`` is always false here."""
    dataset = located.dataset
    if dataset.analyzed_at is None:
        raise NotFound(f"Dataset '{dataset.slug}' has not been analyzed yet; start an analysis with POST .../embeddings")
    rows = repo.layout_page(session, dataset.id, offset, limit + 1)
    has_more = len(rows) > limit
    images = [
        {"id": image.id, "umapX": x, "umapY": y, "split": image.split, "classIds": datasets.class_ids(image),
         "width": image.width, "height": image.height, "bytes": image.size, "labelCount": image.label_count,
         "labeled": image.label_count > 0, "missing": False}
        for x, y, image in rows[:limit]
    ]
    return {"images": images, "total": repo.count(session, dataset.id), "offset": offset, "limit": limit,
            "hasMore": has_more, "nextOffset": offset + limit if has_more else None,
            "updatedAt": clock.iso(dataset.analyzed_at)}
