"""The instructor's studio (issue 17, items 1 and 2) through httpx, on both databases: who may
open it (a student gets a 403 page, another instructor cannot reach my course), building a
course from its forms, reordering without script, publishing, a stale version shown as a
conflict with both values (and applied over theirs only when asked), and every form's bad
input answered with a message on the page, never a 500."""

from __future__ import annotations

import html
import re
import uuid

import httpx
import pytest

from learnhub.web import security
from tests.api.conftest import Account, LoginAs
from tests.api.test_courses import make_course
from tests.web.test_web_base import assert_page, csrf_of, logged_in

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

API = "/api/v1"
COURSE_FORM = {
    "title": "Charts from scratch",
    "description": "Plot data well.",
    "price_amount": "19.99",
    "price_currency": "EUR",
    "difficulty": "intermediate",
    "tags": "Charts, data",
    "objectives": "Pick a chart\nLabel its axes",
}


async def as_user(client: httpx.AsyncClient, account: Account) -> None:
    """This client becomes `account`'s browser (its own session cookie)."""
    client.cookies.delete(security.SESSION_COOKIE)
    await logged_in(client, account)


async def token(client: httpx.AsyncClient, path: str = "/studio") -> str:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


def version_in(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found, page[:500]
    return found.group(1)


def alerts(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'role="alert"[^>]*>\s*([^<]+)', page)]


def field_errors(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'class="field-error"[^>]*>([^<]+)', page)]


async def create_in_studio(client: httpx.AsyncClient, **fields: str) -> str:
    """A course made through the new-course form; its studio page's path."""
    response = await client.post(
        "/studio/new", data={"csrf_token": await token(client), **COURSE_FORM, **fields}
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.endswith("?notice=created")
    return location.split("?")[0]


async def test_a_logged_out_browser_is_sent_to_log_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/studio")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fstudio"


async def test_a_student_gets_a_403_page_not_just_a_hidden_link(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    student = await login_as("student")
    await as_user(client, student)
    catalog = assert_page(await client.get("/"))
    assert 'href="/studio"' not in catalog
    for path in ("/studio", "/studio/new"):
        page = assert_page(await client.get(path), 403)
        assert "The studio is for instructors" in page
    form = {"csrf_token": csrf_of(catalog), **COURSE_FORM}
    page = assert_page(await client.post("/studio/new", data=form), 403)
    mine = await client.get(f"{API}/courses", params={"mine": "true"}, headers=student.headers)
    assert mine.status_code == 403  # the API refuses the same caller


async def test_an_instructor_lists_own_courses_and_an_admin_sees_all(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    owner, other, admin = (
        await login_as("instructor"),
        await login_as("instructor"),
        await login_as("admin"),
    )
    draft = await make_course(client, owner, published=False, title="Owner's draft")
    public = await make_course(client, owner, title="Owner's published course")
    theirs = await make_course(client, other, published=False, title="Someone else's draft")

    await as_user(client, owner)
    page = assert_page(await client.get("/studio"))
    assert 'href="/studio"' in page  # the nav link
    assert "Owner&#39;s draft" in page and "Owner&#39;s published course" in page
    assert "Someone else&#39;s draft" not in page
    assert f"/studio/courses/{draft['id']}" in page and "Draft" in page and "Published" in page

    await as_user(client, admin)
    page = assert_page(await client.get("/studio"))
    for course in (draft, public, theirs):
        assert f"/studio/courses/{course['id']}" in page


async def test_another_instructor_cannot_reach_or_change_my_course(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    owner, other = await login_as("instructor"), await login_as("instructor")
    draft = await make_course(client, owner, published=False)
    public = await make_course(client, owner)
    await as_user(client, other)
    csrf = await token(client)
    # A draft of someone else does not exist for them; a published course is refused.
    for course, status in ((draft, 404), (public, 403)):
        path = f"/studio/courses/{course['id']}"
        assert_page(await client.get(path), status)
        form = {"csrf_token": csrf, **COURSE_FORM, "version": str(course["version"])}
        assert_page(await client.post(path, data=form), status)
        add = {"csrf_token": csrf, "title": "Intruder's section"}
        assert_page(await client.post(f"{path}/sections", data=add), status)
        publish = {"csrf_token": csrf, "version": str(course["version"])}
        assert_page(await client.post(f"{path}/archive", data=publish), status)
    detail = await client.get(f"{API}/courses/{public['id']}", headers=owner.headers)
    assert detail.json()["title"] == public["title"] and detail.json()["status"] == "published"
    assert all(s["title"] != "Intruder's section" for s in detail.json()["sections"])
    assert_page(await client.get("/studio/courses/not-an-id"), 404)
    assert_page(await client.get(f"/studio/videos/{uuid.uuid4()}"), 404)


async def test_an_instructor_builds_reorders_and_publishes_a_course(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    owner = await login_as("instructor")
    await as_user(client, owner)
    path = await create_in_studio(client)
    course_id = path.rsplit("/", 1)[1]
    page = assert_page(await client.get(path + "?notice=created"))
    assert "Course created" in page and "At least one video" in page
    csrf = csrf_of(page)

    publish = {"csrf_token": csrf, "version": version_in(page)}
    refused = assert_page(await client.post(f"{path}/publish", data=publish), 409)
    assert "A course needs at least one video to be published." in alerts(refused)

    for title in ("First", "Second"):
        added = await client.post(f"{path}/sections", data={"csrf_token": csrf, "title": title})
        assert added.status_code == 303, added.text
    detail = (await client.get(f"{API}/courses/{course_id}", headers=owner.headers)).json()
    first, second = detail["sections"]
    moved = await client.post(
        f"/studio/sections/{second['id']}/move", data={"csrf_token": csrf, "to": "up"}
    )
    assert moved.status_code == 303
    detail = (await client.get(f"{API}/courses/{course_id}", headers=owner.headers)).json()
    assert [s["title"] for s in detail["sections"]] == ["Second", "First"]
    ends = await client.post(
        f"/studio/sections/{second['id']}/move", data={"csrf_token": csrf, "to": "up"}
    )
    assert ends.status_code == 303  # the first stays first
    detail = (await client.get(f"{API}/courses/{course_id}", headers=owner.headers)).json()
    assert [s["title"] for s in detail["sections"]] == ["Second", "First"]

    video = {
        "csrf_token": csrf,
        "title": "Bars",
        "url": "https://media.example.com/bars.mp4",
        "duration_seconds": "95",
        "is_preview": "yes",
    }
    added = await client.post(f"/studio/sections/{first['id']}/videos", data=video)
    assert added.status_code == 303, added.text
    checklist = assert_page(await client.get(path)).split('class="checklist"')[1]
    assert re.search(r'class="met"><span aria-hidden="true">✓</span> At least one video', checklist)
    quiz = {
        "csrf_token": csrf,
        "slots": "4",
        "title": "Charts check",
        "pass_mark": "60",
        "q0_text": "Which shows parts of a whole?",
        "q0_type": "single_choice",
        "q0_opt0": "Pie",
        "q0_correct0": "yes",
        "q0_opt1": "Line",
        "q0_explanation": "A pie splits one total.",
        "q1_text": "Which are charts?",
        "q1_type": "multiple_choice",
        "q1_opt0": "Bar",
        "q1_correct0": "yes",
        "q1_opt1": "Line",
        "q1_correct1": "yes",
        "q1_opt2": "Table",
        "q2_text": "Axes need labels.",
        "q2_type": "true_false",
        "q2_opt0": "True",
        "q2_correct0": "yes",
        "q2_opt1": "False",
        "q3_text": "Name the chart of a trend over time.",
        "q3_type": "short_answer",
        "q3_answer": "line",
    }
    added = await client.post(f"/studio/sections/{first['id']}/quizzes", data=quiz)
    assert added.status_code == 303, added.text
    detail = (await client.get(f"{API}/courses/{course_id}", headers=owner.headers)).json()
    section = next(s for s in detail["sections"] if s["id"] == first["id"])
    assert [v["title"] for v in section["videos"]] == ["Bars"]
    assert section["videos"][0]["is_preview"] is True
    quiz_id = section["quizzes"][0]["id"]
    keys = (await client.get(f"{API}/quizzes/{quiz_id}", headers=owner.headers)).json()
    assert [q["type"] for q in keys["questions"]] == [
        "single_choice",
        "multiple_choice",
        "true_false",
        "short_answer",
    ]
    assert keys["questions"][0]["explanation"] == "A pie splits one total."
    assert keys["questions"][3]["answer_text"] == "line"

    quiz_page = assert_page(await client.get(f"/studio/quizzes/{quiz_id}"))
    assert "Which shows parts of a whole?" in quiz_page and "New question" in quiz_page

    page = assert_page(await client.get(path))
    assert f'href="/courses/{detail["slug"]}"' in page  # preview as a learner
    publish = {"csrf_token": csrf, "version": version_in(page)}
    done = await client.post(f"{path}/publish", data=publish)
    assert done.status_code == 303 and done.headers["location"].endswith("notice=published")
    detail = (await client.get(f"{API}/courses/{course_id}")).json()
    assert detail["status"] == "published" and detail["price"] == {
        "amount": "19.99",
        "currency": "EUR",
    }
    assert detail["tags"] == ["charts", "data"]
    assert detail["objectives"] == ["Pick a chart", "Label its axes"]


async def test_a_stale_course_form_shows_both_values_and_applies_mine_only_when_asked(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    owner = await login_as("instructor")
    course = await make_course(client, owner, published=False, title="Original title")
    path = f"/studio/courses/{course['id']}"
    await as_user(client, owner)
    page = assert_page(await client.get(path))
    loaded_version = version_in(page)

    # Someone else saves first (through the API, with the version they read).
    theirs = await client.patch(
        f"{API}/courses/{course['id']}",
        json={"title": "Their title", "version": int(loaded_version)},
        headers=owner.headers,
    )
    assert theirs.status_code == 200, theirs.text

    mine = {**COURSE_FORM, "title": "My title", "version": loaded_version}
    conflict = assert_page(await client.post(path, data={"csrf_token": csrf_of(page), **mine}), 409)
    assert "Someone else saved first" in conflict
    row = re.search(r"<th scope=\"row\">Title.*?</tr>", conflict, re.S)
    assert row and "Their title" in row.group(0) and "My title" in row.group(0)
    assert f'href="{path}"' in conflict  # reload their version
    stored = (await client.get(f"{API}/courses/{course['id']}", headers=owner.headers)).json()
    assert stored["title"] == "Their title"  # nothing of mine was written

    # "Apply mine over theirs" resubmits my values with the version they saved.
    assert version_in(conflict) == str(stored["version"])
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', conflict))
    hidden = {name: html.unescape(value) for name, value in hidden.items()}
    assert hidden["title"] == "My title" and hidden["objectives"] == COURSE_FORM["objectives"]
    applied = await client.post(path, data=hidden)
    assert applied.status_code == 303, applied.text
    stored = (await client.get(f"{API}/courses/{course['id']}", headers=owner.headers)).json()
    assert stored["title"] == "My title"
    assert stored["objectives"] == ["Pick a chart", "Label its axes"]


async def section_changed_by_someone_else(
    client: httpx.AsyncClient, login_as: LoginAs
) -> tuple[Account, str, str]:
    """An instructor's browser (logged in, with its CSRF token) holds version 1 of a section
    "Part" that the API has since renamed "Their part" (version 2)."""
    owner = await login_as("instructor")
    course = await make_course(client, owner, published=False)
    await as_user(client, owner)
    csrf = await token(client)
    section = await client.post(
        f"{API}/courses/{course['id']}/sections", json={"title": "Part"}, headers=owner.headers
    )
    section_id = section.json()["id"]
    await client.patch(
        f"{API}/sections/{section_id}", json={"title": "Their part"}, headers=owner.headers
    )
    return owner, csrf, section_id


async def test_stale_section_video_and_quiz_forms_show_a_conflict(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    owner, csrf, section_id = await section_changed_by_someone_else(client, login_as)
    form = {"csrf_token": csrf, "title": "My part", "version": "1"}
    page = assert_page(await client.post(f"/studio/sections/{section_id}", data=form), 409)
    assert "Their part" in page and "My part" in page

    video = await client.post(
        f"{API}/sections/{section_id}/videos",
        json={"title": "Clip", "url": "https://media.example.com/c.mp4", "duration_seconds": 30},
        headers=owner.headers,
    )
    video_id = video.json()["id"]
    edit = assert_page(await client.get(f"/studio/videos/{video_id}"))
    await client.patch(
        f"{API}/videos/{video_id}", json={"duration_seconds": 45}, headers=owner.headers
    )
    form = {
        "csrf_token": csrf,
        "title": "Clip",
        "url": "https://media.example.com/c.mp4",
        "duration_seconds": "60",
        "version": version_in(edit),
    }
    page = assert_page(await client.post(f"/studio/videos/{video_id}", data=form), 409)
    row = re.search(r"Duration \(seconds\).*?</tr>", page, re.S)
    assert row and ">45<" in row.group(0) and ">60<" in row.group(0)

    quiz = await client.post(
        f"{API}/sections/{section_id}/quizzes", json={"title": "Check"}, headers=owner.headers
    )
    quiz_id = quiz.json()["id"]
    edit = assert_page(await client.get(f"/studio/quizzes/{quiz_id}"))
    await client.patch(f"{API}/quizzes/{quiz_id}", json={"pass_mark": 90}, headers=owner.headers)
    form = {"csrf_token": csrf, "slots": "1", "title": "Check", "pass_mark": "50"}
    page = assert_page(
        await client.post(f"/studio/quizzes/{quiz_id}", data={**form, "version": version_in(edit)}),
        409,
    )
    row = re.search(r"Pass mark.*?</tr>", page, re.S)
    assert row and ">90<" in row.group(0) and ">50<" in row.group(0)


async def test_a_stale_delete_keeps_the_row_and_says_what_to_do(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    owner, csrf, section_id = await section_changed_by_someone_else(client, login_as)
    page = assert_page(
        await client.post(
            f"/studio/sections/{section_id}/delete", data={"csrf_token": csrf, "version": "1"}
        ),
        409,
    )
    assert any(
        "Someone else changed this section after you opened the page" in alert
        for alert in alerts(page)
    ), alerts(page)
    assert "expected version" not in page
    kept = await client.get(f"{API}/sections/{section_id}", headers=owner.headers)
    assert kept.status_code == 200 and kept.json()["title"] == "Their part"


async def test_bad_input_on_every_form_is_a_message_not_a_500(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    owner = await login_as("instructor")
    await as_user(client, owner)
    csrf = await token(client)

    page = assert_page(
        await client.post(
            "/studio/new", data={"csrf_token": csrf, **COURSE_FORM, "price_amount": "ten"}
        ),
        422,
    )
    assert any("Price: a number such as 19.99" in e for e in field_errors(page))
    assert 'value="ten"' in page  # what was typed stays
    page = assert_page(
        await client.post(
            "/studio/new", data={"csrf_token": csrf, **COURSE_FORM, "price_currency": "ZZZ"}
        ),
        422,
    )
    assert alerts(page)  # an unknown currency: the service's own message
    page = assert_page(
        await client.post("/studio/new", data={"csrf_token": csrf, **COURSE_FORM, "title": " "}),
        422,
    )
    assert any(e.startswith("Title:") for e in field_errors(page))

    path = await create_in_studio(client)
    page = assert_page(await client.get(path))
    version = version_in(page)
    bad_course = {"csrf_token": csrf, **COURSE_FORM, "difficulty": "wizard", "version": version}
    page = assert_page(await client.post(path, data=bad_course), 422)
    assert any(e.startswith("Difficulty:") for e in field_errors(page))
    no_version = {"csrf_token": csrf, **COURSE_FORM}
    page = assert_page(await client.post(path, data=no_version), 422)
    assert any("no valid version" in a for a in alerts(page))

    page = assert_page(await client.post(f"{path}/sections", data={"csrf_token": csrf}), 422)
    assert any("Section title" in e for e in field_errors(page))
    await client.post(f"{path}/sections", data={"csrf_token": csrf, "title": "Only"})
    course_id = path.rsplit("/", 1)[1]
    detail = (await client.get(f"{API}/courses/{course_id}", headers=owner.headers)).json()
    section_id = detail["sections"][0]["id"]

    bad_video = {"csrf_token": csrf, "title": "V", "url": "ftp://x", "duration_seconds": "-4"}
    page = assert_page(
        await client.post(f"/studio/sections/{section_id}/videos", data=bad_video), 422
    )
    assert any("http:// or https://" in a for a in alerts(page))

    lonely = {"csrf_token": csrf, "slots": "1", "title": "Q", "q0_text": "Pick one"}
    lonely |= {"q0_type": "single_choice", "q0_opt0": "A", "q0_opt1": "B"}  # none correct
    page = assert_page(
        await client.post(f"/studio/sections/{section_id}/quizzes", data=lonely), 422
    )
    assert any("exactly one correct" in a for a in alerts(page))
    assert 'value="A"' in page  # the typed options stay
    wrong_type = {"csrf_token": csrf, "slots": "1", "title": "Q", "q0_text": "x"}
    wrong_type |= {"q0_type": "essay", "pass_mark": "200"}
    page = assert_page(
        await client.post(f"/studio/sections/{section_id}/quizzes", data=wrong_type), 422
    )
    assert "Please correct these" in page

    move = {"csrf_token": csrf, "to": "sideways"}
    page = assert_page(await client.post(f"/studio/sections/{section_id}/move", data=move), 422)
    assert any("up or down" in a for a in alerts(page))
