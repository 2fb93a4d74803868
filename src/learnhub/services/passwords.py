"""Password hashing with argon2id (argon2-cffi's maintained defaults).

A hash costs tens of milliseconds of CPU by design. The async variants run it in a worker
thread (argon2-cffi releases the GIL while hashing), so a burst of logins neither stalls
the event loop for every other request of the worker nor leaves a second core idle."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from learnhub.domain.errors import InvalidValue

MIN_LENGTH, MAX_LENGTH = 8, 256
_hasher = PasswordHasher()


def validate_password(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidValue(f"password must be {MIN_LENGTH} to {MAX_LENGTH} characters long")


def hash_password(password: str) -> str:
    validate_password(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_off_loop(password: str) -> str:
    validate_password(password)  # a bad password is refused without taking a thread
    return await asyncio.to_thread(hash_password, password)


async def verify_password_off_loop(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)
