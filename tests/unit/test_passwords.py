"""Password hashing keeps the event loop free: argon2 costs tens of milliseconds by design,
and a worker serving other requests must not stall for each login."""

from __future__ import annotations

import asyncio

from learnhub.services.passwords import (
    hash_password,
    hash_password_off_loop,
    verify_password,
    verify_password_off_loop,
)


async def loop_turns_while(work: asyncio.Future[object]) -> int:
    """How many times the event loop turned while `work` ran.

    Counted rather than timed: a wall-clock bound on the longest stall fails spuriously when
    the machine is busy (the OS deschedules the whole process), while the count tells the two
    designs apart on any machine. Work done on the loop finishes inside one turn; work done
    in a thread lets the loop turn for as long as the hash takes (thousands of turns for
    argon2's tens of milliseconds)."""
    turns = 0
    while not work.done():
        await asyncio.sleep(0)
        turns += 1
    await work
    return turns


# Far below what an off-loop hash allows and far above the one or two turns of an on-loop one.
MANY_TURNS = 20


async def test_hashing_and_verifying_leave_the_event_loop_running():
    stored = hash_password("correct horse battery")

    hashing = asyncio.ensure_future(hash_password_off_loop("correct horse battery"))
    assert await loop_turns_while(hashing) >= MANY_TURNS
    assert verify_password(hashing.result(), "correct horse battery")

    checks = [
        asyncio.ensure_future(verify_password_off_loop(stored, guess))
        for guess in ("correct horse battery", "wrong horse battery")
    ]
    assert await loop_turns_while(asyncio.gather(*checks)) >= MANY_TURNS
    assert [c.result() for c in checks] == [True, False]


async def test_the_turn_count_sees_work_done_on_the_loop():
    """The measure itself can fail: hashing directly inside a coroutine lets the loop turn
    only once or twice."""

    async def hash_on_the_loop() -> str:
        return hash_password("correct horse battery")

    assert await loop_turns_while(asyncio.ensure_future(hash_on_the_loop())) < MANY_TURNS
