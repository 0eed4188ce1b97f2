"""Request bodies of the teams, members and invites routes (the seed reference's field names)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CreateTeamBody(Body):
    username: str = Field(min_length=1, max_length=64)
    fullName: str | None = Field(default=None, max_length=128)


class InviteBody(Body):
    email: str = Field(min_length=1, max_length=256)
    role: str = "viewer"
    owner: str | None = None  # the workspace (a team's username); default: the caller's own


class RoleBody(Body):
    role: str
    owner: str | None = None


class TransferBody(Body):
    userId: str = Field(min_length=1, max_length=64)  # the new owner: a member's user id or username
    owner: str | None = None


class AcceptBody(Body):
    token: str | None = None
