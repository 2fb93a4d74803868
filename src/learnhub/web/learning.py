"""The learner's own pages (issue 16): "My learning", resuming a course, the player and its
heartbeats, and the media files the player plays. Each handler is one service call: the
enrolments and their progress (`EnrollmentService.mine`), the resume point and the player's
page (`PlayerService`, over the API's access and progress services), a heartbeat by the
API's own `ProgressService` (`api.routers.learning.progress_service`: the same credit
policy and clock), a media file's access (`MediaAccessService`)."""

from __future__ import annotations

import math
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.responses import FileResponse, JSONResponse, Response

from learnhub.api.deps import Uow
from learnhub.api.routers.learning import heartbeat_of, progress_service
from learnhub.api.schemas.learning import ProgressIn
from learnhub.domain.errors import NotAuthenticated, NotFound
from learnhub.domain.ids import parse_id
from learnhub.media.storage import MediaStorage, content_type
from learnhub.repositories.filters import CursorPagination
from learnhub.services.learning import EnrollmentService
from learnhub.services.media import MediaAccessService
from learnhub.services.player import HeartbeatAnswer, PlayerService
from learnhub.web import security
from learnhub.web.base import WebCaller, login_url, redirect, render, require_csrf
from learnhub.web.errors import WEB_TAG

router = APIRouter(tags=[WEB_TAG], include_in_schema=False, dependencies=[Depends(require_csrf)])
# Enrolments shown on "My learning" (a learner with more sees the newest; the API pages on).
MY_LEARNING_LIMIT = 100
# Media is per person (access follows enrolment): a browser may keep it, no shared cache.
MEDIA_CACHE_CONTROL = "private, max-age=3600"


def learn_url(slug: str) -> str:
    return f"/learn/{quote(slug)}"


def player_url(slug: str, video_id: uuid.UUID, at: float | None = None) -> str:
    # The tutor chat's citations link here with ?t=<seconds>: keep this form.
    url = f"{learn_url(slug)}/videos/{video_id}"
    return f"{url}?t={math.floor(at)}" if at else url


def start_at(request: Request) -> float | None:
    """`?t=<seconds>` when it is a number of seconds (a citation), else None."""
    raw = request.query_params.get("t", "")
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


@router.get("/learning", name="web_my_learning")
async def my_learning(request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return redirect(request, login_url("/learning"))
    page = await EnrollmentService(uow).mine(caller, CursorPagination(MY_LEARNING_LIMIT, None))
    views = [v for v in page.items if v.course_available]
    return render(
        request,
        "learning.html",
        caller,
        learning=[v for v in views if v.enrollment.completed_at is None],
        completed=[v for v in views if v.enrollment.completed_at is not None],
        unavailable=[v for v in page.items if not v.course_available],
        learn_url=learn_url,
    )


@router.get("/learn/{slug}", name="web_resume")
async def resume(slug: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    """To the video and position where the learner left off."""
    if caller is None:
        return redirect(request, login_url(learn_url(slug)))
    point = await PlayerService(uow).resume_point(caller, slug)
    return redirect(request, player_url(point.course.slug, point.video_id, point.position_seconds))


@router.get("/learn/{slug}/videos/{video_id}", name="web_player")
async def player(
    slug: str, video_id: str, request: Request, uow: Uow, caller: WebCaller
) -> Response:
    video = parse_id(video_id)
    if video is None:  # a mistyped link: the not-found page, not a validation problem
        raise NotFound("Video", video_id)
    view = await PlayerService(uow).player(caller, slug, video, start_at(request))
    progress = {v.video_id: v for v in view.progress.videos} if view.progress else {}
    passed = {q.quiz_id: q.passed for q in view.progress.quizzes} if view.progress else {}
    return render(
        request,
        "player.html",
        caller,
        view=view,
        course=view.course,
        video=view.video,
        progress=progress,
        passed_quizzes=passed,
        player_url=player_url,
        heartbeat_url=f"/learn/videos/{view.video.id}/heartbeats",
    )


def heartbeat_json(answer: HeartbeatAnswer) -> dict[str, Any]:
    """What the page shows after a heartbeat: the server's numbers, never the browser's."""
    course = answer.course
    return {
        "video": {
            "video_id": str(answer.video.video_id),
            "position_seconds": answer.video.position_seconds,
            "watched_seconds": answer.video.watched_seconds,
            "completed": answer.video.completed,
        },
        "course": {
            "percent": course.percent,
            "completed": course.completed,
            "completed_items": course.completed_items,
            "total_items": course.total_items,
            "videos": [
                {"video_id": str(v.video_id), "percent": v.percent, "completed": v.completed}
                for v in course.videos
            ],
        },
    }


@router.post("/learn/videos/{video_id}/heartbeats", name="web_heartbeat")
async def heartbeat(
    video_id: uuid.UUID, body: ProgressIn, request: Request, uow: Uow, caller: WebCaller
) -> Response:
    """The player's heartbeat (a JSON fetch with the page's CSRF token in `X-CSRF-Token`),
    by the same service and rules as `PUT /api/v1/videos/{id}/progress`."""
    if caller is None:
        raise NotAuthenticated("log in to record your progress")
    service = PlayerService(uow, progress_service(request, uow))
    answer = await service.heartbeat(caller, video_id, heartbeat_of(body))
    return JSONResponse(heartbeat_json(answer), headers=security.PAGE_HEADERS)


@router.get("/media/{key:path}", name="web_media")
async def media(key: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    """A video file, to whoever may watch it, with HTTP Range requests (206 Partial Content,
    416 for a range outside the file) as Starlette's `FileResponse` serves them."""
    await MediaAccessService(uow).readable(caller, key)
    storage: MediaStorage = request.app.state.media_storage
    path = storage.local_path(key)
    if path is None:
        raise NotFound("Media", key)
    headers = {"Cache-Control": MEDIA_CACHE_CONTROL, "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=content_type(key), headers=headers)
