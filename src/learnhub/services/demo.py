"""Demo accounts for `learnhub serve --demo` (the demo catalog arrives with the course domain)."""

from __future__ import annotations

from learnhub.db.uow import AbstractUnitOfWork
from learnhub.domain.permissions import ADMIN, INSTRUCTOR, STUDENT
from learnhub.repositories.user import UserRepository
from learnhub.services.user import UserService

DEMO_PASSWORD = "learnhub-demo"
DEMO_ACCOUNTS = (
    ("demo-admin@example.com", "Demo Admin", ADMIN),
    ("demo-instructor@example.com", "Demo Instructor", INSTRUCTOR),
    ("demo-student@example.com", "Demo Student", STUDENT),
)


async def load_demo(uow: AbstractUnitOfWork) -> list[tuple[str, str]]:
    """Create the demo accounts that do not exist yet; idempotent."""
    users = uow.repo(UserRepository)
    service = UserService(uow)
    for email, name, role in DEMO_ACCOUNTS:
        if await users.get_by_email(email) is None:
            await service.register(email, DEMO_PASSWORD, name, roles=[role])
    return [(email, role) for email, _, role in DEMO_ACCOUNTS]
