"""Enrolments and progress: a learner's own, only."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, status

from learnhub.api.deps import Caller, Limit, Uow
from learnhub.api.query_parameters import KnownQueryOnly
from learnhub.api.schemas.common import PROBLEM_RESPONSES, Cursor, PageOut
from learnhub.api.schemas.learning import (
    CourseProgressOut,
    CourseSummary,
    EnrollmentOut,
    HeartbeatsIn,
    MyEnrollmentOut,
    ProgressIn,
    ProgressListOut,
    ProgressOut,
    QuizProgressItem,
    ResumeOut,
    VideoProgressItem,
)
from learnhub.repositories.filters import CursorPagination
from learnhub.services.course_progress import CourseProgressService
from learnhub.services.learning import EnrollmentService, Heartbeat, ProgressService

router = APIRouter(tags=["learning"], responses=PROBLEM_RESPONSES)


def progress_service(request: Request, uow: Uow) -> ProgressService:
    state = request.app.state
    return ProgressService(uow, state.credit_policy, clock=state.clock)


def heartbeat_of(body: ProgressIn) -> Heartbeat:
    return Heartbeat(
        position_seconds=body.position_seconds,
        played_segments=body.played_segments,
        watched_seconds=body.watched_seconds,
    )


@router.post(
    "/courses/{course_id}/enrollments",
    summary="Enrol in a course",
    status_code=status.HTTP_201_CREATED,
)
async def enroll(course_id: uuid.UUID, caller: Caller, uow: Uow) -> EnrollmentOut:
    """Enrol the caller; a cancelled enrolment comes back instead of a second one."""
    enrollment = await EnrollmentService(uow).enroll(caller, course_id)
    return EnrollmentOut.model_validate(enrollment)


@router.post("/enrollments/{enrollment_id}/cancel", summary="Cancel an enrolment")
async def cancel_enrollment(enrollment_id: uuid.UUID, caller: Caller, uow: Uow) -> EnrollmentOut:
    enrollment = await EnrollmentService(uow).cancel(caller, enrollment_id)
    return EnrollmentOut.model_validate(enrollment)


@router.get(
    "/users/me/enrollments",
    summary="List my enrolments with progress",
    dependencies=[KnownQueryOnly],
)
async def my_enrollments(
    caller: Caller,
    uow: Uow,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> PageOut[MyEnrollmentOut]:
    """The caller's enrolments, newest first. An enrolment in a course that was deleted stays
    listed with `course_available: false` and `progress_percent: null`."""
    page = await EnrollmentService(uow).mine(caller, CursorPagination(limit, cursor))
    items = [
        MyEnrollmentOut(
            **EnrollmentOut.model_validate(v.enrollment).model_dump(),
            course=CourseSummary.model_validate(v.course),
            course_available=v.course_available,
            progress_percent=v.percent,
        )
        for v in page.items
    ]
    return PageOut(items=items, next_cursor=page.next_cursor)


@router.put("/videos/{video_id}/progress", summary="Report a video heartbeat")
async def put_progress(
    video_id: uuid.UUID, body: ProgressIn, caller: Caller, uow: Uow, request: Request
) -> ProgressOut:
    """A player heartbeat: position plus the segments played since the last one (or, from
    simple clients, `watched_seconds`). The server decides the credited `watched_seconds`
    (bounded by real time since the first heartbeat for the video) and completion."""
    progress = await progress_service(request, uow).heartbeat(caller, video_id, heartbeat_of(body))
    return ProgressOut.model_validate(progress)


@router.post("/progress/heartbeats", summary="Report many video heartbeats at once")
async def post_heartbeats(
    body: HeartbeatsIn, caller: Caller, uow: Uow, request: Request
) -> ProgressListOut:
    """Many heartbeats at once, in order, all or none (a player syncing its buffer), by the
    rules of `PUT /videos/{id}/progress`, each video's credit within its one real-time
    budget. Returns each video's progress afterwards, in the order the videos first
    appear."""
    progress = await progress_service(request, uow).heartbeats(
        caller, [(beat.video_id, heartbeat_of(beat)) for beat in body.heartbeats]
    )
    return ProgressListOut(items=[ProgressOut.model_validate(p) for p in progress])


@router.get("/courses/{course_id}/progress", summary="Read my progress in a course")
async def get_course_progress(course_id: uuid.UUID, caller: Caller, uow: Uow) -> CourseProgressOut:
    """The caller's progress in a course they are enrolled in: totals, the resume point (the
    video touched most recently, unless it is completed: then the next unfinished video in
    outline order, else the first unfinished one; with all done, the last touched), and every
    video's and quiz's state in outline order."""
    p = await CourseProgressService(uow).course_progress(caller, course_id)
    resume = (
        ResumeOut(video_id=p.resume_video_id, position_seconds=p.resume_position_seconds or 0.0)
        if p.resume_video_id
        else None
    )
    return CourseProgressOut(
        course_id=p.course_id,
        completed_items=p.completed_items,
        total_items=p.total_items,
        percent=p.percent,
        resume=resume,
        completed=p.completed,
        videos=[VideoProgressItem.model_validate(v) for v in p.videos],
        quizzes=[QuizProgressItem.model_validate(q) for q in p.quizzes],
    )
