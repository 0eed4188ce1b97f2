"""Reading a prediction request, the same way for every API generation: a file or a ``source``,
plus arguments, from multipart, URL-encoded or JSON bodies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import UploadFile

from yolohost.inference import media as media_mod
from yolohost.inference.args import PLATFORM_IOU, PredictArgs, parse
from yolohost.inference.engine import Engine
from yolohost.kit.errors import Invalid, TooLarge


@dataclass(frozen=True, slots=True)
class Fields:
    """A route's names for the input fields and arguments."""

    files: tuple[str, ...] = ("file",)
    sources: tuple[str, ...] = ("source",)
    args: Mapping[str, str] | None = None
    iou_default: float = PLATFORM_IOU


PLATFORM = Fields()


async def read_form(request: Request, max_bytes: int) -> Mapping[str, object]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"The request is larger than the {max_bytes // (1 << 20)} MB upload limit")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise Invalid("body: not valid JSON") from None
        if not isinstance(body, dict):
            raise Invalid("body: expected a JSON object")
        return body
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        return await request.form(max_files=4, max_fields=64)
    if not content_type and declared in (None, "0"):
        return {}
    raise Invalid(f"Content-Type must be multipart/form-data, application/x-www-form-urlencoded or application/json; got {content_type!r}")


async def read(request: Request, engine: Engine, fields: Fields = PLATFORM) -> tuple[media_mod.Media, PredictArgs]:
    settings = request.app.state.settings
    max_bytes = settings.max_upload_bytes
    form = await read_form(request, max_bytes)
    args = parse(form, names=fields.args, iou_default=fields.iou_default)

    for name in fields.files:
        upload = form.get(name)
        if isinstance(upload, UploadFile):
            if upload.size is not None and upload.size > max_bytes:
                raise TooLarge(f"{name}: larger than the {max_bytes // (1 << 20)} MB upload limit")
            data = await upload.read()
            return media_mod.from_bytes(data, name), args
        if upload not in (None, ""):
            raise Invalid(f"{name} must be a file upload (multipart/form-data)")
    for name in fields.sources:
        source = form.get(name)
        if isinstance(source, str) and source.strip():
            if len(source) > 4096 and source.strip().lower().startswith("http"):
                raise Invalid(f"{name}: URL longer than 4096 characters")
            media = await engine.run(
                lambda s=source, n=name: media_mod.from_source(
                    s, max_bytes=max_bytes, timeout=settings.source_fetch_timeout_seconds, field=n
                )
            )
            return media, args
    raise Invalid(f"{' or '.join(fields.files + fields.sources)} is required: send an image or video file, an image URL or a base64 image")
