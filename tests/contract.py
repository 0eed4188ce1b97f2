"""Validate response bodies against the Platform contract's schemas (Draft 2020-12)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "contracts" / "platform-openapi.json"


@cache
def _document() -> dict:
    return json.loads(CONTRACT.read_text())


@cache
def _validator(name: str) -> Draft202012Validator:
    doc = _document()
    registry = Registry().with_resource("urn:contract", Resource.opaque(doc))
    schema = {"$ref": f"urn:contract#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate(name: str, body: dict) -> None:
    """Raise ``jsonschema.ValidationError`` if ``body`` is not a valid ``components/schemas/<name>``."""
    _validator(name).validate(body)
