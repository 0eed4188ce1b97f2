"""The rules of the trash: list a workspace's trash, restore an item, delete items for good.

Items stay restorable for ``trash_retention_days``; past that they are no longer listed or
restorable (a purge removes them). Files of deleted items go only after the commit.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from yolohost.activity import service as activity
from yolohost.kit.storage import Storage

from yolohost.accounts import repository as accounts_repo
from yolohost.accounts import service as accounts
from yolohost.accounts.service import Principal
from yolohost.db.tables import Workspace
from yolohost.kit import clock
from yolohost.kit.errors import NotFound
from yolohost.trash import kinds as _kinds  # noqa: F401  (registers the built-in kinds)
from yolohost.trash.registry import KINDS, Entry, Kind, Purged, Trashed

REGION = "us"
SUMMARY_KEYS = ("projects", "datasets", "models", "exports")  # the contract's summary.byType


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)  # SQLite gives naive UTC back


def days_remaining(trashed_at: datetime, retention_days: int, now: datetime) -> int:
    left = _aware(trashed_at) + timedelta(days=retention_days) - now
    return max(0, math.ceil(left.total_seconds() / 86400))


def expired(trashed_at: datetime, retention_days: int, now: datetime) -> bool:
    return _aware(trashed_at) + timedelta(days=retention_days) <= now


def workspace_for(session: Session, principal: Principal, owner: str | None) -> Workspace:
    """The workspace whose trash is meant: ``owner``, or the caller's own. Members only (403)."""
    return accounts.member_workspace(session, principal, owner, "trash")


def kinds_for(principal: Principal, type_: str) -> list[Kind]:
    """The kinds a listing covers: one type, or every type the key has the scope for."""
    if type_ != "all":
        kind = KINDS.get(type_)
        if kind is None:
            return []
        principal.require_scope(kind.scope)
        return [kind]
    allowed = [k for k in KINDS.values() if principal.has_scope(k.scope)]
    if not allowed:
        principal.require_scope(next(iter(KINDS.values())).scope)
    return allowed


def _item(entry: Entry, retention_days: int, now: datetime) -> dict:
    item = {
        "_id": entry.id,
        "type": entry.type,
        "name": entry.name,
        "slug": entry.slug,
        "trashedAt": clock.iso(entry.trashed_at),
        "daysRemaining": days_remaining(entry.trashed_at, retention_days, now),
        "sizeBytes": entry.size_bytes,
    }
    if entry.cascaded_count is not None:
        item["cascadedCount"] = entry.cascaded_count
    if entry.parent is not None:
        item["parentProject"] = entry.parent
    return item


def _summary(entries: list[Entry]) -> dict:
    by_type = {key: {"count": 0, "sizeBytes": 0} for key in SUMMARY_KEYS}
    by_type["projects"] = {"count": 0}
    for entry in entries:
        bucket = by_type[KINDS[entry.type].summary_key]
        bucket["count"] += 1
        if "sizeBytes" in bucket:
            bucket["sizeBytes"] += entry.size_bytes
    return {"totalItems": len(entries), "totalSizeBytes": sum(e.size_bytes for e in entries), "byType": by_type}


def list_trash(
    session: Session, principal: Principal, workspace: Workspace, *, type_: str, page: int, limit: int, retention_days: int
) -> dict:
    """The contract's ``ListTrashResponse``: newest trashed first; the summary covers the whole trash."""
    now = clock.now()
    everything = [
        entry
        for kind in kinds_for(principal, "all")
        for entry in kind.entries(session, workspace.id)
        if not expired(entry.trashed_at, retention_days, now)
    ]
    wanted = {k.type for k in kinds_for(principal, type_)}
    entries = sorted((e for e in everything if e.type in wanted), key=lambda e: (_aware(e.trashed_at), e.id), reverse=True)
    start = (page - 1) * limit
    return {
        "items": [_item(e, retention_days, now) for e in entries[start : start + limit]],
        "total": len(entries),
        "page": page,
        "limit": limit,
        "totalPages": math.ceil(len(entries) / limit),
        "summary": _summary(everything),
        "region": REGION,
    }


def _locate(session: Session, principal: Principal, type_: str, item_id: str) -> tuple[Kind, Trashed]:
    """A trashed item the caller may change: 404 if it is not there (or not visible), 403 for viewers."""
    kind = KINDS.get(type_)
    if kind is not None:
        principal.require_scope(kind.scope)
    found = kind.locate(session, item_id) if kind else None
    label = f"{type_.capitalize()} '{item_id}'"
    if found is None:
        raise NotFound(f"{label} not found in the trash")
    accounts.require_write(session, principal, found.workspace, what=f"{label} in the trash")
    return kind, found


def restore(session: Session, principal: Principal, type_: str, item_id: str, retention_days: int) -> dict:
    kind, found = _locate(session, principal, type_, item_id)
    if expired(found.trashed_at, retention_days, clock.now()):
        raise NotFound(f"{type_.capitalize()} '{item_id}' not found in the trash (its {retention_days} days have passed)")
    restored = kind.restore(session, found.resource)
    _record(session, principal, kind, found, "restored")
    return {"success": True} if restored is None else {"success": True, "restoredModels": restored}


def _record(session: Session, principal: Principal, kind: Kind, found: Trashed, verb: str) -> None:
    """An activity event for a trashed resource (``found.resource`` wraps it as .model, .project or .dataset)."""
    item = getattr(found.resource, kind.type)
    activity.record(session, found.workspace.id, principal.user_id, f"{kind.type}.{verb}", kind.type, item.id, item.slug)


def purge_one(session: Session, storage: Storage, principal: Principal, type_: str, item_id: str) -> tuple[dict, list[str]]:
    """Delete one trashed item for good; the response and the storage prefixes to remove after the commit."""
    kind, found = _locate(session, principal, type_, item_id)
    _record(session, principal, kind, found, "purged")
    purged = kind.purge(session, found.resource, storage)
    return _deleted(1, [purged]), list(purged.prefixes)


def purge_all(session: Session, storage: Storage, principal: Principal, owner: str | None) -> tuple[dict, list[str]]:
    """Empty a workspace's trash (the caller's own by default); editors only."""
    if owner:
        workspace = accounts_repo.workspace_by_username(session, owner)
        if workspace is None:
            raise NotFound(f"Workspace '{owner}' not found")
    else:
        workspace = accounts_repo.personal_workspace(session, principal.user_id)
    accounts.require_write(session, principal, workspace, what="Workspace")
    for kind in KINDS.values():
        principal.require_scope(kind.scope)
    results: list[Purged] = []
    for kind in KINDS.values():  # contents before containers
        for entry in kind.entries(session, workspace.id):
            found = kind.locate(session, entry.id)
            if found is not None:
                results.append(kind.purge(session, found.resource, storage))
    return _deleted(len(results), results), [p for r in results for p in r.prefixes]


def _deleted(count: int, results: list[Purged]) -> dict:
    return {"success": True, "deletedCount": count, "cascadedModels": sum(r.cascaded_models for r in results)}
