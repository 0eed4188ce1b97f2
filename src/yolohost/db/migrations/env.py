"""Alembic environment: always runs on a connection handed over by yolohost.db.migrate."""

from alembic import context

from yolohost.db.base import Base
from yolohost.db import tables  # noqa: F401  (fills the metadata)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
