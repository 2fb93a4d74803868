"""The anonymous course page's read model (repositories/course_outline.py: one statement on
PostgreSQL) answers exactly what the ORM's page answers a caller who may see the outline
only: same content in the same order, deleted content left out, videos locked unless a free
preview, quizzes with their live question counts; and nothing but a published course."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import Account, LoginAs
from tests.api.test_query_counts import COURSES, make_course


async def page(client: httpx.AsyncClient, url: str, who: Account | None = None) -> Any:
    answer = await client.get(url, headers=who.headers if who else None)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_anonymous_page_is_the_outline_the_orm_serves(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    author, outsider = await login_as("instructor"), await login_as("student")
    course_id = await make_course(
        client, author, "Outline course", tags=["b", "a"], objectives=3, sections=3,
        videos=3, quizzes=2, questions=3,
    )  # fmt: skip
    full = await page(client, f"{COURSES}/{course_id}", author)
    first, second, third = full["sections"]
    # Content deleted at each level, a free preview, reordered sections and videos.
    delete = [f"/api/v1/sections/{third['id']}", f"/api/v1/videos/{first['videos'][1]['id']}"]
    for url in delete:
        assert (await client.delete(url, headers=author.headers)).status_code == 204
    preview = first["videos"][2]
    patched = await client.patch(
        f"/api/v1/videos/{preview['id']}", json={"is_preview": True}, headers=author.headers
    )
    assert patched.status_code == 200, patched.text
    moved = await client.put(
        f"{COURSES}/{course_id}/sections/order",
        json={"ids": [second["id"], first["id"]]},
        headers=author.headers,
    )
    assert moved.status_code in (200, 204), moved.text
    # Two questions instead of three: the replaced ones are soft-deleted, not counted.
    choice = {
        "type": "single_choice",
        "options": [{"text": "Yes", "is_correct": True}, {"text": "No", "is_correct": False}],
    }
    replaced = await client.patch(
        f"/api/v1/quizzes/{second['quizzes'][0]['id']}",
        json={"questions": [{"text": f"New {n}?", **choice} for n in range(2)]},
        headers=author.headers,
    )
    assert replaced.status_code == 200, replaced.text

    for key in (course_id, full["slug"]):
        anonymous = await page(client, f"{COURSES}/{key}")
        assert anonymous == await page(client, f"{COURSES}/{key}", outsider)
    assert [s["id"] for s in anonymous["sections"]] == [second["id"], first["id"]]
    videos = anonymous["sections"][1]["videos"]
    assert [v["id"] for v in videos] == [first["videos"][0]["id"], preview["id"]]
    assert [(v["locked"], v["url"] is None) for v in videos] == [(True, True), (False, False)]
    assert [q["question_count"] for q in anonymous["sections"][0]["quizzes"]] == [2, 3]
    assert anonymous["tags"] == ["a", "b"] and len(anonymous["objectives"]) == 3


async def test_only_a_published_course_has_a_public_page(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    author = await login_as("instructor")
    draft = await make_course(client, author, "Draft course", tags=["d"], publish=False)
    assert (await client.get(f"{COURSES}/{draft}")).status_code == 404
    assert (await client.get(f"{COURSES}/no-such-course")).status_code == 404
    assert (await client.get(f"{COURSES}/not a slug!")).status_code == 404


async def test_text_in_the_outline_comes_through_exactly(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    """The sections' JSON is put into the page as PostgreSQL wrote it: quotes, backslashes,
    tabs, a line separator and text beyond ASCII in a title reach the reader exactly as the
    ORM's page has them."""
    author, outsider = await login_as("instructor"), await login_as("student")
    course_id = await make_course(client, author, "Escapes course", tags=["e"], sections=1)
    full = await page(client, f"{COURSES}/{course_id}", author)
    section, video = full["sections"][0], full["sections"][0]["videos"][0]
    # (Other control characters are refused in titles: a 422 before anything is stored.)
    awkward = 'Le "café" \\ naïve\t東京 — 🎓 </script> \u2028 line'
    for url in (f"/api/v1/sections/{section['id']}", f"/api/v1/videos/{video['id']}"):
        renamed = await client.patch(url, json={"title": awkward}, headers=author.headers)
        assert renamed.status_code == 200, renamed.text
    anonymous = await page(client, f"{COURSES}/{course_id}")
    assert anonymous == await page(client, f"{COURSES}/{course_id}", outsider)
    assert anonymous["sections"][0]["title"] == awkward
    assert anonymous["sections"][0]["videos"][0]["title"] == awkward
    assert anonymous["sections"][0]["videos"][0]["locked"] is True
