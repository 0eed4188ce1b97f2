"""Authentication and rate limiting as FastAPI dependencies.

A key is read from ``Authorization: Bearer <key>`` (Platform) or ``x-api-key`` (HUB).
Each route names the scope it needs and the rate-limit category it counts against.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from yolohost.accounts import service
from yolohost.accounts.service import Principal
from yolohost.kit import clock
from yolohost.kit.errors import RateLimited, Unauthorized


def presented_key(request: Request) -> str | None:
    """The key the client sent, from either header; a malformed Authorization header is refused."""
    auth = request.headers.get("authorization")
    if auth is not None:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("Invalid or missing API key")
        return value.strip()
    return request.headers.get("x-api-key")


def enforce_rate_limit(request: Request, principal: Principal, category: str) -> None:
    settings = request.app.state.settings
    limit = settings.rate_limit(category)
    if limit <= 0:
        return
    decision = request.app.state.ratelimit.hit(f"{principal.key_id}:{category}", limit, settings.rate_limit_window_seconds)
    headers = decision.headers()
    request.state.response_headers = headers  # the middleware adds them to whatever response follows
    if not decision.allowed:
        now = clock.epoch()
        retry_after = decision.retry_after(now)
        raise RateLimited(
            f"Rate limit exceeded for {category} requests ({limit} per {settings.rate_limit_window_seconds:g}s); "
            f"retry after {retry_after}s",
            headers={**headers, "Retry-After": str(retry_after)},
            extra={"retryAfter": retry_after, "resetAt": clock.iso_from_epoch(decision.reset_at)},
        )


def api_key(scope: str | None = None, category: str = "default"):
    """A dependency: the authenticated caller, checked for ``scope`` and counted in ``category``."""

    def dependency(request: Request) -> Principal:
        # A short read of its own: the key check never holds the request's transaction open.
        with request.app.state.sessions() as session:
            principal = service.authenticate(session, presented_key(request))
        request.app.state.last_used.touch(principal.key_id)
        enforce_rate_limit(request, principal, category)
        if scope is not None:
            principal.require_scope(scope)
        return principal

    return Depends(dependency)


CurrentUser = Annotated[Principal, api_key()]
AccountUser = Annotated[Principal, api_key("account")]
ProjectsUser = Annotated[Principal, api_key("projects")]
ModelsUser = Annotated[Principal, api_key("models")]
DownloadUser = Annotated[Principal, api_key("models", category="download")]
UploadUser = Annotated[Principal, api_key(category="upload")]
PredictUser = Annotated[Principal, api_key("predict", category="predict")]
