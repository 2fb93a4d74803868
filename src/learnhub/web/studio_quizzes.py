"""The studio's quizzes (issue 17): writing one in a section, editing it and its questions (a
stale version is a conflict page), deleting it and moving it among its section's quizzes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from learnhub.api.deps import Uow
from learnhub.api.schemas.quizzes import QuizIn
from learnhub.domain.errors import ConcurrencyConflict
from learnhub.services.course import CourseService
from learnhub.services.quiz_authoring import QuizAuthoringService, QuizChanges
from learnhub.web.base import (
    WebCaller,
    expect_form_failure,
    redirect,
    render,
    require_csrf,
)
from learnhub.web.errors import WEB_TAG
from learnhub.web.studio_forms import (
    QUIZ_LABELS,
    Field,
    FormInvalid,
    conflict_page,
    course_context,
    direction,
    entity_id,
    needs_login,
    section_course,
    validated,
    version_of,
)
from learnhub.web.studio_quiz_forms import (
    BLANK_QUIZ,
    form_strings,
    quiz_body,
    quiz_flat,
    quiz_form_context,
    quiz_spec,
    quiz_summary,
    quiz_values,
    typed_quiz,
)

router = APIRouter(tags=[WEB_TAG], include_in_schema=False, dependencies=[Depends(require_csrf)])


@router.get("/studio/sections/{section_id}/quizzes/new", name="web_studio_new_quiz")
async def new_quiz_page(section_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(section_id, "Section")
    course_id = await section_course(uow, caller, the_id)
    await CourseService(uow).for_editing(caller, course_id)
    context = quiz_form_context(
        dict(BLANK_QUIZ), action=f"/studio/sections/{the_id}/quizzes", course_id=course_id
    )
    return render(request, "studio/quiz.html", caller, **context)


@router.post("/studio/sections/{section_id}/quizzes", name="web_studio_add_quiz")
async def add_quiz(section_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(section_id, "Section")
    course_id = await section_course(uow, caller, the_id)
    await CourseService(uow).for_editing(caller, course_id)
    typed = typed_quiz(form_strings(await request.form()))
    context = quiz_form_context(
        typed, action=f"/studio/sections/{the_id}/quizzes", course_id=course_id
    )
    try:
        body = validated(QuizIn, quiz_body(typed), QUIZ_LABELS)
    except FormInvalid as invalid:
        return render(
            request, "studio/quiz.html", caller, 422, **{**context, "errors": invalid.errors}
        )
    expect_form_failure(request, "studio/quiz.html", **context)
    await QuizAuthoringService(uow).add_quiz(caller, the_id, quiz_spec(body))
    return redirect(request, f"/studio/courses/{course_id}?notice=saved#section-{the_id}")


@router.get("/studio/quizzes/{quiz_id}", name="web_studio_quiz")
async def quiz_page(quiz_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    quiz = await QuizAuthoringService(uow).editable_quiz(caller, entity_id(quiz_id, "Quiz"))
    context = quiz_form_context(
        quiz_values(quiz),
        action=f"/studio/quizzes/{quiz.id}",
        course_id=quiz.course_id,
        version=str(quiz.version),
    )
    return render(request, "studio/quiz.html", caller, **context)


@router.post("/studio/quizzes/{quiz_id}", name="web_studio_quiz_save")
async def save_quiz(quiz_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    service = QuizAuthoringService(uow)
    quiz = await service.editable_quiz(caller, entity_id(quiz_id, "Quiz"))
    the_id, course_id, section_id = quiz.id, quiz.course_id, quiz.section_id
    form = form_strings(await request.form())
    version = form.get("version", "")
    mine = typed_quiz(form)
    context = quiz_form_context(
        mine, action=f"/studio/quizzes/{the_id}", course_id=course_id, version=version[:12]
    )
    try:
        body = validated(QuizIn, quiz_body(mine), QUIZ_LABELS)
    except FormInvalid as invalid:
        return render(
            request, "studio/quiz.html", caller, 422, **{**context, "errors": invalid.errors}
        )
    expect_form_failure(request, "studio/quiz.html", **context)
    spec = quiz_spec(body)
    changes = QuizChanges(
        title=spec.title,
        pass_mark=spec.pass_mark,
        max_attempts=spec.max_attempts,
        time_limit_seconds=spec.time_limit_seconds,
        questions=spec.questions,
    )
    try:
        await service.update_quiz(caller, the_id, changes, version_of(version))
    except ConcurrencyConflict:
        fresh = await service.editable_quiz(caller, the_id)
        theirs = quiz_values(fresh)
        return conflict_page(
            request,
            caller,
            what=f"the quiz “{fresh.title}”",
            labels=QUIZ_LABELS,
            theirs={**theirs, "questions": quiz_summary(theirs)},
            mine={**mine, "questions": quiz_summary(mine)},
            resubmit=quiz_flat(mine),
            version=fresh.version,
            action=f"/studio/quizzes/{the_id}",
            reload_url=f"/studio/quizzes/{the_id}",
        )
    return redirect(request, f"/studio/courses/{course_id}?notice=saved#section-{section_id}")


@router.post("/studio/quizzes/{quiz_id}/delete", name="web_studio_quiz_delete")
async def delete_quiz(
    quiz_id: str, request: Request, uow: Uow, caller: WebCaller, version: Field = ""
) -> Response:
    if caller is None:
        return needs_login(request)
    service = QuizAuthoringService(uow)
    quiz = await service.editable_quiz(caller, entity_id(quiz_id, "Quiz"))
    the_id, course_id = quiz.id, quiz.course_id
    context = await course_context(request, uow, caller, course_id)
    context["notice"] = None
    expect_form_failure(request, "studio/course.html", **context)
    await service.delete_quiz(caller, the_id, version_of(version))
    return redirect(request, f"/studio/courses/{course_id}?notice=deleted#sections")


@router.post("/studio/quizzes/{quiz_id}/move", name="web_studio_quiz_move")
async def move_quiz(
    quiz_id: str, request: Request, uow: Uow, caller: WebCaller, to: Field = ""
) -> Response:
    if caller is None:
        return needs_login(request)
    service = QuizAuthoringService(uow)
    quiz = await service.editable_quiz(caller, entity_id(quiz_id, "Quiz"))
    the_id, course_id, section_id = quiz.id, quiz.course_id, quiz.section_id
    context = await course_context(request, uow, caller, course_id)
    context["notice"] = None
    expect_form_failure(request, "studio/course.html", **context)
    await service.move_quiz(caller, the_id, direction(to))
    return redirect(request, f"/studio/courses/{course_id}?notice=moved#section-{section_id}")
