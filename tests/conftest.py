"""Shared fixtures: settings on a temporary data dir, the app on SQLite and (when configured)
on a real PostgreSQL, users with keys, and a running ``yolohost serve`` subprocess."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from yolohost.accounts import service
from yolohost.app import create_app
from yolohost.config import Settings
from yolohost.db.engine import transaction

# ultralytics keeps settings (and downloads) under YOLO_CONFIG_DIR: never the user's or the repo's.
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="yolohost-tests-"))
os.environ.setdefault("YOLO_OFFLINE", "1")

PG_URL = os.environ.get("YOLOHOST_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("YOLOHOST_TEST_REDIS_URL")

requires_redis = pytest.mark.skipif(not REDIS_URL, reason="set YOLOHOST_TEST_REDIS_URL to a real redis-server")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty schema in the test PostgreSQL, as a database URL whose search_path points at it."""
    if not PG_URL:
        pytest.skip("set YOLOHOST_TEST_DATABASE_URL to a real PostgreSQL")
    schema = f"t_{secrets.token_hex(6)}"
    admin_url = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> str | None:
    """Each test that uses it runs twice: on SQLite (None: the default file) and on PostgreSQL."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_url")


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, redis_url=None)


@pytest.fixture
def app(settings):
    return create_app(settings)


class ContractClient(TestClient):
    """A test client that checks every response against the Platform contract (status and body)."""

    def request(self, method, url, *args, **kwargs):
        response = super().request(method, url, *args, **kwargs)
        from urllib.parse import urlsplit

        from tests.contract import check_response

        is_json = response.headers.get("content-type", "").startswith("application/json")
        check_response(method, urlsplit(str(url)).path, response.status_code, response.json() if is_json else None)
        return response


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with ContractClient(app, raise_server_exceptions=False) as c:
        yield c


@dataclass
class Account:
    username: str
    user_id: str
    key: str
    key_id: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def make_account(app, client):
    """Create a user (and personal workspace) with one key, through the service layer."""

    def make(username: str, scopes: list[str] | None = None) -> Account:
        with transaction(app.state.sessions) as session:
            user = service.create_user(session, username)
            key, plaintext = service.create_key(session, user, "test", scopes)
            return Account(user.username, user.id, plaintext, key.id)

    return make


@pytest.fixture
def alice(make_account) -> Account:
    return make_account("alice")


# --- a real server process -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen
    url: str
    output: Path

    def text(self) -> str:
        return self.output.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(data_dir: Path, *, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> Server:
    """``yolohost serve`` on a free port, waited for until /health answers."""
    port = free_port()
    out = data_dir.parent / f"serve-{port}.log"
    full_env = {**os.environ, "YOLOHOST_DATA_DIR": str(data_dir), **(env or {})}
    cmd = [sys.executable, "-m", "yolohost", "serve", "--port", str(port), *args]
    with open(out, "w") as fh:
        proc = subprocess.Popen(cmd, env=full_env, stdout=fh, stderr=subprocess.STDOUT)
    server = Server(proc, f"http://127.0.0.1:{port}", out)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"yolohost serve exited with {proc.returncode}:\n{server.text()}")
        try:
            if requests.get(server.url + "/health", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"yolohost serve did not answer within 60s:\n{server.text()}")


@pytest.fixture
def serve(tmp_path):
    """Start servers with ``serve(env=..., args=...)``; all are stopped after the test."""
    servers: list[Server] = []

    def start(data_dir: Path | None = None, **kwargs) -> Server:
        server = start_server(data_dir or tmp_path / "data", **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def owner_key_from(output: str) -> str:
    """The key a first start prints (the line after the announcement)."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if "shown only this once" in line:
            return lines[i + 1].strip()
    raise AssertionError(f"no owner key in output:\n{output}")


# --- models ------------------------------------------------------------------------------------

TASKS = ("detect", "segment", "classify", "pose", "obb")


@pytest.fixture(scope="session")
def model_cache(pytestconfig) -> Path:
    """Fixture checkpoints are built once and kept between runs (keyed by the code that makes them)."""
    return Path(pytestconfig.cache.mkdir("yolohost-models"))


@pytest.fixture(scope="session")
def checkpoints(model_cache) -> dict[str, Path]:
    """A nano checkpoint per task that gives non-empty results on the bundled images."""
    from tests.fixtures.models import predicting_checkpoint

    return {task: predicting_checkpoint(task, model_cache) for task in TASKS}


@pytest.fixture(scope="session")
def detector(model_cache) -> Path:
    """A detector trained by the suite on synthetic shapes."""
    from tests.fixtures.models import trained_detector

    return trained_detector(model_cache)


def add_model(client: TestClient, account: Account, checkpoint: Path, project: str = "demo", name: str | None = None) -> dict:
    """Register a checkpoint through the seed reference's multipart create; returns the create body."""
    with open(checkpoint, "rb") as fh:
        r = client.post(
            "/api/models",
            files={"file": (checkpoint.name, fh, "application/octet-stream")},
            data={"projectId": project, "name": name or checkpoint.stem},
            headers=account.bearer,
        )
    assert r.status_code == 201, r.text
    return r.json()
