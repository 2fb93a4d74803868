"""Password hashing with argon2id (argon2-cffi's maintained defaults)."""

from __future__ import annotations

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
