from __future__ import annotations

from learnhub.db.uow import AbstractUnitOfWork


class BaseService:
    """Holds the unit of work. The request or command boundary commits, never a service."""

    def __init__(self, uow: AbstractUnitOfWork) -> None:
        self.uow = uow
