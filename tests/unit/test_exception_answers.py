"""An exception handler answers whether it is a coroutine function or a plain one, as
Starlette runs either (the app's own are async; a deployer's may not be)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from learnhub.api.middleware import answered_by


def plain(_request: Request, error: Exception) -> Response:
    return PlainTextResponse(f"plain: {error}", status_code=500)


async def coroutine(_request: Request, error: Exception) -> Response:
    return PlainTextResponse(f"async: {error}", status_code=500)


async def test_plain_and_async_handlers_both_answer() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    for handler, expected in ((plain, b"plain: boom"), (coroutine, b"async: boom")):
        answer = await answered_by(handler, request, RuntimeError("boom"))
        assert answer.status_code == 500 and answer.body == expected
