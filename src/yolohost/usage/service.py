"""The rules of usage metering: recording compute, and reporting a workspace's usage in the contract's
billing shapes. Nobody is charged: every amount and balance is 0 and there is no payment provider."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from yolohost.accounts import service as accounts
from yolohost.accounts.service import Principal
from yolohost.db.tables import Model, Project, UsageRecord, Workspace
from yolohost.kit import clock
from yolohost.kit.errors import AppError, Invalid
from yolohost.storage_usage import service as storage_usage
from yolohost.usage import repository as repo

KINDS = ("predict", "training", "export")
COMPUTE_KINDS = ("training", "export")
PLAN = "enterprise"  # a self-hosted platform has no plans: every account has everything (as in /api/storage)
#: How each kind appears among the contract's transaction types (amount 0: usage, not a charge).
TRANSACTION_TYPES = {"predict": "adjustment", "training": "training", "export": "adjustment"}
MAX_ENTRIES = 1000  # per listing; narrow with from/to for older entries


class NoPaymentProvider(AppError):
    """A payment route (checkout, portal, payment methods...) on a server that charges nobody."""

    status = 501

    def __init__(self) -> None:
        super().__init__(
            "No payment provider is configured: this yolohost server charges nothing and meters usage instead "
            "(GET /api/billing/usage-summary, /api/billing/transactions, /api/billing/usage)"
        )


def record_compute(session: Session, workspace_id: str, kind: str, seconds: float, subject_id: str | None = None) -> None:
    """Count one finished ``training`` or ``export`` job of ``seconds`` compute for the workspace (and its model),
    in the caller's transaction, so the usage exists exactly when the job's end does."""
    if kind not in COMPUTE_KINDS:
        raise ValueError(f"kind must be one of {COMPUTE_KINDS}; got {kind!r}")
    now = clock.now()
    repo.add(session, [{"workspace_id": workspace_id, "kind": kind, "subject_id": subject_id or "", "day": now.date(),
                        "quantity": 1, "seconds": max(float(seconds), 0.0), "created_at": now, "updated_at": now}])


def workspace_for(session: Session, principal: Principal, owner: str | None) -> Workspace:
    """``owner`` (members only: 403) or the caller's own workspace."""
    return accounts.member_workspace(session, principal, owner, "billing")


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def window(start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
    start, end = _utc(start), _utc(end)
    if start is not None and end is not None and start > end:
        raise Invalid(f"Invalid date range: from ({clock.iso(start)}) is after to ({clock.iso(end)})")
    return start, end


def summary(session: Session, workspace: Workspace, *, quota_mb: int) -> dict:
    """The contract's ``BillingUsageSummaryResponse``: storage is the one metric it carries; a limit of 0 is no quota."""
    used = storage_usage.usage(session, workspace.id).total
    limit = quota_mb * storage_usage.MB
    return {
        "plan": {"planId": PLAN, "name": "Self-hosted", "status": "active", "cancelAtPeriodEnd": False},
        "metrics": [{"metricId": "storage_bytes", "kind": "GAUGE", "period": "NONE", "limit": limit, "used": used,
                     "remaining": max(limit - used, 0), "overageAllowed": limit == 0}],
        "trainingCredit": {"monthlyGrant": 0, "balanceAvailable": 0},
        "features": {"privateProjects": True, "teams": True, "enterpriseLicense": False},
        "creditsCents": 0,
        "nextInvoiceCents": 0,
    }


def balance() -> dict:
    """The seed reference's balance body: nothing bought, nothing owed."""
    return {"creditsCents": 0, "plan": PLAN}


def _entry_id(record: UsageRecord) -> str:
    key = f"{record.workspace_id}:{record.kind}:{record.subject_id}:{record.day.isoformat()}"
    return "use_" + hashlib.sha256(key.encode()).hexdigest()[:24]


def _transaction(workspace: Workspace, record: UsageRecord, model: Model | None, project: Project | None) -> dict:
    entry = {"id": _entry_id(record), "type": TRANSACTION_TYPES[record.kind], "amountCents": 0, "balanceAfter": 0,
             "period": record.day.isoformat(), "createdAt": clock.iso(record.updated_at)}
    if record.subject_id:
        entry["modelId"] = record.subject_id
        entry["model"] = None if model is None else {
            "name": model.name, "slug": model.slug, "projectSlug": project.slug, "username": workspace.username}
    return entry


def transactions(session: Session, workspace: Workspace, start: datetime | None, end: datetime | None) -> dict:
    """The contract's ``BillingTransactionsResponse``: one 0-cent entry per (kind, model, UTC day) of usage."""
    rows = repo.records(session, workspace.id, start, end, MAX_ENTRIES)
    return {"transactions": [_transaction(workspace, *row) for row in rows]}


def usage(session: Session, workspace: Workspace, start: datetime | None, end: datetime | None) -> dict:
    """What the contract's shapes cannot carry: calls, jobs and compute seconds per kind, model and day."""
    totals = {kind: {"count": 0, "computeSeconds": 0.0} for kind in KINDS}
    for kind, count, seconds in repo.totals(session, workspace.id, start, end):
        totals[kind] = {"count": int(count), "computeSeconds": round(float(seconds), 3)}
    entries = []
    for record, model, project in repo.records(session, workspace.id, start, end, MAX_ENTRIES):
        entries.append({
            "id": _entry_id(record), "kind": record.kind, "day": record.day.isoformat(),
            "modelId": record.subject_id or None,
            "model": None if model is None else f"{workspace.username}/{project.slug}/{model.slug}",
            "count": record.quantity, "computeSeconds": round(record.seconds, 3),
            "firstAt": clock.iso(record.created_at), "lastAt": clock.iso(record.updated_at),
        })
    return {"owner": workspace.username, "from": clock.iso(start), "to": clock.iso(end), "totals": totals,
            "storageBytes": storage_usage.usage(session, workspace.id).total, "entries": entries}
