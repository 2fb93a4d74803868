"""Unit of work: one transaction per request or command.

It rolls back unless told to commit; services never commit. The boundary commits: the
request dependency (`api.deps.get_uow`) when an endpoint succeeds, a command when it is done.
A use case that must keep what it wrote although it ends in an error (a failed login is
counted, a reused refresh token revokes its session) says so with `keep_despite_error`, and
one that waits on something slow without holding a transaction ends it with
`release_transaction`; nothing else ends a transaction early. Domain events recorded during
the work are written to the outbox in the same transaction, and dispatched to in-process
handlers only after the commit succeeded. An event no handler wants is written already
handled; the others are marked handled, in one statement, once all their handlers succeeded.
A failed handler leaves its event unhandled for `learnhub events handle` to retry; it never
undoes the committed change, and neither does a failure to mark.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from learnhub.db.driver_pool import DriverPool
from learnhub.db.driver_reads import PooledDriverConnection
from learnhub.db.engine import start_read_only
from learnhub.db.replicas import ReplicaSet
from learnhub.domain.clock import utc_now
from learnhub.domain.errors import ConcurrencyConflict
from learnhub.events.bus import EventBus
from learnhub.events.events import DomainEvent
from learnhub.models.outbox import OutboxMessage

R = TypeVar("R")
log = structlog.get_logger(__name__)


class RepositoryFactory(Protocol[R]):  # type: ignore[misc]
    def __call__(self, session: AsyncSession) -> R: ...


class AbstractUnitOfWork:
    """What services see: repositories, event recording, and (for the boundary) commit."""

    events: list[DomainEvent]

    def repo(self, factory: type[R]) -> R:
        raise NotImplementedError

    def record(self, event: DomainEvent) -> None:
        raise NotImplementedError

    def keep_despite_error(self, *errors: type[Exception]) -> None:
        """If the use case ends in one of `errors`, the boundary still commits what was
        written before the error was raised (then answers with the error)."""
        raise NotImplementedError

    def kept_despite(self, error: BaseException) -> bool:
        """Whether the boundary must commit although the work ended in `error`."""
        raise NotImplementedError

    def undo_unless_committed(self, undo: Callable[[], Awaitable[None]]) -> None:
        """Run `undo` if this unit of work ends without committing (an error in the use
        case, or a commit that fails at the boundary): for work outside the database, such
        as a stored file, that must not outlive the rows that would have pointed at it."""
        raise NotImplementedError

    async def release_transaction(self) -> None:
        """End the transaction now, keeping nothing (a rollback); the next statement opens a
        new one. For a use case that waits on something slow (the tutor's provider) and
        must hold no connection or lock meanwhile, once it has read what it needs."""
        raise NotImplementedError


class UnitOfWork(AbstractUnitOfWork):
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        bus: EventBus | None = None,
        *,
        read_only: bool = False,
        replicas: ReplicaSet | None = None,
        client_position: int | None = None,
    ) -> None:
        """With `replicas`, a read-only unit of work reads from a replica that has replayed
        `client_position` (the WAL position of the client's last write, if it sent one), and
        a committed one learns its commit's position (`commit_position`) for the client."""
        self._session_factory = session_factory
        self._read_only = read_only
        self._replicas = replicas
        self._client_position = client_position
        self.commit_position: int | None = None
        self._bus = bus or EventBus()
        self._session: AsyncSession | None = None
        self.reads_from_replica = False
        self._repos: dict[type[Any], Any] = {}
        self.events = []
        self.committed = False
        self._kept_errors: tuple[type[Exception], ...] = ()
        self._undo: list[Callable[[], Awaitable[None]]] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        replica_session = None
        if self._read_only and self._replicas is not None:
            # A replica that has replayed this client's last write, or None: the primary.
            replica_session = await self._replicas.read_session(self._client_position)
        self.reads_from_replica = replica_session is not None
        if replica_session is not None:
            self._session = replica_session
        else:
            self._session = self._session_factory()
            if self._read_only:
                await start_read_only(self._session)
        self._repos.clear()
        self.events = []
        self.committed = False
        self.commit_position = None
        self._kept_errors = ()
        self._undo = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed and detaches the objects *without*
        # expiring them, so what a read-only unit of work loaded stays readable afterwards.
        try:
            await self.session.close()
        except Exception as close_error:
            # The connection broke under us (the database went away mid-request): its
            # transaction is gone with it. Drop the connection rather than fail a request
            # whose answer may already be on its way to the client.
            log.warning("session_close_failed", error=type(close_error).__name__)
            with contextlib.suppress(Exception):
                await self.session.invalidate()
        finally:
            self._session = None
            self.events = []
            undo, self._undo = self._undo, []
            if not self.committed:
                await self._run_undo(undo)

    @staticmethod
    async def _run_undo(undo: list[Callable[[], Awaitable[None]]]) -> None:
        for action in reversed(undo):
            try:
                await action()
            except Exception:  # the original error is what the caller must see
                log.exception("unit_of_work_undo_failed")

    def repo(self, factory: type[R]) -> R:
        if factory not in self._repos:
            self._repos[factory] = factory(self.session)  # type: ignore[call-arg]
        return self._repos[factory]  # type: ignore[no-any-return]

    def record(self, event: DomainEvent) -> None:
        self.events.append(event)
        self.session.add(
            OutboxMessage(
                event_id=event.event_id,
                event_type=event.event_type,
                aggregate_type=event.aggregate_type,
                aggregate_id=event.aggregate_id,
                payload=event.payload(),
                occurred_at=event.occurred_at,
                # Nothing to do in process: handled now, so the common path costs nothing.
                handled_at=None if self._bus.handlers_for(event) else utc_now(),
            )
        )

    async def commit(self) -> None:
        from sqlalchemy.orm.exc import StaleDataError

        try:
            await self.session.commit()
        except StaleDataError as exc:
            raise ConcurrencyConflict("entity", "?", None, None) from exc
        self.committed = True
        events, self.events = self.events, []
        wanted = [e for e in events if self._bus.handlers_for(e)]
        if wanted:
            await self._handle(wanted)
        if self._replicas is not None:
            # After the handlers' own commits, so the client's next reads see those too.
            self.commit_position = await self._replicas.primary_position()

    async def _handle(self, events: list[DomainEvent]) -> None:
        """Dispatch after commit, then mark what every handler took, in its own short
        transaction. Nothing here may fail the caller: the change is already committed."""
        failures = await self._bus.dispatch(events)
        failed = {event.event_id for event, _ in failures}
        handled = [e.event_id for e in events if e.event_id not in failed]
        if not handled:
            return
        # A session of its own: rolling back a failed mark in the work's session would expire
        # the objects just committed, and the caller could no longer read them to answer.
        try:
            async with self._session_factory() as marker:
                await marker.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.event_id.in_(handled), OutboxMessage.handled_at.is_(None))
                    .values(handled_at=utc_now())
                    .execution_options(synchronize_session=False)
                )
                await marker.commit()
        except Exception:  # the retrier runs the (idempotent) handlers again later
            log.exception("event_mark_handled_failed", events=len(handled))

    async def rollback(self) -> None:
        await self.session.rollback()
        self.events = []

    def keep_despite_error(self, *errors: type[Exception]) -> None:
        self._kept_errors += errors

    def undo_unless_committed(self, undo: Callable[[], Awaitable[None]]) -> None:
        self._undo.append(undo)

    def kept_despite(self, error: BaseException) -> bool:
        return isinstance(error, self._kept_errors)

    async def release_transaction(self) -> None:
        await self.rollback()


class DriverReadUnitOfWork(AbstractUnitOfWork):
    """A read-only unit of work on one pooled driver connection, without a Session: for
    read models whose statements run on the driver (their repositories say so with
    `READS_ON_DRIVER`; others are refused). Nothing is written, so there is nothing to
    commit, record or undo; for an engine where `db.engine.reads_on_driver` holds, without
    read replicas (api/hot_reads.py, `driver_read_unit_of_work`, chooses)."""

    def __init__(self, engine: AsyncEngine, driver_pool: DriverPool | None = None) -> None:
        self._connection = PooledDriverConnection(engine, driver_pool)
        self._repos: dict[type[Any], Any] = {}
        self.events = []

    async def __aenter__(self) -> Self:
        await self._connection.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._repos.clear()
        await self._connection.__aexit__(exc_type, exc, tb)

    def repo(self, factory: type[R]) -> R:
        if not getattr(factory, "READS_ON_DRIVER", False):
            raise TypeError(f"{factory.__name__} does not read on the driver")
        if factory not in self._repos:
            self._repos[factory] = factory(self._connection)  # type: ignore[call-arg]
        return self._repos[factory]  # type: ignore[no-any-return]

    def record(self, event: DomainEvent) -> None:
        raise RuntimeError("a driver read unit of work records no events")

    def keep_despite_error(self, *errors: type[Exception]) -> None:
        raise RuntimeError("a driver read unit of work writes nothing to keep")

    def kept_despite(self, error: BaseException) -> bool:
        return False

    def undo_unless_committed(self, undo: Callable[[], Awaitable[None]]) -> None:
        raise RuntimeError("a driver read unit of work does nothing to undo")

    async def release_transaction(self) -> None:
        """There is no transaction to end."""
