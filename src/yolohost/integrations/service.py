"""The rules of storage integrations and Roboflow import on a server without outside network access.

Bodies are checked as the contract describes them, so a client learns what is wrong with its
request first; then the answer says what this server does not do. Nothing here opens a network
connection, so no request waits on a provider:

- cloud buckets (GCS, Amazon S3, Azure Blob): none can be connected; the list is empty, connecting
  or discovering answers 400 "not supported by this server", an integration id is never found;
- Roboflow: preview answers 502 and import 503 (the contract's statuses for a failed or unavailable
  upstream): both need api.roboflow.com.
"""

from __future__ import annotations

import re

from yolohost.kit.errors import AppError, Invalid, NotFound, Unavailable

#: The contract's providers and the credential fields each needs, with their longest length.
PROVIDERS: dict[str, dict[str, int]] = {
    "gcs": {"client_email": 254, "private_key": 4096, "project_id": 100},
    "s3": {"access_key_id": 100, "secret_access_key": 4096, "region": 100},
    "azure": {"connection_string": 4096},
}
MAX_TARGETS = 50
TARGET_MAX = 222
ID_RE = re.compile(r"^[0-9a-fA-F]{24}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
AWS_REGION_RE = re.compile(r"^[a-z]{2,4}(?:-[a-z0-9]+)+-\d+$")
ROBOFLOW_FIELDS = {"workspace": 128, "projectId": 128, "projectName": 100, "projectType": 100}
ROBOFLOW_ITEMS_MAX = 500

NO_BUCKETS = ("Cloud storage integrations are not supported by this server: it does not connect to "
              "GCS, Amazon S3 or Azure Blob Storage (S3-compatible buckets may come later). Upload files "
              "instead: POST /api/upload/signed-url, then ingest them into a dataset.")
NO_ROBOFLOW = ("Roboflow import needs network access to api.roboflow.com, which this server does not have. "
               "Export the dataset from Roboflow in YOLO format, then upload and ingest the archive "
               "(POST /api/upload/signed-url, POST /api/datasets/{owner}/{dataset}/ingest).")


class UpstreamFailed(AppError):
    """The contract's 502: a request to an outside service failed (here: cannot be made)."""

    status = 502


def _object(raw, what: str = "body") -> dict:
    if not isinstance(raw, dict):
        raise Invalid(f"{what}: expected a JSON object")
    return raw


def _text(value, field: str, max_length: int, *, required: bool = True) -> str | None:
    """A non-blank string of at most ``max_length`` characters (the contract's pattern and maxLength)."""
    if value is None and not required:
        return None
    if value is None:
        raise Invalid(f"{field} is required")
    if not isinstance(value, str):
        raise Invalid(f"{field} must be a string")
    if not value.strip():
        raise Invalid(f"{field} must not be blank")
    if len(value) > max_length:
        raise Invalid(f"{field} must be at most {max_length} characters")
    return value.strip()


def _provider(body: dict) -> str:
    provider = body.get("provider")
    if provider is None:
        raise Invalid(f"provider is required: one of {', '.join(PROVIDERS)}")
    if provider not in PROVIDERS:
        raise Invalid(f"provider must be one of {', '.join(PROVIDERS)}; got {provider!r}")
    return provider


def _credentials(provider: str, raw) -> dict[str, str]:
    """The provider's credential fields, checked for shape only (never echoed back: they are secrets)."""
    fields = PROVIDERS[provider]
    if raw is None:
        raise Invalid(f"credentials is required: an object with {', '.join(fields)} for provider '{provider}'")
    raw = _object(raw, "credentials")
    found = {}
    for name, max_length in fields.items():
        if raw.get(name) is None:
            raise Invalid(f"credentials.{name} is required for provider '{provider}'")
        found[name] = _text(raw[name], f"credentials.{name}", max_length)
    if provider == "gcs" and not EMAIL_RE.match(found["client_email"].strip("'\" ")):
        raise Invalid("credentials.client_email must be a service account email address")
    if provider == "s3":
        if not AWS_REGION_RE.match(found["region"].strip("'\" ")):
            raise Invalid("credentials.region must be an AWS region such as us-east-1")
        if found["access_key_id"].strip("'\" ").startswith("ASIA"):
            raise Invalid("credentials.access_key_id: temporary (ASIA...) keys are not accepted; use a long-term key")
    return found


def _targets(raw) -> list[str]:
    if raw is None:
        raise Invalid(f"targets is required: 1-{MAX_TARGETS} bucket or container names")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_TARGETS:
        raise Invalid(f"targets must be a list of 1-{MAX_TARGETS} bucket or container names")
    return [_text(t, f"targets[{i}]", TARGET_MAX) for i, t in enumerate(raw)]


def check_integration_id(integration_id: str) -> str:
    if not ID_RE.match(integration_id):
        raise Invalid(f"id must be a 24-character hexadecimal integration id; got {integration_id!r}")
    return integration_id


# --- buckets ----------------------------------------------------------------------------------------


def list_buckets() -> list[dict]:
    return []


def connect_bucket(raw) -> None:
    body = _object(raw)
    provider = _provider(body)
    _credentials(provider, body.get("credentials"))
    _targets(body.get("targets"))
    raise Invalid(NO_BUCKETS)


def discover_buckets(raw) -> None:
    body = _object(raw)
    provider = _provider(body)
    _credentials(provider, body.get("credentials"))
    raise Invalid(NO_BUCKETS)


def find_bucket(integration_id: str) -> None:
    """No integration exists on this server: every well-formed id is unknown."""
    check_integration_id(integration_id)
    raise NotFound(f"Integration '{integration_id}' not found (this server has no cloud storage integrations)")


def update_bucket(integration_id: str, raw) -> None:
    check_integration_id(integration_id)
    body = _object(raw)
    if not isinstance(body.get("processing"), bool):
        raise Invalid("processing is required: true or false")
    find_bucket(integration_id)


# --- Roboflow ---------------------------------------------------------------------------------------


def _items(raw) -> list[dict]:
    if raw is None:
        raise Invalid(f"items is required: 1-{ROBOFLOW_ITEMS_MAX} Roboflow projects to import")
    if not isinstance(raw, list) or not 1 <= len(raw) <= ROBOFLOW_ITEMS_MAX:
        raise Invalid(f"items must be a list of 1-{ROBOFLOW_ITEMS_MAX} Roboflow projects")
    for i, item in enumerate(raw):
        item = _object(item, f"items[{i}]")
        for name, max_length in ROBOFLOW_FIELDS.items():
            _text(item.get(name), f"items[{i}].{name}", max_length)
        _text(item.get("latestVersionName"), f"items[{i}].latestVersionName", 100, required=False)
        version = item.get("latestVersion")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise Invalid(f"items[{i}].latestVersion must be a positive integer")
    return raw


def roboflow_preview(raw) -> None:
    body = _object(raw)
    _text(body.get("apiKey"), "apiKey", 128)
    raise UpstreamFailed(NO_ROBOFLOW)


def roboflow_import(raw) -> None:
    body = _object(raw)
    _text(body.get("apiKey"), "apiKey", 128)
    _items(body.get("items"))
    raise Unavailable(NO_ROBOFLOW)
