import pytest


@pytest.fixture
def settings(settings):
    """No timed flush during a test: only the explicit ones (or the shutdown flush) write usage."""
    settings.usage_flush_seconds = 3600
    return settings


@pytest.fixture(scope="session")
def detector_pt(model_cache):
    from tests.fixtures.models import predicting_checkpoint

    return predicting_checkpoint("detect", model_cache)
