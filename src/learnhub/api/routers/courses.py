"""The catalog and the course lifecycle."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from pydantic import StringConstraints

from learnhub.api.deps import (
    DEFAULT_PAGE_SIZE,
    PRIVATE_CACHE,
    Caller,
    IfMatch,
    IfNoneMatch,
    Limit,
    MaybeCaller,
    Uow,
    etag,
    get_settings,
    representation_stamp,
    shared_cache_control,
    versioned,
)
from learnhub.api.middleware import none_match
from learnhub.api.query_parameters import KnownQueryOnly
from learnhub.api.schemas import examples as ex
from learnhub.api.schemas.audit import AuditEntryOut
from learnhub.api.schemas.common import (
    NO_CONTROL_PATTERN,
    PROBLEM_RESPONSES,
    Cursor,
    Deleted,
    PageOut,
)
from learnhub.api.schemas.courses import (
    CourseDetailOut,
    CourseIn,
    CourseOut,
    CoursePatch,
    VersionIn,
    catalog_page_json,
    course_outline_json,
)
from learnhub.config import Settings
from learnhub.db.derived import Derived
from learnhub.domain.enums import DifficultyLevel
from learnhub.models import Course
from learnhub.repositories.course_catalog import CatalogPage
from learnhub.repositories.course_outline import CourseOutline
from learnhub.repositories.filters import CursorPagination
from learnhub.services.audit import AuditService
from learnhub.services.catalog import CatalogQuery, CatalogService
from learnhub.services.course import CourseChanges, CourseDraft, CourseService
from learnhub.services.course_page import CoursePageService

router = APIRouter(tags=["courses"], responses=PROBLEM_RESPONSES)
# An amount to the cent, 0 to 1000000, as a decimal string: the pattern is the whole rule,
# so the OpenAPI document states exactly what is accepted (no three decimals, no exponent).
MONEY_QUERY_PATTERN = r"^(?:[0-9]{1,6}(?:\.[0-9]{1,2})?|1000000(?:\.0{1,2})?)$"
Money = Annotated[
    str | None,
    Query(pattern=MONEY_QUERY_PATTERN, max_length=10, description="an amount, e.g. 19.99"),
]
JSON = "application/json"
# A course id or slug in a path (a slug is at most 220 characters; `urn:uuid:{...}` is 47).
MAX_KEY = 220
# The catalog's sorts and currencies as the API declares them (the hot reads check by these).
CATALOG_SORT_PATTERN = r"^(relevance|rating|enrollments|newest|price|-price)$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"


def course_response(
    course: Course, status_code: int = status.HTTP_200_OK, *, full: bool = True
) -> Response:
    """The course page with its ETag: `W/"<version>.<stamp>"`, the stamp a fingerprint of the
    representation, so a change of its counters (rating, enrolments) or of its content
    (sections, videos, quizzes) changes the ETag while If-Match still compares the version.
    `full=False` for a caller who may see the outline only (its own stamp, so a cache never
    serves one caller's representation to another)."""
    body = CourseDetailOut.of(course, full=full).model_dump_json().encode()
    headers = {"ETag": etag(course.version, representation_stamp(body))}
    return Response(body, status_code=status_code, media_type=JSON, headers=headers)


def catalog_etag(generation: int) -> str:
    """A strong validator of a catalog page: the catalog generation it was read at. Within
    one URL the page is a function of the catalog's data, and the generation moves with any
    change of that data (models/course/catalog_generation.py), so equal tags mean equal
    bytes."""
    return f'"catalog.{generation}"'


@router.get(
    "/courses",
    summary="Browse the course catalog",
    response_model=PageOut[CourseOut],
    dependencies=[KnownQueryOnly],
    responses={304: {"description": "The page held (If-None-Match) is still the page"}},
)
async def catalog(
    request: Request,
    uow: Uow,
    caller: MaybeCaller,
    if_none_match: IfNoneMatch = None,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=NO_CONTROL_PATTERN,
            description='words in any order, accents and case ignored; "a phrase", -excluded',
        ),
    ] = None,
    difficulty: DifficultyLevel | None = None,
    min_price: Money = None,
    max_price: Money = None,
    currency: Annotated[
        str | None,
        Query(
            pattern=CURRENCY_PATTERN,
            description="of the price filter and sort; needed when listed prices are in "
            "more than one currency",
        ),
    ] = None,
    tag: Annotated[
        list[Annotated[str, StringConstraints(max_length=50, pattern=NO_CONTROL_PATTERN)]] | None,
        Query(max_length=10, description="repeatable: the course has every tag given"),
    ] = None,
    instructor_id: uuid.UUID | None = None,
    sort: Annotated[
        str | None,
        Query(
            pattern=CATALOG_SORT_PATTERN,
            description="relevance (needs q) is the default with q, rating without",
        ),
    ] = None,
    mine: Annotated[bool, Query(description="the caller's own courses, drafts included")] = False,
    deleted: Deleted = "exclude",
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> Response:
    """Published courses, public. `mine=true` lists the calling instructor's own courses.
    `deleted=only` lists soft-deleted courses, newest first, for administrators (403 for
    anyone else, 401 without a login); the catalog's filters do not apply to it."""
    service = CourseService(uow)
    pagination = CursorPagination(limit, cursor)
    personal = {"Cache-Control": PRIVATE_CACHE, "Vary": "Authorization"}
    if deleted == "only":
        gone = await service.deleted(caller, pagination)
        items = [CourseOut.of(c) for c in gone.items]
        gone_page = PageOut[CourseOut](items=items, next_cursor=gone.next_cursor)
        return Response(gone_page.model_dump_json(), media_type=JSON, headers=personal)
    if mine:
        page = await service.mine(caller, pagination)
        items = [CourseOut.of(c) for c in page.items]
        mine_page = PageOut[CourseOut](items=items, next_cursor=page.next_cursor)
        return Response(mine_page.model_dump_json(), media_type=JSON, headers=personal)
    settings = get_settings(request)
    catalog = CatalogService(uow)
    query = CatalogQuery(
        q=q,
        difficulty=difficulty,
        min_price=Decimal(min_price) if min_price is not None else None,
        max_price=Decimal(max_price) if max_price is not None else None,
        tags=tuple(tag or ()),
        instructor_id=instructor_id,
        currency=currency,
    )
    if if_none_match is not None:
        # Still the page the client holds? Then without running the listing, where the
        # request needs no check that only the listing makes (else the page is read, and
        # ConditionalGetMiddleware compares its validator).
        generation = await catalog.catalog_validator(query, cursor, sort)
        if generation is not None and none_match(if_none_match, catalog_etag(generation)):
            headers = {
                "ETag": catalog_etag(generation),
                "Cache-Control": shared_cache_control(settings),
            }
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return catalog_response(await catalog.catalog(query, pagination, sort), settings)


def catalog_response(cards: CatalogPage, settings: Settings) -> Response:
    """A catalog page: the same for every caller, so any cache may keep it."""
    headers = {
        "ETag": catalog_etag(cards.generation),
        "Cache-Control": shared_cache_control(settings),
    }
    return Response(
        catalog_page_json(cards.items, cards.next_cursor), media_type=JSON, headers=headers
    )


def outline_response(outline: CourseOutline, settings: Settings) -> Response:
    """The anonymous course page, the same for every anonymous caller (a logged-in caller's
    may differ: locked videos or not, so caches key on the credentials too)."""
    if len(outline.sections_json) > LARGEST_PAGE_KEPT:
        body, tag = _outline_page(outline)
    else:
        body, tag = _outline_pages.of(outline.card.id, outline)
    headers = {
        "ETag": tag,
        "Cache-Control": shared_cache_control(settings),
        "Vary": "Authorization",
    }
    return Response(body, media_type=JSON, headers=headers)


def _outline_page(outline: CourseOutline) -> tuple[bytes, str]:
    """A course page's JSON and its ETag."""
    body = course_outline_json(outline)
    return body, etag(outline.card.version, representation_stamp(body))


# Course pages kept per process, each with the outline it was written from and reused while
# the course's outline reads the same (db/derived.py): the card's columns and the sections'
# text compared, nothing decoded. Larger pages are written for each request: 256 of them
# kept could take a worker's memory.
PAGES_KEPT = 256
LARGEST_PAGE_KEPT = 64 * 1024
_outline_pages: Derived[CourseOutline, tuple[bytes, str]] = Derived(_outline_page, PAGES_KEPT)


@router.post(
    "/courses",
    summary="Create a draft course",
    status_code=status.HTTP_201_CREATED,
    response_model=CourseDetailOut,
)
async def create_course(body: CourseIn, caller: Caller, uow: Uow) -> Response:
    """A new draft owned by the calling instructor; the slug follows the title if absent."""
    course = await CourseService(uow).create(
        caller,
        CourseDraft(
            title=body.title,
            description=body.description,
            price=body.price.to_price(),
            difficulty=body.difficulty,
            tags=body.tags,
            objectives=body.objectives,
            slug=body.slug,
        ),
    )
    course = await CourseService(uow).detail(caller, course.id)
    return course_response(course, status.HTTP_201_CREATED)


@router.get(
    "/courses/{course_id}",
    summary="Read a course page with its outline, by id or slug",
    response_model=CourseDetailOut,
)
async def get_course(
    course_id: Annotated[
        str,
        Path(
            max_length=MAX_KEY,
            description="the course's id, or its slug (a value written as an id is an id)",
            examples=[ex.COURSE_ID, ex.COURSE["slug"]],
        ),
    ],
    caller: MaybeCaller,
    uow: Uow,
    request: Request,
) -> Response:
    """The course page: sections with their videos and quizzes (no answer keys). Its outline
    is public once published; video urls are for the course's enrolled learners, its
    instructor and admins (a free preview's for everyone): other callers see such a video with
    `locked: true` and `url: null`. An archived course is out of the catalog: only its
    learners, its instructor and admins still see it (404 for the others)."""
    outline = await CoursePageService(uow).public_outline(course_id) if caller is None else None
    if outline is not None:
        # The anonymous page, the hottest: one statement, straight to JSON.
        return outline_response(outline, get_settings(request))
    view = await CourseService(uow).view_by_key(caller, course_id)
    response = course_response(view.course, full=view.access.full)
    # The body depends on who asks (locked or not): an anonymous page is the same for every
    # anonymous caller, a logged-in caller's is theirs; caches key on the credentials too.
    if caller is None:
        response.headers["Cache-Control"] = shared_cache_control(get_settings(request))
    else:
        response.headers["Cache-Control"] = PRIVATE_CACHE
    response.headers["Vary"] = "Authorization"
    return response


@router.patch("/courses/{course_id}", summary="Edit a course", response_model=CourseDetailOut)
async def update_course(
    course_id: uuid.UUID,
    body: CoursePatch,
    caller: Caller,
    uow: Uow,
    if_match: IfMatch = None,
) -> Response:
    changes = CourseChanges(
        title=body.title,
        description=body.description,
        price=body.price.to_price() if body.price else None,
        difficulty=body.difficulty,
        tags=body.tags,
        objectives=body.objectives,
        tutor_enabled=body.tutor_enabled,
    )
    service = CourseService(uow)
    course = await versioned(
        if_match, body.version, lambda v: service.update(caller, course_id, changes, v)
    )
    return course_response(course)


@router.delete(
    "/courses/{course_id}",
    summary="Delete a course with its content",
    status_code=status.HTTP_204_NO_CONTENT,
)
async def delete_course(
    course_id: uuid.UUID, caller: Caller, uow: Uow, hard: bool = False, if_match: IfMatch = None
) -> Response:
    """Soft delete with its sections, videos and quizzes; `?hard=true` (admins) for good."""
    service = CourseService(uow)
    if hard:
        await service.hard_delete(caller, course_id)
    else:
        await versioned(if_match, None, lambda v: service.delete(caller, course_id, v))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/courses/{course_id}/restore",
    summary="Restore a deleted course",
    response_model=CourseDetailOut,
)
async def restore_course(course_id: uuid.UUID, caller: Caller, uow: Uow) -> Response:
    course = await CourseService(uow).restore(caller, course_id)
    return course_response(course)


@router.post(
    "/courses/{course_id}/publish", summary="Publish a course", response_model=CourseDetailOut
)
async def publish_course(
    course_id: uuid.UUID,
    caller: Caller,
    uow: Uow,
    body: VersionIn | None = None,
    if_match: IfMatch = None,
) -> Response:
    """Needs at least one video and a valid price; emits CoursePublished."""
    service = CourseService(uow)
    await versioned(
        if_match, body.version if body else None, lambda v: service.publish(caller, course_id, v)
    )
    return course_response(await service.detail(caller, course_id))


@router.post(
    "/courses/{course_id}/archive", summary="Archive a course", response_model=CourseDetailOut
)
async def archive_course(
    course_id: uuid.UUID,
    caller: Caller,
    uow: Uow,
    body: VersionIn | None = None,
    if_match: IfMatch = None,
) -> Response:
    """Takes a published course out of the catalog; emits CourseArchived."""
    service = CourseService(uow)
    await versioned(
        if_match, body.version if body else None, lambda v: service.archive(caller, course_id, v)
    )
    return course_response(await service.detail(caller, course_id))


@router.get(
    "/courses/{course_id}/history",
    summary="Read a course's audit trail",
    dependencies=[KnownQueryOnly],
)
async def course_history(
    course_id: uuid.UUID, caller: Caller, uow: Uow, limit: Limit = 50, cursor: Cursor = None
) -> PageOut[AuditEntryOut]:
    """The audit trail of the course and its content (its instructor and admins)."""
    page = await AuditService(uow).course_history(
        caller, course_id, CursorPagination(limit, cursor)
    )
    return PageOut(items=[AuditEntryOut.of(e) for e in page.items], next_cursor=page.next_cursor)
