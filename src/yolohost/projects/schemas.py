"""Request shapes of the projects routes, and the field types models share with them.

Bodies are parsed by ``parse_body``: unknown fields are refused naming them (a typo must not be
silently ignored), ``null`` only where the contract allows it, and every other error names its field.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from yolohost.kit.errors import Invalid
from yolohost.kit.http import describe_validation_error

LICENSES = (
    "None", "Apache-2.0", "MIT", "BSD-3-Clause", "AGPL-3.0", "GPL-3.0", "LGPL-3.0", "MPL-2.0",
    "EUPL-1.1", "Unlicense", "CC0-1.0", "Ultralytics-Enterprise", "Other",
)
METADATA_MAX_CHARS = 500_000
METADATA_KEY_MAX = 128
_NAME_RE = re.compile(r"^(?=.*\S)[^\u0000-\u001f\u007f]+$")
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _check_name(value: str) -> str:
    if not _NAME_RE.match(value):
        raise ValueError("must contain a visible character and no control characters")
    return value


def _check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    long_keys = [k for k in value if len(k) > METADATA_KEY_MAX]
    if long_keys:
        raise ValueError(f"keys must be at most {METADATA_KEY_MAX} characters (got {long_keys[0][:40]!r}...)")
    if len(json.dumps(value, separators=(",", ":"))) > METADATA_MAX_CHARS:
        raise ValueError(f"must be at most {METADATA_MAX_CHARS:,} characters as JSON")
    return value


Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_check_name)]
Description = Annotated[str, Field(max_length=1000)]
Metadata = Annotated[dict[str, Any], AfterValidator(_check_metadata)]
Tags = Annotated[list[Annotated[str, Field(max_length=50)]], Field(max_length=50)]
License = Literal[LICENSES]  # type: ignore[valid-type]
Visibility = Literal["public", "private"]
Slug = Annotated[str, Field(min_length=1, max_length=128, pattern=SLUG_PATTERN)]
Owner = Annotated[str, Field(min_length=4, max_length=32, pattern=SLUG_PATTERN)]


class Body(BaseModel):
    """A request body: ``NULLABLE`` fields may be sent as ``null``; ``UNSUPPORTED`` are known but refused."""

    NULLABLE: ClassVar[tuple[str, ...]] = ()
    UNSUPPORTED: ClassVar[tuple[str, ...]] = ()


B = TypeVar("B", bound=Body)


def parse_body(model: type[B], raw: Any) -> B:
    """Validate a JSON body strictly; only the fields the client sent count (``model_fields_set``)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise Invalid("body: expected a JSON object")
    known = list(model.model_fields)
    unknown = sorted(set(raw) - set(known) - set(model.UNSUPPORTED))
    if unknown:
        raise Invalid(f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; allowed: {', '.join(known)}")
    unsupported = sorted(set(raw) & set(model.UNSUPPORTED))
    if unsupported:
        raise Invalid(f"{', '.join(unsupported)}: not supported by this server yet")
    nulls = sorted(k for k, v in raw.items() if v is None and k not in model.NULLABLE)
    if nulls:
        raise Invalid(f"{nulls[0]}: must not be null")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise Invalid(describe_validation_error(exc)) from None


def sent(body: Body) -> dict[str, Any]:
    """The fields the client sent, by name."""
    return {name: getattr(body, name) for name in body.model_fields_set}


class ViewPreferencesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sortBy: Literal["newest", "oldest", "name-asc", "name-desc", "size-asc", "size-desc"] | None = None
    groupBy: Literal["none", "task"] | None = None
    statusFilter: Literal["all", "completed", "untrained", "running", "starting", "failed"] | None = None


class CreateProjectBody(Body):
    """The contract's create, plus the seed reference's ``slug`` for ``project``."""

    project: Slug | None = None
    slug: Slug | None = None
    name: Name | None = None
    description: Description | None = None
    metadata: Metadata | None = None
    visibility: Visibility | None = None
    tags: Tags | None = None
    license: License | None = None
    owner: Owner | None = None


class UpdateProjectBody(Body):
    NULLABLE: ClassVar[tuple[str, ...]] = ("iconLetter",)

    starred: bool | None = None
    name: Name | None = None
    description: Description | None = None
    metadata: Metadata | None = None
    visibility: Visibility | None = None
    tags: Tags | None = None
    license: License | None = None
    archived: bool | None = None
    iconColor: Annotated[str, Field(max_length=50)] | None = None
    iconLetter: Annotated[str, Field(max_length=2)] | None = None
    viewPreferences: ViewPreferencesBody | None = None


class CloneProjectBody(Body):
    name: Name | None = None
    description: Description | None = None
    visibility: Visibility | None = None
    owner: Owner | None = None
    project: Slug | None = None
    license: License | None = None
    models: Annotated[list[Annotated[str, Field(min_length=1, max_length=128)]], Field(max_length=1000)] | None = None
