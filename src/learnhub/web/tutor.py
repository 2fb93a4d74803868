"""The tutor chat of a course (issue 16): an enrolled learner's conversations about it, the
open one with its messages, and a question form, on the services of the API's tutor routes.
Without JavaScript the form posts and the chat comes back (303); with it (`static/tutor.js`)
the question goes by fetch as JSON to `/courses/{slug}/tutor/messages`, the answer is
appended in place. An answer's citations link to the player at the cited second, in the
fixed form `/learn/{slug}/videos/{video_id}?t={seconds}`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import JSONResponse, Response

from learnhub.api.deps import Uow
from learnhub.api.schemas.courses import CourseDetailOut
from learnhub.api.schemas.tutor import MessageIn, MessageOut
from learnhub.domain.enums import ChatRole
from learnhub.domain.errors import NotAuthenticated, NotFound
from learnhub.domain.principal import Principal
from learnhub.services.course import CourseService
from learnhub.services.tutor import MAX_QUESTION_CHARS, Exchange, TutorService
from learnhub.web.base import (
    WebCaller,
    duration,
    expect_form_failure,
    finish,
    login_url,
    redirect,
    render,
    require_csrf,
)
from learnhub.web.errors import WEB_TAG

router = APIRouter(tags=[WEB_TAG], include_in_schema=False, dependencies=[Depends(require_csrf)])
# The script's JSON route: not a page, so its domain errors are the API's problem documents
# (the script shows their `detail`), not HTML pages.
script_router = APIRouter(include_in_schema=False, dependencies=[Depends(require_csrf)])
Field = Annotated[str, Form()]


@dataclass(frozen=True, slots=True)
class Citation:
    label: str
    href: str | None  # None: the course's own description, no video to play


@dataclass(frozen=True, slots=True)
class ChatMessage:
    mine: bool
    content: str
    time: str
    citations: list[Citation]


class ScriptQuestion(MessageIn):
    """The script's question: the form's fields as JSON (no conversation: a new one)."""

    conversation_id: uuid.UUID | None = None


def chat_path(slug: str) -> str:
    return f"/courses/{quote(slug)}/tutor"


def player_link(slug: str, video_id: uuid.UUID, seconds: float) -> str:
    return f"/learn/{quote(slug)}/videos/{video_id}?t={int(seconds)}"


def tutor_service(request: Request, uow: Uow) -> TutorService:
    state = request.app.state
    return TutorService(uow, state.tutor_provider, state.tutor_policy)


def present(slug: str, titles: dict[uuid.UUID, str], message: Any) -> ChatMessage:
    out = MessageOut.model_validate(message)
    citations = [
        Citation("The course description", None)
        if c.video_id is None
        else Citation(
            f"{titles.get(c.video_id, 'A video')} at {duration(int(c.start_seconds))}",
            player_link(slug, c.video_id, c.start_seconds),
        )
        for c in out.citations
    ]
    return ChatMessage(
        out.role is ChatRole.USER, out.content, f"{out.created_at:%H:%M} UTC", citations
    )


def video_titles(course: CourseDetailOut) -> dict[uuid.UUID, str]:
    return {video.id: video.title for section in course.sections for video in section.videos}


def parse_id(value: str | None) -> uuid.UUID | None:
    """A conversation named in the page's address or form; anything but an id names none
    that exists."""
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound("Conversation", value[:40]) from None


async def chat_context(
    request: Request, uow: Uow, caller: Principal, slug: str, conversation: str | None, new: bool
) -> dict[str, Any]:
    """Everything the chat page shows, as plain values (still there for the page that shows
    a failed question, after its transaction has rolled back)."""
    view = await CourseService(uow).view_by_key(caller, slug)
    course = CourseDetailOut.of(view.course, full=view.access.full)
    back = f"/courses/{quote(slug)}"
    # Not enrolled, the tutor switched off, another learner's conversation: a page saying so.
    expect_form_failure(request, "error.html", message="", back_url=back)
    chat = await tutor_service(request, uow).course_chat(
        caller, course.id, parse_id(conversation), latest=not new
    )
    titles = video_titles(course)
    current = chat.conversation
    return {
        "course": course,
        "course_url": back,
        "chat_url": chat_path(slug),
        "script_url": chat_path(slug) + "/messages",
        "conversations": chat.conversations,
        "current_id": current.id if current else None,
        "started": f"{current.created_at:%Y-%m-%d %H:%M} UTC" if current else None,
        "messages": [present(slug, titles, m) for m in chat.messages],
        "max_question": MAX_QUESTION_CHARS,
        "question": "",
    }


async def ask(
    request: Request,
    uow: Uow,
    caller: Principal,
    course_id: uuid.UUID,
    conversation: str | None,
    content: str,
) -> Exchange:
    tutor = tutor_service(request, uow)
    conversation_id = parse_id(conversation)
    if conversation_id is None:
        return await tutor.ask_new(caller, course_id, content)
    return await tutor.ask(caller, conversation_id, content)


@router.get("/courses/{slug}/tutor", name="web_tutor")
async def chat_page(slug: str, request: Request, uow: Uow, caller: WebCaller) -> Response:
    params = request.query_params
    if caller is None:
        query = f"?{request.url.query}" if request.url.query else ""
        return redirect(request, login_url(chat_path(slug) + query))
    new = params.get("new") == "1"
    context = await chat_context(request, uow, caller, slug, params.get("conversation"), new)
    return render(request, "tutor.html", caller, **context)


@router.post("/courses/{slug}/tutor", name="web_tutor_ask")
async def ask_by_form(
    slug: str,
    request: Request,
    uow: Uow,
    caller: WebCaller,
    content: Field = "",
    conversation: Field = "",
) -> Response:
    if caller is None:
        return redirect(request, login_url(chat_path(slug)))
    context = await chat_context(request, uow, caller, slug, conversation, not conversation)
    # An empty or too long question, the daily limit, a tutor that cannot answer just now:
    # the chat again, the question as typed, and why.
    expect_form_failure(request, "tutor.html", **context | {"question": content[:5000]})
    exchange = await ask(request, uow, caller, context["course"].id, conversation, content)
    at = f"?conversation={exchange.question.conversation_id}#latest"
    return redirect(request, chat_path(slug) + at)


@script_router.post("/courses/{slug}/tutor/messages", name="web_tutor_ask_script")
async def ask_by_script(
    slug: str, body: ScriptQuestion, request: Request, uow: Uow, caller: WebCaller
) -> Response:
    if caller is None:
        raise NotAuthenticated("log in to ask the tutor")
    view = await CourseService(uow).view_by_key(caller, slug)
    course = CourseDetailOut.of(view.course, full=view.access.full)
    titles = video_titles(course)  # read now: asking ends this transaction
    conversation = str(body.conversation_id) if body.conversation_id else None
    exchange = await ask(request, uow, caller, course.id, conversation, body.content)
    conversation_id = exchange.question.conversation_id
    document = {
        "conversation_id": str(conversation_id),
        "conversation_url": f"{chat_path(slug)}?conversation={conversation_id}",
        "question": as_json(present(slug, titles, exchange.question)),
        "answer": as_json(present(slug, titles, exchange.answer)),
    }
    return finish(request, JSONResponse(document))


def as_json(message: ChatMessage) -> dict[str, Any]:
    return {
        "mine": message.mine,
        "content": message.content,
        "time": message.time,
        "citations": [{"label": c.label, "href": c.href} for c in message.citations],
    }
