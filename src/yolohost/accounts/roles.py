"""Workspace roles and API-key scopes: the vocabulary of authorization."""

from __future__ import annotations

from enum import IntEnum


class Role(IntEnum):
    """Ordered: each role can do everything the ones below it can."""

    viewer = 1  # read
    editor = 2  # create, change, delete resources
    admin = 3  # manage members
    owner = 4  # the workspace's owner; cannot be removed


MEMBER_ROLES = ("viewer", "editor", "admin")

#: What an API key may be limited to. A key without scopes may do everything its user may.
SCOPES = ("account", "projects", "models", "datasets", "predict", "training", "exports", "deployments")
