"""Recording events (in the caller's transaction, so an event exists exactly when its change does)
and reading a user's feed with seen and archived marks."""

from __future__ import annotations

import secrets

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from yolohost.db.tables import ActivityEvent, ActivityMark, User
from yolohost.kit import clock

VERBS = {"created": "created", "deleted": "moved to the trash", "restored": "restored", "purged": "deleted for good",
         "cloned": "cloned", "ingested": "finished ingesting", "ingest_failed": "failed to ingest",
         "added": "joined", "removed": "left", "role_changed": "changed role", "transferred": "changed owner",
         "training_started": "started training", "training_completed": "finished training",
         "training_failed": "failed training", "training_cancelled": "had its training cancelled"}


def record(session: Session, workspace_id: str, actor_id: str | None, kind: str, resource_type: str,
           resource_id: str | None, resource_name: str, data: dict | None = None) -> ActivityEvent:
    """Add an event in the current transaction; ``kind`` is ``<resource>.<verb>``, e.g. ``dataset.created``."""
    verb = kind.partition(".")[2]
    event = ActivityEvent(id=secrets.token_hex(12), workspace_id=workspace_id, actor_id=actor_id, kind=kind,
                          resource_type=resource_type, resource_id=resource_id, resource_name=resource_name,
                          message=f"{resource_type} {resource_name} {VERBS.get(verb, verb)}", data=data)
    session.add(event)
    return event


def _mark(session: Session, event_id: str, user_id: str) -> ActivityMark:
    mark = session.get(ActivityMark, (event_id, user_id))
    if mark is None:
        mark = ActivityMark(event_id=event_id, user_id=user_id)
        session.add(mark)
    return mark


def feed(session: Session, workspace_id: str, user_id: str, *, archived: bool, search: str | None, page: int,
         limit: int) -> tuple[list[tuple[ActivityEvent, bool, str | None]], int, int]:
    """(events with seen flag and actor name, total, unseen count) of one page of a user's inbox or archive."""
    mark = and_(ActivityMark.event_id == ActivityEvent.id, ActivityMark.user_id == user_id)
    is_archived = func.coalesce(ActivityMark.archived, False)
    where = [ActivityEvent.workspace_id == workspace_id, is_archived.is_(True) if archived else is_archived.is_(False)]
    if search:
        term = f"%{search.lower()}%"
        where.append(or_(func.lower(ActivityEvent.message).like(term), func.lower(ActivityEvent.kind).like(term),
                         func.lower(ActivityEvent.resource_name).like(term)))
    base = select(ActivityEvent).outerjoin(ActivityMark, mark).where(*where)
    total = session.scalar(select(func.count()).select_from(base.subquery()))
    unseen = session.scalar(select(func.count()).select_from(
        select(ActivityEvent.id).outerjoin(ActivityMark, mark)
        .where(ActivityEvent.workspace_id == workspace_id, is_archived.is_(False),
               func.coalesce(ActivityMark.seen, False).is_(False)).subquery()))
    rows = session.execute(
        select(ActivityEvent, func.coalesce(ActivityMark.seen, False), User.username)
        .outerjoin(ActivityMark, mark).outerjoin(User, User.id == ActivityEvent.actor_id).where(*where)
        .order_by(ActivityEvent.created_at.desc(), ActivityEvent.id.desc()).offset((page - 1) * limit).limit(limit)
    ).all()
    return [(e, bool(seen), actor) for e, seen, actor in rows], total, unseen


def _event_ids(session: Session, workspace_id: str, ids: list[str] | None) -> list[str]:
    query = select(ActivityEvent.id).where(ActivityEvent.workspace_id == workspace_id)
    if ids is not None:
        query = query.where(ActivityEvent.id.in_(ids))
    return list(session.scalars(query))


def mark_seen(session: Session, workspace_id: str, user_id: str, ids: list[str] | None) -> int:
    found = _event_ids(session, workspace_id, ids)
    for event_id in found:
        _mark(session, event_id, user_id).seen = True
    session.flush()
    return len(found)


def archive(session: Session, workspace_id: str, user_id: str, ids: list[str] | None, archived: bool) -> int:
    found = _event_ids(session, workspace_id, ids)
    for event_id in found:
        mark = _mark(session, event_id, user_id)
        mark.archived = archived
        mark.seen = True
    session.flush()
    return len(found)


def describe(event: ActivityEvent, seen: bool, actor: str | None) -> dict:
    return {"id": event.id, "type": event.kind, "resourceType": event.resource_type, "resourceId": event.resource_id,
            "resourceName": event.resource_name, "message": event.message, "actor": actor, "data": event.data or {},
            "seen": seen, "createdAt": clock.iso(event.created_at)}
