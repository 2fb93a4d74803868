"""HTTP caching of the two hottest reads (issue 18, item 3): catalog pages and course pages
carry validators that are exact, so no change a page shows can hide behind a 304.

These run with real commits (`committed_client`): the catalog generation is moved by the
database's triggers in the writing transaction (deferred to COMMIT on PostgreSQL), which a
test transaction that never commits would not show.

The invariant checked after every kind of write: for each watched page, if what a client
would get now differs from what it cached, revalidating the cached copy's ETag answers 200
with the new page, never 304. Each write is also declared to change the pages it must change,
so the check cannot pass by a write that changed nothing."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.api.conftest import Account, login
from tests.api.test_courses import (
    API,
    COURSES,
    add_section,
    add_video,
    course_url,
    create_course,
    publish,
)
from tests.api.test_enrollment_concurrency import accounts, published_course

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


@dataclass
class Cached:
    """What a client cached of one page: status, body and ETag."""

    status: int
    body: bytes
    etag: str | None


async def fetch(client: httpx.AsyncClient, url: str) -> Cached:
    response = await client.get(url)
    return Cached(response.status_code, response.content, response.headers.get("etag"))


class Watcher:
    """Anonymous pages a client keeps in its cache, revalidated after each write."""

    def __init__(self, client: httpx.AsyncClient, urls: dict[str, str]) -> None:
        self.client, self.urls = client, urls
        self.cache: dict[str, Cached] = {}

    async def snapshot(self) -> None:
        # Each page is read twice here (the fetch, then the conditional request): on
        # PostgreSQL the app keeps a course page from its second reading (db/derived.py), so
        # every write after this is checked against a kept page, the case that could go stale.
        for name, url in self.urls.items():
            self.cache[name] = cached = await fetch(self.client, url)
            if cached.status == 200:
                assert cached.etag, f"{name}: a 200 without an ETag"
                again = await self.client.get(url, headers={"If-None-Match": cached.etag})
                assert again.status_code == 304, f"{name}: nothing changed, yet {again}"
                assert again.content == b"" and again.headers["etag"] == cached.etag

    async def after(self, what: str, write: Awaitable[Any], changes: set[str]) -> None:
        """Run `write`; every page it changed must revalidate to 200 with the new page, and
        the pages in `changes` must have changed."""
        await write
        changed = set()
        for name, url in self.urls.items():
            old = self.cache[name]
            now = await fetch(self.client, url)
            if (now.status, now.body) == (old.status, old.body):
                continue
            changed.add(name)
            if old.etag is None:
                continue
            revalidated = await self.client.get(url, headers={"If-None-Match": old.etag})
            assert revalidated.status_code != 304, f"after {what}: {name} stale behind a 304"
            assert (revalidated.status_code, revalidated.content) == (now.status, now.body)
            if now.status == 200:
                assert now.etag != old.etag, f"after {what}: {name} changed, its ETag did not"
        assert changes <= changed, f"{what} should have changed {changes}, changed {changed}"
        await self.snapshot()


async def ok(response: Awaitable[httpx.Response], status: int = 200) -> dict[str, Any]:
    result = await response
    assert result.status_code == status, result.text
    return result.json() if result.content else {}


async def test_no_write_a_page_shows_can_hide_behind_a_304(committed_client, committed_engine):
    client = committed_client
    (admin,) = await accounts(client, committed_engine, "admin", 1)
    (instructor,) = await accounts(client, committed_engine, "instructor", 1)
    (student,) = await accounts(client, committed_engine, "student", 1)
    course, _ = await published_course(client, instructor)
    other, _ = await published_course(client, instructor)
    catalog = f"{COURSES}?instructor_id={instructor.id}"
    watcher = Watcher(
        client,
        {
            "catalog": catalog,
            "catalog by newest": catalog + "&sort=newest",
            "course": course_url(course["id"]),
            "other course": course_url(other["id"]),
        },
    )
    await watcher.snapshot()
    both = {"catalog", "catalog by newest", "course"}

    async def edit(account: Account, course_id: str, **fields: Any) -> None:
        await ok(client.patch(course_url(course_id), headers={**account.headers, "If-Match": "*"},
                              json=fields))  # fmt: skip

    await watcher.after("an edit", edit(instructor, course["id"], title="Renamed course"), both)
    await watcher.after("new tags", edit(instructor, course["id"], tags=["cached", "fresh"]), both)
    rename = client.patch(f"{API}/users/me", headers=instructor.headers,
                          json={"display_name": "Renamed Instructor"})  # fmt: skip
    await watcher.after("the instructor's new name", ok(rename), both | {"other course"})
    enrol = client.post(course_url(course["id"], "/enrollments"), headers=student.headers)
    await watcher.after("an enrolment", ok(enrol, 201), both)
    review = client.post(course_url(course["id"], "/reviews"), headers=student.headers,
                         json={"rating": 4, "body": "Good"})  # fmt: skip
    await watcher.after("a review", ok(review, 201), both)
    archive = client.post(course_url(course["id"], "/archive"), headers=instructor.headers)
    await watcher.after("archiving", ok(archive), both)
    delete = client.delete(course_url(other["id"]), headers=admin.headers)
    await watcher.after(
        "a delete", ok(delete, 204), {"catalog", "catalog by newest", "other course"}
    )
    restore = client.post(course_url(other["id"], "/restore"), headers=admin.headers)
    await watcher.after("a restore", ok(restore), {"catalog", "catalog by newest", "other course"})

    async def publish_new() -> None:
        draft = await create_course(client, instructor)
        section = await add_section(client, instructor, draft["id"])
        await add_video(client, instructor, section["id"])
        await publish(client, instructor, draft["id"])

    await watcher.after("publishing", publish_new(), {"catalog", "catalog by newest"})

    # A write no page shows (a login stamps the account, not its name): still 304.
    await login(client, student.email)
    for name, url in watcher.urls.items():
        cached = watcher.cache[name]
        if cached.etag:
            again = await client.get(url, headers={"If-None-Match": cached.etag})
            assert again.status_code == 304, f"{name} after a login: {again.status_code}"


class Statements:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine, self.seen = engine.sync_engine, []

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # SQLite's read transaction opens with its own BEGIN: not a query.
        if not statement.startswith("BEGIN"):
            self.seen.append(" ".join(statement.split()))

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self.seen

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


async def test_a_current_catalog_page_is_a_304_without_the_listing_query(
    committed_client, committed_engine
):
    (instructor,) = await accounts(committed_client, committed_engine, "instructor", 1)
    await published_course(committed_client, instructor)
    url = f"{COURSES}?instructor_id={instructor.id}&sort=newest"
    first = await committed_client.get(url)
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('"'), "a strong validator"

    with Statements(committed_engine) as statements:
        again = await committed_client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.headers["etag"] == tag
    assert len(statements) == 1 and "catalog_generation" in statements[0], statements
    assert not any("FROM courses" in s for s in statements), statements

    # HEAD and a list of tags, the weak form too (RFC 9110 weak comparison for If-None-Match).
    head = await committed_client.head(url, headers={"If-None-Match": f'"x", W/{tag}'})
    assert head.status_code == 304
    # An ETag of another generation: the page, with the current one.
    stale = await committed_client.get(url, headers={"If-None-Match": '"catalog.0"'})
    assert stale.status_code == 200 and stale.headers["etag"] == tag
    assert stale.content == first.content


async def test_a_catalog_request_that_would_fail_is_never_a_304(committed_client, committed_engine):
    """RFC 9110 13.2.1: preconditions are ignored when the answer would not be a 2xx. A
    cursor is checked by reading its page; a valid one still gets its 304 (from the page's
    own validator)."""
    (instructor,) = await accounts(committed_client, committed_engine, "instructor", 1)
    await published_course(committed_client, instructor)
    await published_course(committed_client, instructor)
    first = await committed_client.get(f"{COURSES}?sort=newest&limit=1")
    tag, cursor = first.headers["etag"], first.json()["next_cursor"]
    for condition in ("*", tag):
        bad = await committed_client.get(
            f"{COURSES}?sort=newest&cursor=abc", headers={"If-None-Match": condition}
        )
        assert bad.status_code == 400 and bad.json()["code"] == "invalid_cursor", bad.text
        other_sort = await committed_client.get(
            f"{COURSES}?sort=rating&cursor={cursor}", headers={"If-None-Match": condition}
        )
        assert other_sort.status_code == 400, other_sort.text
    kept = await committed_client.get(
        f"{COURSES}?sort=newest&limit=1&cursor={cursor}", headers={"If-None-Match": tag}
    )
    assert kept.status_code == 304 and kept.headers["etag"] == tag


async def test_cache_control_is_public_for_shared_pages_and_private_for_personal_ones(
    committed_client, committed_engine
):
    client = committed_client
    (instructor,) = await accounts(client, committed_engine, "instructor", 1)
    course, _ = await published_course(client, instructor)

    anonymous_catalog = await client.get(COURSES)
    assert anonymous_catalog.headers["cache-control"].startswith("public, max-age=")
    assert "stale-while-revalidate=" in anonymous_catalog.headers["cache-control"]
    # The listing is the same for everyone: a logged-in caller gets the same shared page.
    logged_in_catalog = await client.get(COURSES, headers=instructor.headers)
    assert logged_in_catalog.headers["cache-control"] == anonymous_catalog.headers["cache-control"]
    assert logged_in_catalog.headers["etag"] == anonymous_catalog.headers["etag"]

    mine = await client.get(f"{COURSES}?mine=true", headers=instructor.headers)
    assert mine.status_code == 200
    assert mine.headers["cache-control"] == "private, no-cache"
    assert "authorization" in mine.headers["vary"].lower()
    assert "etag" not in mine.headers

    anonymous_page = await client.get(course_url(course["id"]))
    assert anonymous_page.headers["cache-control"].startswith("public, max-age=")
    assert "authorization" in anonymous_page.headers["vary"].lower()
    own_page = await client.get(course_url(course["id"]), headers=instructor.headers)
    assert own_page.headers["cache-control"] == "private, no-cache"
    assert own_page.headers["etag"] != anonymous_page.headers["etag"]  # it shows the videos
