"""The instructor's studio (issue 17, items 1 and 2): an instructor's courses (an admin's: all
of them), creating and editing a course, its sections, videos and quizzes, reordering them,
publishing and archiving. Each handler turns a form into one call of the same services the
API calls (courses, course_content, quiz_authoring) and validates it with the API's own
input schemas, so both accept and refuse the same things.

Every edit form carries the version it was loaded with. When someone else saved first, the
service refuses the stale version (`ConcurrencyConflict`) and the page shows their saved
values next to the ones just typed, with "Reload their version" and "Apply mine over theirs"
(the same values again, with the version they saved): never a silent overwrite."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from learnhub.api.deps import Uow
from learnhub.api.schemas.content import SectionIn
from learnhub.api.schemas.courses import CourseDetailOut, CourseIn, CourseOut
from learnhub.domain.errors import ConcurrencyConflict
from learnhub.domain.permissions import COURSES_MANAGE
from learnhub.domain.principal import Principal
from learnhub.repositories.filters import CursorPagination
from learnhub.services.course import CourseChanges, CourseDraft, CourseService
from learnhub.services.course_content import ContentAuthoringService, SectionChanges
from learnhub.web.base import (
    WebCaller,
    expect_form_failure,
    redirect,
    render,
    require_csrf,
)
from learnhub.web.errors import WEB_TAG
from learnhub.web.studio_forms import (
    BLANK_COURSE,
    COURSE_LABELS,
    DIFFICULTIES,
    PAGE_SIZE,
    Field,
    FormInvalid,
    can_author,
    conflict_page,
    course_body,
    course_context,
    course_values,
    direction,
    entity_id,
    needs_login,
    section_course,
    typed_course,
    validated,
    version_of,
)

router = APIRouter(tags=[WEB_TAG], include_in_schema=False, dependencies=[Depends(require_csrf)])

# ---- the course list -------------------------------------------------------------------------


@router.get("/studio", name="web_studio")
async def studio(request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    expect_form_failure(request, "studio/forbidden.html")
    page = await CourseService(uow).studio(
        caller, CursorPagination(PAGE_SIZE, request.query_params.get("cursor") or None)
    )
    courses = [CourseOut.of(course) for course in page.items]
    more_url = f"/studio?cursor={page.next_cursor}" if page.next_cursor else None
    return render(
        request,
        "studio/index.html",
        caller,
        courses=courses,
        more_url=more_url,
        everyone=caller.can(COURSES_MANAGE),
    )


# ---- creating and editing a course -----------------------------------------------------------


@router.get("/studio/new", name="web_studio_new")
async def new_course_page(request: Request, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    if not can_author(caller):
        return render(request, "studio/forbidden.html", caller, 403)
    context: dict[str, Any] = {"values": BLANK_COURSE, "errors": {}, "difficulties": DIFFICULTIES}
    return render(request, "studio/new.html", caller, **context)


@router.post("/studio/new", name="web_studio_create")
async def create_course(
    request: Request,
    uow: Uow,
    caller: WebCaller,
    title: Field = "",
    description: Field = "",
    price_amount: Field = "",
    price_currency: Field = "",
    difficulty: Field = "",
    tags: Field = "",
    objectives: Field = "",
) -> Response:
    if caller is None:
        return needs_login(request)
    values = typed_course(
        title, description, price_amount, price_currency, difficulty, tags, objectives
    )
    context = {"values": values, "errors": {}, "difficulties": DIFFICULTIES}
    try:
        body = validated(CourseIn, course_body(values), COURSE_LABELS)
    except FormInvalid as invalid:
        return render(
            request, "studio/new.html", caller, 422, **{**context, "errors": invalid.errors}
        )
    expect_form_failure(request, "studio/new.html", **context)
    course = await CourseService(uow).create(
        caller,
        CourseDraft(
            title=body.title,
            description=body.description,
            price=body.price.to_price(),
            difficulty=body.difficulty,
            tags=body.tags,
            objectives=body.objectives,
        ),
    )
    return redirect(request, f"/studio/courses/{course.id}?notice=created")


@router.get("/studio/courses/{course_id}", name="web_studio_course")
async def course_page(course_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    context = await course_context(request, uow, caller, entity_id(course_id, "Course"))
    return render(request, "studio/course.html", caller, **context)


@router.post("/studio/courses/{course_id}", name="web_studio_course_save")
async def save_course(
    course_id: str,
    request: Request,
    uow: Uow,
    caller: WebCaller,
    title: Field = "",
    description: Field = "",
    price_amount: Field = "",
    price_currency: Field = "",
    difficulty: Field = "",
    tags: Field = "",
    objectives: Field = "",
    version: Field = "",
) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(course_id, "Course")
    context = await course_context(request, uow, caller, the_id)
    mine = typed_course(
        title, description, price_amount, price_currency, difficulty, tags, objectives
    )
    context.update(values=mine, notice=None)
    try:
        body = validated(CourseIn, course_body(mine), COURSE_LABELS)
    except FormInvalid as invalid:
        context["errors"] = invalid.errors
        return render(request, "studio/course.html", caller, 422, **context)
    expect_form_failure(request, "studio/course.html", **context)
    changes = CourseChanges(
        title=body.title,
        description=body.description,
        price=body.price.to_price(),
        difficulty=body.difficulty,
        tags=body.tags,
        objectives=body.objectives,
    )
    service = CourseService(uow)
    try:
        await service.update(caller, the_id, changes, version_of(version))
    except ConcurrencyConflict:
        theirs = CourseDetailOut.of(await service.for_editing(caller, the_id), full=True)
        here = f"/studio/courses/{the_id}"
        return conflict_page(
            request,
            caller,
            what=f"the course “{theirs.title}”",
            labels=COURSE_LABELS,
            theirs=course_values(theirs),
            mine=mine,
            resubmit=mine,
            version=theirs.version,
            action=here,
            reload_url=here,
        )
    return redirect(request, f"/studio/courses/{the_id}?notice=saved")


@router.post("/studio/courses/{course_id}/publish", name="web_studio_publish")
async def publish(
    course_id: str, request: Request, uow: Uow, caller: WebCaller, version: Field = ""
) -> Response:
    return await lifecycle(course_id, request, uow, caller, version, publishing=True)


@router.post("/studio/courses/{course_id}/archive", name="web_studio_archive")
async def archive(
    course_id: str, request: Request, uow: Uow, caller: WebCaller, version: Field = ""
) -> Response:
    return await lifecycle(course_id, request, uow, caller, version, publishing=False)


async def lifecycle(
    course_id: str, request: Request, uow: Uow, caller: Principal | None, version: str,
    *, publishing: bool,
) -> Response:  # fmt: skip
    if caller is None:
        return needs_login(request)
    the_id = entity_id(course_id, "Course")
    context = await course_context(request, uow, caller, the_id)
    context["notice"] = None
    # A stale version shows the course as it now is, with the reason: publish or archive
    # again after a look at what changed.
    expect_form_failure(request, "studio/course.html", **context)
    service = CourseService(uow)
    try:
        if publishing:
            await service.publish(caller, the_id, version_of(version))
        else:
            await service.archive(caller, the_id, version_of(version))
    except ConcurrencyConflict:
        # The page loaded above already shows the course as they saved it.
        context["error"] = (
            "Someone else changed this course since you loaded the page. It is shown below as "
            f"they saved it: check it, then {'publish' if publishing else 'archive'} again."
        )
        return render(request, "studio/course.html", caller, 409, **context)
    done = "published" if publishing else "archived"
    return redirect(request, f"/studio/courses/{the_id}?notice={done}")


# ---- sections ---------------------------------------------------------------------------------


@router.post("/studio/courses/{course_id}/sections", name="web_studio_add_section")
async def add_section(
    course_id: str, request: Request, uow: Uow, caller: WebCaller, title: Field = ""
) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(course_id, "Course")
    context = await course_context(request, uow, caller, the_id)
    context.update(notice=None, new_section=title[:200])
    try:
        body = validated(SectionIn, {"title": title}, {"title": "Section title"})
    except FormInvalid as invalid:
        context.update(errors={"new_section": " ".join(invalid.errors.values())})
        return render(request, "studio/course.html", caller, 422, **context)
    expect_form_failure(request, "studio/course.html", **context)
    await ContentAuthoringService(uow).add_section(caller, the_id, body.title)
    return redirect(request, f"/studio/courses/{the_id}?notice=saved#sections")


@router.post("/studio/sections/{section_id}", name="web_studio_section_save")
async def rename_section(
    section_id: str,
    request: Request,
    uow: Uow,
    caller: WebCaller,
    title: Field = "",
    version: Field = "",
) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(section_id, "Section")
    course_id = await section_course(uow, caller, the_id)
    context = await course_context(request, uow, caller, course_id)
    context["notice"] = None
    try:
        body = validated(SectionIn, {"title": title}, {"title": "Section title"})
    except FormInvalid as invalid:
        context.update(errors={f"section-{the_id}": " ".join(invalid.errors.values())})
        return render(request, "studio/course.html", caller, 422, **context)
    expect_form_failure(request, "studio/course.html", **context)
    service = ContentAuthoringService(uow)
    try:
        await service.update_section(
            caller, the_id, SectionChanges(title=body.title), version_of(version)
        )
    except ConcurrencyConflict:
        theirs = await service.get_section(caller, the_id)
        return conflict_page(
            request,
            caller,
            what=f"the section “{theirs.title}”",
            labels={"title": "Section title"},
            theirs={"title": theirs.title},
            mine={"title": title[:200]},
            resubmit={"title": title[:200]},
            version=theirs.version,
            action=f"/studio/sections/{the_id}",
            reload_url=f"/studio/courses/{course_id}#sections",
        )
    return redirect(request, f"/studio/courses/{course_id}?notice=saved#sections")


@router.post("/studio/sections/{section_id}/delete", name="web_studio_section_delete")
async def delete_section(
    section_id: str, request: Request, uow: Uow, caller: WebCaller, version: Field = ""
) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(section_id, "Section")
    course_id = await section_course(uow, caller, the_id)
    context = await course_context(request, uow, caller, course_id)
    context["notice"] = None
    expect_form_failure(request, "studio/course.html", **context)
    await ContentAuthoringService(uow).delete_section(caller, the_id, version_of(version))
    return redirect(request, f"/studio/courses/{course_id}?notice=deleted#sections")


@router.post("/studio/sections/{section_id}/move", name="web_studio_section_move")
async def move_section(
    section_id: str, request: Request, uow: Uow, caller: WebCaller, to: Field = ""
) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(section_id, "Section")
    course_id = await section_course(uow, caller, the_id)
    context = await course_context(request, uow, caller, course_id)
    context["notice"] = None
    expect_form_failure(request, "studio/course.html", **context)
    await ContentAuthoringService(uow).move_section(caller, the_id, direction(to))
    return redirect(request, f"/studio/courses/{course_id}?notice=moved#section-{the_id}")
