"""Identifiers and handles."""

from __future__ import annotations

import re
import secrets

#: Workspace handles (``owner`` in paths): the contract's pattern for owners.
HANDLE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HANDLE_MIN, HANDLE_MAX = 4, 32


def new_id(prefix: str) -> str:
    """A random id with a readable type prefix, e.g. ``key_3f9a...``."""
    return f"{prefix}_{secrets.token_hex(12)}"


def check_handle(value: str, field: str = "username") -> str:
    """Return ``value`` if it is a valid workspace handle, else raise ``Invalid`` naming the rule."""
    from yolohost.kit.errors import Invalid

    if not (HANDLE_MIN <= len(value) <= HANDLE_MAX) or not HANDLE_RE.match(value):
        raise Invalid(
            f"{field} must be {HANDLE_MIN}-{HANDLE_MAX} characters of lowercase letters, digits and "
            f"single hyphens (not at either end); got {value!r}"
        )
    return value


SLUG_MAX = 128


def check_slug(value: str, field: str) -> str:
    """A project/model/dataset slug as the contract's paths allow it."""
    from yolohost.kit.errors import Invalid

    if not (1 <= len(value) <= SLUG_MAX) or not HANDLE_RE.match(value):
        raise Invalid(
            f"{field} must be 1-{SLUG_MAX} characters of lowercase letters, digits and single hyphens; got {value!r}"
        )
    return value


def slugify(text: str) -> str:
    """A valid slug made from any name, e.g. ``"YOLO11n v2.pt"`` -> ``"yolo11n-v2-pt"``."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:SLUG_MAX].strip("-")
    return slug or "model"
