"""Accounts people manage (issue 15 item 4): changing one's password, resetting a forgotten
one through an e-mailed one-time token (log transport and a real local SMTP server), and
editing one's display name, on both databases."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import timedelta
from email import message_from_string
from email.policy import default
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.testing import capture_logs

from learnhub.db.engine import create_session_factory
from learnhub.db.session import AUDITED_BULK
from learnhub.domain.clock import utc_now
from learnhub.models import AuditLog, OutboxMessage
from learnhub.models.user import PasswordResetToken, User, UserSession
from learnhub.services.tokens import TokenSettings, reset_token
from tests.api.conftest import (
    PASSWORD,
    TEST_SECRET,
    Account,
    LoginAs,
    assert_problem,
    create_account,
    login,
)
from tests.support.live_server import free_port

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

ME = "/api/v1/users/me"
CHANGE = "/api/v1/users/me/password"
RESET = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
NEW = "a brand new passphrase"
TOKEN_IN_BODY = re.compile(r"token=([A-Za-z0-9_-]{43})")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # The log transport logs at info; the tests' default level (warning) would drop it.
    return {"log_level": "info"}


async def sessions_of(session: AsyncSession, user_id: str) -> list[UserSession]:
    result = await session.execute(
        select(UserSession)
        .where(UserSession.user_id == uuid.UUID(user_id))
        .order_by(UserSession.created_at)
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())


async def entries(session: AsyncSession, entity_type: str, entity_id: Any) -> list[AuditLog]:
    result = await session.execute(
        select(AuditLog)
        .where(AuditLog.entity_type == entity_type, AuditLog.entity_id == uuid.UUID(str(entity_id)))
        .order_by(AuditLog.occurred_at)
    )
    return list(result.scalars())


async def tokens_of(session: AsyncSession, user_id: str) -> list[PasswordResetToken]:
    result = await session.execute(
        select(PasswordResetToken)
        .where(PasswordResetToken.user_id == uuid.UUID(user_id))
        .order_by(PasswordResetToken.created_at)
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())


async def request_token(client: httpx.AsyncClient, email: str) -> str:
    """Ask for a reset and read the token from the mail the log transport wrote."""
    with capture_logs() as logs:
        response = await client.post(RESET, json={"email": email})
    assert response.status_code == 202, response.text
    mails = [e for e in logs if e["event"] == "mail_logged"]
    assert len(mails) == 1, logs
    assert mails[0]["mail_to"] == email
    match = TOKEN_IN_BODY.search(mails[0]["body"])
    assert match, mails[0]["body"]
    return match.group(1)


# ---- change password ---------------------------------------------------------------------


async def test_change_password_keeps_this_session_and_ends_the_others(
    client: httpx.AsyncClient, login_as: LoginAs, session: AsyncSession
) -> None:
    me = await login_as("student")
    other = await login(client, me.email)  # a second device
    body = {"current_password": PASSWORD, "new_password": NEW}
    assert (await client.post(CHANGE, json=body, headers=me.headers)).status_code == 204

    # This session goes on, its refresh token too; the other one is over for good.
    assert (await client.get(ME, headers=me.headers)).status_code == 200
    assert_problem(await client.get(ME, headers=other.headers), 401, "unauthorized")
    refused = await client.post(REFRESH, json={"refresh_token": other.tokens["refresh_token"]})
    assert_problem(refused, 401, "unauthorized")
    kept = await client.post(REFRESH, json={"refresh_token": me.tokens["refresh_token"]})
    assert kept.status_code == 200, kept.text

    old = await client.post(LOGIN, json={"email": me.email, "password": PASSWORD})
    assert_problem(old, 401, "unauthorized")
    await login(client, me.email, NEW)

    rows = {str(s.id): s for s in await sessions_of(session, me.id)}
    revoked = [s for s in rows.values() if s.revoked_at is not None]
    assert [s.revoked_reason for s in revoked] == ["password_changed"]
    # Audited, with no password material: the hash is redacted in the trail.
    changes = [e.changes for e in await entries(session, "user", me.id) if e.action == "update"]
    [change] = [c for c in changes if "password_hash" in c]
    assert PASSWORD not in str(change) and NEW not in str(change)
    assert "argon2" not in str(change)
    [event] = (
        await session.execute(
            select(OutboxMessage).where(
                OutboxMessage.event_type == "PasswordChanged",
                OutboxMessage.aggregate_id == uuid.UUID(me.id),
            )
        )
    ).scalars()
    assert event.payload["reason"] == "password_changed"


async def test_change_password_refuses_a_wrong_current_password_and_throttles(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    me = await login_as("student")
    wrong = {"current_password": "not my password", "new_password": NEW}
    for _ in range(5):
        assert_problem(
            await client.post(CHANGE, json=wrong, headers=me.headers), 403, "wrong_password"
        )
    right = {"current_password": PASSWORD, "new_password": NEW}
    throttled = await client.post(CHANGE, json=right, headers=me.headers)
    assert_problem(throttled, 429, "too_many_requests")
    assert throttled.headers.get("retry-after")
    # Nothing changed meanwhile.
    assert (await client.get(ME, headers=me.headers)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"current_password": PASSWORD, "new_password": "short"},
        {"current_password": PASSWORD, "new_password": PASSWORD},
        {"current_password": PASSWORD},
        {"current_password": PASSWORD, "new_password": NEW, "extra": 1},
    ],
)
async def test_change_password_applies_the_password_policy(
    client: httpx.AsyncClient, login_as: LoginAs, body: dict[str, Any]
) -> None:
    me = await login_as("student")
    response = await client.post(CHANGE, json=body, headers=me.headers)
    assert response.status_code == 422, response.text
    await login(client, me.email)  # the password is unchanged


async def test_change_password_needs_a_caller(client: httpx.AsyncClient) -> None:
    body = {"current_password": PASSWORD, "new_password": NEW}
    assert_problem(await client.post(CHANGE, json=body), 401, "unauthorized")


# ---- reset -------------------------------------------------------------------------------


async def test_reset_answers_alike_for_unknown_addresses(
    client: httpx.AsyncClient, login_as: LoginAs, session: AsyncSession
) -> None:
    me = await login_as("student")
    with capture_logs() as logs:
        known = await client.post(RESET, json={"email": me.email})
        unknown = await client.post(RESET, json={"email": "nobody-here@example.com"})
        malformed = await client.post(RESET, json={"email": "not an address"})
    assert known.status_code == unknown.status_code == malformed.status_code == 202
    assert known.json() == unknown.json() == malformed.json() == {"status": "accepted"}
    assert [e["mail_to"] for e in logs if e["event"] == "mail_logged"] == [me.email], logs
    [token] = await tokens_of(session, me.id)
    assert len(token.token_hash) == 64 and token.ended_at is None
    expires_in = token.expires_at - token.created_at
    assert timedelta(minutes=29) < expires_in <= timedelta(minutes=30, seconds=1)


async def test_reset_sets_the_password_uses_the_token_and_ends_every_session(
    client: httpx.AsyncClient, login_as: LoginAs, session: AsyncSession
) -> None:
    me = await login_as("student")
    other = await login(client, me.email)
    token = await request_token(client, me.email)
    assert token not in str([e.changes for e in await entries(session, "user", me.id)])

    done = await client.post(CONFIRM, json={"token": token, "new_password": NEW})
    assert done.status_code == 204, done.text
    for account in (me, other):
        assert_problem(await client.get(ME, headers=account.headers), 401, "unauthorized")
    assert {s.revoked_reason for s in await sessions_of(session, me.id)} == {"password_reset"}

    fresh = await login(client, me.email, NEW)
    export = (await client.get(f"{ME}/export", headers=fresh.headers)).json()
    assert [r["ended_reason"] for r in export["password_resets"]] == ["used"]
    assert token not in str(export)

    again = await client.post(CONFIRM, json={"token": token, "new_password": "yet another one"})
    assert_problem(again, 400, "reset_token_invalid")
    [row] = await tokens_of(session, me.id)
    assert row.ended_reason == "used"
    ended = [e.changes for e in await entries(session, "password_reset_token", row.id)]
    assert any(c.get("ended_reason") == [None, "used"] for c in ended), ended
    assert token not in str(ended)


FLOOR_MS = 300


@pytest.mark.parametrize(
    "settings_overrides", [{"log_level": "info", "password_reset_min_response_ms": FLOOR_MS}]
)
async def test_known_and_unknown_addresses_answer_after_the_same_floor(
    client: httpx.AsyncClient, login_as: LoginAs, session: AsyncSession
) -> None:
    me = await login_as("student")
    timings = {}
    for label, email in (("known", me.email), ("unknown", "nobody-at-all@example.com")):
        started = time.perf_counter()
        with capture_logs() as logs:
            response = await client.post(RESET, json={"email": email})
        timings[label] = time.perf_counter() - started
        assert response.status_code == 202
        # The mail went out within the request, as the in-process handler sends it.
        assert bool([e for e in logs if e["event"] == "mail_logged"]) == (label == "known")
    assert min(timings.values()) >= FLOOR_MS / 1000, timings
    assert len(await tokens_of(session, me.id)) == 1


async def test_a_new_request_supersedes_the_older_token(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    me = await login_as("student")
    first = await request_token(client, me.email)
    second = await request_token(client, me.email)
    assert first != second
    refused = await client.post(CONFIRM, json={"token": first, "new_password": NEW})
    assert_problem(refused, 400, "reset_token_invalid")
    done = await client.post(CONFIRM, json={"token": second, "new_password": NEW})
    assert done.status_code == 204, done.text


async def test_expired_unknown_and_malformed_tokens_are_refused(
    client: httpx.AsyncClient, login_as: LoginAs, session: AsyncSession
) -> None:
    me = await login_as("student")
    token = await request_token(client, me.email)
    await session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == uuid.UUID(me.id))
        .values(expires_at=utc_now() - timedelta(seconds=1))
        .execution_options(**{AUDITED_BULK: True})  # the test's own hand, not the app's
    )
    await session.commit()
    for bad in (token, "x" * 43, "", "short", "y" * 10_000):
        response = await client.post(CONFIRM, json={"token": bad, "new_password": NEW})
        assert_problem(response, 400, "reset_token_invalid")
    await login(client, me.email)  # unchanged


async def test_a_weak_new_password_does_not_use_the_token_up(
    client: httpx.AsyncClient, login_as: LoginAs
) -> None:
    me = await login_as("student")
    token = await request_token(client, me.email)
    weak = await client.post(CONFIRM, json={"token": token, "new_password": "short"})
    assert weak.status_code == 422, weak.text
    assert (
        await client.post(CONFIRM, json={"token": token, "new_password": NEW})
    ).status_code == 204


async def test_requests_beyond_the_limit_send_nothing(
    client: httpx.AsyncClient, login_as: LoginAs, session: AsyncSession
) -> None:
    me = await login_as("student")
    with capture_logs() as logs:
        answers = [
            (await client.post(RESET, json={"email": me.email})).status_code for _ in range(5)
        ]
    assert answers == [202] * 5
    assert len([e for e in logs if e["event"] == "mail_logged"]) == 3
    assert len(await tokens_of(session, me.id)) == 3


async def test_suspended_accounts_get_no_token(
    client: httpx.AsyncClient, login_as: LoginAs, session: AsyncSession
) -> None:
    admin, student = await login_as("admin"), await login_as("student")
    token = await request_token(client, student.email)
    suspended = await client.patch(
        f"/api/v1/users/{student.id}", headers=admin.headers, json={"status": "suspended"}
    )
    assert suspended.status_code == 200, suspended.text
    with capture_logs() as logs:
        assert (await client.post(RESET, json={"email": student.email})).status_code == 202
    assert not [e for e in logs if e["event"] == "mail_logged"]
    refused = await client.post(CONFIRM, json={"token": token, "new_password": NEW})
    assert_problem(refused, 400, "reset_token_invalid")


# ---- SMTP: a real local server -------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], str]] = []

    async def handle_DATA(self, server: Any, smtp_session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode())
        )
        return "250 Message accepted for delivery"


SMTP_PORT = free_port()


@pytest.fixture
def inbox() -> Any:
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.mark.parametrize(
    "settings_overrides",
    [
        {
            "log_level": "info",
            "mail_transport": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": SMTP_PORT,
            "mail_from": "LearnHub <reset@learnhub.test>",
            "password_reset_url": "https://learnhub.test/reset",
        }
    ],
)
async def test_reset_mail_goes_through_smtp(
    client: httpx.AsyncClient, login_as: LoginAs, inbox: Inbox
) -> None:
    me = await login_as("student")
    assert (await client.post(RESET, json={"email": me.email})).status_code == 202
    [(sender, recipients, content)] = inbox.messages
    assert sender == "reset@learnhub.test" and recipients == [me.email]
    mail = message_from_string(content, policy=default)
    assert mail["Subject"] == "Reset your LearnHub password"
    assert mail["From"] == "LearnHub <reset@learnhub.test>" and mail["To"] == me.email
    body = mail.get_content()  # type: ignore[attr-defined]
    match = re.search(r"https://learnhub\.test/reset\?token=([A-Za-z0-9_-]{43})", body)
    assert match, body
    done = await client.post(CONFIRM, json={"token": match.group(1), "new_password": NEW})
    assert done.status_code == 204, done.text


# ---- races -------------------------------------------------------------------------------


async def test_two_confirmations_with_one_token_exactly_one_wins(
    committed_client: httpx.AsyncClient, committed_engine: Any
) -> None:
    factory = create_session_factory(committed_engine)
    email = await create_account(factory, "student")
    asked = await committed_client.post(RESET, json={"email": email})
    assert asked.status_code == 202, asked.text
    # This app logs at warning: the token is derived from its row, as the mail handler does.
    async with factory() as session:
        [row] = (
            await session.execute(
                select(PasswordResetToken)
                .join(User, User.id == PasswordResetToken.user_id)
                .where(User.email == email)
            )
        ).scalars()
    token = reset_token(TokenSettings(secret=TEST_SECRET), row.id)
    answers = await asyncio.gather(
        committed_client.post(CONFIRM, json={"token": token, "new_password": NEW}),
        committed_client.post(CONFIRM, json={"token": token, "new_password": "the other one!"}),
    )
    assert sorted(r.status_code for r in answers) == [204, 400], [r.text for r in answers]
    winner = NEW if answers[0].status_code == 204 else "the other one!"
    await login(committed_client, email, winner)


# ---- the profile -------------------------------------------------------------------------


async def test_patch_me_changes_the_display_name_audited(
    client: httpx.AsyncClient, login_as: LoginAs, session: AsyncSession
) -> None:
    me: Account = await login_as("student")
    response = await client.patch(ME, json={"display_name": "Grace Hopper"}, headers=me.headers)
    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == "Grace Hopper"
    [entry] = [
        e
        for e in await entries(session, "user", me.id)
        if "display_name" in e.changes and e.action == "update"
    ]
    assert entry.changes["display_name"] == ["Student User", "Grace Hopper"]
    assert entry.actor_id == uuid.UUID(me.id)
