"""In-process event handlers, registered on the bus at start-up, and the retrier that
re-dispatches events whose handlers failed.

A handler runs after the business transaction committed, in a unit of work of its own, so
its failure never undoes the change; the event then stays unhandled in the outbox and
`HandlerRetrier` (`learnhub events handle`) dispatches it again later. Delivery is at least
once, so every handler must be idempotent: the stats handler recomputes, never increments.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import structlog

from learnhub.config import Settings, get_settings
from learnhub.db.uow import UnitOfWork
from learnhub.domain.clock import utc_now
from learnhub.events.bus import EventBus
from learnhub.events.events import (
    CourseCompleted,
    DomainEvent,
    EnrollmentCancelled,
    PasswordResetRequested,
    QuizAttemptSubmitted,
    UnknownEventType,
    UserEnrolled,
    VideoCompleted,
    from_payload,
)
from learnhub.metrics import EVENT_HANDLER_FAILURES
from learnhub.repositories.outbox import OutboxHandlingRepository
from learnhub.services.credentials import CredentialService
from learnhub.services.stats import LearnerStatsService
from learnhub.services.tokens import TokenSettings
from learnhub.workers.mail import Mailer, MailMessage, build_mailer

# A fresh unit of work (its own transaction) per call; given by the app or the CLI.
UowFactory = Callable[[], UnitOfWork]
log = structlog.get_logger(__name__)

# The events that change what learner_stats counts.
STATS_EVENTS = (
    UserEnrolled,
    EnrollmentCancelled,
    VideoCompleted,
    CourseCompleted,
    QuizAttemptSubmitted,
)


class RefreshLearnerStats:
    """Recompute the stats of the learner an event is about."""

    def __init__(self, uow_factory: UowFactory) -> None:
        self.uow_factory = uow_factory

    async def __call__(self, event: DomainEvent) -> None:
        if not isinstance(event, STATS_EVENTS):
            return
        async with self.uow_factory() as uow:
            await LearnerStatsService(uow).refresh(event.user_id)
            await uow.commit()

    def __repr__(self) -> str:
        return "RefreshLearnerStats()"


RESET_SUBJECT = "Reset your LearnHub password"
RESET_BODY = """Someone (hopefully you) asked to reset the password of your LearnHub account.

Choose a new password here: {link}

Or send this token to POST /api/v1/auth/password-reset/confirm: {token}

The link works once and expires in {minutes} minutes. If you did not ask for it, ignore
this message: your password stays as it is.
"""


class SendPasswordResetMail:
    """Mail the reset link of a `PasswordResetRequested` event. The token is derived again
    from the row's id (the event and the outbox hold none); a token that ended or expired
    meanwhile is not sent. At least once: a retry after a send whose marking failed mails
    the same, still valid link again. The signing key is read at the first event, so merely
    registering the handler (every CLI command does) never creates a key file."""

    def __init__(self, uow_factory: UowFactory, mailer: Mailer, settings: Settings) -> None:
        self.uow_factory = uow_factory
        self.mailer = mailer
        self.settings = settings
        self._tokens: TokenSettings | None = None

    def tokens(self) -> TokenSettings:
        if self._tokens is None:
            self._tokens = TokenSettings(
                secret=self.settings.signing_secret(), issuer=self.settings.jwt_issuer
            )
        return self._tokens

    async def __call__(self, event: DomainEvent) -> None:
        if not isinstance(event, PasswordResetRequested):
            return
        async with self.uow_factory() as uow:
            found = await CredentialService(uow, self.tokens()).reset_mail(event.token_id)
        if found is None:
            log.info("password_reset_mail_skipped", token_id=str(event.token_id))
            return
        to, token = found
        url = self.settings.password_reset_link()
        separator = "&" if "?" in url else "?"
        body = RESET_BODY.format(
            link=f"{url}{separator}token={token}",
            token=token,
            minutes=self.settings.password_reset_ttl_seconds // 60,
        )
        await self.mailer.send(MailMessage(to=to, subject=RESET_SUBJECT, body=body))

    def __repr__(self) -> str:
        return f"SendPasswordResetMail({self.mailer!r})"


def register_handlers(
    bus: EventBus, uow_factory: UowFactory, settings: Settings | None = None
) -> None:
    """Subscribe every in-process handler (the app and the CLI call this at start-up)."""
    settings = settings or get_settings()
    refresh = RefreshLearnerStats(uow_factory)
    for event_type in STATS_EVENTS:
        bus.subscribe(event_type, refresh)
    mail = SendPasswordResetMail(uow_factory, build_mailer(settings), settings)
    bus.subscribe(PasswordResetRequested, mail)


@dataclass(frozen=True, slots=True)
class RetryResult:
    handled: int
    failed: int


class HandlerRetrier:
    """Dispatch again the outbox events whose handlers have not all succeeded.

    Only rows older than `grace` are taken, so an event whose request is still dispatching
    it is left to that request. Events are rebuilt from the row's type and payload, each
    dispatched on its own; those whose handlers all succeed are marked in one statement per
    batch. An unknown event type cannot be handled in process at all and is marked too."""

    def __init__(
        self,
        uow_factory: UowFactory,
        bus: EventBus,
        *,
        grace: timedelta = timedelta(seconds=30),
        batch_size: int = 100,
    ) -> None:
        self.uow_factory = uow_factory
        self.bus = bus
        self.grace = grace
        self.batch_size = batch_size

    async def run_once(self) -> RetryResult:
        """One pass over the unhandled rows (each at most once, failures included)."""
        cutoff = utc_now() - self.grace
        after, handled, failed = 0, 0, 0
        while True:
            async with self.uow_factory() as uow:
                rows = await uow.repo(OutboxHandlingRepository).unhandled(
                    cutoff, after, self.batch_size
                )
            if not rows:
                break
            after = rows[-1].position
            done = []
            for row in rows:
                try:
                    event = from_payload(row.event_type, row.payload)
                except UnknownEventType:
                    log.warning("event_type_unknown", event_type=row.event_type)
                    done.append(row.event_id)
                    continue
                except ValueError:  # a payload that no longer parses: keep it, count it
                    log.exception("event_payload_invalid", event_id=str(row.event_id))
                    EVENT_HANDLER_FAILURES.labels(event_type=row.event_type).inc()
                    failed += 1
                    continue
                if await self.bus.dispatch([event]):
                    failed += 1  # the bus logged and counted it
                else:
                    done.append(row.event_id)
            async with self.uow_factory() as uow:
                handled += await uow.repo(OutboxHandlingRepository).mark_handled(done, utc_now())
                await uow.commit()
            if len(rows) < self.batch_size:
                break
        if handled or failed:
            log.info("events_retried", handled=handled, failed=failed)
        return RetryResult(handled=handled, failed=failed)

    async def run(self, stop: asyncio.Event, interval_seconds: float = 5.0) -> None:
        """A pass every `interval_seconds` until `stop` is set; a failed pass (the database
        may be down) is logged and the next one tries again."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("event_retry_pass_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
