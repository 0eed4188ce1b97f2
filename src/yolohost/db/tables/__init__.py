"""Every ORM table, imported here so the metadata is complete wherever it is used."""

from yolohost.db.tables.accounts import ApiKey, User, Workspace, WorkspaceMember

__all__ = ["ApiKey", "User", "Workspace", "WorkspaceMember"]
