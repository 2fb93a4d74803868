"""The catalog read model runs as Core, outside the ORM's global soft-delete filter, so it
states the filter itself: these tests delete each kind of row it reads and look for leaks,
on both databases."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from learnhub.api.schemas.common import PageOut
from learnhub.api.schemas.courses import CourseOut, catalog_page_json
from learnhub.domain.enums import CourseStatus
from learnhub.models import Course, CourseObjective, Tag
from learnhub.repositories.catalog import CatalogRepository, HasTag
from learnhub.repositories.course import (
    CourseRepository,
    ObjectiveRepository,
    TagRepository,
)
from learnhub.repositories.course_catalog import Listed
from learnhub.repositories.filters import CursorPagination, Eq
from tests.integration.helpers import register


async def published_course(uow, instructor_id: uuid.UUID, tags: list[str]) -> Course:
    marker = uuid.uuid4().hex[:8]
    async with uow:
        tag_rows = await uow.repo(TagRepository).get_or_create([f"{t}-{marker}" for t in tags])
        course = await uow.repo(CourseRepository).create(
            Course(
                title=f"Read model {marker}",
                slug=f"read-model-{marker}",
                description='Ünïcode "quotes" and\nlines',
                instructor_id=instructor_id,
                price_amount=Decimal("12.50"),
                status=CourseStatus.PUBLISHED,
                # In the past: the "newest" pages of tests sharing a committed database
                # (test_hot_reads) start with their own courses.
                published_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
                tags=tag_rows,
            )
        )
        for position, text in enumerate(["first", "second", "third"]):
            await uow.repo(ObjectiveRepository).create(
                CourseObjective(course_id=course.id, position=position, text=text)
            )
        await uow.commit()
    return course


async def cards_of(session, course_id: uuid.UUID, *extra):
    page = await CatalogRepository(session).catalog_page(
        [Listed(), Eq(Course.id, course_id), *extra], CursorPagination(limit=5), "rating"
    )
    return page.items


async def test_deleted_tags_objectives_and_courses_never_reach_the_catalog(uow, session):
    instructor = await register(uow)
    course = await published_course(uow, instructor.id, ["alpha", "beta"])
    (card,) = await cards_of(session, course.id)
    assert [t.split("-")[0] for t in card.tags] == ["alpha", "beta"]
    assert card.objectives == ["first", "second", "third"]
    beta = next(t for t in card.tags if t.startswith("beta"))

    async with uow:
        tag = await uow.repo(TagRepository).get_all([Eq(Tag.name, beta)])
        await uow.repo(TagRepository).delete(tag.items[0].id)
        objectives = await uow.repo(ObjectiveRepository).get_all(
            [Eq(CourseObjective.course_id, course.id), Eq(CourseObjective.text, "second")]
        )
        await uow.repo(ObjectiveRepository).delete(objectives.items[0].id)
        await uow.commit()

    (card,) = await cards_of(session, course.id)
    assert [t.split("-")[0] for t in card.tags] == ["alpha"]
    assert card.objectives == ["first", "third"]
    # Filtering by a deleted tag finds nothing; by a live one, the course.
    assert await cards_of(session, course.id, HasTag(beta)) == []
    alpha = card.tags[0]
    assert [c.id for c in await cards_of(session, course.id, HasTag(alpha))] == [course.id]

    async with uow:
        await uow.repo(CourseRepository).delete(course.id)
        await uow.commit()
    assert await cards_of(session, course.id) == []


async def test_catalog_json_is_what_the_response_model_would_write(uow, session):
    instructor = await register(uow)
    course = await published_course(uow, instructor.id, ["gamma"])
    cards = await cards_of(session, course.id)
    # Also a course that was never published (published_at None) and has no tags.
    draft = dataclasses.replace(cards[0], published_at=None, tags=[], objectives=[])
    # Whole seconds (no microseconds to write) and text beyond ASCII, written as UTF-8.
    whole = cards[0].created_at.replace(microsecond=0)
    draft = dataclasses.replace(draft, created_at=whole, title="Café 數學 \u2028 \U0001f600")
    for page_cards, cursor in ((cards, None), ([*cards, draft], "next-page")):
        fast = json.loads(catalog_page_json(page_cards, cursor))
        model = PageOut[CourseOut](
            items=[CourseOut(**CourseOut.card_fields(c)) for c in page_cards], next_cursor=cursor
        )
        assert fast == json.loads(model.model_dump_json())
        # And it is valid as the declared response model.
        assert PageOut[CourseOut].model_validate(fast).model_dump(mode="json") == fast
