"""``yolohost train`` and ``yolohost export``: start work on a running server over its API and wait for it
with a progress bar. They are plain API clients (``--url``, ``--api-key``), so they work from any machine."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import click

FINAL = ("completed", "failed", "cancelled")


class Api:
    def __init__(self, url: str, key: str | None):
        import httpx

        if not key:
            raise click.UsageError("an API key is needed: --api-key, YOLOHOST_API_KEY or ULTRALYTICS_API_KEY")
        self.http = httpx.Client(base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {key}"}, timeout=60)

    def __call__(self, method: str, path: str, **kwargs) -> dict:
        import httpx

        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise click.ClickException(f"{self.http.base_url} did not answer: {exc}") from None
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code >= 400:
            raise click.ClickException(f"{method} {path}: HTTP {response.status_code}: {body.get('error', response.text)}")
        return body


def model_path(ref: str) -> str:
    """``owner/project/model`` (or a model id) as the API path of the model."""
    parts = ref.strip("/").split("/")
    if len(parts) == 1 and parts[0].startswith("mdl_"):
        return f"/api/models/{parts[0]}"
    if len(parts) != 3 or not all(parts):
        raise click.BadParameter(f"'{ref}' is not owner/project/model or a model id", param_hint="MODEL")
    return "/api/models/" + "/".join(parts)


def parse_args(pairs: tuple[str, ...]) -> dict:
    """``key=value`` pairs; values are read as JSON where they parse (numbers, booleans), else kept as text."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"'{pair}' is not key=value", param_hint="--arg")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def bar(status: str, done: float, total: float, unit: str, note: str, width: int = 30) -> str:
    """One frame of a text progress bar: ``running |#######-------| 3/10 epoch  mAP50=0.41``."""
    filled = int(width * min(1.0, done / total)) if total else 0
    count = f"{done:g}/{total:g} {unit}" if total else unit
    return f"{status:<10} |{'#' * filled}{'-' * (width - filled)}| {count}  {note}".rstrip()


def follow(poll: Callable[[], tuple[str, float, float, str]], total: float, unit: str, every: float = 1.0) -> str:
    """Poll ``(status, done, total, note)`` until a final status, redrawing a bar on stderr; returns the status."""
    last = ""
    while True:
        status, done, new_total, note = poll()
        frame = bar(status, done, new_total or total, unit, note)
        if frame != last:
            click.echo("\r" + frame.ljust(len(last)), nl=False, err=True)
            last = frame
        if status in FINAL:
            click.echo(err=True)
            return status
        time.sleep(every)


def train(api: Api, model: str, train_args: dict, gpu: str | None, wait: bool) -> str:
    path = model_path(model)
    model_id = api("GET", path)["model"]["id"]
    body = {"modelId": model_id, "trainArgs": train_args, **({"gpuType": gpu} if gpu else {})}
    started = api("POST", "/api/training/start", json=body)
    click.echo(f"training {model} on {started['gpuType']}")
    if not wait:
        return "starting"

    def poll():
        job = api("GET", f"{path}/training")["job"] or {}
        progress, metrics = job.get("progress", {}), job.get("epochMetrics") or {}
        shown = {k.split("/")[-1]: v for k, v in metrics.items() if k.startswith(("metrics/mAP50", "train/box_loss"))}
        note = " ".join(f"{k}={v:.3g}" for k, v in shown.items())
        return job.get("status", "pending"), progress.get("currentEpoch", 0), progress.get("totalEpochs", 0), note

    try:
        status = follow(poll, train_args.get("epochs", 1), "epoch")
    except KeyboardInterrupt:
        api("DELETE", f"{path}/training")
        click.echo("cancelled")
        return "cancelled"
    job = api("GET", f"{path}/training")["job"]
    if status != "completed" and job.get("error"):
        click.echo(f"{status}: {job['error']['message']}", err=True)
    else:
        click.echo(status)
    return status


def export(api: Api, model: str, fmt: str, args: dict, wait: bool) -> str:
    path = model_path(model)
    created = api("POST", f"{path}/exports", json={"format": fmt, **({"args": args} if args else {})})
    export_id = created["id"]
    click.echo(f"exporting {model} to {fmt} ({export_id})")
    if not wait:
        return created["status"]

    def current() -> dict:
        return api("GET", f"{path}/exports/{export_id}")["export"]

    def poll():
        status = current()["status"]
        return status, 1 if status in FINAL else 0, 1, ""

    try:
        status = follow(poll, 1, "export", every=0.5)
    except KeyboardInterrupt:
        api("DELETE", f"{path}/exports/{export_id}")
        click.echo("cancelled")
        return "cancelled"
    item = current()
    if status == "completed":
        click.echo(f"completed: {item['file']['downloadFilename']}, {item['file']['size']} bytes")
        click.echo(item["file"]["downloadUrl"])
    else:
        click.echo(f"{status}: {item.get('error', {}).get('message', '')}", err=True)
    return status
