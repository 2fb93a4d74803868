"""Taking quizzes in the browser: the quiz page (attempts used and left, start or resume), the
attempt page (questions without their key, answers saved as the learner goes, the server's
deadline as a countdown), and the same URL once the attempt is closed: the result with the
answer review. Each handler is one call of the services behind the API's attempt routes
(`api/routers/attempts.py`), so the pages and the API keep one set of rules."""

from __future__ import annotations

import uuid
from decimal import Decimal
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, JSONResponse, Response

from learnhub.api.deps import WriteUow
from learnhub.api.schemas.attempts import AnswersIn
from learnhub.api.schemas.quizzes import QuestionOut
from learnhub.domain.clock import utc_now
from learnhub.domain.errors import InvalidValue, NotFound
from learnhub.domain.ids import parse_id
from learnhub.domain.principal import Principal
from learnhub.services.attempt_reads import AttemptPage, AttemptReadService
from learnhub.services.quiz_attempts import AttemptAnswer, QuizAttemptService
from learnhub.web.base import (
    expect_form_failure,
    finish,
    login_url,
    redirect,
    render,
    require_csrf,
    web_caller,
)
from learnhub.web.errors import WEB_TAG

router = APIRouter(tags=[WEB_TAG], include_in_schema=False, dependencies=[Depends(require_csrf)])
JSON_TYPE = "application/json"


async def web_write_caller(request: Request, uow: WriteUow) -> Principal | None:
    """The browser's learner, read in a writing unit of work: reading an attempt past its
    deadline closes it (as `GET /api/v1/attempts/{id}` does), so these pages may write."""
    return await web_caller(request, uow)


WriteWebCaller = Annotated[Principal | None, Depends(web_write_caller)]


def the_id(text: str, kind: str) -> uuid.UUID:
    found = parse_id(text)
    if found is None:
        raise NotFound(kind, text)
    return found


def to_login(request: Request, here: str) -> Response:
    """303 to the login page, coming back here; with a line of HTML for clients that do not
    follow redirects."""
    url = login_url(here)
    body = f'<p><a href="{escape(url)}">Log in to continue</a>.</p>'
    return finish(request, HTMLResponse(body, status_code=303, headers={"Location": url}))


def percent(value: Decimal | float | None) -> str:
    return "0" if value is None else f"{float(value):.4g}"


def quiz_url(quiz_id: uuid.UUID) -> str:
    return f"/quizzes/{quiz_id}"


def attempt_url(attempt_id: uuid.UUID) -> str:
    return f"/attempts/{attempt_id}"


def answers_in(raw: list[dict[str, Any]]) -> list[AttemptAnswer]:
    """Answers as typed, checked by the API's own input rules (`AnswersIn`)."""
    try:
        body = AnswersIn.model_validate({"answers": raw})
    except ValidationError:
        raise InvalidValue("the answers could not be read; reload the page and try again") from None
    return [AttemptAnswer(a.question_id, a.option_ids, a.text) for a in body.answers]


def form_answers(form: FormData) -> list[AttemptAnswer]:
    """The attempt form: one hidden `question` field per question, its chosen options in
    `option-<question id>`, a short answer's text in `text-<question id>`. Every question
    is sent, so one left blank clears what was saved for it."""
    raw: list[dict[str, Any]] = []
    for question in form.getlist("question"):
        if not isinstance(question, str):
            continue
        text = form.get(f"text-{question}")
        options = [v for v in form.getlist(f"option-{question}") if isinstance(v, str)]
        raw.append(
            {
                "question_id": question,
                "option_ids": options,
                "text": text if isinstance(text, str) else None,
            }
        )
    return answers_in(raw)


async def posted_answers(request: Request) -> list[AttemptAnswer]:
    """From the form (no JavaScript) or from the page's autosave fetch (JSON, `AnswersIn`)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == JSON_TYPE:
        try:
            body = AnswersIn.model_validate_json(await request.body())
        except ValidationError:
            raise InvalidValue("the answers could not be read") from None
        return [AttemptAnswer(a.question_id, a.option_ids, a.text) for a in body.answers]
    return form_answers(await request.form())


@router.get("/quizzes/{quiz_id}", name="web_quiz")
async def quiz_page(
    quiz_id: str, request: Request, uow: WriteUow, caller: WriteWebCaller
) -> Response:
    found = the_id(quiz_id, "Quiz")
    if caller is None:
        return to_login(request, quiz_url(found))
    overview = await AttemptReadService(uow).overview(caller, found)
    return render(
        request,
        "quiz.html",
        caller,
        overview=overview,
        quiz=overview.quiz,
        course=overview.course,
        question_count=len(overview.quiz.questions),
        scores={a.id: percent(a.score) for a in overview.attempts},
    )


@router.post("/quizzes/{quiz_id}/attempts", name="web_quiz_start")
async def start_attempt(
    quiz_id: str, request: Request, uow: WriteUow, caller: WriteWebCaller
) -> Response:
    found = the_id(quiz_id, "Quiz")
    if caller is None:
        return to_login(request, quiz_url(found))
    # Not enrolled, an attempt already open, no attempts left: the reason, and the way back.
    expect_form_failure(request, "error.html", message="", back_url=quiz_url(found))
    attempt, _quiz = await QuizAttemptService(uow).start(caller, found)
    return redirect(request, attempt_url(attempt.id))


@router.get("/attempts/{attempt_id}", name="web_attempt")
async def attempt_page(
    attempt_id: str, request: Request, uow: WriteUow, caller: WriteWebCaller
) -> Response:
    """An open attempt to answer, or, once closed (submitted, or at its deadline), its
    result: the same address before and after, so a reload at the deadline shows the result."""
    found = the_id(attempt_id, "Attempt")
    if caller is None:
        return to_login(request, attempt_url(found))
    page = await AttemptReadService(uow).page(caller, found)
    context = common_context(page)
    view = page.view
    if view.questions is None:
        return render(request, "results.html", caller, **context, review=view.review or [])
    # The questions as the API shows them to a learner: no key, no explanation.
    questions = [QuestionOut.model_validate(q) for q in view.questions]
    deadline = view.attempt.deadline_at
    remaining = None
    if deadline is not None:
        now = utc_now()
        deadline = deadline if deadline.tzinfo else deadline.replace(tzinfo=now.tzinfo)
        remaining = max(0, int((deadline - now).total_seconds()))
    return render(
        request,
        "attempt.html",
        caller,
        **context,
        questions=questions,
        answers={a.question_id: a for a in view.answers},
        deadline=deadline,
        remaining=remaining,
        saved=request.query_params.get("saved") == "1",
    )


def common_context(page: AttemptPage) -> dict[str, Any]:
    attempt = page.view.attempt
    return {
        "attempt": attempt,
        "quiz": page.quiz,
        "course": page.course,
        "own": page.own,
        "title": page.quiz.title if page.quiz is not None else "Quiz",
        "quiz_url": quiz_url(attempt.quiz_id),
        "save_url": f"{attempt_url(attempt.id)}/answers",
        "submit_url": f"{attempt_url(attempt.id)}/submit",
        "score": percent(attempt.score),
    }


@router.post("/attempts/{attempt_id}/answers", name="web_attempt_save")
async def save_answers(
    attempt_id: str, request: Request, uow: WriteUow, caller: WriteWebCaller
) -> Response:
    """The "Save answers" button, and the page's autosave (JSON with the `X-CSRF-Token`
    header, answered with JSON); `PUT /api/v1/attempts/{id}/answers`'s service."""
    found = the_id(attempt_id, "Attempt")
    here = attempt_url(found)
    if caller is None:
        return to_login(request, here)
    # Submitted already, or too late (then closed as overdue, keeping what was saved before):
    # the reason, and the way to the result.
    expect_form_failure(request, "error.html", message="", back_url=here)
    answers = await posted_answers(request)
    attempt, stored = await QuizAttemptService(uow).save_answers(caller, found, answers)
    if request.headers.get("content-type", "").startswith(JSON_TYPE):
        body = {"state": attempt.state.value, "saved": len(stored)}
        return finish(request, JSONResponse(body))
    return redirect(request, f"{here}?saved=1")


@router.post("/attempts/{attempt_id}/submit", name="web_attempt_submit")
async def submit_attempt(
    attempt_id: str, request: Request, uow: WriteUow, caller: WriteWebCaller
) -> Response:
    """Grade the answers on the form (they replace the saved ones); then the result."""
    found = the_id(attempt_id, "Attempt")
    here = attempt_url(found)
    if caller is None:
        return to_login(request, here)
    expect_form_failure(request, "error.html", message="", back_url=here)
    answers = form_answers(await request.form())
    await QuizAttemptService(uow).submit(caller, found, answers)
    return redirect(request, here)
