"""Routes that anyone may call (public reads): a key is optional, but one that is sent must be valid.

Callers without a key are rate limited by client address in the ``default`` category.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from yolohost.accounts.deps import enforce_rate_limit, presented_key
from yolohost.accounts.service import Principal, authenticate


def _maybe_principal(request: Request) -> Principal | None:
    presented = presented_key(request)
    if presented is None:
        host = request.client.host if request.client else "unknown"
        enforce_rate_limit(request, Principal("", "", f"anon:{host}", frozenset()), "default")
        return None
    with request.app.state.sessions() as session:
        principal = authenticate(session, presented)
    request.app.state.last_used.touch(principal.key_id)
    enforce_rate_limit(request, principal, "default")
    return principal


#: The caller if a key was sent (401 if it is not a valid one), else None.
MaybeUser = Annotated[Principal | None, Depends(_maybe_principal)]
