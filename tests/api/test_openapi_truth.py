"""The OpenAPI document tells the truth about request bodies and parameters.

Booleans are not numbers (`"pass_mark": false` was taken as 0, `"version": true` as version
1), money has two decimals at most and the document says so, and the text rules the services
apply (no control characters, not blank) are declared as patterns, so what a client generated
from the document sends is what the API accepts. Through HTTP, on both databases."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from learnhub.models import Course, Quiz, Section
from tests.api.conftest import assert_problem
from tests.api.test_courses import (
    API,
    COURSES,
    add_quiz,
    add_section,
    course_url,
    create_course,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def declared(document: dict[str, Any], schema: str, field: str) -> dict[str, Any]:
    return document["components"]["schemas"][schema]["properties"][field]


def query_parameter(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    parameters = document["paths"][path]["get"]["parameters"]
    return next(p for p in parameters if p["name"] == name)["schema"]


async def test_booleans_are_not_numbers(client, login_as, session):
    instructor = await login_as("instructor")
    course = await create_course(client, instructor)
    section = await add_section(client, instructor, course["id"])
    quizzes = f"{API}/sections/{section['id']}/quizzes"

    refused = await client.post(
        quizzes, headers=instructor.headers, json={"title": "Q", "pass_mark": False}
    )
    body = assert_problem(refused, 422, "validation_error")
    assert body["errors"][0]["loc"][-1] == "pass_mark"
    count = (
        select(func.count()).select_from(Quiz).where(Quiz.section_id == uuid.UUID(section["id"]))
    )
    assert await session.scalar(count) == 0

    quiz = await add_quiz(client, instructor, section["id"])
    assert_problem(
        await client.patch(
            f"{API}/quizzes/{quiz['id']}", headers=instructor.headers, json={"pass_mark": True}
        ),
        422,
        "validation_error",
    )
    stored = await session.scalar(select(Quiz.pass_mark).where(Quiz.id == uuid.UUID(quiz["id"])))
    assert stored == quiz["pass_mark"]

    # `"version": true` is not version 1: refused, nothing written.
    for url, model, entity_id in (
        (course_url(course["id"]), Course, course["id"]),
        (f"{API}/sections/{section['id']}", Section, section["id"]),
    ):
        response = await client.patch(
            url, headers=instructor.headers, json={"title": "Changed", "version": True}
        )
        body = assert_problem(response, 422, "validation_error")
        assert body["errors"][0]["loc"][-1] == "version"
        title = await session.scalar(select(model.title).where(model.id == uuid.UUID(entity_id)))
        assert title != "Changed"
    # A string is not a number either.
    assert_problem(
        await client.patch(
            course_url(course["id"]), headers=instructor.headers, json={"version": "1"}
        ),
        422,
        "validation_error",
    )


async def test_money_has_two_decimals_and_the_document_says_so(client, login_as, session):
    document = (await client.get("/openapi.json")).json()
    amount = declared(document, "MoneyIn", "amount")
    string_pattern = next(s["pattern"] for s in amount["anyOf"] if s["type"] == "string")
    assert re.fullmatch(string_pattern, "19.99")
    assert not re.fullmatch(string_pattern, "19.999")
    integer = next(s for s in amount["anyOf"] if s["type"] == "integer")
    assert (integer["minimum"], integer["maximum"]) == (0, 999_999)
    assert "USD" in declared(document, "MoneyIn", "currency")["enum"]

    instructor = await login_as("instructor")
    title = f"Three decimals {uuid.uuid4().hex[:8]}"
    refused = await client.post(
        COURSES,
        headers=instructor.headers,
        json={"title": title, "price": {"amount": "19.999", "currency": "USD"}},
    )
    assert_problem(refused, 422, "validation_error")
    assert await session.scalar(select(func.count()).where(Course.title == title)) == 0

    price = query_parameter(document, f"{API}/courses", "min_price")
    pattern = next(s["pattern"] for s in price["anyOf"] if s.get("type") == "string")
    for good in ("0", "19.9", "19.99", "1000000", "1000000.00"):
        assert re.fullmatch(pattern, good), good
        assert (await client.get(COURSES, params={"min_price": good})).status_code == 200
    for bad in ("0.001", "1000000.01", "1e3", "-1", ""):
        assert not re.fullmatch(pattern, bad), bad
        assert_problem(
            await client.get(COURSES, params={"min_price": bad}), 422, "validation_error"
        )


@pytest.mark.parametrize("title", ["   ", "tab\x0bstop", "bell\x07", "c1\x85control"])
async def test_text_rules_are_declared_patterns(client, login_as, title):
    document = (await client.get("/openapi.json")).json()
    pattern = declared(document, "CourseIn", "title")["pattern"]
    assert not re.search(pattern, title)
    instructor = await login_as("instructor")
    response = await client.post(COURSES, headers=instructor.headers, json={"title": title})
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"][0]["loc"][-1] == "title"
    assert re.search(pattern, "A fine title")


async def test_register_declares_what_it_checks(client):
    document = (await client.get("/openapi.json")).json()
    email = declared(document, "RegisterIn", "email")
    password = declared(document, "RegisterIn", "password")
    name = declared(document, "RegisterIn", "display_name")
    assert email["format"] == "email" and email["minLength"] >= 3
    assert password["minLength"] == 8
    assert not re.search(name["pattern"], "  ") and not re.search(name["pattern"], "a\tb")
    for body in (
        {"email": "", "password": "long enough", "display_name": "Ann"},
        {"email": "ann@example.com", "password": "short", "display_name": "Ann"},
        {"email": "ann@example.com", "password": "long enough", "display_name": " "},
    ):
        assert_problem(
            await client.post(f"{API}/auth/register", json=body), 422, "validation_error"
        )
