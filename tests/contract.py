"""Validate responses against the Platform contract (Draft 2020-12).

- ``validate(name, body)`` checks a body against ``components/schemas/<name>``.
- ``check_response(method, path, status, body)`` finds the contract operation a request hit, and
  checks that the status is one the operation lists and that the body matches its schema.
  The test client runs it on every response it receives (see conftest).

Where the newer SDK (``ultralytics-platform``) expects more than the 0.1.9 file allows, the
schema is widened here, in one visible place (``SDK_ADDITIONS``).
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "contracts" / "platform-openapi.json"

#: schema name -> properties the SDK's types add (the newer revision wins, per the design notes).
SDK_ADDITIONS = {
    "CreateModelResponse": {"name": {"type": "string"}},
}
#: A refused request (429) also carries the seed reference's retry metadata beside "error".
RATE_LIMITED_EXTRAS = ("retryAfter", "resetAt")


@cache
def _document() -> dict:
    doc = json.loads(CONTRACT.read_text())
    doc = copy.deepcopy(doc)
    for name, props in SDK_ADDITIONS.items():
        doc["components"]["schemas"][name]["properties"].update(props)
    return doc


@cache
def _registry() -> Registry:
    return Registry().with_resource("urn:contract", Resource.opaque(_document()))


def _validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator(schema, registry=_registry(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate(name: str, body: dict) -> None:
    """Raise ``jsonschema.ValidationError`` if ``body`` is not a valid ``components/schemas/<name>``."""
    _validator({"$ref": f"urn:contract#/components/schemas/{name}"}).validate(body)


@cache
def _routes() -> list[tuple[re.Pattern, str, dict]]:
    """(regex, template, path item) for every contract path; literal segments win over parameters."""
    routes = []
    for template, item in _document()["paths"].items():
        regex = "^" + re.sub(r"\\\{([^/]+?)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        routes.append((re.compile(regex), template, item))
    routes.sort(key=lambda r: r[1].count("{"))
    return routes


def _params_fit(op: dict, values: dict[str, str]) -> bool:
    """Whether the path values satisfy the operation's parameter schemas (an id is not an owner)."""
    for param in op.get("parameters", []):
        if param.get("in") == "path" and param["name"] in values:
            if list(_validator(_rewrite_refs(param.get("schema", {}))).iter_errors(values[param["name"]])):
                return False
    return True


def operation(method: str, path: str) -> tuple[str, dict] | None:
    """The contract operation a request hit, or None for routes the contract does not describe."""
    for regex, template, item in _routes():
        match = regex.match(path)
        op = item.get(method.lower())
        if match and op and _params_fit(op, match.groupdict()):
            return template, op
    return None


def _rewrite_refs(node):
    if isinstance(node, dict):
        return {k: ("urn:contract" + v if k == "$ref" and v.startswith("#") else _rewrite_refs(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def check_response(method: str, path: str, status: int, body) -> None:
    """Assert the response is one the contract allows for this operation (no-op for paths it lacks)."""
    found = operation(method, path)
    if found is None:
        return
    template, op = found
    responses = op.get("responses", {})
    assert str(status) in responses, f"{method} {template} answered {status}; the contract lists {sorted(responses)}"
    content = responses[str(status)].get("content", {}).get("application/json")
    if status == 429 and isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in RATE_LIMITED_EXTRAS}
    if content and "schema" in content:
        _validator(_rewrite_refs(content["schema"])).validate(body)
