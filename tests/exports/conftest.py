from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import add_model
from yolohost.db.tables import Export
from yolohost.jobs.worker import run_one

EXPORTS = "/api/models/alice/demo/det/exports"


def run_job(app) -> str | None:
    """Run the next queued job in this process, as a worker would."""
    return run_one(app.state.settings, app.state.sessions, app.state.storage)


def export_row(app, export_id: str) -> Export | None:
    with app.state.sessions() as session:
        return session.scalar(select(Export).where(Export.id == export_id))


@pytest.fixture
def det(client, alice, checkpoints) -> dict:
    """alice/demo/det: the nano detect checkpoint that predicts on any image."""
    return add_model(client, alice, checkpoints["detect"], project="demo", name="det")
