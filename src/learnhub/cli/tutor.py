"""`learnhub tutor`: purging tutor messages past the retention period."""

from __future__ import annotations

import typer

from learnhub.cli.common import console, run_command
from learnhub.config import get_settings

tutor_app = typer.Typer(help="The AI tutor.", no_args_is_help=True)


@tutor_app.command("purge")
def tutor_purge() -> None:
    """Delete tutor messages older than the retention period (LEARNHUB_TUTOR_RETENTION_DAYS),
    conversations idle that long, and old daily usage counts."""
    from learnhub.services.tutor import TutorPolicy, TutorService
    from learnhub.tutor_providers import OfflineTutor

    policy = TutorPolicy(retention_days=get_settings().tutor_retention_days)
    report = run_command(
        "tutor-purge", lambda uow: TutorService(uow, OfflineTutor(), policy).purge_expired()
    )
    console.print(
        f"{report.messages} messages, {report.conversations} conversations and "
        f"{report.usage_days} usage days past {policy.retention_days} days deleted"
    )
