"""The hot reads (api/hot_reads.py) answer exactly what the API's own routes answer, and take
only the requests they were built for.

Each URL is asked twice: plainly, which a hot read takes, and with an empty Authorization
header, which the hot reads leave to the API's route while that route still serves an
anonymous caller. Status, body and headers must agree (the request id and the length of
an identical body aside). A spy on the hot reads' answers tells which path served."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.middleware.gzip import GZipMiddleware
from structlog.testing import capture_logs

from learnhub.api import hot_reads
from learnhub.api.app import LearnHubAPI, create_app
from learnhub.api.routers import courses as courses_router
from learnhub.config import Settings
from learnhub.db.driver_reads import PooledDriverConnection
from learnhub.db.engine import create_session_factory
from learnhub.db.uow import DriverReadUnitOfWork
from learnhub.logging import request_context
from learnhub.services.catalog import CatalogService
from tests.api.conftest import Account, LoginAs, create_account, login
from tests.api.conftest import test_settings as settings_for
from tests.api.test_query_counts import COURSES, make_course

# Headers that differ between two answers to the same request by nature.
PER_RESPONSE = {"x-request-id", "date"}


@pytest.fixture
def served_hot(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths a hot read answered (a spy around each kind's `answer`)."""
    served: list[str] = []
    for kind in (hot_reads.CatalogHotRead, hot_reads.CoursePageHotRead):
        original = kind.answer

        async def spy(self: Any, request: Any, taken: Any, original: Any = original) -> Any:
            served.append(request.url.path)
            return await original(self, request, taken)

        monkeypatch.setattr(kind, "answer", spy)
    yield served


async def both_ways(client: httpx.AsyncClient, url: str, served: list[str]) -> httpx.Response:
    """`url` asked plainly and through the API's route; the two answers, checked equal."""
    before = len(served)
    hot = await client.get(url)
    took = len(served) > before
    full = await client.get(url, headers={"Authorization": ""})
    assert len(served) == before + took, "the API route's request reached a hot read"
    assert (hot.status_code, hot.content) == (full.status_code, full.content), url

    def kept(response: httpx.Response) -> dict[str, str]:
        return {k: v for k, v in response.headers.items() if k not in PER_RESPONSE}

    assert kept(hot) == kept(full), url
    return hot


async def make_catalog(client: httpx.AsyncClient, login_as: LoginAs) -> dict[str, str]:
    author = await login_as("instructor")
    published = {
        name: await make_course(client, author, name, tags=[name.lower()], quizzes=0)
        for name in ("Alpha", "Beta", "Gamma")
    }
    draft = await make_course(client, author, "Draft", tags=["d"], publish=False)
    gone = await make_course(client, author, "Gone", tags=["g"])
    archived = await make_course(client, author, "Archived", tags=["a"])
    for url in (f"{COURSES}/{gone}", f"{COURSES}/{archived}/archive"):
        method = client.delete if url.endswith(gone) else client.post
        answer = await method(url, headers=author.headers)
        assert answer.status_code in (200, 204), answer.text
    return {**published, "Draft": draft, "Gone": gone, "Archived": archived}


async def test_catalog_pages_are_the_api_routes_pages(
    client: httpx.AsyncClient, login_as: LoginAs, served_hot: list[str]
) -> None:
    await make_catalog(client, login_as)
    first = await both_ways(client, f"{COURSES}?limit=2", served_hot)
    assert served_hot == [COURSES]
    titles = [c["title"] for c in first.json()["items"]]
    cursor = first.json()["next_cursor"]
    second = await both_ways(client, f"{COURSES}?limit=2&cursor={cursor}", served_hot)
    titles += [c["title"] for c in second.json()["items"]]
    # Soft delete and visibility hold on the hot path: published courses only.
    assert sorted(titles) == ["Alpha", "Beta", "Gamma"]
    assert second.json()["next_cursor"] is None
    for query in (
        "",
        "?sort=rating",
        "?sort=enrollments&limit=100",
        "?sort=newest&limit=1",
        "?sort=price&currency=USD",
        "?sort=-price&currency=USD&difficulty=beginner",
        "?sort=relevance",
        "?currency=EUR",
    ):
        answer = await both_ways(client, f"{COURSES}{query}", served_hot)
        assert answer.status_code == 200
    assert served_hot == [COURSES] * 10
    # Errors the service raises are the same problem responses either way.
    bad_cursor = await both_ways(client, f"{COURSES}?cursor=bm90LWEtY3Vyc29y", served_hot)
    assert bad_cursor.status_code == 400
    assert bad_cursor.headers["content-type"] == "application/problem+json"
    assert len(served_hot) == 11


async def test_a_price_sort_without_currency_is_the_same_problem_with_two_currencies(
    client: httpx.AsyncClient, login_as: LoginAs, served_hot: list[str]
) -> None:
    author = await login_as("instructor")
    await make_course(client, author, "Dollars", tags=["usd"], quizzes=0)
    euros = await make_course(client, author, "Euros", tags=["eur"], quizzes=0, publish=False)
    priced = await client.patch(
        f"{COURSES}/{euros}",
        headers=author.headers,
        json={"price": {"amount": "5", "currency": "EUR"}},
    )
    assert priced.status_code == 200, priced.text
    published = await client.post(f"{COURSES}/{euros}/publish", headers=author.headers)
    assert published.status_code == 200, published.text
    answer = await both_ways(client, f"{COURSES}?sort=price", served_hot)
    assert answer.status_code == 422 and "currency" in answer.text
    assert served_hot == [COURSES]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("?sort=bogus", 422),  # validation: the API route's problem, naming the parameter
        ("?limit=0", 422),
        ("?limit=101", 422),
        ("?limit=020", 200),  # the API reads it as 20; the hot read takes canonical forms
        ("?difficulty=impossible", 422),
        ("?currency=usd", 422),
        ("?sort=rating&sort=newest", 422),  # given twice: the API route refuses it, naming it
        ("?q=alpha", 200),  # search, tags, prices: the API route's path
        ("?tag=alpha", 200),
        ("?min_price=1&currency=USD", 200),
        ("?unknown=1", 422),  # SPEC 7: unknown parameters are named
        ("?mine=true", 401),  # the caller's own courses: a login first
        ("?deleted=only", 401),
        ("?cursor=a%20b", 400),  # not a cursor we wrote
        # A final newline: Python's `$` would let it through, the API's validation does not.
        ("?currency=USD%0A", 422),
        ("?sort=rating%0A", 422),
        ("?limit=5%0A", 200),  # the API reads it as 5; the hot read takes canonical forms
        ("?difficulty=beginner%0A", 422),
        ("?cursor=abc%0A", 400),
    ],
)
async def test_requests_of_another_shape_go_to_the_api_route(
    client: httpx.AsyncClient, served_hot: list[str], query: str, status: int
) -> None:
    answer = await client.get(f"{COURSES}{query}")
    assert answer.status_code == status, answer.text
    assert served_hot == []


async def test_credentials_and_validators_go_to_the_api_route(
    client: httpx.AsyncClient, login_as: LoginAs, served_hot: list[str]
) -> None:
    student = await login_as("student")
    assert (await client.get(COURSES, headers=student.headers)).status_code == 200
    bad = await client.get(COURSES, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401  # a bad token is a 401 on public reads too
    page = await client.get(COURSES)
    assert len(served_hot) == 1
    again = await client.get(COURSES, headers={"If-None-Match": page.headers["ETag"]})
    assert again.status_code == 304 and len(served_hot) == 1


async def test_head_answers_like_get_without_the_body(
    client: httpx.AsyncClient, login_as: LoginAs, served_hot: list[str]
) -> None:
    await make_catalog(client, login_as)
    got, head = await client.get(COURSES), await client.head(COURSES)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    assert head.headers["etag"] == got.headers["etag"]
    assert served_hot == [COURSES, COURSES]


async def test_course_pages_are_the_api_routes_pages(
    client: httpx.AsyncClient, login_as: LoginAs, served_hot: list[str], db_url: str
) -> None:
    courses = await make_catalog(client, login_as)
    alpha = await both_ways(client, f"{COURSES}/{courses['Alpha']}", served_hot)
    assert alpha.status_code == 200 and alpha.json()["title"] == "Alpha"
    assert alpha.headers["vary"] == "Authorization"
    assert alpha.headers["cache-control"].startswith("public")
    by_slug = await both_ways(client, f"{COURSES}/{alpha.json()['slug']}", served_hot)
    assert by_slug.content == alpha.content
    for name in ("Draft", "Gone", "Archived"):
        hidden = await both_ways(client, f"{COURSES}/{courses[name]}", served_hot)
        assert hidden.status_code == 404, name
    for key in ("no-such-course", "not a slug!", "00000000-0000-4000-8000-000000000000"):
        assert (await both_ways(client, f"{COURSES}/{key}", served_hot)).status_code == 404
    # On PostgreSQL the course page has its read model and a hot read; on SQLite the API
    # route serves every course page.
    expected = 0 if db_url.startswith("sqlite") else 8
    assert len(served_hot) == expected


@pytest.mark.postgres_only
async def test_pages_read_on_the_driver_are_the_api_routes_pages(
    committed_client: httpx.AsyncClient,
    committed_engine: AsyncEngine,
    served_hot: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the app's sessions on an engine (not a test's connection), the hot reads read on
    a pooled driver connection without a Session (DriverReadUnitOfWork)."""
    entered: list[DriverReadUnitOfWork] = []
    ordinary: list[int] = []  # statements run through SQLAlchemy, by then served hot reads
    enter, run_ordinary = DriverReadUnitOfWork.__aenter__, PooledDriverConnection.ordinary_rows

    async def spy_enter(self: DriverReadUnitOfWork) -> DriverReadUnitOfWork:
        entered.append(self)
        return await enter(self)

    async def spy_ordinary(self: PooledDriverConnection, *args: Any) -> Any:
        ordinary.append(len(served_hot))
        return await run_ordinary(self, *args)

    monkeypatch.setattr(DriverReadUnitOfWork, "__aenter__", spy_enter)
    monkeypatch.setattr(PooledDriverConnection, "ordinary_rows", spy_ordinary)
    address = await create_account(create_session_factory(committed_engine), "instructor")
    author = await login(committed_client, address)
    marker = uuid.uuid4().hex[:8]
    shown = await make_course(committed_client, author, f"Shown {marker}", tags=[marker], quizzes=1)
    gone = await make_course(committed_client, author, f"Gone {marker}", tags=[marker])
    deleted = await committed_client.delete(f"{COURSES}/{gone}", headers=author.headers)
    assert deleted.status_code in (200, 204), deleted.text
    page = await both_ways(committed_client, f"{COURSES}/{shown}", served_hot)
    assert page.status_code == 200 and page.json()["title"] == f"Shown {marker}"
    assert page.json()["sections"], "the outline came with the page"
    by_slug = await both_ways(committed_client, f"{COURSES}/{page.json()['slug']}", served_hot)
    assert by_slug.content == page.content
    assert (await both_ways(committed_client, f"{COURSES}/{gone}", served_hot)).status_code == 404
    assert len(served_hot) == 3 and len(entered) == 3
    # The catalog too: its pages by sort (compiled once, on the driver), a filter built per
    # request (through SQLAlchemy), a price sort's currency check, a cursor page.
    await make_course(committed_client, author, f"Newer {marker}", tags=[marker], quizzes=0)
    first = await both_ways(committed_client, f"{COURSES}?sort=newest&limit=1", served_hot)
    assert [card["title"] for card in first.json()["items"]] == [f"Newer {marker}"]
    cursor = first.json()["next_cursor"]
    assert cursor
    for query in (f"sort=newest&limit=1&cursor={cursor}", "sort=price&currency=USD&limit=3"):
        assert (await both_ways(committed_client, f"{COURSES}?{query}", served_hot)).is_success
    # Without a currency: a page if every listed course has one, else the same problem.
    await both_ways(committed_client, f"{COURSES}?sort=-price&limit=3", served_hot)
    assert ordinary == [], "every statement so far is compiled once and ran on the driver"
    # A filter builds its statement per request: it runs through SQLAlchemy.
    filtered = await both_ways(committed_client, f"{COURSES}?difficulty=beginner", served_hot)
    assert filtered.is_success and ordinary and set(ordinary) == {8}
    assert len(served_hot) == len(entered) == 8


async def test_hot_reads_count_under_the_api_routes_name(
    client: httpx.AsyncClient, login_as: LoginAs, served_hot: list[str]
) -> None:
    author: Account = await login_as("instructor")
    course = await make_course(client, author, "Counted", tags=["c"], quizzes=0)

    def count(metrics: str, route: str) -> float:
        prefix = f'learnhub_http_request_duration_seconds_count{{method="GET",route="{route}"'
        lines = [line for line in metrics.splitlines() if line.startswith(prefix)]
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines)

    before = (await client.get("/metrics")).text
    await client.get(COURSES)
    await client.get(f"{COURSES}/{course}")
    after = (await client.get("/metrics")).text
    assert count(after, COURSES) == count(before, COURSES) + 1
    template = COURSES + "/{course_id}"
    assert count(after, template) == count(before, template) + 1
    assert served_hot  # the catalog's request at least was a hot read's


@pytest.mark.parametrize("settings_overrides", [{"log_level": "info"}])
async def test_a_hot_read_carries_the_request_id_into_its_answer_and_log_line(
    client: httpx.AsyncClient, served_hot: list[str]
) -> None:
    """Answered at the app's door, past its middleware: the request id and the access line
    are the hot read's own doing."""
    with capture_logs(processors=[request_context]) as logs:
        given = await client.get(COURSES, headers={"X-Request-ID": "trace-7.hot"})
        made = await client.get(COURSES, headers={"X-Request-ID": "bad id\nwith newline"})
    assert served_hot == [COURSES, COURSES]
    assert given.headers["x-request-id"] == "trace-7.hot"
    assert len(made.headers["x-request-id"]) == 32
    access = [e for e in logs if e.get("event") == "request"]
    assert [(e["request_id"], e["route"], e["status"]) for e in access] == [
        ("trace-7.hot", COURSES, 200),
        (made.headers["x-request-id"], COURSES, 200),
    ]
    assert all(e["method"] == "GET" and e["duration_ms"] >= 0 for e in access)


async def test_a_request_with_a_body_goes_to_the_api_route(
    app: FastAPI, client: httpx.AsyncClient, served_hot: list[str]
) -> None:
    """A body, even on a GET, is the API route's to judge (one too large is refused 413)."""
    small = await client.request("GET", COURSES, content=b"{}")
    assert small.status_code == 200 and served_hot == []
    settings: Settings = app.state.settings
    too_large = b"x" * (settings.max_body_bytes + 1)
    refused = await client.request("GET", COURSES, content=too_large)
    assert refused.status_code == 413 and served_hot == []


@pytest.mark.parametrize("settings_overrides", [{"log_level": "info"}])
async def test_an_unexpected_error_is_the_same_500_both_ways(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch, served_hot: list[str]
) -> None:
    """The app's last-resort answer (a problem, its log line with the traceback and the
    request id, once: not raised on for the server to print it again), counted and logged as
    a 500, whether a hot read or the API's route met the error."""

    async def broken(*_: Any) -> Any:
        raise RuntimeError("a bug under the catalog")

    monkeypatch.setattr(CatalogService, "catalog", broken)
    # Raised out of the app, the error would fail the request here (httpx re-raises it).
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with capture_logs(processors=[request_context]) as logs:
            hot = await client.get(COURSES)
            full = await client.get(COURSES, headers={"Authorization": ""})
    assert served_hot == [COURSES], "the first request was the hot read's"
    for answer in (hot, full):
        assert answer.status_code == 500
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"].endswith("internal_error")
    assert hot.content == full.content
    errors = [e for e in logs if e.get("event") == "unhandled_error"]
    assert [(e["error"], e["request_id"], e["exc_info"]) for e in errors] == [
        ("RuntimeError", hot.headers["x-request-id"], True),
        ("RuntimeError", full.headers["x-request-id"], True),
    ]
    access = [e for e in logs if e.get("event") == "request"]
    assert [(e["route"], e["status"]) for e in access] == [(COURSES, 500), (COURSES, 500)]


async def test_a_request_with_a_chunked_body_goes_to_the_api_route(
    client: httpx.AsyncClient, served_hot: list[str]
) -> None:
    async def chunks() -> Any:
        yield b"{}"

    answer = await client.request("GET", COURSES, content=chunks())
    assert answer.request.headers["transfer-encoding"] == "chunked"
    assert answer.status_code == 200 and served_hot == []


@pytest.mark.parametrize("settings_overrides", [{"log_level": "info"}])
async def test_a_hot_head_is_logged_and_counted_as_head(
    client: httpx.AsyncClient, served_hot: list[str]
) -> None:
    def count(metrics: str) -> float:
        prefix = f'learnhub_http_request_duration_seconds_count{{method="HEAD",route="{COURSES}"'
        lines = [line for line in metrics.splitlines() if line.startswith(prefix)]
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines)

    before = count((await client.get("/metrics")).text)
    with capture_logs(processors=[request_context]) as logs:
        head = await client.head(COURSES)
    assert head.status_code == 200 and served_hot == [COURSES]
    assert count((await client.get("/metrics")).text) == before + 1
    access = [e for e in logs if e.get("event") == "request"]
    assert [(e["method"], e["route"], e["status"]) for e in access] == [("HEAD", COURSES, 200)]


async def test_a_middleware_the_hot_reads_do_not_cover_turns_them_off(
    db_url: str,
    session_factory: async_sessionmaker[AsyncSession],
    served_hot: list[str],
) -> None:
    """A deployer's middleware (compression here) must see every request: with one added,
    the hot reads stand aside and the API's route answers."""
    application = create_app(settings_for(db_url))
    assert isinstance(application, LearnHubAPI) and application.hot_reads is not None
    application.add_middleware(GZipMiddleware, minimum_size=10)
    assert application.hot_reads is None
    async with application.router.lifespan_context(application):
        application.state.session_factory = session_factory
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answer = await client.get(COURSES, headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200 and answer.headers["content-encoding"] == "gzip"
    assert served_hot == []


@pytest.mark.postgres_only
async def test_a_course_page_is_kept_from_its_second_read_while_its_row_reads_the_same(
    committed_client: httpx.AsyncClient,
    committed_engine: AsyncEngine,
    served_hot: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The statement runs on every request; the page's JSON (its sections decoded, the
    videos locked) is written for the course's first two reads, then kept until its row
    changes (db/derived.py), never serving an older page."""
    written: list[str] = []
    write = courses_router.course_outline_json

    def spy_write(outline: Any) -> bytes:
        written.append(outline.card.title)
        return write(outline)

    monkeypatch.setattr(courses_router, "course_outline_json", spy_write)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(committed_engine.sync_engine, "before_cursor_execute", count)
    try:
        address = await create_account(create_session_factory(committed_engine), "instructor")
        author = await login(committed_client, address)
        title = f"Once {uuid.uuid4().hex[:8]}"
        course_id = await make_course(committed_client, author, title, tags=["once"])
        url = f"{COURSES}/{course_id}"
        statements.clear()
        pages = [await committed_client.get(url) for _ in range(3)]
        assert len(served_hot) == 3 and len(statements) == 3, "one statement per request"
        assert {page.content for page in pages} == {pages[0].content}
        assert {page.headers["etag"] for page in pages} == {pages[0].headers["etag"]}
        assert written == [title, title], "kept from the second of three reads of the same row"
        # A write to another course moves the catalog generation, which the page does not
        # show: its row still reads the same.
        await make_course(committed_client, author, f"Other {title}", tags=["once"])
        assert (await committed_client.get(url)).content == pages[0].content
        assert written == [title, title]
        section = await committed_client.post(
            f"{url}/sections", headers=author.headers, json={"title": "Added later"}
        )
        assert section.status_code == 201, section.text
        after = await committed_client.get(url)
        assert [s["title"] for s in after.json()["sections"]][-1] == "Added later"
        assert after.headers["etag"] != pages[0].headers["etag"]
        assert written == [title] * 3, "the changed row's page written afresh"
        assert (await committed_client.get(url)).content == after.content
        assert written == [title] * 3, "and kept at once: the course was kept"
        # A page larger than what is kept is written for every request.
        monkeypatch.setattr(courses_router, "LARGEST_PAGE_KEPT", 0)
        assert (await committed_client.get(url)).content == after.content
        assert (await committed_client.get(url)).content == after.content
        assert written == [title] * 5
    finally:
        event.remove(committed_engine.sync_engine, "before_cursor_execute", count)
