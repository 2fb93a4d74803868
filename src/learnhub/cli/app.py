"""The `learnhub` typer app, assembled from the command groups. The order of registration is
the order of `learnhub --help`: the top-level commands, then the groups."""

from __future__ import annotations

import typer

from learnhub.cli.audit import audit_app
from learnhub.cli.db import db_app
from learnhub.cli.events import events_app
from learnhub.cli.quizzes import quizzes_app
from learnhub.cli.seed import seed
from learnhub.cli.serve import serve
from learnhub.cli.tutor import tutor_app
from learnhub.cli.users import users_app
from learnhub.logging import log_to_stderr

app = typer.Typer(
    help="LearnHub: the backend of an online learning platform.", no_args_is_help=True
)
app.command()(serve)
app.command()(seed)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.add_typer(events_app, name="events")
app.add_typer(quizzes_app, name="quizzes")
app.add_typer(tutor_app, name="tutor")


@app.callback()
def _command_line() -> None:
    # `serve` configures the service's own logging (stdout) when it builds the app.
    log_to_stderr()
