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
