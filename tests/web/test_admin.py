"""The admin console (issue 17, item 4) through httpx, on both databases: students and
instructors get the 403 page on every admin page and action (and change nothing); an
admin's actions go through the services (audited, versioned), a stale or refused one is a
message on the page; the erasure confirmation says what happens; the audit trail's filters,
request view and diff; deleted rows restored after a preview of their delete batch."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from learnhub.services.user import ERASURE_STEPS
from tests.api.conftest import Account, LoginAs
from tests.api.test_courses import add_quiz, add_section, add_video, make_course
from tests.web.test_web_base import assert_page, csrf_of, logged_in

pytestmark = pytest.mark.usefixtures("fast_password_hashing")
API = "/api/v1"
ALERT = re.compile(r'role="alert">([^<]*)<')
VERSION = re.compile(r'name="version" value="(\d+)"')


def alert_of(html: str) -> str:
    match = ALERT.search(html)
    assert match, html[:2000]
    return match.group(1)


async def browser_of(client: httpx.AsyncClient, account: Account) -> None:
    """The client becomes `account`'s browser (cookies of any earlier one dropped)."""
    client.cookies.clear()
    await logged_in(client, account)


async def form_of(client: httpx.AsyncClient, path: str) -> tuple[str, str | None]:
    """A page's CSRF token and the version its forms carry."""
    html = assert_page(await client.get(path))
    version = VERSION.search(html)
    return csrf_of(html), version.group(1) if version else None


async def account_state(client: httpx.AsyncClient, admin: Account, user_id: str) -> Any:
    response = await client.get(
        f"{API}/users/{user_id}", params={"include_deleted": "true"}, headers=admin.headers
    )
    return response.json() if response.status_code == 200 else response.status_code


async def test_students_and_instructors_get_403_on_every_admin_page_and_action(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    admin = await login_as("admin")
    target = await login_as("student")
    owner = await login_as("instructor")
    course = await make_course(client, owner)
    gone = await make_course(client, owner)
    deleted = await client.delete(f"{API}/courses/{gone['id']}", headers=owner.headers)
    assert deleted.status_code == 204, deleted.text
    pages = [
        "/admin",
        "/admin/users",
        "/admin/users?status=deleted",
        f"/admin/users/{target.id}",
        f"/admin/users/{target.id}/restore",
        f"/admin/users/{target.id}/erase",
        "/admin/audit",
        f"/admin/audit?entity_type=user&entity_id={target.id}",
        "/admin/deleted",
        f"/admin/courses/{course['id']}/delete",
        f"/admin/courses/{gone['id']}/restore",
    ]
    actions = [
        (f"/admin/users/{target.id}/roles", {"roles": "admin", "version": "1"}),
        (f"/admin/users/{target.id}/status", {"status": "suspended", "version": "1"}),
        (f"/admin/users/{target.id}/unlock", {}),
        (f"/admin/users/{target.id}/delete", {"version": "1"}),
        (f"/admin/users/{target.id}/restore", {}),
        (f"/admin/users/{target.id}/erase", {"confirm_email": target.email}),
        (f"/admin/courses/{course['id']}/delete", {"version": str(course["version"])}),
        (f"/admin/courses/{gone['id']}/restore", {}),
    ]
    before = await account_state(client, admin, target.id)
    for role in ("student", "instructor"):
        await browser_of(client, await login_as(role))
        for path in pages:
            html = assert_page(await client.get(path), 403)
            assert "Log out" in html and 'href="/admin"' not in html, path
        token = csrf_of(assert_page(await client.get("/")))
        for path, form in actions:
            response = await client.post(path, data={"csrf_token": token, **form})
            assert_page(response, 403)
    assert await account_state(client, admin, target.id) == before
    live = await client.get(f"{API}/courses/{course['id']}")
    assert live.status_code == 200
    still_gone = await client.get(f"{API}/courses/{gone['id']}", headers=admin.headers)
    assert still_gone.status_code == 404
    # The admin sees the console's link in the navigation.
    await browser_of(client, admin)
    assert 'href="/admin"' in assert_page(await client.get("/"))


async def test_logged_out_the_console_goes_to_the_login_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin/users?role=student")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fadmin%2Fusers%3Frole%3Dstudent"


async def test_users_search_filters_and_pages(client: httpx.AsyncClient, login_as: LoginAs):
    admin = await login_as("admin")
    tag = uuid.uuid4().hex[:8]
    students = [await login_as("student", f"s{i}-{tag}@example.com") for i in range(3)]
    teacher = await login_as("instructor", f"t-{tag}@example.com")
    await browser_of(client, admin)
    html = assert_page(await client.get(f"/admin/users?q={tag}&role=instructor"))
    assert teacher.email in html and students[0].email not in html
    token, version = await form_of(client, f"/admin/users/{students[0].id}")
    response = await client.post(
        f"/admin/users/{students[0].id}/delete", data={"csrf_token": token, "version": version}
    )
    assert response.status_code == 303
    html = assert_page(await client.get(f"/admin/users?q={tag}&status=deleted"))
    assert students[0].email in html and students[1].email not in html
    html = assert_page(await client.get(f"/admin/users?q={tag}&status=active"))
    assert students[0].email not in html and students[1].email in html
    # Keyset pages of one account each: every account once, then no "load more".
    client_pages = []
    path: str | None = f"/admin/users?q={tag}&sort=email"
    for _ in range(5):
        assert path is not None
        html = assert_page(await client.get(path.replace("&amp;", "&")))
        client_pages.append(re.findall(rf"[st][0-9]?-?{tag}@example.com", html))
        more = re.search(r'id="load-more" href="([^"]+)"', html)
        path = more.group(1) if more else None
        if path is None:
            break
    seen = [email for page in client_pages for email in page]
    assert sorted(seen) == sorted([students[1].email, students[2].email, teacher.email])
    # A made-up cursor is a message, not a 500.
    html = assert_page(await client.get("/admin/users?cursor=not-a-cursor"), 400)
    assert alert_of(html)


async def test_user_actions_and_their_refusals(client: httpx.AsyncClient, login_as: LoginAs):
    admin = await login_as("admin")
    student = await login_as("student")
    await browser_of(client, admin)
    page = f"/admin/users/{student.id}"
    token, version = await form_of(client, page)
    form = {"csrf_token": token, "roles": ["instructor", "student"], "version": version}
    response = await client.post(f"{page}/roles", data=form)
    assert response.headers["location"] == f"{page}?done=roles"
    state = await account_state(client, admin, student.id)
    assert state["roles"] == ["instructor", "student"]
    # The same form again carries the version it was loaded with: refused, nothing lost.
    stale = await client.post(f"{page}/status", data={**form, "status": "suspended"})
    assert "Someone else changed this user after you opened the page" in alert_of(
        assert_page(stale, 409)
    )
    assert (await account_state(client, admin, student.id))["status"] == "active"
    token, version = await form_of(client, page)
    suspend = {"csrf_token": token, "status": "suspended", "version": version}
    assert (await client.post(f"{page}/status", data=suspend)).status_code == 303
    html = assert_page(await client.get(f"{page}?done=suspended"))
    assert "Account suspended" in html and 'value="active"' in html
    # An admin cannot delete or suspend themselves: the service's reason on the page.
    own = f"/admin/users/{admin.id}"
    token, version = await form_of(client, own)
    refused = await client.post(f"{own}/delete", data={"csrf_token": token, "version": version})
    assert alert_of(assert_page(refused, 409)) == "Administrators cannot delete themselves."
    assert (await account_state(client, admin, admin.id))["deleted_at"] is None
    # A version that is no number, an id that is none: messages, never a 500.
    bad = await client.post(f"{page}/delete", data={"csrf_token": token, "version": "x"})
    assert "reload the page" in alert_of(assert_page(bad, 422))
    assert_page(await client.get("/admin/users/not-an-id"), 404)
    assert (await client.post(f"{page}/unlock", data={"csrf_token": token})).status_code == 303
    # Delete, preview the restore, restore: the account comes back.
    token, version = await form_of(client, page)
    await client.post(f"{page}/delete", data={"csrf_token": token, "version": version})
    html = assert_page(await client.get(f"{page}/restore"))
    assert "delete batch" in html and "user session" in html  # its ended sessions come back
    restored = await client.post(f"{page}/restore", data={"csrf_token": token})
    assert restored.headers["location"] == f"{page}?done=restored"
    assert (await account_state(client, admin, student.id))["deleted_at"] is None


async def test_erasure_says_what_happens_and_leaves_no_personal_data_in_the_audit_view(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    admin = await login_as("admin")
    learner = await login_as("student")
    await browser_of(client, admin)
    html = assert_page(await client.get(f"/admin/users/{learner.id}/erase"))
    for step in ERASURE_STEPS:
        assert step.replace("'", "&#39;") in html
    assert "cannot be undone" in html and learner.email in html
    token = csrf_of(html)
    history = f"/admin/audit?entity_type=user&entity_id={learner.id}"
    assert learner.email in assert_page(await client.get(history))
    wrong = await client.post(
        f"/admin/users/{learner.id}/erase",
        data={"csrf_token": token, "confirm_email": "someone@example.com"},
    )
    assert "type the account" in alert_of(assert_page(wrong, 422)).lower()
    assert await account_state(client, admin, learner.id) != 404
    done = await client.post(
        f"/admin/users/{learner.id}/erase",
        data={"csrf_token": token, "confirm_email": learner.email},
    )
    assert done.headers["location"] == "/admin/users?erased=1"
    assert await account_state(client, admin, learner.id) == 404
    html = assert_page(await client.get(history))
    assert "[erased]" in html and learner.email not in html
    assert learner.email not in assert_page(await client.get("/admin/audit"))


async def test_audit_filters_request_view_and_bad_filters(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    admin = await login_as("admin")
    student = await login_as("student")
    await browser_of(client, admin)
    page = f"/admin/users/{student.id}"
    token, version = await form_of(client, page)
    request_id = f"admin-test-{uuid.uuid4().hex}"
    form = {"csrf_token": token, "roles": ["instructor", "student"], "version": version}
    await client.post(f"{page}/roles", data=form, headers={"X-Request-ID": request_id})
    html = assert_page(await client.get(f"/admin/audit?request_id={request_id}"))
    entries = html.count('class="audit-entry"')
    assert entries >= 1 and html.count(f"request_id={request_id}") == entries
    # Side by side: the roles before | after.
    diff = re.search(
        r'<th scope="row">roles</th>\s*<td class="before">([^<]*)</td>\s*'
        r'<td class="after">([^<]*)</td>',
        html,
    )
    assert diff, html
    role_ids = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}")  # roles are audited by their ids
    assert len(role_ids.findall(diff.group(1))) == 1 and len(role_ids.findall(diff.group(2))) == 2
    html = assert_page(await client.get(f"/admin/audit?actor_id={admin.id}&action=update"))
    assert request_id in html
    assert_page(await client.get("/admin/audit?action=create&occurred_after=2000-01-01T00:00"))
    for query, status in [
        ("entity_id=nope", 422),
        ("actor_id=123", 422),
        ("occurred_after=yesterday", 422),
        ("occurred_after=2030-01-01T00:00&occurred_before=2020-01-01T00:00", 422),
        ("entity_type=Course;drop", 422),
        ("cursor=broken", 400),
    ]:
        response = await client.get(f"/admin/audit?{query}")
        assert alert_of(assert_page(response, response.status_code)), query
        assert response.status_code in (status, 400, 422), (query, response.status_code)


async def test_a_deleted_course_is_restored_with_its_batch_after_a_preview(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    admin = await login_as("admin")
    owner = await login_as("instructor")
    course = await make_course(client, owner, published=False)
    section = await add_section(client, owner, course["id"])
    video = await add_video(client, owner, section["id"])
    quiz = await add_quiz(client, owner, section["id"])
    await browser_of(client, admin)
    html = assert_page(await client.get(f"/admin/courses/{course['id']}/delete"))
    assert section["title"] in html and "1 video, 1 quiz" in html
    token, version = await form_of(client, f"/admin/courses/{course['id']}/delete")
    stale = await client.post(
        f"/admin/courses/{course['id']}/delete", data={"csrf_token": token, "version": "999"}
    )
    assert "Someone else changed this course after you opened the page" in alert_of(
        assert_page(stale, 409)
    )
    done = await client.post(
        f"/admin/courses/{course['id']}/delete", data={"csrf_token": token, "version": version}
    )
    assert done.headers["location"] == "/admin/deleted?course_deleted=1"
    html = assert_page(await client.get("/admin/deleted"))
    assert course["title"] in html
    preview = assert_page(await client.get(f"/admin/courses/{course['id']}/restore"))
    batch = re.search(r'id="batch-id">([0-9a-f-]{36})<', preview)
    assert batch
    for row_id in (section["id"], video["id"], quiz["id"]):
        assert row_id in preview
    restored = await client.post(
        f"/admin/courses/{course['id']}/restore", data={"csrf_token": token}
    )
    location = restored.headers["location"]
    assert location.startswith("/admin/audit?entity_type=course")
    html = assert_page(await client.get(location))
    assert "Restored" in html and "soft delete" in html and "restore" in html
    assert html.count(batch.group(1)) >= 2  # the delete set it, the restore cleared it
    back = await client.get(f"{API}/courses/{course['id']}", headers=owner.headers)
    assert back.status_code == 200 and back.json()["sections"][0]["videos"]
    # Restoring again: nothing is deleted any more, the preview says so.
    again = assert_page(await client.get(f"/admin/courses/{course['id']}/restore"))
    assert "nothing to restore" in again


async def test_a_refusal_page_says_what_kind_it_is_and_what_is_missing(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    """A 403 page is titled as a refusal, not as a failure, and names the missing permission
    in a sentence."""
    await browser_of(client, await login_as("student"))
    response = await client.get("/admin")
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in response.text
    assert "<title>Not allowed" in response.text
    assert "it needs users:manage" in alert_of(response.text)
