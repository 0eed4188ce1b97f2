"""HTTP plumbing shared by every route: request ids, extra headers, error bodies, crash safety."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yolohost.kit.errors import AppError, Invalid, TooLarge

log = logging.getLogger("yolohost.http")


def signed_link(request: Request, path: str, ttl_seconds: int | None = None) -> str:
    """An absolute, signed, expiring URL for ``path`` on this server (the public URL if one is set)."""
    settings = request.app.state.settings
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    return base + request.app.state.signer.sign(path, ttl_seconds or settings.signed_url_ttl_seconds)


async def receive_file(request: Request, target: Path, limit: int, too_large: str,
                       check: Callable[[int], None] | None = None) -> int:
    """Stream a request body into ``target`` (written whole or not at all); 413 with ``too_large`` past
    ``limit`` bytes, 400 for an empty body; ``check(size)`` may refuse the complete body. Returns its size."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise TooLarge(too_large)
                out.write(chunk)
        if size == 0:
            raise Invalid("The request body is empty")
        if check is not None:
            check(size)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return size


def error_body(path: str, message: str, extra: dict | None = None) -> dict:
    """The contract's ``{"error": ...}``; the legacy ``/v1`` API has its own ``success/message`` shape."""
    if path.startswith("/v1/"):
        return {"success": False, "message": message}
    return {"error": message, **(extra or {})}


def error_response(request: Request, status: int, message: str, *, headers=None, extra=None) -> JSONResponse:
    return JSONResponse(error_body(request.url.path, message, extra), status_code=status, headers=headers)


def describe_validation_error(exc: RequestValidationError) -> str:
    """One line naming each bad field and what it accepts, e.g. ``conf: Input should be <= 1``."""
    parts = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path", "header", "form")]
        field = ".".join(loc) or "body"
        parts.append(f"{field}: {err.get('msg', 'invalid value')}")
    return "; ".join(parts) or "Invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError):
        return error_response(request, exc.status, exc.message, headers=exc.headers, extra=exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return error_response(request, 400, describe_validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"No route for {request.method} {request.url.path}"
        return error_response(request, exc.status_code, message, headers=getattr(exc, "headers", None))


class RequestContextMiddleware:
    """Gives every response an ``x-request-id``, adds headers a route left in
    ``request.state.response_headers`` (rate limits), and turns an unhandled exception into
    a 500 with the contract's body: the stack trace goes to the log, never to the client."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = {"x-request-id": request_id, **state.get("response_headers", {})}
                for name, value in extra.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error in %s %s (request id %s)", scope["method"], scope["path"], request_id)
            if started:
                raise
            body = json.dumps(error_body(scope["path"], f"Internal server error (request id {request_id})")).encode()
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                }
            )
            await send_with_headers({"type": "http.response.body", "body": body})
