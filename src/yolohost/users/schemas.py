"""Request shapes of the profile settings (``POST /api/settings``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from yolohost.projects.schemas import Body

URL_MAX = 512


def _url_or_empty(value: str) -> str:
    value = value.strip()
    if value and not value.lower().startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL (or empty to clear it)")
    return value


Url = Annotated[str, Field(max_length=URL_MAX), AfterValidator(_url_or_empty)]


class Socials(BaseModel):
    """The contract's ``socials`` of a public profile; an empty string clears one."""

    model_config = ConfigDict(extra="forbid")

    github: Url | None = None
    linkedin: Url | None = None
    twitter: Url | None = None
    discord: Annotated[str, Field(max_length=64)] | None = None
    youtube: Url | None = None
    scholar: Url | None = None
    website: Url | None = None


class SettingsBody(Body):
    """Fields to change; absent ones stay, empty strings clear (``fullName`` cannot be empty)."""

    fullName: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    bio: Annotated[str, Field(max_length=1000)] | None = None
    company: Annotated[str, Field(max_length=128)] | None = None
    useCase: Annotated[str, Field(max_length=128)] | None = None
    socials: Socials | None = None
