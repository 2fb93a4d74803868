"""The public catalog, GET /api/v1/courses: what it shows, every filter, every sort order,
and keyset pagination that neither skips nor repeats a course, with ties and with courses
published between page requests."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Query
from fastapi.routing import APIRoute

from learnhub.api.query_parameters import known_query_only, one_value_per_query_parameter
from learnhub.api.schemas.common import PageOut
from learnhub.domain.enums import CourseStatus
from learnhub.models import Course
from learnhub.repositories.filters import MAX_CURSOR_LENGTH
from tests.api.conftest import Account, assert_problem
from tests.api.test_courses import (
    COURSES,
    add_section,
    add_video,
    course_url,
    create_course,
    make_course,
    publish,
    set_counters,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

SORTS = ["rating", "enrollments", "newest", "price", "-price"]


# ---- helpers ----------------------------------------------------------------------------------


async def catalog(
    client: httpx.AsyncClient, account: Account | None = None, **params: Any
) -> dict[str, Any]:
    response = await client.get(COURSES, params=params, headers=account.headers if account else {})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"items", "next_cursor"}
    return body


async def listed_ids(client: httpx.AsyncClient, **params: Any) -> list[str]:
    return [c["id"] for c in (await catalog(client, **params))["items"]]


async def walk(client: httpx.AsyncClient, limit: int, **params: Any) -> list[str]:
    """Every id of a listing, following next_cursor page by page."""
    seen: list[str] = []
    cursor = None
    for _ in range(100):
        page = await catalog(
            client, limit=limit, **params, **({"cursor": cursor} if cursor else {})
        )
        assert len(page["items"]) <= limit
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
        assert page["items"], "a page with a next cursor must not be empty"
    raise AssertionError("pagination did not end")


def cursor_of(data: Any) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def ordered(courses: list[dict], key: str, *, descending: bool) -> list[str]:
    """Ids in the catalog's order: `key` then id, both in the same direction."""
    return [
        c["id"]
        for c in sorted(courses, key=lambda c: (c[key], uuid.UUID(c["id"])), reverse=descending)
    ]


async def insert_published(session: Any, instructor: Account, count: int, **values: Any) -> None:
    """Published courses written straight through the ORM (audited by the session's flush),
    for listings longer than the API helpers could build quickly."""
    now = datetime.now(UTC)
    session.add_all(
        Course(
            title=f"Bulk {i} {uuid.uuid4().hex[:8]}",
            slug=f"bulk-{uuid.uuid4().hex}",
            instructor_id=uuid.UUID(instructor.id),
            price_amount=Decimal("5.00"),
            price_currency="USD",
            status=CourseStatus.PUBLISHED,
            published_at=now - timedelta(minutes=i),
            **values,
        )
        for i in range(count)
    )
    await session.flush()


# ---- visibility --------------------------------------------------------------------------------


async def test_only_published_live_courses_are_listed_to_everyone(client, login_as):
    instructor, admin = await login_as("instructor"), await login_as("admin")
    draft = await create_course(client, instructor, objectives=["Goal"])
    published = await make_course(client, instructor, tags=["Web"], objectives=["One", "Two"])
    archived = await make_course(client, instructor)
    response = await client.post(course_url(archived["id"], "/archive"), headers=instructor.headers)
    assert response.status_code == 200, response.text
    deleted = await make_course(client, instructor)
    response = await client.delete(course_url(deleted["id"]), headers=instructor.headers)
    assert response.status_code == 204, response.text

    mine = {"instructor_id": instructor.id}
    for viewer in (None, instructor, admin):
        page = await catalog(client, viewer, **mine)
        assert [c["id"] for c in page["items"]] == [published["id"]], viewer
        assert page["next_cursor"] is None

    item = (await catalog(client, **mine))["items"][0]
    detail = (await client.get(course_url(published["id"]))).json()
    assert item["status"] == "published" and item["price"] == {"amount": "19.99", "currency": "USD"}
    assert item["tags"] == ["web"]

    # The author's own listing has drafts and archived courses, not deleted ones.
    own = await catalog(client, instructor, mine="true")
    assert [c["id"] for c in own["items"]] == [archived["id"], published["id"], draft["id"]]
    assert_problem(await client.get(COURSES, params={"mine": "true"}), 401, "unauthorized")
    assert_problem(
        await client.get(COURSES, headers={"Authorization": "Bearer not-a-token"}),
        401,
        "unauthorized",
    )
    # A catalog entry is the course payload: the same values the course page shows.
    assert {k: v for k, v in detail.items() if k != "sections"} == item


# ---- filters -----------------------------------------------------------------------------------


async def test_q_matches_words_of_title_or_description_case_insensitively(client, login_as):
    instructor = await login_as("instructor")
    token = uuid.uuid4().hex[:10]
    rust = await make_course(client, instructor, title=f"Learn RUST {token}")
    interop = await make_course(
        client, instructor, title=f"Python {token}", description="Calling Rust from Python."
    )
    percent = await make_course(client, instructor, title=f"100% Go {token}")
    under = await make_course(client, instructor, title=f"snake_case {token}")
    await create_course(client, instructor, title=f"Rust draft {token}")
    scope = {"instructor_id": instructor.id}

    assert set(await listed_ids(client, q="rust", **scope)) == {rust["id"], interop["id"]}
    assert set(await listed_ids(client, q="RuSt", **scope)) == {rust["id"], interop["id"]}
    assert set(await listed_ids(client, q="from python", **scope)) == {interop["id"]}
    everything = {rust["id"], interop["id"], percent["id"], under["id"]}
    assert set(await listed_ids(client, q=token)) == everything
    assert set(await listed_ids(client, q=token.upper())) == everything
    # Words, not substrings; punctuation separates words and is never query syntax.
    assert await listed_ids(client, q="snake case", **scope) == [under["id"]]
    assert await listed_ids(client, q="100% go", **scope) == [percent["id"]]
    for nothing in ("%", "_", "\\", '"', "*", "(", "NEAR(", "title:rust", "no such words"):
        found = await listed_ids(client, q=nothing, **scope)
        assert found in ([], [rust["id"]]), nothing  # title:rust may read as two words
    assert_problem(await client.get(COURSES, params={"q": "x" * 101}), 422, "validation_error")
    assert_problem(await client.get(COURSES, params={"q": "a\x00b"}), 422, "validation_error")


async def test_q_folds_case_beyond_ascii(client, login_as):
    instructor = await login_as("instructor")
    token = uuid.uuid4().hex[:10]
    course = await make_course(client, instructor, title=f"École de cuisine {token}")
    scope = {"instructor_id": instructor.id}
    assert await listed_ids(client, q="école", **scope) == [course["id"]]
    assert await listed_ids(client, q="ÉCOLE", **scope) == [course["id"]]


async def test_q_finds_words_in_any_order_accents_folded_best_match_first(client, login_as):
    instructor = await login_as("instructor")
    scope = {"instructor_id": instructor.id}
    charts = await make_course(
        client, instructor, title="Data Visualisation with Python", description="Charts."
    )
    beginners = await make_course(
        client, instructor, title="Python for Beginners", description="Some data on the way."
    )
    await make_course(client, instructor, title="Data Engineering", description="Pipelines.")
    creme = await make_course(
        client, instructor, title="Crème brûlée à la française", description="Desserts."
    )

    # Every word must match, in any order; title words weigh more than description words.
    expected = [charts["id"], beginners["id"]]
    assert await listed_ids(client, q="python data", **scope) == expected
    assert await listed_ids(client, q="DATA Python", **scope) == expected
    assert await listed_ids(client, q="python data", sort="relevance", **scope) == expected
    # Accents and case folded either way round; words are stemmed (charts ~ chart).
    for q in ("creme brulee", "CRÈME BRÛLÉE", "francaise"):
        assert await listed_ids(client, q=q, **scope) == [creme["id"]], q
    assert await listed_ids(client, q="chart", **scope) == [charts["id"]]
    # A quoted phrase keeps its order; -word excludes.
    assert await listed_ids(client, q='"visualisation with python"', **scope) == [charts["id"]]
    assert await listed_ids(client, q="python -beginners", **scope) == [charts["id"]]
    # Other sorts still apply to what q found; without q, relevance is the default order.
    by_newest = await listed_ids(client, q="python data", sort="newest", **scope)
    assert by_newest == [beginners["id"], charts["id"]]
    by_rating = await listed_ids(client, sort="rating", **scope)
    assert await listed_ids(client, sort="relevance", **scope) == by_rating


async def test_search_pages_never_overlap_under_rank_ties(client, login_as, session):
    instructor = await login_as("instructor")
    token = uuid.uuid4().hex[:10]
    # Seven courses whose only match is the same description: their ranks tie.
    await insert_published(session, instructor, 7, description=f"Tied {token}.")
    best = await make_course(client, instructor, title=f"Tied {token}")
    tied = await listed_ids(client, instructor_id=instructor.id, limit=100)
    tied.remove(best["id"])
    expected = [best["id"], *sorted(tied, key=uuid.UUID, reverse=True)]
    for limit in (1, 2, 3):
        assert await walk(client, limit, q=f"tied {token}") == expected, limit


async def test_search_falls_back_to_similar_words_on_postgresql(client, login_as, backend):
    instructor = await login_as("instructor")
    scope = {"instructor_id": instructor.id}
    kube = await make_course(client, instructor, title="Kubernetes Deep Dive")
    helm = await make_course(client, instructor, title="Kubernetes with Helm Charts")
    found = await walk(client, 1, q="kubenetes", **scope)
    if backend == "postgresql":  # a typo: nothing matches exactly, similar words do
        assert set(found) == {kube["id"], helm["id"]} and len(found) == 2
        assert await listed_ids(client, q="kubenetes deep", **scope) == [kube["id"]]
        assert await listed_ids(client, q="kubenetes dive helm", **scope) == []
    else:  # SQLite: full-text search only
        assert found == []
    # An exact match never falls back: the typo search ranks no similar-only course.
    assert await listed_ids(client, q="kubernetes helm", **scope) == [helm["id"]]


async def test_repeated_tags_must_all_match(client, login_as):
    instructor = await login_as("instructor")
    both = await make_course(client, instructor, tags=["python", "web"])
    python = await make_course(client, instructor, tags=["python"])
    await make_course(client, instructor, tags=["web"])
    scope = {"instructor_id": instructor.id}
    assert set(await listed_ids(client, tag="python", **scope)) == {both["id"], python["id"]}
    assert await listed_ids(client, tag=["python", "WEB"], **scope) == [both["id"]]
    assert await listed_ids(client, tag=["python", "web", "go"], **scope) == []
    too_many = [f"t{i}" for i in range(11)]
    assert_problem(await client.get(COURSES, params={"tag": too_many}), 422, "validation_error")


async def test_price_filter_and_sort_need_one_currency(client, login_as):
    instructor = await login_as("instructor")
    scope = {"instructor_id": instructor.id}
    dollars = await make_course(client, instructor, price={"amount": "10", "currency": "USD"})
    # Only dollars listed: the currency is inferred.
    assert await listed_ids(client, min_price="5", **scope) == [dollars["id"]]
    assert await listed_ids(client, sort="price", **scope) == [dollars["id"]]

    euros = await make_course(client, instructor, price={"amount": "12", "currency": "EUR"})
    for params in ({"min_price": "5"}, {"max_price": "50"}, {"sort": "price"}, {"sort": "-price"}):
        body = assert_problem(
            await client.get(COURSES, params={**params, **scope}), 422, "invalid_value"
        )
        assert "currency" in body["detail"], body
    assert await listed_ids(client, min_price="5", currency="USD", **scope) == [dollars["id"]]
    assert await listed_ids(client, sort="-price", currency="EUR", **scope) == [euros["id"]]
    # Other sorts and filters need no currency; `currency` alone filters by it.
    assert set(await listed_ids(client, sort="rating", **scope)) == {dollars["id"], euros["id"]}
    assert await listed_ids(client, currency="EUR", **scope) == [euros["id"]]
    for bad in ("eur", "EURO", "E1R"):
        assert_problem(await client.get(COURSES, params={"currency": bad}), 422, "validation_error")


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, looking into included routers (recent FastAPI keeps them as nodes
    with `original_router`)."""
    found: list[APIRoute] = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            found += api_routes(nested.routes)
        elif isinstance(route, APIRoute):
            found.append(route)
    return found


async def test_unknown_query_parameters_are_refused_naming_the_allowed_ones(client, app):
    body = assert_problem(
        await client.get(COURSES, params={"sortt": "price"}), 422, "invalid_value"
    )
    assert "sortt" in body["detail"]
    for name in ("q", "tag", "currency", "sort", "limit", "cursor", "min_price"):
        assert name in body["allowed"].split(", "), body
    response = await client.get(f"{COURSES}/{uuid.uuid4()}/reviews", params={"page": "2"})
    assert_problem(response, 422, "invalid_value")
    assert (await client.get(COURSES, params={"q": "x", "limit": "5"})).status_code == 200
    # Named, not echoed whole: a 60 kB name, and many names, give a short detail.
    huge = {"a" * 60_000: "1", **{f"p{n}": "1" for n in range(20)}}
    detail = assert_problem(await client.get(COURSES, params=huge), 422, "invalid_value")["detail"]
    assert len(detail) < 1000 and "a" * 61 + "..." in detail and "a" * 62 not in detail
    assert "p0" in detail and "and 16 more" in detail

    # Every list endpoint (a PageOut response) checks its query parameters.
    lists = [
        route
        for route in api_routes(app.routes)
        if isinstance(route.response_model, type) and issubclass(route.response_model, PageOut)
    ]
    assert len(lists) >= 7, [r.path for r in lists]
    for route in lists:
        assert known_query_only in [d.dependency for d in route.dependencies], route.path


async def test_a_query_parameter_given_twice_is_refused_naming_it(client, login_as):
    """Not answered for the last value: the client asked for two things at once."""
    for query, repeated in (
        ("sort=newest&sort=rating", [["query", "sort"]]),
        ("limit=5&limit=50&q=x&q=y", [["query", "limit"], ["query", "q"]]),
    ):
        body = assert_problem(await client.get(f"{COURSES}?{query}"), 422, "validation_error")
        assert [error["loc"] for error in body["errors"]] == repeated, body
        assert {e["type"] for e in body["errors"]} == {"repeated_parameter"}
    # The same on a route that is not a list, and on a learner's route.
    learner = await login_as()
    mine = await client.get("/api/v1/users/me/enrollments?limit=5&limit=6", headers=learner.headers)
    assert assert_problem(mine, 422, "validation_error")["errors"][0]["loc"] == ["query", "limit"]
    # One value each, or a parameter no route declares (unknown ones are another rule's).
    assert (await client.get(f"{COURSES}?sort=newest&limit=5")).status_code == 200
    assert_problem(await client.get(f"{COURSES}?zz=1&zz=2"), 422, "invalid_value")


async def test_a_route_that_takes_a_list_takes_repeats():
    probe = FastAPI(dependencies=[Depends(one_value_per_query_parameter)])

    @probe.get("/probe")
    async def listed(tag: list[str] | None = Query(None), sort: str = "a") -> dict[str, Any]:
        return {"tag": tag, "sort": sort}

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=probe), base_url="http://test"
    ) as probing:
        taken = await probing.get("/probe?tag=a&tag=b&sort=x")
        assert taken.json() == {"tag": ["a", "b"], "sort": "x"}
        refused = await probing.get("/probe?tag=a&sort=x&sort=y")
        assert refused.status_code == 422
        assert [e["loc"] for e in refused.json()["detail"]] == [["query", "sort"]]


async def test_difficulty_price_tag_and_instructor_filters(client, login_as):
    alice, bob = await login_as("instructor"), await login_as("instructor")

    def money(amount: str) -> dict[str, str]:
        return {"amount": amount, "currency": "USD"}

    free = await make_course(
        client, alice, price=money("0"), difficulty="beginner", tags=["Python"]
    )
    cheap = await make_course(
        client, alice, price=money("9.99"), difficulty="advanced", tags=["python", "web"]
    )
    ten = await make_course(client, alice, price=money("10.00"), difficulty="advanced", tags=["Go"])
    dear = await make_course(client, alice, price=money("49.50"), difficulty="expert")
    other = await make_course(client, bob, price=money("9.99"), difficulty="advanced", tags=["web"])
    scope = {"instructor_id": alice.id}

    async def ids(**params: Any) -> set[str]:
        found = await listed_ids(client, **{**scope, **params})
        assert len(found) == len(set(found))
        return set(found)

    assert await ids() == {free["id"], cheap["id"], ten["id"], dear["id"]}
    assert await ids(difficulty="advanced") == {cheap["id"], ten["id"]}
    assert await ids(difficulty="expert") == {dear["id"]}
    assert await ids(difficulty="intermediate") == set()
    # Price bounds are inclusive.
    assert await ids(min_price="9.99") == {cheap["id"], ten["id"], dear["id"]}
    assert await ids(max_price="10") == {free["id"], cheap["id"], ten["id"]}
    assert await ids(min_price="9.99", max_price="10.00") == {cheap["id"], ten["id"]}
    assert await ids(min_price="0", max_price="0") == {free["id"]}
    assert await ids(min_price="10.01") == {dear["id"]}
    assert await ids(max_price="9.98") == {free["id"]}
    # Tags match whole names, case-insensitively.
    assert await ids(tag="python") == {free["id"], cheap["id"]}
    assert await ids(tag="PYTHON") == {free["id"], cheap["id"]}
    assert await ids(tag="web") == {cheap["id"]}
    assert await ids(tag="pyth") == set()
    # Filters combine.
    assert await ids(tag="python", difficulty="advanced", max_price="10") == {cheap["id"]}
    # The instructor filter.
    assert set(await listed_ids(client, instructor_id=bob.id)) == {other["id"]}
    assert set(await listed_ids(client, tag="web", max_price="9.99")) >= {cheap["id"], other["id"]}
    assert await listed_ids(client, instructor_id=str(uuid.uuid4())) == []

    # A tag taken off a course no longer finds it.
    response = await client.patch(
        course_url(cheap["id"]), headers=alice.headers, json={"tags": ["web"]}
    )
    assert response.status_code == 200, response.text
    assert await ids(tag="python") == {free["id"]}

    for params in (
        {"difficulty": "impossible"},
        {"min_price": "abc"},
        {"min_price": "-1"},
        {"max_price": "10.001"},
        {"min_price": "NaN"},
        {"max_price": "Infinity"},
        {"instructor_id": "not-a-uuid"},
        {"tag": "x" * 51},
    ):
        assert_problem(await client.get(COURSES, params=params), 422, "validation_error")


# ---- sort orders -------------------------------------------------------------------------------


async def test_every_sort_order_with_ties_broken_by_id(client, login_as, session):
    instructor = await login_as("instructor")
    base = datetime(2030, 1, 1, tzinfo=UTC)
    specs = [
        # rating, enrollments, price, published_at offset (hours): ties in every column
        ("4.50", 10, "10.00", 3),
        ("3.00", 50, "5.00", 1),
        ("4.50", 50, "10.00", 3),
        ("5.00", 0, "0.00", 2),
        ("0.00", 7, "99.99", 0),
        ("3.00", 10, "5.00", 1),
        ("4.50", 10, "10.00", 5),
    ]
    courses = []
    for rating, enrollments, price, hours in specs:
        course = await make_course(
            client,
            instructor,
            session=session,
            rating=Decimal(rating),
            enrollments=enrollments,
            price={"amount": price, "currency": "USD"},
        )
        published_at = base + timedelta(hours=hours)
        await set_counters(session, course["id"], published_at=published_at)
        course.update(
            rating_key=Decimal(rating), price_key=Decimal(price), published_key=published_at
        )
        courses.append(course)

    expected = {
        "rating": ordered(courses, "rating_key", descending=True),
        "enrollments": ordered(courses, "enrollment_count", descending=True),
        "newest": ordered(courses, "published_key", descending=True),
        "price": ordered(courses, "price_key", descending=False),
        "-price": ordered(courses, "price_key", descending=True),
    }
    scope = {"instructor_id": instructor.id}
    for sort, wanted in expected.items():
        assert await listed_ids(client, sort=sort, **scope) == wanted, sort
        for limit in (1, 2, 3):
            assert await walk(client, limit, sort=sort, **scope) == wanted, (sort, limit)
    # Rating is the default order.
    assert await listed_ids(client, **scope) == expected["rating"]

    items = {c["id"]: c for c in (await catalog(client, **scope))["items"]}
    for course in courses:
        item = items[course["id"]]
        assert item["rating"] == float(course["rating_key"])
        assert item["enrollment_count"] == course["enrollment_count"]
        assert item["price"]["amount"] == str(course["price_key"])
        assert datetime.fromisoformat(item["published_at"]) == course["published_key"]


async def test_newest_follows_publication_not_creation(client, login_as):
    instructor = await login_as("instructor")
    early = await create_course(client, instructor)
    late = await make_course(client, instructor)
    section = await add_section(client, instructor, early["id"])
    await add_video(client, instructor, section["id"])
    await publish(client, instructor, early["id"])
    scope = {"instructor_id": instructor.id}
    assert await listed_ids(client, sort="newest", **scope) == [early["id"], late["id"]]


# ---- keyset pagination -------------------------------------------------------------------------


async def test_pages_through_equal_ratings_without_gaps_or_repeats(client, login_as, session):
    instructor = await login_as("instructor")
    courses = [
        await make_course(client, instructor, session=session, rating=Decimal("4.50"))
        for _ in range(7)
    ]
    scope = {"instructor_id": instructor.id}
    wanted = ordered(courses, "id", descending=True)
    for limit in (1, 2, 3, 6, 7, 8):
        assert await walk(client, limit, sort="rating", **scope) == wanted, limit
    first = await catalog(client, limit=3, sort="rating", **scope)
    assert len(first["items"]) == 3 and first["next_cursor"]
    last = await catalog(client, limit=7, sort="rating", **scope)
    assert len(last["items"]) == 7 and last["next_cursor"] is None


async def test_courses_published_between_page_requests_never_shift_the_pages(
    client, login_as, session
):
    instructor = await login_as("instructor")
    rating = Decimal("4.50")
    originals = [
        await make_course(client, instructor, session=session, rating=rating) for _ in range(6)
    ]
    scope = {"instructor_id": instructor.id, "sort": "rating", "limit": 2}

    seen: list[str] = []
    page = await catalog(client, **scope)
    seen += [c["id"] for c in page["items"]]
    # Published now, with the same rating: its newer id sorts before every page already read
    # (an offset-paginated catalog would now repeat a course).
    ahead = await make_course(client, instructor, session=session, rating=rating)
    page = await catalog(client, cursor=page["next_cursor"], **scope)
    seen += [c["id"] for c in page["items"]]
    # Published now, rated lower: it belongs after the pages read so far and must show up once.
    behind = await make_course(client, instructor, session=session, rating=Decimal("1.00"))
    # And one more at the front for good measure.
    await make_course(client, instructor, session=session, rating=Decimal("5.00"))
    while page["next_cursor"]:
        page = await catalog(client, cursor=page["next_cursor"], **scope)
        seen += [c["id"] for c in page["items"]]

    assert len(seen) == len(set(seen)), "a course was listed twice"
    assert seen == [*ordered(originals, "id", descending=True), behind["id"]]
    assert ahead["id"] not in seen


async def test_newest_and_price_pages_stay_exact_while_courses_are_published(client, login_as):
    instructor = await login_as("instructor")
    same_price = {"amount": "12.00", "currency": "USD"}
    originals = [await make_course(client, instructor, price=same_price) for _ in range(5)]
    scope = {"instructor_id": instructor.id, "limit": 2}

    # newest: a course published meanwhile is newer than every page; it is not repeated and
    # no original is lost.
    page = await catalog(client, sort="newest", **scope)
    seen = [c["id"] for c in page["items"]]
    newer = await make_course(client, instructor, price=same_price)
    while page["next_cursor"]:
        page = await catalog(client, sort="newest", cursor=page["next_cursor"], **scope)
        seen += [c["id"] for c in page["items"]]
    assert seen == [c["id"] for c in reversed(originals)]

    # price (ascending) with every price equal: ties go by id, so a course published
    # meanwhile (the highest id) comes last, exactly once.
    everyone = [*originals, newer]
    page = await catalog(client, sort="price", **scope)
    seen = [c["id"] for c in page["items"]]
    latest = await make_course(client, instructor, price=same_price)
    while page["next_cursor"]:
        page = await catalog(client, sort="price", cursor=page["next_cursor"], **scope)
        seen += [c["id"] for c in page["items"]]
    assert seen == [*ordered(everyone, "id", descending=False), latest["id"]]


async def test_limit_bounds_and_the_default_page_size(client, login_as, session):
    instructor = await login_as("instructor")
    await insert_published(session, instructor, 21)
    scope = {"instructor_id": instructor.id}
    first = await catalog(client, **scope)
    assert len(first["items"]) == 20 and first["next_cursor"]
    rest = await catalog(client, cursor=first["next_cursor"], **scope)
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = [c["id"] for c in first["items"] + rest["items"]]
    assert len(set(ids)) == 21
    assert len((await catalog(client, limit=1, **scope))["items"]) == 1
    assert len((await catalog(client, limit=100, **scope))["items"]) == 21
    assert len(await walk(client, 5, sort="newest", **scope)) == 21
    for limit in ("0", "101", "-1", "abc", "1.5"):
        assert_problem(await client.get(COURSES, params={"limit": limit}), 422, "validation_error")


# ---- cursors and sort names --------------------------------------------------------------------


async def test_malformed_or_foreign_cursors_are_400(client, login_as, session):
    instructor = await login_as("instructor")
    await insert_published(session, instructor, 3)
    scope = {"instructor_id": instructor.id, "limit": 1}
    rating_cursor = (await catalog(client, sort="rating", **scope))["next_cursor"]
    price_cursor = (await catalog(client, sort="price", **scope))["next_cursor"]
    newest_cursor = (await catalog(client, sort="newest", **scope))["next_cursor"]
    assert rating_cursor and price_cursor and newest_cursor
    a_uuid = str(uuid.uuid4())

    malformed = [
        ("rating", "%%%"),
        ("rating", "not base64!"),
        ("rating", "AAAA"),
        ("rating", cursor_of(b"\xff\xfe not utf-8")),
        ("rating", cursor_of(b"{not json")),
        ("rating", cursor_of([])),
        ("rating", cursor_of("rating")),
        ("rating", cursor_of({"s": "rating", "v": "4.50"})),
        ("rating", cursor_of({"s": "rating", "v": "4.50", "id": a_uuid, "extra": 1})),
        ("rating", cursor_of({"s": "rating", "v": "4.50", "id": "not-a-uuid"})),
        ("rating", cursor_of({"s": "rating", "v": "not a number", "id": a_uuid})),
        ("rating", cursor_of({"s": "rating", "v": "NaN", "id": a_uuid})),
        ("rating", cursor_of({"s": "rating", "v": 4.5, "id": a_uuid})),
        ("rating", cursor_of({"s": "rating", "v": None, "id": a_uuid})),
        ("enrollments", cursor_of({"s": "enrollments", "v": "10", "id": a_uuid})),
        ("enrollments", cursor_of({"s": "enrollments", "v": True, "id": a_uuid})),
        ("newest", cursor_of({"s": "newest", "v": "yesterday", "id": a_uuid})),
        ("newest", cursor_of({"s": "newest", "v": "2030-01-01T00:00:00", "id": a_uuid})),
    ]
    for sort, cursor in malformed:
        response = await client.get(COURSES, params={"sort": sort, "cursor": cursor, **scope})
        assert response.status_code == 400, (cursor, response.text)
        assert_problem(response, 400, "invalid_cursor")

    # A cursor is only good for the sort order that made it.
    for cursor, other_sorts in [
        (rating_cursor, ["price", "-price", "newest", "enrollments"]),
        (price_cursor, ["-price", "rating"]),
        (newest_cursor, ["rating", "price"]),
    ]:
        for sort in other_sorts:
            response = await client.get(COURSES, params={"sort": sort, "cursor": cursor, **scope})
            assert_problem(response, 400, "invalid_cursor")
    # The history's cursors are not the catalog's either.
    history = cursor_of({"s": "history", "v": "2030-01-01T00:00:00+00:00", "id": a_uuid})
    assert_problem(
        await client.get(COURSES, params={"cursor": history, **scope}), 400, "invalid_cursor"
    )
    assert_problem(
        await client.get(COURSES, params={"cursor": "x" * (MAX_CURSOR_LENGTH + 1), **scope}),
        422,
        "validation_error",
    )
    # The genuine cursors still work.
    assert len((await catalog(client, sort="price", cursor=price_cursor, **scope))["items"]) == 1


async def test_unknown_sort_orders_are_422(client):
    for sort in ("popularity", "created", "RATING", "-rating", "", "price,rating"):
        response = await client.get(COURSES, params={"sort": sort})
        assert_problem(response, 422, "validation_error")
    for sort in SORTS:
        assert (await client.get(COURSES, params={"sort": sort})).status_code == 200


async def test_extreme_cursor_values_never_cause_a_500(client):
    """Well-formed cursors carrying values no real row has (out-of-range numbers and dates)
    are refused as invalid input or answered with a page, never an internal error."""
    a_uuid = str(uuid.uuid4())
    extreme = [
        ("rating", "1e30"),
        ("rating", "1e999999"),
        ("rating", "-1e-999999"),
        ("price", "99999999999999999999999999999999.99"),
        ("-price", "-1e400"),
        ("newest", "0001-01-01T00:00:00+05:00"),
        ("newest", "9999-12-31T23:59:59-05:00"),
        ("enrollments", -(2**63)),
        ("enrollments", 2**70),
    ]
    for sort, value in extreme:
        cursor = cursor_of({"s": sort, "v": value, "id": a_uuid})
        response = await client.get(COURSES, params={"sort": sort, "cursor": cursor})
        assert response.status_code in (200, 400, 422), (sort, value, response.text)
        if response.status_code != 200:
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] in {"invalid_cursor", "invalid_value"}
