"""Password hashing keeps the event loop free: argon2 costs tens of milliseconds by design,
and a worker serving other requests must not stall for each login."""

from __future__ import annotations

import asyncio
import time

from learnhub.services.passwords import (
    hash_password,
    hash_password_off_loop,
    verify_password,
    verify_password_off_loop,
)


async def longest_stall_while(work: asyncio.Future[object]) -> float:
    """The longest gap between two turns of the event loop while `work` runs."""
    longest, last = 0.0, time.perf_counter()
    while not work.done():
        await asyncio.sleep(0)
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    await work
    return longest


async def test_hashing_and_verifying_leave_the_event_loop_running():
    started = time.perf_counter()
    stored = hash_password("correct horse battery")
    one_hash = time.perf_counter() - started  # the stall it would cause on the loop

    hashing = asyncio.ensure_future(hash_password_off_loop("correct horse battery"))
    assert await longest_stall_while(hashing) < one_hash / 2
    assert verify_password(hashing.result(), "correct horse battery")

    checks = [
        asyncio.ensure_future(verify_password_off_loop(stored, guess))
        for guess in ("correct horse battery", "wrong horse battery")
    ]
    assert await longest_stall_while(asyncio.gather(*checks)) < one_hash / 2
    assert [c.result() for c in checks] == [True, False]
