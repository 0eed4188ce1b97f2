"""Legacy HUB routes as thin adapters over the Platform predict path.

- ``POST /`` (HUB shared inference API): ``model`` = a URL ending in ``/models/{id}`` or a bare id.
- ``POST /v1/predict/{model_id}`` (legacy v1): ``image``/``size``/``confidence``/``url`` fields and a
  ``{"success", "message", "data"}`` body; errors are ``{"success": false, "message"}``.
- ``POST /v1/auth``: ``{"success": true}`` for a valid key.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request

from yolohost.accounts.deps import CurrentUser, PredictUser
from yolohost.inference.args import HUB_IOU
from yolohost.kit.errors import Invalid
from yolohost.models import predict_input
from yolohost.models.endpoints import predict

router = APIRouter(tags=["HUB"])

HUB = predict_input.Fields(iou_default=HUB_IOU)
V1 = predict_input.Fields(
    files=("image", "file"), sources=("url",), args={"imgsz": "size", "conf": "confidence"}, iou_default=HUB_IOU
)
_MODEL_ID = re.compile(r"(?:^|/models/)([A-Za-z0-9_-]+)/?$")


def model_id_from(value: str) -> str:
    """``https://hub.example/models/ID`` or ``ID`` -> ``ID``."""
    match = _MODEL_ID.search(value.strip())
    if not match:
        raise Invalid(f"model must be a model URL ending in /models/MODEL_ID or a model id; got {value!r}")
    return match.group(1)


@router.post("/")
async def hub_predict(request: Request, principal: PredictUser):
    form = await predict_input.read_form(request, request.app.state.settings.max_upload_bytes)
    model = form.get("model")
    if not isinstance(model, str) or not model.strip():
        raise Invalid("model is required: a model URL ending in /models/MODEL_ID, or the model id")
    return await predict(request, principal, (model_id_from(model),), HUB)


def _v1_body(response: dict) -> dict:
    results = response["images"][0]["results"] if response["images"] else []
    return {"success": True, "message": "Inference complete.", "data": results}


@router.post("/v1/predict/{model_id}")
async def v1_predict(request: Request, model_id: str, principal: PredictUser):
    return await predict(request, principal, (model_id,), V1, shape=_v1_body)


@router.post("/v1/auth")
def v1_auth(principal: CurrentUser):
    return {"success": True}
