"""A connection pool whose waiters are served in arrival order.

SQLAlchemy's asyncio pool queue lets a newcomer take a connection that was just returned for
a waiter (it tries `get_nowait` first), and `asyncio.Queue` puts a waiter that lost that race
at the back of the line again. With no overflow (connections are kept, see docs/decisions.md)
every request beyond the pool size waits, and that barging made a few of them wait many times
over: p99 latency several times the mean. Here a returned connection is handed straight to
the longest waiter, and nobody takes one while others wait.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty, Full


class FairAsyncQueue(AsyncAdaptedQueue[Any]):
    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._items: deque[Any] = deque()
        self._waiters: deque[asyncio.Future[Any]] = deque()

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: Any) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)  # handed over: no one can take it in between
                return
        if self.full():
            raise Full()
        if self.use_lifo:
            self._items.appendleft(item)
        else:
            self._items.append(item)

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)  # the pool never blocks on put (it closes overflow instead)

    def get_nowait(self) -> Any:
        if not self._items or self._waiters:
            raise Empty()
        return self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        try:
            return self.get_nowait()
        except Empty:
            if not block:
                raise
        return await_(self._wait(timeout))

    async def _wait(self, wait_seconds: float | None) -> Any:
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(wait_seconds):
                # Shielded: giving up cancels this wait, never the hand-over itself.
                return await asyncio.shield(waiter)
        except BaseException as exc:  # timed out or cancelled
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())  # handed over just as we gave up: pass it on
            else:
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise Empty() from exc
            raise


class FairAsyncQueuePool(AsyncAdaptedQueuePool):
    _queue_class = FairAsyncQueue

    def keeps_a_returned_connection(self) -> bool:
        """Whether a connection checked in now stays open (it is queued, or handed to the
        longest waiter), not closed for lack of room: then a checkin of a connection with no
        transaction open does no I/O (db/driver_reads.py gives one back without a greenlet).
        Always true without overflow: the pool never holds more connections than room."""
        return not self._pool.full()  # a full queue is the pool's only reason to close one
