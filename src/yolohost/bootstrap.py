"""Start-up work for a data directory: schema to the newest revision, the owner account on first start."""

from __future__ import annotations

from sqlalchemy import Engine

from yolohost.accounts import service as accounts
from yolohost.config import Settings
from yolohost.db import migrate
from yolohost.db.engine import make_engine, make_sessionmaker, transaction


def open_database(settings: Settings) -> Engine:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.resolved_database_url)


def prepare(engine: Engine, owner: str | None) -> str | None:
    """Migrate and, if no user exists yet, create ``owner``; returns the owner's first key once.

    Runs under the start-up lock, so concurrent first starts create exactly one owner.
    """
    with migrate.exclusive(engine):
        migrate.upgrade_locked(engine)
        if owner is None:
            return None
        with transaction(make_sessionmaker(engine)) as session:
            return accounts.ensure_owner(session, owner)
