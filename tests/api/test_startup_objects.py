"""A started worker puts what it built to start out of the garbage collector's reach: a full
collection walked those ~200k objects for 100-200 ms with every request in flight waiting
(the catalog's p99 under load, bench/RESULTS.md)."""

from __future__ import annotations

import gc

from learnhub.api.app import create_app
from tests.api import conftest as api_conftest


async def test_the_lifespan_freezes_what_start_up_built() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    settings = api_conftest.test_settings("sqlite+aiosqlite:///:memory:")
    app = create_app(settings.model_copy(update={"freeze_startup_objects": True}))
    async with app.router.lifespan_context(app):
        frozen = gc.get_freeze_count()
    gc.unfreeze()  # this process goes on running other tests
    assert frozen > 10_000
    # The tests' own apps do not (test_settings): a test process builds hundreds.
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() == 0
