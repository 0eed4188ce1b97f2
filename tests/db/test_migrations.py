"""Migrations: the same Alembic revisions build the schema on SQLite and PostgreSQL, the ORM
matches them exactly, and concurrent starts neither fail nor corrupt anything."""

import multiprocessing as mp

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from yolohost.db import migrate
from yolohost.db.base import Base
from yolohost.db.engine import make_engine

HEADS = set(ScriptDirectory.from_config(migrate.alembic_config()).get_heads())


@pytest.fixture
def engine(tmp_path, database_url):
    eng = make_engine(database_url or f"sqlite:///{tmp_path / 'm.db'}")
    yield eng
    eng.dispose()


def test_upgrade_builds_every_table_and_matches_the_orm(engine):
    assert migrate.current_heads(engine) == set()
    migrate.upgrade(engine)
    assert migrate.current_heads(engine) == HEADS
    assert {"users", "workspaces", "workspace_members", "api_keys"} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"ORM tables and migrations differ: {diff}"


def test_upgrade_is_idempotent_and_downgrade_reverses(engine):
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    assert migrate.current_heads(engine) == HEADS
    with migrate.exclusive(engine), engine.begin() as conn:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        from alembic import command

        command.downgrade(cfg, "base")
    assert "users" not in inspect(engine).get_table_names()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    eng = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with eng.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    eng.dispose()


def _start(url, owner, queue):
    from yolohost.bootstrap import prepare

    eng = make_engine(url)
    queue.put(prepare(eng, owner))
    eng.dispose()


def test_concurrent_first_starts_migrate_once_and_create_one_owner(tmp_path, database_url):
    url = database_url or f"sqlite:///{tmp_path / 'c.db'}"
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_start, args=(url, "admin", queue)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    keys = [queue.get(timeout=5) for _ in procs]
    assert sum(k is not None for k in keys) == 1  # exactly one process printed the owner key
    eng = make_engine(url)
    try:
        assert migrate.current_heads(eng) == HEADS
        with eng.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM api_keys")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM workspaces")).scalar() == 1
    finally:
        eng.dispose()
