"""The ``export`` job: run the runner (``python -m yolohost.exports.runner``) as a separate process, here or on a
Ray node, then record the file it made. A failed or cancelled export leaves its model exactly as it was."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import zipfile
from pathlib import Path, PurePosixPath

from sqlalchemy.orm import Session

from yolohost.activity import service as activity
from yolohost.db.tables import Export, Job, Model, Project
from yolohost.exports import service
from yolohost.exports.formats import FORMATS
from yolohost.jobs import execution
from yolohost.jobs.registry import register
from yolohost.kit import clock
from yolohost.models import service as models
from yolohost.usage.service import record_compute

URL_TTL_SECONDS = 24 * 3600  # the signed links a remote runner gets must outlive a long export
_PROGRESS = re.compile(r"^progress (\d+) (.*)$")
_FAILED_PREFIX = "ExportFailed: "


class ExportFailed(Exception):
    """The export could not be made; the message says why."""


def _record_compute(session: Session, export: Export, seconds: float) -> None:
    record_compute(session, export.workspace_id, "export", seconds, subject_id=export.model_id)


def _record_activity(session: Session, export: Export, outcome: str, data: dict | None = None) -> None:
    model = session.get(Model, export.model_id)
    project = session.get(Project, model.project_id) if model else None
    name = f"{project.slug}/{model.slug} {export.format}" if model and project else export.format
    activity.record(session, export.workspace_id, export.user_id, f"export.{outcome}", "export", export.id, name,
                    {"format": export.format, "modelId": export.model_id, **(data or {})})


def _signed_url(settings, path: str) -> str:
    """A link this server honours without a key, for a runner on another machine."""
    try:
        return execution.signed_url(settings, path, URL_TTL_SECONDS)
    except RuntimeError as exc:
        raise ExportFailed(str(exc)) from None


def _start(ctx) -> dict:
    """Mark the export running and gather what the runner needs; fails if the model went away meanwhile."""
    with ctx.transaction() as session:
        export = session.get(Export, ctx.payload["exportId"])
        if export is None:
            raise ExportFailed("the export was deleted before it started")
        model = session.get(Model, export.model_id)
        if model is None or model.deleted_at is not None:
            raise ExportFailed("the model was deleted before the export started")
        if model.weights_sha256 != export.source_sha256:
            raise ExportFailed("the model's weights changed before the export started; export it again")
        export.status, export.started_at = "running", clock.now()
        return {"id": export.id, "format": export.format, "args": dict(export.args or {}), "stem": model.slug,
                "weights_key": models.weights_key(model.id), "file_key": export.file_key,
                "prefix": service.directory(export)}


def _command(ctx, plan: dict) -> list[str]:
    settings, storage = ctx.settings, ctx.storage
    if execution.is_remote(settings):
        weights = _signed_url(settings, f"/files/{plan['weights_key']}")
        output = _signed_url(settings, f"/exports/{plan['id']}/artifact")
    else:
        weights, output = str(storage.path(plan["weights_key"])), str(storage.path(plan["file_key"]))
    return execution.python_command("yolohost.exports.runner", "--weights", weights, "--format", plan["format"],
                                    "--args", json.dumps(plan["args"]), "--output", output, "--name", plan["stem"])


def _unpack(archive: Path, target: Path) -> Path:
    """Extract a directory export for serving; returns the directory it holds."""
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        tops = {PurePosixPath(n).parts[0] for n in names}
        if len(tops) != 1 or any(".." in PurePosixPath(n).parts or n.startswith("/") for n in names):
            raise ExportFailed(f"the exported archive {archive.name} is not one directory")
        zf.extractall(target)
    return target / tops.pop()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _on_failure(session: Session, job: Job) -> None:
    """Mark the export failed or cancelled with the reason; the model is left as it was."""
    export = session.get(Export, (job.payload or {}).get("exportId"))
    if export is None or export.status not in ("queued", "running"):
        return
    now = clock.now()
    export.status = "cancelled" if job.status == "cancelled" else "failed"
    if export.status == "failed":
        export.error = (job.error or "the export failed").removeprefix(_FAILED_PREFIX)
        export.error_at = now
    export.updated_at = now
    if export.started_at is not None:
        started = export.started_at if export.started_at.tzinfo else export.started_at.replace(tzinfo=now.tzinfo)
        export.compute_seconds = max(0.0, (now - started).total_seconds())
        _record_compute(session, export, export.compute_seconds)
    if export.status == "failed":
        _record_activity(session, export, "failed", {"error": export.error})


@register(service.KIND, on_failure=_on_failure)
def run_export(ctx) -> dict:
    plan = _start(ctx)
    fmt = FORMATS[plan["format"]]
    storage = ctx.storage
    errors: list[str] = []
    outcome: dict = {}

    def on_line(line: str) -> None:
        if line.startswith("error: "):
            errors.append(line.removeprefix("error: "))
        elif match := _PROGRESS.match(line):
            ctx.progress(float(match[1]), match[2])
        elif line.startswith("result "):
            outcome.update(json.loads(line.removeprefix("result ")))

    started = time.monotonic()
    try:
        ctx.progress(1, f"exporting to {fmt.label}")
        try:
            execution.run_command(ctx, _command(ctx, plan), env={"YOLO_AUTOINSTALL": "false", "YOLO_OFFLINE": "1"},
                                  on_line=on_line)
        except RuntimeError as exc:
            raise ExportFailed(errors[-1] if errors else str(exc)) from None
        seconds = time.monotonic() - started
        artifact = storage.path(plan["file_key"])
        if not artifact.is_file():
            raise ExportFailed("the export ended without delivering its file")
        size, digest = artifact.stat().st_size, _sha256(artifact)
        serve_key = plan["file_key"]
        if fmt.is_directory:
            unpacked = _unpack(artifact, storage.path(f"{plan['prefix']}/serve"))
            serve_key = unpacked.relative_to(storage.root).as_posix()
        imgsz = outcome.get("imgsz") or []
        with ctx.transaction() as session:
            export = session.get(Export, plan["id"])
            if export is None:
                raise ExportFailed("the export was deleted while it ran")
            now = clock.now()
            export.status, export.completed_at, export.updated_at = "completed", now, now
            export.size, export.sha256, export.serve_key = size, digest, serve_key
            export.imgsz = max(imgsz) if imgsz else None
            export.dynamic = bool(outcome.get("dynamic"))
            export.compute_seconds = seconds
            _record_compute(session, export, seconds)
            _record_activity(session, export, "completed", {"size": size})
    except BaseException:
        shutil.rmtree(storage.path(plan["prefix"]), ignore_errors=True)  # no partial file outlives a failure
        raise
    ctx.log(f"exported {fmt.label}: {size} bytes in {seconds:.1f}s")
    return {"exportId": plan["id"], "size": size, "seconds": round(seconds, 3)}
