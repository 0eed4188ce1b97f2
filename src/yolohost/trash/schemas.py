"""Request shapes of the trash routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from yolohost.kit.errors import Invalid
from yolohost.projects.schemas import Body, parse_body

TrashType = Literal["project", "dataset", "model"]


class ItemBody(Body):
    """One trashed resource: ``{"id": ..., "type": ...}``."""

    id: Annotated[str, Field(min_length=1, max_length=128)]
    type: TrashType


def parse_delete(raw: Any) -> ItemBody | None:
    """``{"id", "type"}`` for one item, or ``{"all": true}`` (returns None) for the whole trash."""
    if isinstance(raw, dict) and "all" in raw:
        if raw != {"all": True}:
            raise Invalid('body: send {"id": ..., "type": ...} for one item or {"all": true} for the whole trash')
        return None
    return parse_body(ItemBody, raw)
