"""Bring a database to the newest schema with Alembic, safely when several processes start at once.

``exclusive`` serialises start-up work across processes: an exclusive file lock beside a
SQLite database, an advisory lock on PostgreSQL. Whoever gets it second finds the schema
current and does nothing.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).with_name("migrations")
_PG_LOCK_ID = 0x796F6C6F  # "yolo"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


@contextmanager
def exclusive(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "sqlite":
        db_path = Path(engine.url.database)
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with open(db_path.with_name(db_path.name + ".lock"), "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _PG_LOCK_ID})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _PG_LOCK_ID})
            conn.commit()


def upgrade_locked(engine: Engine, revision: str = "heads") -> None:
    """Upgrade; the caller holds ``exclusive(engine)``."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def upgrade(engine: Engine, revision: str = "heads") -> None:
    with exclusive(engine):
        upgrade_locked(engine, revision)


def current_heads(engine: Engine) -> set[str]:
    """The revisions the database is at (empty before the first upgrade)."""
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())
