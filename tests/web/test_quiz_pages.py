"""Quiz pages and the review form (issue 16) through httpx, on both databases: the quiz page,
starting, the attempt page without the answer key, saving by form and by the autosave fetch
(its CSRF header), submitting, the result with the review; another learner's attempt is not
there; a late save is refused with a message and the attempt keeps what was saved; reviews
written and edited on the course page, with the histogram and the authors' names."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from learnhub.domain.clock import utc_now
from learnhub.web import security
from tests.api.conftest import Account, LoginAs
from tests.api.test_attempts import attempt_state, move_deadline, quiz_course, right_answers
from tests.api.test_courses import API, QUESTIONS
from tests.api.test_learning import enrol
from tests.web.test_web_base import assert_page, csrf_of, logged_in

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

EXPLAINED: list[dict[str, Any]] = [
    {**question, "explanation": f"Because of rule {n}."} for n, question in enumerate(QUESTIONS)
]
ATTEMPT_PATH = re.compile(r"^/attempts/([0-9a-f-]{36})$")


async def quiz_learner(
    client: httpx.AsyncClient, login_as: LoginAs, **quiz_fields: Any
) -> tuple[Account, dict, dict]:
    """A student enrolled in a course with one quiz (EXPLAINED, 10 minutes, 2 attempts),
    logged in in the browser (`client`'s cookies)."""
    fields = {"questions": EXPLAINED, "time_limit_seconds": 600, "max_attempts": 2}
    course, quiz = await quiz_course(client, await login_as("instructor"), **fields | quiz_fields)
    student = await login_as()
    await enrol(client, student, course["id"])
    await logged_in(client, student)
    return student, course, quiz


async def start_in_page(client: httpx.AsyncClient, quiz_id: str) -> str:
    """Press "Start attempt" on the quiz page; the attempt's id."""
    page = assert_page(await client.get(f"/quizzes/{quiz_id}"))
    response = await client.post(f"/quizzes/{quiz_id}/attempts", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 303, response.text
    match = ATTEMPT_PATH.match(response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def form_of(answers: list[dict], questions: list[dict], token: str) -> dict[str, Any]:
    """The attempt form as a browser posts it: every question, its options and its text."""
    given = {a["question_id"]: a for a in answers}
    form: dict[str, Any] = {"csrf_token": token, "question": [q["id"] for q in questions]}
    for question in questions:
        qid = question["id"]
        answer = given.get(qid, {})
        if answer.get("option_ids"):
            form[f"option-{qid}"] = answer["option_ids"]
        if question["type"] == "short_answer":
            form[f"text-{qid}"] = answer.get("text") or ""
    return form


async def open_attempt(client: httpx.AsyncClient, student: Account, attempt_id: str) -> dict:
    response = await client.get(f"{API}/attempts/{attempt_id}", headers=student.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_take_a_quiz_from_the_course_page_to_the_result(client, login_as: LoginAs):
    student, course, quiz = await quiz_learner(client, login_as)
    course_page = assert_page(await client.get(f"/courses/{course['slug']}"))
    assert f'href="/quizzes/{quiz["id"]}"' in course_page
    quiz_page = assert_page(await client.get(f"/quizzes/{quiz['id']}"))
    assert quiz["title"] in quiz_page and "Pass mark" in quiz_page and "60%" in quiz_page
    assert "10:00" in quiz_page and "0 used of 2, 2 left" in quiz_page
    assert "No attempts yet." in quiz_page

    attempt_id = await start_in_page(client, quiz["id"])
    here = f"/attempts/{attempt_id}"
    page = assert_page(await client.get(here))
    # Every question type, as controls; the server's deadline for the countdown.
    assert page.count('type="radio"') == 5 and page.count('type="checkbox"') == 3
    assert page.count('type="text"') == 1 and 'data-deadline="' in page
    remaining = int(re.search(r'data-remaining-seconds="(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert 590 <= remaining <= 600
    # No answer key and no explanation before the attempt is closed.
    for secret in ("Because of rule", "Correct answer", "is_correct", "Paris", "Explanation"):
        assert secret not in page, secret

    api_view = await open_attempt(client, student, attempt_id)
    questions, right = api_view["questions"], right_answers(api_view)
    # Without JavaScript: "Save answers" posts the form; the page shows what was kept.
    token = csrf_of(page)
    saved = await client.post(f"{here}/answers", data=form_of(right[:1], questions, token))
    assert saved.status_code == 303 and saved.headers["location"] == f"{here}?saved=1"
    page = assert_page(await client.get(saved.headers["location"]))
    assert "Your answers are saved." in page and page.count(" checked") == 1

    # The autosave fetch: JSON with the form's token in X-CSRF-Token; without it, refused.
    body = {"answers": right[1:]}
    refused = await client.post(f"{here}/answers", json=body)
    assert refused.status_code == 403 and "did not come from this site" in refused.text
    wrong = await client.post(f"{here}/answers", json=body, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    fetched = await client.post(f"{here}/answers", json=body, headers={"X-CSRF-Token": token})
    assert fetched.status_code == 200, fetched.text
    assert fetched.json() == {"state": "in_progress", "saved": 4}
    page = assert_page(await client.get(here))
    assert page.count(" checked") == 4 and 'value="Paris"' in page  # kept across a reload
    assert "Because of rule" not in page

    submitted = await client.post(f"{here}/submit", data=form_of(right, questions, token))
    assert submitted.status_code == 303 and submitted.headers["location"] == here
    result = assert_page(await client.get(here))
    assert "Score: <strong>100%</strong>" in result and "Passed" in result
    assert result.count("Correct answer") == 4 + 1  # the options' markers and the text key
    assert "Paris" in result and "Because of rule 3." in result and "Incorrect" not in result
    # The API agrees: one grading.
    closed = await open_attempt(client, student, attempt_id)
    assert closed["state"] == "submitted" and closed["score"] == 100.0 and closed["passed"]
    quiz_page = assert_page(await client.get(f"/quizzes/{quiz['id']}"))
    assert "1 used of 2, 1 left" in quiz_page and "Passed" in quiz_page
    # Submitting again is a message, not a second grading.
    again = await client.post(f"{here}/submit", data=form_of(right, questions, token))
    assert "The attempt is already submitted." in assert_page(again, 409)


async def test_a_wrong_answer_is_reviewed_as_such(client, login_as: LoginAs):
    student, _course, quiz = await quiz_learner(client, login_as, time_limit_seconds=None)
    attempt_id = await start_in_page(client, quiz["id"])
    page = assert_page(await client.get(f"/attempts/{attempt_id}"))
    assert "data-deadline" not in page  # no time limit, no countdown
    questions = (await open_attempt(client, student, attempt_id))["questions"]
    wrong = [{"question_id": questions[3]["id"], "text": "Lyon"}]
    response = await client.post(
        f"/attempts/{attempt_id}/submit", data=form_of(wrong, questions, csrf_of(page))
    )
    assert response.status_code == 303
    result = assert_page(await client.get(f"/attempts/{attempt_id}"))
    assert "Score: <strong>0%</strong>" in result and "Not passed" in result
    assert "Your answer: Lyon" in result and "Correct answer: <strong>Paris</strong>" in result


async def test_another_learners_attempt_is_not_there(client, login_as: LoginAs):
    _student, _course, quiz = await quiz_learner(client, login_as)
    attempt_id = await start_in_page(client, quiz["id"])
    here = f"/attempts/{attempt_id}"
    client.cookies.delete(security.SESSION_COOKIE)
    # Logged out: sent to log in, and back here after.
    anonymous = await client.get(here)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next=%2Fattempts%2F{attempt_id}"
    await logged_in(client, await login_as())
    assert_page(await client.get(here), 404)
    token = csrf_of(assert_page(await client.get("/")))
    saving = await client.post(f"{here}/answers", data={"csrf_token": token})
    assert_page(saving, 404)
    assert_page(await client.post(f"{here}/submit", data={"csrf_token": token}), 404)
    # Not enrolled: the quiz page says so, and starting is a message.
    page = assert_page(await client.get(f"/quizzes/{quiz['id']}"))
    assert "to take this quiz" in page and "Start attempt" not in page
    refused = await client.post(f"/quizzes/{quiz['id']}/attempts", data={"csrf_token": token})
    assert "Enrol in the course first." in assert_page(refused, 403)
    for path in ("/attempts/nonsense", f"/attempts/{uuid.uuid4()}", f"/quizzes/{uuid.uuid4()}"):
        assert_page(await client.get(path), 404)


async def test_a_late_save_is_refused_and_the_saved_answers_are_graded(
    client, login_as: LoginAs, session
):
    student, _course, quiz = await quiz_learner(client, login_as)
    attempt_id = await start_in_page(client, quiz["id"])
    here = f"/attempts/{attempt_id}"
    page = assert_page(await client.get(here))
    token = csrf_of(page)
    api_view = await open_attempt(client, student, attempt_id)
    questions, right = api_view["questions"], right_answers(api_view)
    saved = await client.post(f"{here}/answers", data=form_of(right[:3], questions, token))
    assert saved.status_code == 303
    await move_deadline(session, attempt_id, utc_now() - timedelta(minutes=1))

    late = await client.post(f"{here}/answers", data=form_of(right, questions, token))
    text = assert_page(late, 409)
    assert "deadline has passed" in text and f'href="{here}"' in text
    assert await attempt_state(session, attempt_id) == "overdue"
    # The result: graded on the three answers saved in time, not on the late fourth.
    result = assert_page(await client.get(here))
    assert "Score: <strong>75%</strong>" in result and "Time ran out" in result
    fetched = await client.post(
        f"{here}/answers", json={"answers": right}, headers={"X-CSRF-Token": token}
    )
    assert fetched.status_code == 409


async def test_unreadable_answers_are_a_message(client, login_as: LoginAs):
    _student, _course, quiz = await quiz_learner(client, login_as)
    attempt_id = await start_in_page(client, quiz["id"])
    here = f"/attempts/{attempt_id}"
    token = csrf_of(assert_page(await client.get(here)))
    for form in (
        {"csrf_token": token, "question": "not-an-id"},
        {"csrf_token": token, "question": str(uuid.uuid4())},
    ):
        response = await client.post(f"{here}/answers", data=form)
        assert response.status_code in (400, 422), response.text
        assert 'role="alert"' in assert_page(response, response.status_code)
    garbage = await client.post(
        f"{here}/answers",
        content=b"{not json",
        headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
    )
    assert garbage.status_code == 422


async def test_write_and_edit_a_review_on_the_course_page(client, login_as: LoginAs):
    student, course, _quiz = await quiz_learner(client, login_as)
    here = f"/courses/{course['slug']}"
    page = assert_page(await client.get(here))
    assert "No reviews yet." in page and "Review this course" in page
    token = csrf_of(page)
    missing = await client.post(f"{here}/review", data={"csrf_token": token, "body": "Nice"})
    assert "Choose a rating from 1 to 5 stars." in assert_page(missing, 422)
    for rating in ("0", "6", "five"):
        bad = await client.post(f"{here}/review", data={"csrf_token": token, "rating": rating})
        assert "Choose a rating" in assert_page(bad, 422)
    form = {"csrf_token": token, "rating": "5", "body": "Clear and practical."}
    posted = await client.post(f"{here}/review", data=form)
    assert posted.status_code == 303 and posted.headers["location"] == f"{here}?reviewed=1#reviews"
    page = assert_page(await client.get(f"{here}?reviewed=1"))
    assert "your review is saved" in page and "Clear and practical." in page
    assert "Student User" in page  # the author's name
    assert "5.0</strong> out of 5 from 1 review" in page
    assert 'max="1" value="1" aria-labelledby="stars-5"' in page
    assert "Edit your review" in page and 'value="5" required checked' in page

    edited = await client.post(
        f"{here}/review", data={**form, "rating": "3", "body": "Good, a bit slow."}
    )
    assert edited.status_code == 303
    page = assert_page(await client.get(here))
    assert "Good, a bit slow." in page and "Clear and practical." not in page
    assert 'max="1" value="1" aria-labelledby="stars-3"' in page
    assert 'max="1" value="0" aria-labelledby="stars-5"' in page
    reviews = await client.get(f"{API}/courses/{course['id']}/reviews")
    assert [(r["rating"], r["user_id"]) for r in reviews.json()["items"]] == [(3, student.id)]

    # Someone not enrolled sees the reviews but no form; posting anyway is a message.
    client.cookies.delete(security.SESSION_COOKIE)
    await logged_in(client, await login_as())
    page = assert_page(await client.get(here))
    assert "Good, a bit slow." in page and 'id="review-form"' not in page
    refused = await client.post(f"{here}/review", data={**form, "csrf_token": csrf_of(page)})
    assert "Enrol in the course first." in assert_page(refused, 403)
