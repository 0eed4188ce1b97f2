"""The rules of storage use: what a workspace stores (``GET /api/storage``) and the quota uploads respect."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from yolohost.accounts import service as accounts
from yolohost.accounts.service import Principal
from yolohost.db.tables import Workspace
from yolohost.kit import clock
from yolohost.kit.errors import Forbidden
from yolohost.storage_usage import repository as repo

TIER = "enterprise"  # a self-hosted platform has no plans: every account has everything
REGION = "us"
TOP_ITEMS = 10
MB = 1 << 20


class QuotaExceeded(Forbidden):
    """An upload that would take the workspace over its storage quota (the contract's 403 "storage quota denied")."""


@dataclass(frozen=True, slots=True)
class Usage:
    datasets: tuple[int, int]  # (bytes, count)
    models: tuple[int, int]
    exports: tuple[int, int]

    @property
    def total(self) -> int:
        return self.datasets[0] + self.models[0] + self.exports[0]


def usage(session: Session, workspace_id: str) -> Usage:
    return Usage(repo.dataset_totals(session, workspace_id), repo.model_totals(session, workspace_id),
                 repo.export_totals(session, workspace_id))


def workspace_for(session: Session, principal: Principal, owner: str | None) -> Workspace:
    """``owner`` (members only: 403) or the caller's own workspace."""
    return accounts.member_workspace(session, principal, owner, "storage")


def _top_items(session: Session, workspace_id: str) -> list[dict]:
    items = [
        {"_id": d.id, "name": d.name, "slug": d.slug, "sizeBytes": size, "type": "dataset"}
        for d, size in repo.largest_datasets(session, workspace_id, TOP_ITEMS)
    ]
    items += [
        {"_id": m.id, "name": m.name, "slug": m.slug, "sizeBytes": m.weights_size, "type": "model",
         "parentName": p.name, "parentSlug": p.slug}
        for m, p in repo.largest_models(session, workspace_id, TOP_ITEMS)
    ]
    items += [
        {"_id": v.id, "name": f"{d.name} v{v.number}", "slug": f"v{v.number}", "sizeBytes": v.size, "type": "export",
         "parentName": d.name, "parentSlug": d.slug}
        for v, d in repo.largest_exports(session, workspace_id, TOP_ITEMS)
    ]
    items += [
        {"_id": e.id, "name": f"{m.name} ({e.format})", "slug": e.file_name, "sizeBytes": e.size, "type": "export",
         "parentName": m.name, "parentSlug": m.slug}
        for e, m in repo.largest_model_exports(session, workspace_id, TOP_ITEMS)
    ]
    return sorted(items, key=lambda i: (-i["sizeBytes"], i["_id"]))[:TOP_ITEMS]


def info(session: Session, workspace: Workspace, *, quota_mb: int, details: bool) -> dict:
    """The contract's ``StorageInfoResponse``. ``limit`` is the quota in bytes; 0 means unlimited."""
    used = usage(session, workspace.id)
    limit = quota_mb * MB
    percent = round(100 * used.total / limit, 2) if limit else 0
    return {
        "tier": TIER,
        "usage": {"storage": {"current": used.total, "limit": limit, "percent": percent}},
        "updatedAt": clock.iso(clock.now()),
        "breakdown": {
            "byCategory": {
                name: {"bytes": size, "count": count}
                for name, (size, count) in (("datasets", used.datasets), ("models", used.models), ("exports", used.exports))
            },
            "topItems": _top_items(session, workspace.id) if details else [],
        },
        "region": REGION,
        "username": workspace.username,
    }


def _mb(n: int) -> str:
    return f"{n / MB:.1f} MB"


def require_room(session: Session, workspace: Workspace, adding: int, quota_mb: int) -> None:
    """Refuse (``QuotaExceeded``) ``adding`` bytes that would take the workspace over its quota (0: none)."""
    if quota_mb <= 0:
        return
    used = usage(session, workspace.id).total
    if used + adding > quota_mb * MB:
        raise QuotaExceeded(
            f"Storage quota exceeded: workspace '{workspace.username}' uses {_mb(used)} of its {quota_mb} MB quota "
            f"and this upload needs {_mb(adding)} more; delete datasets, models or dataset versions "
            "or ask the server administrator to raise YOLOHOST_STORAGE_QUOTA_MB"
        )
