"""`learnhub quizzes`: closing quiz attempts past their deadline."""

from __future__ import annotations

import typer

from learnhub.cli.common import console, run_command

quizzes_app = typer.Typer(help="Quiz attempts.", no_args_is_help=True)


@quizzes_app.command("sweep")
def quizzes_sweep() -> None:
    """Close every open quiz attempt whose deadline has passed (as overdue)."""
    from learnhub.services.quiz_attempts import QuizAttemptService

    closed = run_command("quizzes-sweep", lambda uow: QuizAttemptService(uow).sweep_overdue())
    console.print(f"{closed} overdue attempts closed")
