"""Sections, videos and quizzes: each has its own routes, created under its parent."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from learnhub.api.deps import Uow, get_optional_principal, get_principal
from learnhub.api.schemas.common import PROBLEM_RESPONSES
from learnhub.api.schemas.courses import (
    OrderIn,
    QuizAuthorOut,
    QuizIn,
    QuizOut,
    QuizPatch,
    QuizSummary,
    SectionIn,
    SectionOut,
    SectionPatch,
    VideoIn,
    VideoOut,
    VideoPatch,
    quiz_out,
)
from learnhub.domain.principal import Principal
from learnhub.services.course import CourseService, OptionSpec, QuestionSpec, QuizSpec

router = APIRouter(tags=["course content"], responses=PROBLEM_RESPONSES)
Caller = Annotated[Principal, Depends(get_principal)]
MaybeCaller = Annotated[Principal | None, Depends(get_optional_principal)]
NO_CONTENT = status.HTTP_204_NO_CONTENT


def _spec(body: QuizIn | QuizPatch, current: QuizSpec | None = None) -> QuizSpec:
    base = current or QuizSpec(title="")
    questions = base.questions
    if body.questions is not None:
        questions = [
            QuestionSpec(
                text=q.text,
                type=q.type,
                answer_text=q.answer_text,
                options=[OptionSpec(o.text, o.is_correct) for o in q.options],
            )
            for q in body.questions
        ]
    return QuizSpec(
        title=body.title if body.title is not None else base.title,
        pass_mark=body.pass_mark if body.pass_mark is not None else base.pass_mark,
        max_attempts=body.max_attempts
        if "max_attempts" in body.model_fields_set
        else base.max_attempts,
        time_limit_seconds=body.time_limit_seconds
        if "time_limit_seconds" in body.model_fields_set
        else base.time_limit_seconds,
        questions=questions,
    )


# ---- sections ------------------------------------------------------------------------------


@router.post("/courses/{course_id}/sections", status_code=status.HTTP_201_CREATED)
async def add_section(
    course_id: uuid.UUID, body: SectionIn, caller: Caller, uow: Uow
) -> SectionOut:
    section = await CourseService(uow).add_section(caller, course_id, body.title, body.position)
    await uow.commit()
    return SectionOut.model_validate(section)


@router.put("/courses/{course_id}/sections/order")
async def order_sections(
    course_id: uuid.UUID, body: OrderIn, caller: Caller, uow: Uow
) -> list[SectionOut]:
    sections = await CourseService(uow).reorder_sections(caller, course_id, body.ids)
    await uow.commit()
    return [SectionOut.model_validate(s) for s in sections]


@router.get("/sections/{section_id}")
async def get_section(section_id: uuid.UUID, caller: MaybeCaller, uow: Uow) -> SectionOut:
    return SectionOut.model_validate(await CourseService(uow).get_section(caller, section_id))


@router.patch("/sections/{section_id}")
async def update_section(
    section_id: uuid.UUID, body: SectionPatch, caller: Caller, uow: Uow
) -> SectionOut:
    section = await CourseService(uow).update_section(caller, section_id, body.title, body.position)
    await uow.commit()
    return SectionOut.model_validate(section)


@router.delete("/sections/{section_id}", status_code=NO_CONTENT)
async def delete_section(section_id: uuid.UUID, caller: Caller, uow: Uow) -> Response:
    """Soft delete, with the section's videos and quizzes."""
    await CourseService(uow).delete_section(caller, section_id)
    await uow.commit()
    return Response(status_code=NO_CONTENT)


@router.post("/sections/{section_id}/restore")
async def restore_section(section_id: uuid.UUID, caller: Caller, uow: Uow) -> SectionOut:
    section = await CourseService(uow).restore_section(caller, section_id)
    await uow.commit()
    return SectionOut.model_validate(section)


# ---- videos --------------------------------------------------------------------------------


@router.post("/sections/{section_id}/videos", status_code=status.HTTP_201_CREATED)
async def add_video(section_id: uuid.UUID, body: VideoIn, caller: Caller, uow: Uow) -> VideoOut:
    video = await CourseService(uow).add_video(
        caller,
        section_id,
        title=body.title,
        url=body.url,
        duration_seconds=body.duration_seconds,
        position=body.position,
        transcript=body.transcript,
    )
    await uow.commit()
    return VideoOut.model_validate(video)


@router.put("/sections/{section_id}/videos/order")
async def order_videos(
    section_id: uuid.UUID, body: OrderIn, caller: Caller, uow: Uow
) -> list[VideoOut]:
    videos = await CourseService(uow).reorder_videos(caller, section_id, body.ids)
    await uow.commit()
    return [VideoOut.model_validate(v) for v in videos]


@router.get("/videos/{video_id}")
async def get_video(video_id: uuid.UUID, caller: MaybeCaller, uow: Uow) -> VideoOut:
    return VideoOut.model_validate(await CourseService(uow).get_video(caller, video_id))


@router.patch("/videos/{video_id}")
async def update_video(video_id: uuid.UUID, body: VideoPatch, caller: Caller, uow: Uow) -> VideoOut:
    video = await CourseService(uow).update_video(
        caller, video_id, body.model_dump(exclude_unset=True)
    )
    await uow.commit()
    return VideoOut.model_validate(video)


@router.delete("/videos/{video_id}", status_code=NO_CONTENT)
async def delete_video(video_id: uuid.UUID, caller: Caller, uow: Uow) -> Response:
    await CourseService(uow).delete_video(caller, video_id)
    await uow.commit()
    return Response(status_code=NO_CONTENT)


@router.post("/videos/{video_id}/restore")
async def restore_video(video_id: uuid.UUID, caller: Caller, uow: Uow) -> VideoOut:
    video = await CourseService(uow).restore_video(caller, video_id)
    await uow.commit()
    return VideoOut.model_validate(video)


# ---- quizzes -------------------------------------------------------------------------------


@router.post("/sections/{section_id}/quizzes", status_code=status.HTTP_201_CREATED)
async def add_quiz(section_id: uuid.UUID, body: QuizIn, caller: Caller, uow: Uow) -> QuizAuthorOut:
    service = CourseService(uow)
    quiz = await service.add_quiz(caller, section_id, _spec(body), body.position)
    await uow.commit()
    loaded, _ = await service.get_quiz(caller, quiz.id)
    return QuizAuthorOut.model_validate(loaded)


@router.put("/sections/{section_id}/quizzes/order")
async def order_quizzes(
    section_id: uuid.UUID, body: OrderIn, caller: Caller, uow: Uow
) -> list[QuizSummary]:
    quizzes = await CourseService(uow).reorder_quizzes(caller, section_id, body.ids)
    await uow.commit()
    return [QuizSummary.model_validate(q) for q in quizzes]


@router.get("/quizzes/{quiz_id}")
async def get_quiz(quiz_id: uuid.UUID, caller: MaybeCaller, uow: Uow) -> QuizAuthorOut | QuizOut:
    """Learners see the questions without answer keys; the course's authors see the keys."""
    quiz, with_keys = await CourseService(uow).get_quiz(caller, quiz_id)
    return quiz_out(quiz, with_keys=with_keys)


@router.patch("/quizzes/{quiz_id}")
async def update_quiz(
    quiz_id: uuid.UUID, body: QuizPatch, caller: Caller, uow: Uow
) -> QuizAuthorOut:
    """Settings change in place; `questions`, when given, replace the quiz's questions."""
    service = CourseService(uow)
    current, _ = await service.get_quiz(caller, quiz_id)
    spec = _spec(
        body,
        QuizSpec(
            title=current.title,
            pass_mark=current.pass_mark,
            max_attempts=current.max_attempts,
            time_limit_seconds=current.time_limit_seconds,
        ),
    )
    quiz = await service.update_quiz(caller, quiz_id, spec, body.questions is not None)
    await uow.commit()
    return QuizAuthorOut.model_validate(quiz)


@router.delete("/quizzes/{quiz_id}", status_code=NO_CONTENT)
async def delete_quiz(quiz_id: uuid.UUID, caller: Caller, uow: Uow) -> Response:
    await CourseService(uow).delete_quiz(caller, quiz_id)
    await uow.commit()
    return Response(status_code=NO_CONTENT)


@router.post("/quizzes/{quiz_id}/restore")
async def restore_quiz(quiz_id: uuid.UUID, caller: Caller, uow: Uow) -> QuizAuthorOut:
    quiz = await CourseService(uow).restore_quiz(caller, quiz_id)
    await uow.commit()
    return QuizAuthorOut.model_validate(quiz)
