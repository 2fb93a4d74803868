"""Immutable value objects, validated on construction.

Each raises `InvalidValue` on bad input, so a bad value can never exist in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

import pycountry
from email_validator import EmailNotValidError, validate_email

from learnhub.domain.errors import InvalidValue

MONEY_PLACES = Decimal("0.01")
MAX_PRICE = Decimal("1000000")  # NUMERIC(12, 2) holds far more; this is a sanity bound


@lru_cache(maxsize=512)
def _is_iso4217(code: str) -> bool:
    return pycountry.currencies.get(alpha_3=code) is not None


def _to_decimal(value: object, what: str) -> Decimal:
    # Floats are refused outright: 0.1 + 0.2 style errors must never reach money.
    if isinstance(value, bool | float):
        kind = type(value).__name__
        raise InvalidValue(f"{what} must be a decimal string or integer, not {kind}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise InvalidValue(f"{what} {value!r} is not a number") from None
    else:
        raise InvalidValue(f"{what} must be a decimal string or integer")
    if not number.is_finite():
        raise InvalidValue(f"{what} must be finite")
    return number


@dataclass(frozen=True, slots=True)
class Price:
    """A non-negative amount of money in an ISO 4217 currency, to the cent."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        amount = _to_decimal(self.amount, "price amount")
        if amount < 0:
            raise InvalidValue("price amount must not be negative")
        amount = abs(amount)  # no "-0.00"
        if amount >= MAX_PRICE:
            raise InvalidValue(f"price amount must be below {MAX_PRICE}")
        if amount != amount.quantize(MONEY_PLACES):
            raise InvalidValue("price amount has more than two decimal places")
        if not isinstance(self.currency, str):
            raise InvalidValue("currency must be a string")
        currency = self.currency.strip().upper()
        if len(currency) != 3 or not _is_iso4217(currency):
            raise InvalidValue(f"{self.currency!r} is not an ISO 4217 currency code")
        object.__setattr__(self, "amount", amount.quantize(MONEY_PLACES))
        object.__setattr__(self, "currency", currency)

    @property
    def is_free(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


@dataclass(frozen=True, slots=True, order=True)
class Rating:
    """An average or single rating between 0 and 5 inclusive, to two decimal places."""

    value: Decimal

    MIN = Decimal(0)
    MAX = Decimal(5)

    def __post_init__(self) -> None:
        value = self.value
        if isinstance(value, float) and value == value:  # accept floats only for ratings
            value = Decimal(repr(value))
        number = _to_decimal(value, "rating")
        if not (self.MIN <= number <= self.MAX):
            raise InvalidValue("rating must be between 0 and 5")
        number = abs(number)  # no "-0.00"
        object.__setattr__(self, "value", number.quantize(MONEY_PLACES))


@dataclass(frozen=True, slots=True)
class Email:
    """A syntactically valid e-mail address, normalised to lower case."""

    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise InvalidValue("e-mail must be a string")
        try:
            normalized = validate_email(
                self.value.strip(), check_deliverability=False, allow_smtputf8=True
            ).normalized
        except EmailNotValidError as exc:
            raise InvalidValue(f"invalid e-mail address: {exc}") from None
        object.__setattr__(self, "value", normalized.lower())

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True, order=True)
class Duration:
    """A non-negative whole number of seconds."""

    seconds: int

    MAX_SECONDS = 7 * 24 * 3600  # one week: nothing in a course lasts longer

    def __post_init__(self) -> None:
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, int):
            raise InvalidValue("duration must be a whole number of seconds")
        if not (0 <= self.seconds <= self.MAX_SECONDS):
            raise InvalidValue(f"duration must be between 0 and {self.MAX_SECONDS} seconds")

    @classmethod
    def from_timedelta(cls, delta: timedelta) -> Duration:
        if delta < timedelta(0):
            raise InvalidValue("duration must not be negative")
        return cls(int(delta.total_seconds()))

    def as_timedelta(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    def __str__(self) -> str:
        hours, rest = divmod(self.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
