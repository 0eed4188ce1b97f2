"""``/api/billing/*``: metered usage in the contract's shapes, the seed reference's balance with nothing in it,
``GET /api/billing/usage`` (the meter's own figures), and 501 for every route that needs a payment provider."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from yolohost.accounts.deps import AccountUser
from yolohost.db.deps import DbSession
from yolohost.usage import service

router = APIRouter(prefix="/api/billing", tags=["Billing"])

From = Annotated[datetime | None, Query(alias="from", description="Earliest usage timestamp")]
To = Annotated[datetime | None, Query(description="Latest usage timestamp")]


@router.get("/usage-summary")
def usage_summary(request: Request, principal: AccountUser, session: DbSession, owner: str | None = None):
    workspace = service.workspace_for(session, principal, owner)
    return service.summary(session, workspace, quota_mb=request.app.state.settings.storage_quota_mb)


@router.get("/transactions")
def transactions(principal: AccountUser, session: DbSession, start: From = None, to: To = None,
                 owner: str | None = None):
    workspace = service.workspace_for(session, principal, owner)
    return service.transactions(session, workspace, *service.window(start, to))


@router.get("/usage")
def usage(principal: AccountUser, session: DbSession, start: From = None, to: To = None, owner: str | None = None):
    workspace = service.workspace_for(session, principal, owner)
    return service.usage(session, workspace, *service.window(start, to))


@router.get("/balance")
def balance(principal: AccountUser, session: DbSession, owner: str | None = None):
    service.workspace_for(session, principal, owner)
    return service.balance()


def no_payment_provider(principal: AccountUser):
    raise service.NoPaymentProvider()


PAYMENT_ROUTES = (
    ("POST", "/checkout-session"),
    ("POST", "/subscription-checkout"),
    ("DELETE", "/subscription-checkout"),
    ("POST", "/portal-session"),
    ("GET", "/payments"),
    ("GET", "/auto-topup"),
    ("PATCH", "/auto-topup"),
    ("GET", "/payment-methods"),
    ("PATCH", "/payment-methods"),
    ("POST", "/payment-methods/setup"),
    ("POST", "/payment-methods/default"),
    ("DELETE", "/payment-methods/{method_id}"),
)
for method, path in PAYMENT_ROUTES:
    router.add_api_route(path, no_payment_provider, methods=[method], status_code=501)
