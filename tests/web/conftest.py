"""Web app tests: httpx against the ASGI app on both databases, with the API tests' app,
client and accounts (tests/api/conftest.py). A browser's cookies are kept by the client."""

from __future__ import annotations

from tests.api.conftest import app, client, login_as, settings_overrides

__all__ = ["app", "client", "login_as", "settings_overrides"]
