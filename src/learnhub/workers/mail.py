"""Outgoing mail: one `Mailer` interface, two transports chosen by `LEARNHUB_MAIL_TRANSPORT`.

`log` (the default, and the demo's) writes each message to the structured log as event
`mail_logged`, body included: a developer or a demo reads the reset link there. It is for
development only: the body carries the link. `smtp` sends through the configured server with
aiosmtplib (plain, STARTTLS or implicit TLS; optional login)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import structlog

from learnhub.config import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class MailMessage:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    async def send(self, message: MailMessage) -> None: ...


class LogMailer:
    def __init__(self, sender: str) -> None:
        self.sender = sender

    async def send(self, message: MailMessage) -> None:
        log.info(
            "mail_logged",
            mail_from=self.sender,
            mail_to=message.to,
            subject=message.subject,
            body=message.body,
        )

    def __repr__(self) -> str:
        return "LogMailer()"


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def build(self, message: MailMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.settings.mail_from
        email["To"] = message.to
        email["Subject"] = message.subject
        email.set_content(message.body)
        return email

    async def send(self, message: MailMessage) -> None:
        import aiosmtplib

        s = self.settings
        await aiosmtplib.send(
            self.build(message),
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            timeout=s.smtp_timeout_seconds,
        )
        log.info("mail_sent", mail_to=message.to, subject=message.subject)

    def __repr__(self) -> str:
        return f"SmtpMailer({self.settings.smtp_host}:{self.settings.smtp_port})"


def build_mailer(settings: Settings) -> Mailer:
    if settings.mail_transport == "smtp":
        return SmtpMailer(settings)
    return LogMailer(settings.mail_from)
