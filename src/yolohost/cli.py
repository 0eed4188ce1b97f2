"""The ``yolohost`` command. Imports stay inside commands so ``yolohost --help`` answers at once."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import click


def _settings():
    from yolohost.config import Settings

    return Settings()


@contextmanager
def _session():
    """A migrated database and one transaction, for the operator commands."""
    from yolohost.bootstrap import open_database, prepare
    from yolohost.db.engine import make_sessionmaker, transaction
    from yolohost.kit.errors import AppError

    settings = _settings()
    engine = open_database(settings)
    try:
        _announce_owner_key(settings.owner, prepare(engine, settings.owner))
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        engine.dispose()


def _announce_owner_key(owner: str, key: str | None) -> None:
    if key:
        click.echo(f"Created the owner account '{owner}'. Its API key, shown only this once:")
        click.echo(f"  {key}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="yolohost")
def main() -> None:
    """yolohost: a self-hosted Ultralytics HUB and Platform API for YOLO models.

    Configuration comes from YOLOHOST_* environment variables (YOLOHOST_DATA_DIR,
    YOLOHOST_DATABASE_URL, YOLOHOST_REDIS_URL, YOLOHOST_OWNER, ...).
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="TCP port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Server processes.")
@click.option("--log-level", default="info", show_default=True)
def serve(host: str, port: int, workers: int, log_level: str) -> None:
    """Start the API server (migrates the database and creates the owner on first start)."""
    import uvicorn

    from yolohost.bootstrap import open_database, prepare

    settings = _settings()
    engine = open_database(settings)
    _announce_owner_key(settings.owner, prepare(engine, settings.owner))
    _reap_jobs_of_dead_workers(engine, settings)
    engine.dispose()
    worker_env = dict(os.environ)
    if not settings.public_url:  # trainers the workers start report back over HTTP; tell them where
        local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        worker_env["YOLOHOST_PUBLIC_URL"] = f"http://{local}:{port}"
    # Training runs for hours: it gets workers of its own, so ingests and exports never wait behind it.
    separate = ("--skip", "training") if settings.training_workers else ()
    job_workers = [_spawn_worker(worker_env, *separate) for _ in range(settings.job_workers)]
    job_workers += [_spawn_worker(worker_env, "--only", "training") for _ in range(settings.training_workers)]
    click.echo(f"yolohost serving on http://{host}:{port} (data in {settings.data_dir.resolve()}, "
               f"{settings.job_workers} job worker(s), {settings.training_workers} for training)")
    try:
        uvicorn.run(
            "yolohost.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            proxy_headers=False,
        )
    finally:
        for proc in job_workers:
            proc.terminate()
        for proc in job_workers:
            proc.wait(30)


def _spawn_worker(env: dict[str, str], *args: str):
    """A job worker that ends with this process, however it ends (uvicorn re-raises SIGTERM, so no
    cleanup code is sure to run here): Linux's parent-death signal, and the worker's own parent check."""
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", "yolohost", "worker", "--exit-with-parent", *args], env=env,
                            preexec_fn=_die_with_parent if sys.platform == "linux" else None)


def _die_with_parent() -> None:
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _reap_jobs_of_dead_workers(engine, settings) -> None:
    """Jobs left 'running' by a stopped server are failed with a reason, never left running."""
    from yolohost.db.engine import make_sessionmaker, transaction
    from yolohost.jobs import service as jobs

    with transaction(make_sessionmaker(engine)) as session:
        for job_id in jobs.reap(session, settings.job_stale_seconds):
            click.echo(f"job {job_id} was running when its worker stopped: marked failed")


@main.command()
@click.option("--exit-with-parent", is_flag=True, help="Stop when the process that started this one is gone.")
@click.option("--only", "only", multiple=True, metavar="KIND", help="Run only jobs of this kind (repeatable).")
@click.option("--skip", "skip", multiple=True, metavar="KIND", help="Never run jobs of this kind (repeatable).")
def worker(exit_with_parent: bool, only: tuple[str, ...], skip: tuple[str, ...]) -> None:
    """Run a job worker (``yolohost serve`` starts YOLOHOST_JOB_WORKERS of them, plus
    YOLOHOST_TRAINING_WORKERS that run only training)."""
    import logging
    import os
    import signal
    import threading

    from yolohost.jobs.worker import run_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    parent = os.getppid() if exit_with_parent else None
    run_forever(_settings(), stop, parent_pid=parent, kinds=(set(only) or None, set(skip)))


@main.command()
def migrate() -> None:
    """Bring the database schema to the newest revision."""
    with _session():
        pass
    click.echo("database is at the newest revision")


@main.group()
def users() -> None:
    """Manage users (each has a personal workspace of the same name)."""


@users.command("create")
@click.argument("username")
@click.option("--name", help="Display name (default: the username).")
@click.option("--admin", is_flag=True, help="Make the user a server administrator.")
def users_create(username: str, name: str | None, admin: bool) -> None:
    """Create a user."""
    from yolohost.accounts import service

    with _session() as session:
        user = service.create_user(session, username, name, is_admin=admin)
        click.echo(f"created user {user.username} ({user.id})")


@users.command("list")
def users_list() -> None:
    """List users."""
    from yolohost.accounts import repository

    with _session() as session:
        for user in repository.list_users(session):
            click.echo(f"{user.id}  {user.username}{'  (admin)' if user.is_admin else ''}")


@main.group()
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.option("--user", "username", required=True, help="The user the key acts as.")
@click.option("--name", default="cli", show_default=True, help="A label for the key.")
@click.option("--scope", "scopes", multiple=True, help="Limit the key to a scope (repeatable); default: all.")
def keys_create(username: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create a key; the key itself is the last line of the output (shown only once)."""
    from yolohost.accounts import service

    with _session() as session:
        user = service.get_user(session, username)
        key, plaintext = service.create_key(session, user, name, list(scopes) or None)
        click.echo(f"created key {key.id} for {user.username}" + (f" (scopes: {', '.join(key.scopes)})" if key.scopes else ""))
        click.echo(plaintext)


@keys.command("list")
@click.option("--user", "username", help="Only this user's keys.")
def keys_list(username: str | None) -> None:
    """List active keys (never the keys themselves: only their prefixes)."""
    from yolohost.accounts import repository, service
    from yolohost.kit.clock import iso

    with _session() as session:
        user_id = service.get_user(session, username).id if username else None
        names = {u.id: u.username for u in repository.list_users(session)}
        for key in repository.active_keys(session, user_id):
            scopes = ",".join(key.scopes) if key.scopes else "all"
            click.echo(
                f"{key.id}  {key.key_prefix}...  user={names.get(key.user_id)}  name={key.name}  scopes={scopes}  "
                f"created={iso(key.created_at)}  last_used={iso(key.last_used_at) or 'never'}"
            )


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by its id."""
    from yolohost.accounts import service

    with _session() as session:
        service.revoke_key(session, key_id)
        click.echo(f"revoked {key_id}")


@main.group()
def models() -> None:
    """Manage models."""


@models.command("add")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--project", required=True, help="Project slug (created if missing) or project id.")
@click.option("--name", help="Display name (default: the file name); the model slug is made from it.")
@click.option("--user", "username", help="Act as this user (default: the owner account).")
@click.option("--owner", help="Workspace to add to (default: the user's own).")
def models_add(path: Path, project: str, name: str | None, username: str | None, owner: str | None) -> None:
    """Register a model from an Ultralytics checkpoint (.pt); prints its ul:// URI last."""
    from yolohost.accounts import service as accounts
    from yolohost.inference.runtime import inspect_checkpoint
    from yolohost.kit.errors import AppError
    from yolohost.kit.storage import Storage
    from yolohost.models import service

    settings = _settings()
    try:
        info = inspect_checkpoint(path)
    except AppError as exc:
        raise click.ClickException(exc.message) from None
    with _session() as session:
        user = accounts.get_user(session, username or settings.owner)
        principal = accounts.Principal(user.id, user.username, key_id="cli", scopes=None, is_admin=user.is_admin)
        located = service.create(session, principal, project=project, owner=owner, name=name or path.stem, task=info.task)
        service.attach_weights(session, Storage(settings.files_dir), located, path, info)
        click.echo(f"added {located.model.id} ({info.task}, {len(info.class_names)} classes)")
        click.echo(f"ul://{located.uri}")


@main.group()
def trash() -> None:
    """Manage the trash."""


@trash.command("purge")
def trash_purge() -> None:
    """Delete for good, with their files, the trashed items older than YOLOHOST_TRASH_RETENTION_DAYS."""
    from yolohost.bootstrap import open_database, prepare
    from yolohost.db.engine import make_sessionmaker
    from yolohost.kit.storage import Storage
    from yolohost.trash.retention import purge_expired

    settings = _settings()
    engine = open_database(settings)
    try:
        _announce_owner_key(settings.owner, prepare(engine, settings.owner))
        counts = purge_expired(make_sessionmaker(engine), Storage(settings.files_dir), settings.trash_retention_days)
    finally:
        engine.dispose()
    click.echo(
        f"purged {counts['project']} project(s) (with {counts['cascadedModels']} model(s)), {counts['model']} model(s), "
        f"{counts['dataset']} dataset(s) trashed more than {settings.trash_retention_days} days ago"
    )


# --- API clients: start work on a running server and wait for it --------------------------------

_url_option = click.option("--url", envvar="YOLOHOST_URL", default="http://127.0.0.1:8000", show_default=True,
                           help="The server (env YOLOHOST_URL).")
_key_option = click.option("--api-key", envvar=["YOLOHOST_API_KEY", "ULTRALYTICS_API_KEY"],
                           help="An API key (env YOLOHOST_API_KEY or ULTRALYTICS_API_KEY).")
_wait_option = click.option("--wait/--no-wait", default=True, show_default=True, help="Follow it to the end.")
_arg_option = click.option("--arg", "extra", multiple=True, metavar="KEY=VALUE", help="Any other argument; repeatable.")


@main.command()
@click.argument("model")
@click.option("--data", required=True, help="ul://owner/datasets/slug, or a dataset slug of the model's workspace.")
@click.option("--epochs", type=click.IntRange(min=1), required=True)
@click.option("--base", default="yolo11n.yaml", show_default=True,
              help="What to start from: an architecture .yaml, a ul:// model, or a .pt in DATA_DIR/weights.")
@click.option("--imgsz", type=click.IntRange(min=32))
@click.option("--batch", type=int)
@click.option("--gpu", help="A device id from /api/training/gpu-availability (cpu, cuda:0, ...).")
@_arg_option
@_wait_option
@_url_option
@_key_option
def train(model, data, epochs, base, imgsz, batch, gpu, extra, wait, url, api_key) -> None:
    """Train MODEL (owner/project/model) on the server, showing its progress."""
    from yolohost import remote

    args = {"model": base, "data": data, "epochs": epochs, **remote.parse_args(extra)}
    args.update({k: v for k, v in (("imgsz", imgsz), ("batch", batch)) if v is not None})
    status = remote.train(remote.Api(url, api_key), model, args, gpu, wait)
    raise SystemExit(0 if status in ("completed", "starting") else 1)


@main.command()
@click.argument("model")
@click.option("--format", "fmt", required=True, help="onnx, torchscript, openvino, ...")
@_arg_option
@_wait_option
@_url_option
@_key_option
def export(model, fmt, extra, wait, url, api_key) -> None:
    """Export MODEL (owner/project/model) on the server, showing its progress."""
    from yolohost import remote

    status = remote.export(remote.Api(url, api_key), model, fmt, remote.parse_args(extra), wait)
    raise SystemExit(0 if status in ("completed", "queued", "running") else 1)
