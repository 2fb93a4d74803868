"""The studio's videos (issue 17): adding one to a section, by uploading its file or by URL,
editing it (a stale version is a conflict page), deleting it and moving it up or down among
its section's videos."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from starlette.responses import Response

from learnhub.api.deps import Uow
from learnhub.api.schemas.content import VideoIn
from learnhub.domain.errors import ConcurrencyConflict
from learnhub.services.course_content import (
    ContentAuthoringService,
    VideoChanges,
    VideoUpload,
)
from learnhub.web.base import (
    WebCaller,
    expect_form_failure,
    redirect,
    render,
    require_csrf,
)
from learnhub.web.errors import WEB_TAG
from learnhub.web.studio_forms import (
    VIDEO_LABELS,
    Field,
    FormInvalid,
    conflict_page,
    course_context,
    direction,
    entity_id,
    needs_login,
    section_course,
    typed_video,
    validated,
    version_of,
    video_body,
    video_values,
)

router = APIRouter(tags=[WEB_TAG], include_in_schema=False, dependencies=[Depends(require_csrf)])


@router.post("/studio/sections/{section_id}/videos", name="web_studio_add_video")
async def add_video(
    section_id: str,
    request: Request,
    uow: Uow,
    caller: WebCaller,
    title: Field = "",
    url: Field = "",
    duration_seconds: Field = "",
    transcript: Field = "",
    is_preview: Field = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    if caller is None:
        return needs_login(request)
    the_id = entity_id(section_id, "Section")
    course_id = await section_course(uow, caller, the_id)
    context = await course_context(request, uow, caller, course_id)
    typed = typed_video(title, url, duration_seconds, transcript, is_preview)
    context.update(notice=None, new_video={str(the_id): typed})
    # A chosen file makes the video (its URL and length come from it); else the URL does.
    uploading = file is not None and bool(file.filename)
    try:
        body = validated(VideoIn, video_body(typed, uploaded=uploading), VIDEO_LABELS)
    except FormInvalid as invalid:
        context["errors"] = {f"video-{the_id}": " ".join(invalid.errors.values())}
        return render(request, "studio/course.html", caller, 422, **context)
    context["errors"] = {f"video-{the_id}": ""}  # the domain error's message goes on top
    expect_form_failure(request, "studio/course.html", **context)
    service = ContentAuthoringService(uow)
    if file is not None and uploading:
        settings = request.app.state.settings
        upload = VideoUpload(
            file.file, file.size, request.app.state.media_storage, settings.max_upload_bytes
        )
        await service.upload_video(
            caller,
            the_id,
            upload,
            title=body.title,
            transcript=body.transcript,
            is_preview=body.is_preview,
        )
    else:
        await service.add_video(
            caller,
            the_id,
            title=body.title,
            url=body.url,
            duration_seconds=body.duration_seconds,
            transcript=body.transcript,
            is_preview=body.is_preview,
        )
    return redirect(request, f"/studio/courses/{course_id}?notice=saved#section-{the_id}")


@router.get("/studio/videos/{video_id}", name="web_studio_video")
async def video_page(video_id: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    if caller is None:
        return needs_login(request)
    video = await ContentAuthoringService(uow).editable_video(caller, entity_id(video_id, "Video"))
    return render(
        request,
        "studio/video.html",
        caller,
        video_id=video.id,
        course_id=video.course_id,
        version=video.version,
        values=video_values(video),
        errors={},
    )


@router.post("/studio/videos/{video_id}", name="web_studio_video_save")
async def save_video(
    video_id: str,
    request: Request,
    uow: Uow,
    caller: WebCaller,
    title: Field = "",
    url: Field = "",
    duration_seconds: Field = "",
    transcript: Field = "",
    is_preview: Field = "",
    version: Field = "",
) -> Response:
    if caller is None:
        return needs_login(request)
    service = ContentAuthoringService(uow)
    video = await service.editable_video(caller, entity_id(video_id, "Video"))
    the_id, course_id, section_id = video.id, video.course_id, video.section_id
    mine = typed_video(title, url, duration_seconds, transcript, is_preview)
    context = {
        "video_id": the_id,
        "course_id": course_id,
        "version": version[:12],
        "values": mine,
        "errors": {},
    }
    try:
        body = validated(VideoIn, video_body(mine), VIDEO_LABELS)
    except FormInvalid as invalid:
        return render(
            request, "studio/video.html", caller, 422, **{**context, "errors": invalid.errors}
        )
    expect_form_failure(request, "studio/video.html", **context)
    changes = VideoChanges(
        title=body.title,
        url=body.url,
        duration_seconds=body.duration_seconds,
        transcript=body.transcript,
        is_preview=body.is_preview,
    )
    try:
        await service.update_video(caller, the_id, changes, version_of(version))
    except ConcurrencyConflict:
        theirs = await service.editable_video(caller, the_id)
        return conflict_page(
            request,
            caller,
            what=f"the video “{theirs.title}”",
            labels=VIDEO_LABELS,
            theirs=video_values(theirs),
            mine=mine,
            resubmit=mine,
            version=theirs.version,
            action=f"/studio/videos/{the_id}",
            reload_url=f"/studio/videos/{the_id}",
        )
    return redirect(request, f"/studio/courses/{course_id}?notice=saved#section-{section_id}")


@router.post("/studio/videos/{video_id}/delete", name="web_studio_video_delete")
async def delete_video(
    video_id: str, request: Request, uow: Uow, caller: WebCaller, version: Field = ""
) -> Response:
    if caller is None:
        return needs_login(request)
    service = ContentAuthoringService(uow)
    video = await service.editable_video(caller, entity_id(video_id, "Video"))
    the_id, course_id = video.id, video.course_id
    context = await course_context(request, uow, caller, course_id)
    context["notice"] = None
    expect_form_failure(request, "studio/course.html", **context)
    await service.delete_video(caller, the_id, version_of(version))
    return redirect(request, f"/studio/courses/{course_id}?notice=deleted#sections")


@router.post("/studio/videos/{video_id}/move", name="web_studio_video_move")
async def move_video(
    video_id: str, request: Request, uow: Uow, caller: WebCaller, to: Field = ""
) -> Response:
    if caller is None:
        return needs_login(request)
    service = ContentAuthoringService(uow)
    video = await service.editable_video(caller, entity_id(video_id, "Video"))
    the_id, course_id, section_id = video.id, video.course_id, video.section_id
    context = await course_context(request, uow, caller, course_id)
    context["notice"] = None
    expect_form_failure(request, "studio/course.html", **context)
    await service.move_video(caller, the_id, direction(to))
    return redirect(request, f"/studio/courses/{course_id}?notice=moved#section-{section_id}")
