"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from learnhub import __version__
from learnhub.config import Settings, get_settings
from learnhub.db.engine import create_engine, create_session_factory
from learnhub.events.bus import EventBus


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(
            settings.database_url, pool_size=settings.db_pool_size, echo=settings.db_echo
        )
        app.state.engine = engine
        app.state.session_factory = create_session_factory(engine)
        app.state.bus = EventBus()
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(title="LearnHub", version=__version__, lifespan=lifespan)

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"])
    async def ready(request: Request) -> JSONResponse:
        """Readiness: the database answers."""
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means "not ready", never a 500
            return JSONResponse(
                {
                    "type": "about:blank",
                    "title": "Service Unavailable",
                    "status": 503,
                    "code": "database_unavailable",
                    "detail": type(exc).__name__,
                },
                status_code=503,
                media_type="application/problem+json",
            )
        return JSONResponse({"status": "ready"})

    return app
