import pytest


@pytest.fixture
def database_url():
    """Inference does not depend on the database: these tests run on SQLite only."""
    return None
