"""create_app(settings): the ASGI application with its routers, error handlers and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from yolohost import __version__
from yolohost.accounts.last_used import LastUsed
from yolohost.config import Settings
from yolohost.datasets.id_paths import DatasetIdPaths
from yolohost.bootstrap import open_database, prepare
from yolohost.db.engine import make_sessionmaker
from yolohost.kit.http import RequestContextMiddleware, install_error_handlers
from yolohost.kit.ratelimit import make_store
from yolohost.kit.signing import Signer, load_or_create_secret
from yolohost.kit.storage import Storage
from yolohost.inference.engine import Engine
from yolohost.usage.meter import UsageMeter

log = logging.getLogger("yolohost")


async def _flush_forever(app: FastAPI, flush, interval: float) -> None:
    """Write a batching recorder's pending figures (key last-used times, metered usage) every ``interval`` seconds."""
    while True:
        await asyncio.sleep(interval)
        await asyncio.to_thread(flush, app.state.sessions)


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings: Settings = app.state.settings
    engine = open_database(settings)
    await asyncio.to_thread(prepare, engine, None)
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    app.state.ratelimit = make_store(settings.redis_url)
    app.state.last_used = LastUsed()
    app.state.usage = UsageMeter()
    app.state.storage = Storage(settings.files_dir)
    app.state.signer = Signer(load_or_create_secret(settings.data_dir, settings.secret_key))
    app.state.engine = Engine(settings.model_cache_size, settings.inference_threads)
    flushers = [
        asyncio.create_task(_flush_forever(app, app.state.last_used.flush, settings.key_last_used_flush_seconds)),
        asyncio.create_task(_flush_forever(app, app.state.usage.flush, settings.usage_flush_seconds)),
    ]
    try:
        yield
    finally:
        for flusher in flushers:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
        app.state.last_used.flush(app.state.sessions)
        app.state.usage.flush(app.state.sessions)
        app.state.engine.close()
        app.state.ratelimit.close()
        engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    from yolohost.accounts.endpoints import router as accounts_router
    from yolohost.activity.endpoints import router as activity_router
    from yolohost.datasets.classes_endpoints import router as dataset_classes_router
    from yolohost.datasets.embeddings_endpoints import router as embeddings_router
    from yolohost.datasets.embeddings_endpoints import similar_router
    from yolohost.datasets.endpoints import download_router as dataset_downloads_router
    from yolohost.datasets.endpoints import router as datasets_router
    from yolohost.datasets.images import router as images_router
    from yolohost.exports.endpoints import router as exports_router
    from yolohost.files.endpoints import router as files_router
    from yolohost.gdpr.endpoints import router as gdpr_router
    from yolohost.integrations.endpoints import router as integrations_router
    from yolohost.hub.endpoints import router as hub_router
    from yolohost.models.endpoints import router as models_router
    from yolohost.projects.endpoints import router as projects_router
    from yolohost.teams.endpoints import router as teams_router
    from yolohost.explore.endpoints import router as explore_router
    from yolohost.storage_usage.endpoints import router as storage_router
    from yolohost.trash.endpoints import router as trash_router
    from yolohost.uploads.endpoints import router as uploads_router
    from yolohost.usage.endpoints import router as usage_router
    from yolohost.training.endpoints import router as training_router
    from yolohost.users.endpoints import router as users_router

    app = FastAPI(title="yolohost", version=__version__, lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.settings = settings or Settings()
    app.add_middleware(DatasetIdPaths)
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app)

    @app.get("/health", tags=["Health"])
    async def health():
        return {"status": "ok", "version": __version__}

    # Routes with literal segments and id convertors come before the owner/slug routes they resemble.
    routers = (
        accounts_router, projects_router, training_router, models_router, exports_router, trash_router, uploads_router, files_router, hub_router,
        embeddings_router, similar_router, datasets_router, dataset_classes_router, images_router, dataset_downloads_router,
        teams_router, storage_router, explore_router, users_router, activity_router, gdpr_router, integrations_router, usage_router,
    )
    for router in routers:
        app.include_router(router)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` and ``yolohost serve`` workers: settings from the environment."""
    return create_app(Settings())
