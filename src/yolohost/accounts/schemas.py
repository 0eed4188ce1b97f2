"""Request and response shapes of the accounts routes (the contract's names and fields)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountCounts(BaseModel):
    projects: int
    datasets: int
    models: int


class TeamSummary(BaseModel):
    userId: str
    username: str
    fullName: str
    plan: str
    region: Literal["us", "eu", "ap"]
    role: Literal["viewer", "editor", "admin", "owner"]


class AccountSummaryResponse(BaseModel):
    username: str
    name: str
    accountType: Literal["personal", "team"]
    plan: Literal["free", "pro", "enterprise"]
    creditsCents: int
    counts: AccountCounts
    teams: list[TeamSummary]


class ApiKeyItem(BaseModel):
    keyId: str
    name: str
    keyPrefix: str
    createdAt: str


class ListApiKeysResponse(BaseModel):
    keys: list[ApiKeyItem]


class CreateApiKeyRequest(Strict):
    name: str = Field(min_length=1, max_length=128)
    scopes: list[str] | None = None


class CreateApiKeyResponse(BaseModel):
    keyId: str
    name: str
    key: str
    keyPrefix: str
    scopes: list[str] | None
    createdAt: str


class DeleteApiKeyResponse(BaseModel):
    success: bool
    keyId: str
