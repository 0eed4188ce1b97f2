"""Trash retention: items past ``trash_retention_days`` are purged with their files (the clock is moved,
never waited for); items inside it stay; a project's cascaded models go with it; workers and the CLI run it."""

import threading
from datetime import timedelta

from tests.conftest import add_model
from tests.datasets.test_datasets_api import ingest, make_dataset
from tests.fixtures.archives import write_zip, yolo_members
from tests.projects.helpers import new_model, new_project, weights_path
from yolohost.db.tables import Dataset, Model, Project
from yolohost.kit import clock
from yolohost.trash.retention import purge_expired


REAL_NOW = clock.now


def _move_clock(monkeypatch, days: float) -> None:
    """The clock ``days`` ahead of the real one (not of the last move)."""
    monkeypatch.setattr(clock, "now", lambda: REAL_NOW() + timedelta(days=days))


def _purge(app) -> dict:
    return purge_expired(app.state.sessions, app.state.storage, app.state.settings.trash_retention_days)


def test_expired_items_go_with_their_files_and_recent_ones_stay(client, app, alice, checkpoints, tmp_path, monkeypatch):
    old_model = add_model(client, alice, checkpoints["detect"], project="old", name="Det")
    cascaded = new_model(client, alice, "old", "empty")
    solo = add_model(client, alice, checkpoints["classify"], project="keep", name="Solo")
    make_dataset(client, alice, slug="shapes")
    ingest(client, app, alice, "shapes", write_zip(tmp_path / "a.zip", yolo_members(2, 1, seed=0)))
    blobs = app.state.settings.files_dir / "blobs"
    assert any(blobs.rglob("*.png"))
    old_project = client.get("/api/projects/alice/old", headers=alice.bearer).json()["project"]["id"]
    assert client.delete("/api/models/alice/keep/solo", headers=alice.bearer).status_code == 200
    assert client.delete("/api/projects/alice/old", headers=alice.bearer).json()["cascadedModels"] == 2
    assert client.delete("/api/datasets/alice/shapes", headers=alice.bearer).status_code == 200

    _move_clock(monkeypatch, 10)
    fresh = new_project(client, alice, "fresh")  # trashed 10 days after the others
    client.delete("/api/projects/alice/fresh", headers=alice.bearer)
    assert _purge(app) == {"model": 0, "project": 0, "dataset": 0, "cascadedModels": 0}  # nothing expired yet

    _move_clock(monkeypatch, 30.5)  # the first batch is past 30 days, "fresh" is 20.5 days in
    assert _purge(app) == {"model": 1, "project": 1, "dataset": 1, "cascadedModels": 2}
    with app.state.sessions() as session:
        assert session.get(Project, old_project) is None
        assert session.get(Model, old_model["id"]) is None and session.get(Model, cascaded["id"]) is None
        assert session.get(Model, solo["id"]) is None
        assert session.scalar(Dataset.__table__.select().with_only_columns(Dataset.id)) is None
        assert session.get(Project, fresh["id"]) is not None
    assert not weights_path(app, old_model["id"]).parent.exists()
    assert not weights_path(app, solo["id"]).parent.exists()
    assert not any(blobs.rglob("*.png"))  # no other dataset needed its images
    listed = client.get("/api/trash", headers=alice.bearer).json()
    assert [i["slug"] for i in listed["items"]] == ["fresh"]
    # the live project "keep" lost only the model trashed on its own
    assert client.get("/api/projects/alice/keep", headers=alice.bearer).status_code == 200
    assert _purge(app)["project"] == 0  # idempotent


def test_retention_is_per_item_and_follows_the_setting(client, app, alice, monkeypatch):
    new_project(client, alice, "p")
    client.delete("/api/projects/alice/p", headers=alice.bearer)
    app.state.settings.trash_retention_days = 7
    _move_clock(monkeypatch, 6.9)
    assert _purge(app)["project"] == 0
    _move_clock(monkeypatch, 7.1)
    assert _purge(app)["project"] == 1
    assert client.get("/api/trash", headers=alice.bearer).json()["total"] == 0


def test_the_worker_loop_purges(app, client, alice, monkeypatch):
    from yolohost.jobs import worker

    new_project(client, alice, "p")
    client.delete("/api/projects/alice/p", headers=alice.bearer)
    _move_clock(monkeypatch, 31)
    stop = threading.Event()
    calls = []
    real = worker._housekeeping

    def purge_then_stop(*args):
        real(*args)
        calls.append(1)
        stop.set()

    monkeypatch.setattr(worker, "_housekeeping", purge_then_stop)
    worker.run_forever(app.state.settings, stop)
    assert calls == [1]
    assert client.get("/api/trash", headers=alice.bearer).json()["total"] == 0
    with app.state.sessions() as session:
        assert session.scalar(Project.__table__.select().with_only_columns(Project.id)) is None


def test_the_worker_loop_can_be_told_not_to_purge(app, client, monkeypatch):
    from yolohost.jobs import worker

    app.state.settings.trash_purge_interval_seconds = 0
    stop = threading.Event()
    monkeypatch.setattr(worker, "_housekeeping", lambda *a: (_ for _ in ()).throw(AssertionError("purged")))
    monkeypatch.setattr(worker, "run_one", lambda *a: stop.set())
    worker.run_forever(app.state.settings, stop)


def test_the_cli_purges(app, client, alice, tmp_path, database_url):
    import os
    import subprocess
    import sys

    new_project(client, alice, "old")
    new_project(client, alice, "recent")
    client.delete("/api/projects/alice/old", headers=alice.bearer)
    client.delete("/api/projects/alice/recent", headers=alice.bearer)
    with app.state.sessions.begin() as session:
        from sqlalchemy import select

        old = session.scalar(select(Project).where(Project.slug == "old"))
        old.deleted_at = clock.now() - timedelta(days=31)
    env = {**os.environ, "YOLOHOST_DATA_DIR": str(app.state.settings.data_dir)}
    if database_url:
        env["YOLOHOST_DATABASE_URL"] = database_url
    out = subprocess.run([sys.executable, "-m", "yolohost", "trash", "purge"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "purged 1 project(s)" in out.stdout
    assert [i["slug"] for i in client.get("/api/trash", headers=alice.bearer).json()["items"]] == ["recent"]
