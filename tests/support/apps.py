"""Apps for the API and page tests, started once per worker and reused (see `AppCache`)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from fastapi import FastAPI

from learnhub.api.app import create_app
from learnhub.config import Settings
from learnhub.logging import configure_logging


class AppCache:
    """Apps kept for a worker's whole session, one per settings, each started once (its
    lifespan entered) and handed to test after test with its state as it was built.

    A fresh app builds the state of every route it matches on first use (FastAPI's
    dependency and response models, about 200 ms for the whole app): per test, that was
    most of an API test's time. Each test still runs on its own session factory (its
    rolled-back transaction), with the logging its settings configure, and whatever it puts
    in `app.state` (a clock, a bus, an engine) is taken back after it."""

    def __init__(self) -> None:
        self.stack = AsyncExitStack()
        self.apps: dict[str, tuple[FastAPI, dict[str, Any]]] = {}

    async def app(self, settings: Settings, purpose: str = "rolled back") -> FastAPI:
        """The app for `settings`; a test gets a different one for each `purpose` it asks."""
        key = f"{purpose} {settings.model_dump_json()}"
        if key not in self.apps:
            application = create_app(settings)
            await self.stack.enter_async_context(application.router.lifespan_context(application))
            # Starlette keeps an app's state in this dict; a copy is the state as started.
            self.apps[key] = (application, dict(application.state._state))
        application, started = self.apps[key]
        configure_logging(settings.log_level, json=settings.log_json)
        application.state._state.clear()
        application.state._state.update(started)
        return application
