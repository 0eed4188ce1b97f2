"""HTTP routes of ``/api/integrations``: cloud storage buckets and Roboflow import (contract shapes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from yolohost.accounts.deps import api_key
from yolohost.accounts.service import Principal
from yolohost.integrations import service

router = APIRouter(prefix="/api/integrations", tags=["Storage Integrations"])

RawBody = Annotated[Any, Body()]
DatasetsUser = Annotated[Principal, api_key("datasets")]
ImportUser = Annotated[Principal, api_key("datasets", category="upload")]


@router.get("/buckets")
def list_buckets(principal: DatasetsUser):
    return {"integrations": service.list_buckets()}


@router.post("/buckets/discover")
def discover_buckets(principal: DatasetsUser, raw: RawBody = None):
    service.discover_buckets(raw)


@router.post("/buckets", status_code=201)
def connect_bucket(principal: DatasetsUser, raw: RawBody = None):
    service.connect_bucket(raw)


@router.patch("/buckets/{integration_id}")
def update_bucket(integration_id: str, principal: DatasetsUser, raw: RawBody = None):
    service.update_bucket(integration_id, raw)


@router.delete("/buckets/{integration_id}")
def disconnect_bucket(integration_id: str, principal: DatasetsUser):
    service.find_bucket(integration_id)


@router.get("/buckets/{integration_id}/objects")
def bucket_objects(integration_id: str, principal: DatasetsUser,
                   target: str = Query(min_length=1, max_length=service.TARGET_MAX),
                   prefix: str = Query(default="", max_length=1024),
                   cursor: str | None = Query(default=None, max_length=4096)):
    service.find_bucket(integration_id)


@router.post("/roboflow/preview")
def roboflow_preview(principal: DatasetsUser, raw: RawBody = None):
    service.roboflow_preview(raw)


@router.post("/roboflow/import", status_code=201)
def roboflow_import(principal: ImportUser, raw: RawBody = None):
    service.roboflow_import(raw)
