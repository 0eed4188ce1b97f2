"""What can be in the trash. Each domain registers a ``Kind``: how to list, find, restore and purge
its trashed resources. Adding datasets is one more ``register`` call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from yolohost.db.tables import Workspace


@dataclass(frozen=True, slots=True)
class Entry:
    """One item as the trash lists it (the contract's ``ListTrashResponse`` item)."""

    id: str
    type: str
    name: str
    slug: str
    trashed_at: datetime
    size_bytes: int = 0
    cascaded_count: int | None = None
    parent: dict[str, str] | None = None  # {"_id", "name", "slug"} of a model's project


@dataclass(frozen=True, slots=True)
class Trashed:
    """A trashed resource found by id: the domain's own object, its workspace, when it was trashed."""

    resource: Any
    workspace: Workspace
    trashed_at: datetime


@dataclass(frozen=True, slots=True)
class Purged:
    """What a permanent delete removed: storage prefixes to delete after the commit, models removed with it."""

    prefixes: list[str] = field(default_factory=list)
    cascaded_models: int = 0


@dataclass(frozen=True, slots=True)
class Kind:
    type: str  # the contract's `type`: "project", "dataset", "model"
    summary_key: str  # its key in `summary.byType`: "projects", ...
    scope: str  # the API-key scope its routes need
    entries: Callable[[Session, str], list[Entry]]  # the trashed items of a workspace (by id)
    locate: Callable[[Session, str], Trashed | None]  # a trashed resource by id
    restore: Callable[[Session, Any], int | None]  # -> models restored with it (None: not applicable)
    purge: Callable[[Session, Any, Any], Purged]  # (session, resource, storage): may read files, deletes none


#: type -> kind, in purge order: contents before their containers (models before projects).
KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> None:
    KINDS[kind.type] = kind
