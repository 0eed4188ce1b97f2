"""The ``gdpr_export`` job: a ZIP of every row and file of an account, written to storage.

The archive holds ``manifest.json``, ``tables/<table>.json`` (the rows, secrets such as key
hashes left out) and ``files/`` (checkpoints, dataset images as ``files/datasets/<datasetId>/
<split>/<filename>``, frozen versions, staged uploads...). A user keeps one archive: when a new
export completes, the older ones are removed.
"""

from __future__ import annotations

import base64
import json
import os
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from yolohost import __version__
from yolohost.db.tables import Job, User
from yolohost.gdpr import files, footprint
from yolohost.gdpr.footprint import Footprint
from yolohost.jobs.registry import register
from yolohost.kit import clock
from yolohost.kit.storage import Storage

EXPORT = "gdpr_export"
SECRET_WORDS = ("secret", "password", "credential", "token")
README = """This archive holds every record and file of the yolohost account '{username}', exported {at}.

manifest.json          what is inside: row counts per table, the files
tables/<table>.json    the rows, one JSON array per table (key and invite hashes are left out)
files/datasets/...     dataset images, as <datasetId>/<split>/<filename>
files/models/...       model checkpoints, by model id
files/...              other stored files under their storage keys (frozen dataset versions, uploads, ...)
"""


def folder(job_id: str) -> str:
    return f"{files.EXPORTS_AREA}/{job_id}"


def _secret(column: str) -> bool:
    """Key and invite hashes and anything named like a secret stay out of the archive."""
    return (column.endswith("_hash") and column != "content_hash") or any(w in column for w in SECRET_WORDS)


def _plain(value):
    if isinstance(value, datetime):
        return clock.iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _write_table(zf: zipfile.ZipFile, session, table, pks) -> int:
    count = 0
    with zf.open(f"tables/{table.name}.json", "w", force_zip64=True) as out:
        out.write(b"[")
        for row in footprint.rows(session, table, pks):
            item = {k: _plain(v) for k, v in row.items() if not _secret(k)}
            out.write((b",\n" if count else b"\n") + json.dumps(item, ensure_ascii=False, default=str).encode())
            count += 1
        out.write(b"\n]\n")
    return count


def _file_list(session, storage: Storage, fp: Footprint) -> list[tuple[str, Path]]:
    """(name in the archive, path) of every stored file of the footprint."""
    found: dict[str, Path] = {}
    stored = list(files.images(session, fp))
    for image in stored:
        path = storage.path(image.key)
        if path.is_file():
            found.setdefault(f"files/datasets/{image.dataset_id}/{image.split}/{image.filename}", path)
    live = {(i.sha256, i.ext) for i in stored}
    for sha, ext in sorted(files.snapshot_blobs(storage, files.owned_dataset_ids(fp)) - live):
        key = files.blob_key(sha, "." + ext)
        if storage.path(key).is_file():
            found.setdefault(f"files/{key}", storage.path(key))
    keys = files.id_folders(storage, fp.ids(), skip=(files.EXPORTS_AREA,)) + files.column_keys(session, storage, fp)
    for key in keys:
        for sub, path in files.files_under(storage, key):
            found.setdefault(f"files/{sub}", path)
    return sorted(found.items())


def write_archive(ctx, session, user: User, target: Path) -> dict:
    """Write the account's archive to ``target``; returns its manifest."""
    fp = footprint.walk(session, {User.__table__: {(user.id,)}})
    exported = {table: set(pks) for table, pks in fp.owned.items()}
    for (table, _), linked in fp.links.items():  # rows elsewhere that point at the user: their events, invites
        exported.setdefault(table, set()).update(linked)
    at = clock.iso(clock.now())
    counts: dict[str, int] = {}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for table in footprint.tables():
            if exported.get(table):
                ctx.check_cancelled()
                counts[table.name] = _write_table(zf, session, table, exported[table])
        ctx.progress(20, f"wrote {sum(counts.values())} rows of {len(counts)} tables")
        stored = _file_list(session, ctx.storage, fp)
        listed = []
        for i, (name, path) in enumerate(stored, 1):
            ctx.check_cancelled()
            zf.write(path, name, compress_type=zipfile.ZIP_STORED)
            listed.append({"path": name, "size": path.stat().st_size})
            if i % 50 == 0 or i == len(stored):
                ctx.progress(20 + 79 * i / len(stored), f"copied {i} of {len(stored)} files")
        manifest = {"user": {"id": user.id, "username": user.username}, "exportedAt": at,
                    "server": f"yolohost {__version__}", "tables": counts, "files": listed}
        zf.writestr("manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
        zf.writestr("README.txt", README.format(username=user.username, at=at))
    return manifest


@register(EXPORT)
def run(ctx) -> dict:
    user_id = ctx.payload["userId"]
    with ctx.transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise RuntimeError("the account no longer exists")
        key = f"{folder(ctx.job_id)}/yolohost-export-{user.username}-{clock.now():%Y%m%d}.zip"
        target = ctx.storage.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".tmp-{target.name}")
        try:
            manifest = write_archive(ctx, session, user, partial)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        older = list(session.scalars(select(Job.id).where(Job.kind == EXPORT, Job.user_id == user_id,
                                                          Job.id != ctx.job_id)))
    for job_id in older:  # one archive per account: the newest
        ctx.storage.delete_tree(folder(job_id))
    return {"key": key, "sizeBytes": target.stat().st_size, "tables": manifest["tables"],
            "fileCount": len(manifest["files"])}
