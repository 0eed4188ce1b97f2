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
from yolohost.bootstrap import open_database, prepare
from yolohost.db.engine import make_sessionmaker
from yolohost.kit.http import RequestContextMiddleware, install_error_handlers
from yolohost.kit.ratelimit import make_store

log = logging.getLogger("yolohost")


async def _flush_last_used_forever(app: FastAPI) -> None:
    interval = app.state.settings.key_last_used_flush_seconds
    while True:
        await asyncio.sleep(interval)
        await asyncio.to_thread(app.state.last_used.flush, app.state.sessions)


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings: Settings = app.state.settings
    engine = open_database(settings)
    await asyncio.to_thread(prepare, engine, None)
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    app.state.ratelimit = make_store(settings.redis_url)
    app.state.last_used = LastUsed()
    flusher = asyncio.create_task(_flush_last_used_forever(app))
    try:
        yield
    finally:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
        app.state.last_used.flush(app.state.sessions)
        app.state.ratelimit.close()
        engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    from yolohost.accounts.endpoints import router as accounts_router

    app = FastAPI(title="yolohost", version=__version__, lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.settings = settings or Settings()
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app)

    @app.get("/health", tags=["Health"])
    async def health():
        return {"status": "ok", "version": __version__}

    app.include_router(accounts_router)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` and ``yolohost serve`` workers: settings from the environment."""
    return create_app(Settings())
