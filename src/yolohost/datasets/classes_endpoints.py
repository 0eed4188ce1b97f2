"""HTTP routes of dataset-wide operations: class statistics, delete/merge classes, redistribute
splits, the models trained on a dataset, and clone (``/api/datasets/{owner}/{dataset}/...``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from yolohost.accounts.deps import api_key
from yolohost.accounts.service import Principal
from yolohost.datasets import classes, service
from yolohost.db.deps import DbSession
from yolohost.projects.schemas import Description, Name, Owner, Slug, Visibility

router = APIRouter(prefix="/api/datasets", tags=["Datasets"])
DatasetsUser = api_key("datasets")
ClassId = Annotated[int, Field(ge=0)]
ClassIds = Annotated[list[ClassId], Field(min_length=1, max_length=25000)]
Percent = Annotated[int, Field(ge=0, le=100)]
# The contract's dataset licenses: a response may carry no other, so a clone accepts no other.
DatasetLicense = Literal["None", "CC0-1.0", "PDM-1.0", "CC-BY-2.5", "CC-BY-4.0", "CC-BY-NC-2.0", "CC-BY-SA-4.0",
                         "CC-BY-NC-4.0", "CC-BY-NC-SA-3.0", "CC-BY-NC-SA-4.0", "CC-BY-ND-4.0", "CC-BY-NC-ND-4.0",
                         "Apache-2.0", "MIT", "AGPL-3.0", "GPL-3.0", "Research-Only", "Other"]


class DeleteClassesBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    classIds: ClassIds


class MergeClassesBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sourceClassIds: ClassIds
    targetClassId: ClassId


class RedistributeBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    train: Percent
    val: Percent
    test: Percent


class CloneBody(BaseModel):
    """The contract's overrides, plus the newer SDK's ``splits``, ``version``, ``imageIds`` and ``annotations``."""

    model_config = ConfigDict(extra="ignore")

    name: Name | None = None
    dataset: Slug | None = None
    description: Description | None = None
    visibility: Visibility | None = None
    license: DatasetLicense | None = None
    owner: Owner | None = None
    splits: Annotated[list[Literal["train", "val", "test"]], Field(max_length=3)] | None = None
    version: Annotated[int, Field(gt=0)] | None = None
    imageIds: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=100000)] | None = None
    annotations: bool | None = None
    into: str | None = None


def _editable(session, principal: Principal, owner: str, dataset: str) -> service.Located:
    located = service.find(session, principal, owner, dataset)
    service.require_editor(session, principal, located)
    return located


@router.get("/{owner}/{dataset}/class-stats")
def class_stats(owner: str, dataset: str, session: DbSession, principal: Principal = DatasetsUser):
    return classes.class_stats(session, service.find(session, principal, owner, dataset))


@router.post("/{owner}/{dataset}/classes/delete")
def delete_classes(owner: str, dataset: str, body: DeleteClassesBody, session: DbSession,
                   principal: Principal = DatasetsUser):
    return classes.delete_classes(session, _editable(session, principal, owner, dataset), body.classIds)


@router.post("/{owner}/{dataset}/classes/merge")
def merge_classes(owner: str, dataset: str, body: MergeClassesBody, session: DbSession,
                  principal: Principal = DatasetsUser):
    located = _editable(session, principal, owner, dataset)
    return classes.merge_classes(session, located, body.sourceClassIds, body.targetClassId)


@router.post("/{owner}/{dataset}/splits/redistribute")
def redistribute_splits(owner: str, dataset: str, body: RedistributeBody, session: DbSession,
                        principal: Principal = DatasetsUser):
    located = _editable(session, principal, owner, dataset)
    return classes.redistribute(session, located, body.train, body.val, body.test)


@router.get("/{owner}/{dataset}/models")
def trained_models(owner: str, dataset: str, session: DbSession, principal: Principal = DatasetsUser):
    return classes.trained_models(session, principal, service.find(session, principal, owner, dataset))


@router.post("/{owner}/{dataset}/clone", status_code=201)
def clone_dataset(request: Request, owner: str, dataset: str, session: DbSession, body: CloneBody | None = None,
                  principal: Principal = DatasetsUser):
    source = service.find(session, principal, owner, dataset)
    fields = (body or CloneBody()).model_dump(exclude_none=True)
    return classes.clone(session, request.app.state.storage, principal, source, fields)
