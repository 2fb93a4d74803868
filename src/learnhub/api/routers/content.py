"""Sections, videos and quizzes: each has its own routes, created under its parent."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status

from learnhub.api.deps import Caller, IfMatch, MaybeCaller, Uow, set_etag, versioned
from learnhub.api.schemas.common import PROBLEM_RESPONSES
from learnhub.api.schemas.content import (
    OrderIn,
    SectionIn,
    SectionOut,
    SectionPatch,
    VideoIn,
    VideoOut,
    VideoPatch,
)
from learnhub.api.schemas.quizzes import (
    QuizAuthorOut,
    QuizIn,
    QuizOut,
    QuizPatch,
    QuizSummary,
    quiz_out,
)
from learnhub.domain.quiz_rules import OptionSpec, QuestionSpec, QuizSpec
from learnhub.services.course_access import ContentAccess
from learnhub.services.course_content import (
    ContentAuthoringService,
    SectionChanges,
    VideoChanges,
    VideoUpload,
)
from learnhub.services.quiz_authoring import QuizAuthoringService, QuizChanges

router = APIRouter(tags=["course content"], responses=PROBLEM_RESPONSES)
NO_CONTENT = status.HTTP_204_NO_CONTENT


def _questions(body: QuizIn | QuizPatch) -> list[QuestionSpec] | None:
    if body.questions is None:
        return None
    return [
        QuestionSpec(
            text=q.text,
            type=q.type,
            answer_text=q.answer_text,
            explanation=q.explanation,
            options=[OptionSpec(o.text, o.is_correct) for o in q.options],
        )
        for q in body.questions
    ]


# ---- sections ------------------------------------------------------------------------------


@router.post(
    "/courses/{course_id}/sections",
    summary="Add a section to a course",
    status_code=status.HTTP_201_CREATED,
)
async def add_section(
    course_id: uuid.UUID, body: SectionIn, caller: Caller, uow: Uow, response: Response
) -> SectionOut:
    section = await ContentAuthoringService(uow).add_section(
        caller, course_id, body.title, body.position
    )
    set_etag(response, section.version)
    return SectionOut.model_validate(section)


@router.put("/courses/{course_id}/sections/order", summary="Reorder a course's sections")
async def order_sections(
    course_id: uuid.UUID, body: OrderIn, caller: Caller, uow: Uow
) -> list[SectionOut]:
    sections = await ContentAuthoringService(uow).reorder_sections(caller, course_id, body.ids)
    return [SectionOut.model_validate(s) for s in sections]


@router.get("/sections/{section_id}", summary="Read a section")
async def get_section(
    section_id: uuid.UUID, caller: MaybeCaller, uow: Uow, response: Response
) -> SectionOut:
    section = await ContentAuthoringService(uow).get_section(caller, section_id)
    set_etag(response, section.version)
    return SectionOut.model_validate(section)


@router.patch("/sections/{section_id}", summary="Edit a section")
async def update_section(
    section_id: uuid.UUID,
    body: SectionPatch,
    caller: Caller,
    uow: Uow,
    response: Response,
    if_match: IfMatch = None,
) -> SectionOut:
    changes = SectionChanges(**body.model_dump(exclude_unset=True, exclude={"version"}))
    service = ContentAuthoringService(uow)
    section = await versioned(
        if_match,
        body.version,
        lambda v: service.update_section(caller, section_id, changes, v),
    )
    set_etag(response, section.version)
    return SectionOut.model_validate(section)


@router.delete(
    "/sections/{section_id}", summary="Delete a section with its content", status_code=NO_CONTENT
)
async def delete_section(
    section_id: uuid.UUID, caller: Caller, uow: Uow, if_match: IfMatch = None
) -> Response:
    """Soft delete, with the section's videos and quizzes."""
    service = ContentAuthoringService(uow)
    await versioned(if_match, None, lambda v: service.delete_section(caller, section_id, v))
    return Response(status_code=NO_CONTENT)


@router.post("/sections/{section_id}/restore", summary="Restore a deleted section")
async def restore_section(
    section_id: uuid.UUID, caller: Caller, uow: Uow, response: Response
) -> SectionOut:
    section = await ContentAuthoringService(uow).restore_section(caller, section_id)
    set_etag(response, section.version)
    return SectionOut.model_validate(section)


# ---- videos --------------------------------------------------------------------------------


@router.post(
    "/sections/{section_id}/videos",
    summary="Add a video to a section",
    status_code=status.HTTP_201_CREATED,
)
async def add_video(
    section_id: uuid.UUID, body: VideoIn, caller: Caller, uow: Uow, response: Response
) -> VideoOut:
    video = await ContentAuthoringService(uow).add_video(
        caller,
        section_id,
        title=body.title,
        url=body.url,
        duration_seconds=body.duration_seconds,
        position=body.position,
        transcript=body.transcript,
        is_preview=body.is_preview,
    )
    set_etag(response, video.version)
    return VideoOut.model_validate(video)


@router.post(
    "/sections/{section_id}/videos/upload",
    summary="Upload a video file to a section",
    description="A `multipart/form-data` body: the video `file` with `title` (and optionally "
    "`transcript` and `is_preview`). The file's container and codec are read from its bytes "
    "(WebM with VP8, VP9 or AV1; MP4 with H.264, HEVC or AV1; Ogg with Theora), never from "
    "its name: anything else is refused with 415. It may be at most `LEARNHUB_MAX_UPLOAD_MB` "
    "(default 200) MiB: 413 past it, 422 for an empty one. The video's `duration_seconds` is "
    "read from the file and its `url` is the stored file's `/media/courses/<course id>/...` "
    "path, served with Range requests to whoever may watch the course's videos.",
    status_code=status.HTTP_201_CREATED,
    responses={415: PROBLEM_RESPONSES[413]},
    # Merged into FastAPI's multipart body (it gives form bodies no example of its own).
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "example": {
                        "file": "(the bytes of lesson-1.webm)",
                        "title": "Your first bar chart",
                        "transcript": "",
                        "is_preview": False,
                    }
                }
            }
        }
    },
)
async def upload_video(
    section_id: uuid.UUID,
    request: Request,
    caller: Caller,
    uow: Uow,
    response: Response,
    file: Annotated[UploadFile, File(description="The video file.")],
    title: Annotated[str, Form(min_length=1, max_length=200)],
    transcript: Annotated[str, Form(max_length=200_000)] = "",
    is_preview: Annotated[bool, Form()] = False,
) -> VideoOut:
    settings = request.app.state.settings
    upload = VideoUpload(
        file.file, file.size, request.app.state.media_storage, settings.max_upload_bytes
    )
    video = await ContentAuthoringService(uow).upload_video(
        caller, section_id, upload, title=title, transcript=transcript, is_preview=is_preview
    )
    set_etag(response, video.version)
    return VideoOut.model_validate(video)


@router.put("/sections/{section_id}/videos/order", summary="Reorder a section's videos")
async def order_videos(
    section_id: uuid.UUID, body: OrderIn, caller: Caller, uow: Uow
) -> list[VideoOut]:
    videos = await ContentAuthoringService(uow).reorder_videos(caller, section_id, body.ids)
    return [VideoOut.model_validate(v) for v in videos]


@router.get("/videos/{video_id}", summary="Read a video")
async def get_video(
    video_id: uuid.UUID, caller: MaybeCaller, uow: Uow, response: Response
) -> VideoOut:
    """The video with its url and transcript for the course's enrolled learners, instructor
    and admins, and for everyone when it is a free preview; other callers who may see the
    course's outline get it with `locked: true`, `url: null` and `transcript: null`."""
    video, access = await ContentAuthoringService(uow).get_video(caller, video_id)
    response.headers["Vary"] = "Authorization"
    out = VideoOut.of(video, full=access.full)
    set_etag(response, video.version, "locked" if out.locked else None)
    return out


@router.patch("/videos/{video_id}", summary="Edit a video")
async def update_video(
    video_id: uuid.UUID,
    body: VideoPatch,
    caller: Caller,
    uow: Uow,
    response: Response,
    if_match: IfMatch = None,
) -> VideoOut:
    service = ContentAuthoringService(uow)
    changes = VideoChanges(**body.model_dump(exclude_unset=True, exclude={"version"}))
    video = await versioned(
        if_match, body.version, lambda v: service.update_video(caller, video_id, changes, v)
    )
    set_etag(response, video.version)
    return VideoOut.model_validate(video)


@router.delete("/videos/{video_id}", summary="Delete a video", status_code=NO_CONTENT)
async def delete_video(
    video_id: uuid.UUID, caller: Caller, uow: Uow, if_match: IfMatch = None
) -> Response:
    service = ContentAuthoringService(uow)
    await versioned(if_match, None, lambda v: service.delete_video(caller, video_id, v))
    return Response(status_code=NO_CONTENT)


@router.post("/videos/{video_id}/restore", summary="Restore a deleted video")
async def restore_video(
    video_id: uuid.UUID, caller: Caller, uow: Uow, response: Response
) -> VideoOut:
    video = await ContentAuthoringService(uow).restore_video(caller, video_id)
    set_etag(response, video.version)
    return VideoOut.model_validate(video)


# ---- quizzes -------------------------------------------------------------------------------


@router.post(
    "/sections/{section_id}/quizzes",
    summary="Add a quiz to a section",
    status_code=status.HTTP_201_CREATED,
)
async def add_quiz(
    section_id: uuid.UUID, body: QuizIn, caller: Caller, uow: Uow, response: Response
) -> QuizAuthorOut:
    service = QuizAuthoringService(uow)
    spec = QuizSpec(
        title=body.title,
        pass_mark=body.pass_mark,
        max_attempts=body.max_attempts,
        time_limit_seconds=body.time_limit_seconds,
        questions=_questions(body) or (),
    )
    quiz = await service.add_quiz(caller, section_id, spec, body.position)
    loaded, _ = await service.get_quiz(caller, quiz.id)
    set_etag(response, loaded.version)
    return QuizAuthorOut.model_validate(loaded)


@router.put("/sections/{section_id}/quizzes/order", summary="Reorder a section's quizzes")
async def order_quizzes(
    section_id: uuid.UUID, body: OrderIn, caller: Caller, uow: Uow
) -> list[QuizSummary]:
    quizzes = await QuizAuthoringService(uow).reorder_quizzes(caller, section_id, body.ids)
    return [QuizSummary.model_validate(q) for q in quizzes]


@router.get("/quizzes/{quiz_id}", summary="Read a quiz")
async def get_quiz(
    quiz_id: uuid.UUID, caller: MaybeCaller, uow: Uow, response: Response
) -> QuizAuthorOut | QuizOut:
    """Enrolled learners see the questions without answer keys; the course's instructor and
    admins see the keys; other callers who may see the course's outline get the quiz's
    settings and `question_count` with `locked: true` and `questions: null`."""
    quiz, access = await QuizAuthoringService(uow).get_quiz(caller, quiz_id)
    response.headers["Vary"] = "Authorization"
    views = {ContentAccess.EDITOR: None, ContentAccess.OUTLINE: "locked"}
    set_etag(response, quiz.version, views.get(access, "learner"))
    return quiz_out(
        quiz, with_keys=access is ContentAccess.EDITOR, locked=access is ContentAccess.OUTLINE
    )


@router.patch("/quizzes/{quiz_id}", summary="Edit a quiz and its questions")
async def update_quiz(
    quiz_id: uuid.UUID,
    body: QuizPatch,
    caller: Caller,
    uow: Uow,
    response: Response,
    if_match: IfMatch = None,
) -> QuizAuthorOut:
    """Settings change in place; `questions`, when given, replace the quiz's questions."""
    service = QuizAuthoringService(uow)
    settings = body.model_dump(exclude_unset=True, exclude={"version", "questions"})
    changes = QuizChanges(**settings, questions=_questions(body))
    quiz = await versioned(
        if_match, body.version, lambda v: service.update_quiz(caller, quiz_id, changes, v)
    )
    set_etag(response, quiz.version)
    return QuizAuthorOut.model_validate(quiz)


@router.delete("/quizzes/{quiz_id}", summary="Delete a quiz", status_code=NO_CONTENT)
async def delete_quiz(
    quiz_id: uuid.UUID, caller: Caller, uow: Uow, if_match: IfMatch = None
) -> Response:
    service = QuizAuthoringService(uow)
    await versioned(if_match, None, lambda v: service.delete_quiz(caller, quiz_id, v))
    return Response(status_code=NO_CONTENT)


@router.post("/quizzes/{quiz_id}/restore", summary="Restore a deleted quiz")
async def restore_quiz(
    quiz_id: uuid.UUID, caller: Caller, uow: Uow, response: Response
) -> QuizAuthorOut:
    quiz = await QuizAuthoringService(uow).restore_quiz(caller, quiz_id)
    set_etag(response, quiz.version)
    return QuizAuthorOut.model_validate(quiz)
