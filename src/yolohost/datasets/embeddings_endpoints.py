"""HTTP routes of dataset analysis: start, watch and cancel it, the clustering layout, and similar images.

Datasets are addressed as in the contract (``/api/datasets/{owner}/{dataset}/...``); the seed
reference's ``/api/datasets/{datasetId}/...`` reach them through ``datasets.id_paths``. The similar-image routes are the SDK's
(``images.find_similar_images``, ``models.find_similar_training_images``); the 0.1.9 contract lacks them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from yolohost.accounts.deps import api_key
from yolohost.accounts.service import Principal
from yolohost.datasets import embeddings, service, similar
from yolohost.datasets.images import signed
from yolohost.db.deps import DbSession
from yolohost.db.tables import Image
from yolohost.kit.errors import Invalid, NotFound

router = APIRouter(prefix="/api/datasets", tags=["Datasets"])
similar_router = APIRouter(tags=["Images"])
DatasetsUser = api_key("datasets")
MAX_HASHES = 100


def _dataset(request: Request, session: DbSession, principal: Principal = DatasetsUser) -> service.Located:
    return service.find(session, principal, request.path_params["owner"], request.path_params["dataset"])


Located = Annotated[service.Located, Depends(_dataset)]


@router.post("/{owner}/{dataset}/embeddings", status_code=202)
def start_analysis(request: Request, located: Located, session: DbSession, principal: Principal = DatasetsUser):
    service.require_editor(session, principal, located)
    job = embeddings.start(session, principal, located, request.app.state.settings, request.app.state.storage)
    return {"jobId": job.id}


@router.get("/{owner}/{dataset}/embeddings")
def analysis_status(located: Located, session: DbSession):
    return embeddings.status(session, located)


@router.delete("/{owner}/{dataset}/embeddings")
def cancel_analysis(located: Located, session: DbSession, principal: Principal = DatasetsUser):
    service.require_editor(session, principal, located)
    return {"cancelled": embeddings.cancel(session, located)}


@router.get("/{owner}/{dataset}/images/clustering")
def clustering(located: Located, session: DbSession, offset: int = Query(default=0, ge=0),
               limit: int = Query(default=50000, ge=1, le=50000)):
    return embeddings.clustering(session, located, offset, limit)


# --- similar images ------------------------------------------------------------------------------


def _item(request: Request, hit: similar.Hit) -> dict:
    image = hit.image
    return {
        "name": image.filename, "hash": image.sha256, "width": image.width, "height": image.height, "id": image.id,
        "thumbnailUrl": signed(request, service.thumb_key(image.sha256)),
        "imageUrl": signed(request, service.blob_key(image.sha256, "." + image.ext)),
        "dataset": {"owner": hit.workspace.username, "dataset": hit.dataset.slug, "license": hit.dataset.license or "None"},
        "score": round(hit.score, 4),
    }


def _model_and_embedder(request: Request, session):
    model = embeddings.resolve_model(session, request.app.state.settings, request.app.state.storage)
    return model, embeddings.engine_embedder(request.app.state.engine, model)


@similar_router.get("/api/images/{image_id}/similar")
def similar_images(request: Request, image_id: str, session: DbSession, principal: Principal = DatasetsUser,
                   includeSourceDataset: Literal["true", "false"] = "false", limit: int = Query(default=20, ge=1, le=100)):
    image = session.get(Image, image_id)
    try:
        if image is None:
            raise NotFound("")
        service.find_by_id(session, principal, image.dataset_id)
    except NotFound:
        raise NotFound(f"Image '{image_id}' not found") from None
    model, embedder = _model_and_embedder(request, session)
    hits = similar.like_image(session, principal, request.app.state.storage, model, image, embedder,
                              include_source=includeSourceDataset == "true", limit=limit)
    return {"images": [_item(request, hit) for hit in hits]}


@similar_router.get("/api/models/{owner}/{project}/{model}/similar-images")
def similar_training_images(request: Request, owner: str, project: str, model: str, session: DbSession,
                            principal: Principal = api_key("models"), hashes: str | None = Query(default=None),
                            limit: int = Query(default=20, ge=1, le=100)):
    """No per-image results of training runs are recorded here, so without ``hashes`` the list is empty."""
    from yolohost.models import service as models

    located = models.find(session, principal, owner, project, model)
    wanted = [h for h in (hashes or "").split(",") if h]
    if len(wanted) > MAX_HASHES or any(len(h) > 128 for h in wanted):
        raise Invalid(f"hashes: at most {MAX_HASHES} comma-separated image hashes of at most 128 characters")
    if not wanted:
        return {"images": []}
    emb_model, embedder = _model_and_embedder(request, session)
    hits = similar.like_training_images(session, principal, request.app.state.storage, emb_model, located.model,
                                        wanted, embedder, limit=limit)
    return {"images": [_item(request, hit) for hit in hits]}
