"""The pool's queue serves waiters in arrival order (src/learnhub/db/pool.py): a connection
returned while others wait goes to the longest waiter, never to a newcomer, and a waiter that
gives up passes on a connection handed to it at that moment."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.util import greenlet_spawn
from sqlalchemy.util.queue import Empty

from learnhub.db.pool import FairAsyncQueue


async def test_a_returned_item_goes_to_the_longest_waiter_not_a_newcomer() -> None:
    queue = FairAsyncQueue(maxsize=1)
    served: list[str] = []

    async def take(name: str) -> None:
        item = await greenlet_spawn(queue.get, True, 5)
        served.append(name)
        await asyncio.sleep(0)
        queue.put_nowait(item)

    queue.put_nowait("connection")
    first = await greenlet_spawn(queue.get, True, 5)
    waiters = [asyncio.create_task(take(f"waiter-{i}")) for i in range(3)]
    await asyncio.sleep(0.01)
    queue.put_nowait(first)  # handed to waiter-0 directly
    # A newcomer arriving now finds nothing free: the waiters are first in line.
    with pytest.raises(Empty):
        queue.get_nowait()
    await asyncio.gather(*waiters)
    assert served == ["waiter-0", "waiter-1", "waiter-2"]
    assert queue.qsize() == 1


async def test_a_waiter_that_times_out_leaves_the_line() -> None:
    queue = FairAsyncQueue(maxsize=1)
    with pytest.raises(Empty):
        await greenlet_spawn(queue.get, True, 0.05)
    queue.put_nowait("connection")
    assert queue.get_nowait() == "connection"
