"""`learnhub users`: creating accounts (the first admin) and clearing a login throttle."""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import Annotated, Any

import typer

from learnhub.cli.common import bootstrap, console, migration_url, run_command
from learnhub.db.uow import UnitOfWork

users_app = typer.Typer(help="User accounts.", no_args_is_help=True)


@users_app.command("create")
def users_create(
    email: str,
    role: Annotated[str, typer.Option(help="admin, instructor or student")] = "student",
    display_name: Annotated[str | None, typer.Option()] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from stdin.")] = False,
) -> None:
    """Create an account (this is how the first admin comes to exist)."""
    from learnhub.services.user import UserService

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def create(uow: UnitOfWork) -> Any:
        return await UserService(uow).register(
            email, password, display_name or email.split("@")[0], roles=[role]
        )

    asyncio.run(bootstrap(migration_url()))
    user = run_command("users-create", create)
    console.print(f"created {user.email} ({role}) id {user.id}")


@users_app.command("unlock")
def users_unlock(email: str) -> None:
    """Clear the login throttle for an account (its failed logins from every address)."""
    from learnhub.domain.permissions import ADMIN, BUILTIN_ROLES
    from learnhub.domain.principal import Principal
    from learnhub.services.user import UserAdminService

    # Whoever runs the command line on the server is trusted as an administrator (shell
    # access is the stronger credential); the nil id names no account.
    operator = Principal(
        user_id=uuid.UUID(int=0),
        session_id=None,
        roles=frozenset({ADMIN}),
        permissions=BUILTIN_ROLES[ADMIN][1],
    )
    cleared = run_command(
        "users-unlock", lambda uow: UserAdminService(uow, operator).unlock_email(email)
    )
    console.print(f"unlocked {email.strip().lower()}: {cleared} failed logins cleared")
