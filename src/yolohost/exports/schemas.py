"""Request bodies of the export routes: the contract's create, the seed reference's, and the export options."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

QUANTIZE = Literal[8, 16, 32, "8", "16", "32", "int8", "fp16", "fp32", "w8a8", "w16a16", "w32a32", "w8a16", "w8a32"]


class ExportArgs(BaseModel):
    """The contract's export options, plus the seed reference's ``half`` and ``int8`` (ultralytics maps both
    onto ``quantize``). Anything else is refused, naming the option."""

    model_config = ConfigDict(extra="forbid")

    imgsz: Annotated[int, Field(ge=32, le=8192)] | None = None
    quantize: QUANTIZE | None = None
    half: bool | None = None
    int8: bool | None = None
    dynamic: bool | None = None
    simplify: bool | None = None
    opset: Annotated[int, Field(ge=9, le=23)] | None = None
    conf: Annotated[float, Field(ge=0, le=1)] | None = None
    iou: Annotated[float, Field(ge=0, le=1)] | None = None
    batch: Annotated[int, Field(ge=1, le=32)] | None = None
    workspace: Annotated[float, Field(ge=1, le=16)] | None = None
    nms: bool | None = None
    end2end: bool | None = None
    optimize: bool | None = None
    keras: bool | None = None
    name: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")] | None = None


class CreateExportBody(BaseModel):
    """``POST .../exports``; the seed reference's ``POST /api/exports`` also names the model by ``modelId``."""

    model_config = ConfigDict(extra="forbid")

    format: Annotated[str, Field(min_length=1, max_length=32)]
    gpuType: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    args: ExportArgs | None = None


class CreateExportByIdBody(CreateExportBody):
    modelId: Annotated[str, Field(min_length=1, max_length=64)]
