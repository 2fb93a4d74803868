"""Value objects: validated on construction, immutable, normalised (SPEC 3)."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnhub.domain.errors import InvalidValue
from learnhub.domain.value_objects import Duration, Email, Price, Rating

PROPERTY = settings(max_examples=200, deadline=None, database=None)

MAX_PRICE = Decimal("999999.99")
CENT = Decimal("0.01")
WEEK = 7 * 24 * 3600

valid_amounts = st.decimals(
    min_value=Decimal(0), max_value=MAX_PRICE, places=2, allow_nan=False, allow_infinity=False
)
currencies = st.sampled_from(["USD", "EUR", "GBP", "JPY", "CHF", "INR", "BRL", "usd", " eur "])


# ---- Price ------------------------------------------------------------------------------


class TestPriceExamples:
    @pytest.mark.parametrize(
        ("amount", "expected"),
        [
            ("19.99", Decimal("19.99")),
            ("0", Decimal("0.00")),
            (" 7.1 ", Decimal("7.10")),
            (20, Decimal("20.00")),
            (0, Decimal("0.00")),
            (Decimal("5.5"), Decimal("5.50")),
            (Decimal("999999.99"), Decimal("999999.99")),
            ("1e2", Decimal("100.00")),
        ],
    )
    def test_accepts_decimal_strings_ints_and_decimals(
        self, amount: object, expected: Decimal
    ) -> None:
        price = Price(amount, "USD")  # type: ignore[arg-type]
        assert isinstance(price.amount, Decimal)
        assert price.amount == expected
        # Quantized to exactly two places, whatever the input looked like.
        assert price.amount.as_tuple().exponent == -2
        assert str(price.amount) == str(expected)

    @pytest.mark.parametrize("amount", [19.99, 0.0, 1.0, 0.1 + 0.2, float("nan"), float("inf")])
    def test_rejects_floats(self, amount: float) -> None:
        with pytest.raises(InvalidValue):
            Price(amount, "USD")  # type: ignore[arg-type]

    @pytest.mark.parametrize("amount", [True, False])
    def test_rejects_bools(self, amount: bool) -> None:
        with pytest.raises(InvalidValue):
            Price(amount, "USD")  # type: ignore[arg-type]

    @pytest.mark.parametrize("amount", [-1, "-0.01", Decimal("-0.01"), Decimal("-1000"), "-5"])
    def test_rejects_negative_amounts(self, amount: object) -> None:
        with pytest.raises(InvalidValue):
            Price(amount, "USD")  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "amount",
        [
            "NaN",
            "nan",
            "sNaN",
            "Infinity",
            "-Infinity",
            "inf",
            Decimal("NaN"),
            Decimal("sNaN"),
            Decimal("Infinity"),
            Decimal("-Infinity"),
        ],
    )
    def test_rejects_nan_and_infinity(self, amount: object) -> None:
        with pytest.raises(InvalidValue):
            Price(amount, "USD")  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "amount", ["1.001", "0.005", Decimal("19.999"), Decimal("0.0001"), "999999.991"]
    )
    def test_rejects_more_than_two_decimal_places(self, amount: object) -> None:
        with pytest.raises(InvalidValue):
            Price(amount, "USD")  # type: ignore[arg-type]

    @pytest.mark.parametrize("amount", [1_000_000, "1000000", Decimal("1000000.00"), "1e7"])
    def test_rejects_amounts_at_or_above_the_sanity_bound(self, amount: object) -> None:
        with pytest.raises(InvalidValue):
            Price(amount, "USD")  # type: ignore[arg-type]

    @pytest.mark.parametrize("amount", ["", "   ", "abc", "1,50", "12.3.4", None, [], object()])
    def test_rejects_non_numbers(self, amount: object) -> None:
        with pytest.raises(InvalidValue):
            Price(amount, "USD")  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "currency", ["XYZ", "US", "", "   ", "USDD", "U$D", "EURO", "123", "ABC", None, 840]
    )
    def test_rejects_non_iso4217_currencies(self, currency: object) -> None:
        with pytest.raises(InvalidValue):
            Price("10.00", currency)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("currency", "expected"),
        [("usd", "USD"), ("Eur", "EUR"), (" gbp ", "GBP"), ("JPY", "JPY"), ("chf\n", "CHF")],
    )
    def test_normalises_currency_case(self, currency: str, expected: str) -> None:
        assert Price("10", currency).currency == expected

    def test_equal_prices_built_differently_are_equal(self) -> None:
        assert Price("10", "usd") == Price(Decimal("10.00"), "USD") == Price(10, " USD ")
        assert hash(Price("10", "usd")) == hash(Price(10, "USD"))
        assert Price("10", "USD") != Price("10", "EUR")
        assert Price("10", "USD") != Price("10.01", "USD")

    @pytest.mark.parametrize(
        ("amount", "currency", "text"),
        [
            ("19.9", "usd", "19.90 USD"),
            (0, "EUR", "0.00 EUR"),
            ("999999.99", "gbp", "999999.99 GBP"),
            ("1e2", "CHF", "100.00 CHF"),
        ],
    )
    def test_str(self, amount: object, currency: str, text: str) -> None:
        assert str(Price(amount, currency)) == text  # type: ignore[arg-type]

    @pytest.mark.parametrize("amount", ["-0.00", Decimal("-0")])
    def test_negative_zero_is_normalised_to_zero(self, amount: object) -> None:
        price = Price(amount, "USD")  # type: ignore[arg-type]
        assert price.is_free
        assert not price.amount.is_signed()
        assert str(price) == "0.00 USD"

    def test_is_free(self) -> None:
        assert Price("0", "USD").is_free
        assert Price("0.00", "USD").is_free
        assert not Price("0.01", "USD").is_free

    def test_is_frozen(self) -> None:
        price = Price("10", "USD")
        with pytest.raises(dataclasses.FrozenInstanceError):
            price.amount = Decimal("0")  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            price.currency = "EUR"  # type: ignore[misc]


class TestPriceProperties:
    @PROPERTY
    @given(amount=valid_amounts, currency=currencies)
    def test_valid_decimal_round_trips(self, amount: Decimal, currency: str) -> None:
        price = Price(amount, currency)
        assert price.amount == amount
        assert price.amount.as_tuple().exponent == -2
        assert price.currency == currency.strip().upper()
        assert re.fullmatch(r"\d{1,6}\.\d{2} [A-Z]{3}", str(price))

    @PROPERTY
    @given(amount=valid_amounts)
    def test_string_form_gives_the_same_price(self, amount: Decimal) -> None:
        assert Price(str(amount), "EUR") == Price(amount, "EUR")

    @PROPERTY
    @given(amount=st.integers(min_value=0, max_value=999_999))
    def test_integers_in_range_are_accepted(self, amount: int) -> None:
        price = Price(amount, "USD")  # type: ignore[arg-type]
        assert price.amount == Decimal(amount)
        assert price.amount.as_tuple().exponent == -2

    @PROPERTY
    @given(
        amount=st.one_of(
            st.decimals(
                max_value=Decimal("-0.01"), places=2, allow_nan=False, allow_infinity=False
            ),
            st.decimals(
                min_value=Decimal("1000000"), places=2, allow_nan=False, allow_infinity=False
            ),
            st.integers(max_value=-1),
            st.integers(min_value=1_000_000),
        )
    )
    def test_out_of_range_amounts_raise(self, amount: Decimal | int) -> None:
        with pytest.raises(InvalidValue):
            Price(amount, "USD")  # type: ignore[arg-type]
        with pytest.raises(InvalidValue):
            Price(str(amount), "USD")  # type: ignore[arg-type]

    @PROPERTY
    @given(
        amount=st.decimals(
            min_value=Decimal(0),
            max_value=MAX_PRICE,
            places=6,
            allow_nan=False,
            allow_infinity=False,
        ).filter(lambda d: d != d.quantize(CENT))
    )
    def test_sub_cent_amounts_raise(self, amount: Decimal) -> None:
        with pytest.raises(InvalidValue):
            Price(amount, "USD")

    @PROPERTY
    @given(amount=st.floats())
    def test_any_float_raises(self, amount: float) -> None:
        with pytest.raises(InvalidValue):
            Price(amount, "USD")  # type: ignore[arg-type]

    @PROPERTY
    @given(currency=st.text(max_size=6))
    def test_currency_is_accepted_only_as_a_normalised_iso_code(self, currency: str) -> None:
        try:
            price = Price("1.00", currency)
        except InvalidValue:
            return
        assert re.fullmatch(r"[A-Z]{3}", price.currency)
        assert price.currency == currency.strip().upper()


# ---- Rating -----------------------------------------------------------------------------


class TestRatingExamples:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (0, Decimal("0.00")),
            (5, Decimal("5.00")),
            ("0", Decimal("0.00")),
            ("5", Decimal("5.00")),
            ("5.00", Decimal("5.00")),
            (Decimal("2.5"), Decimal("2.50")),
            ("4.25", Decimal("4.25")),
            (3, Decimal("3.00")),
            (4.5, Decimal("4.50")),
        ],
    )
    def test_accepts_values_from_zero_to_five(self, value: object, expected: Decimal) -> None:
        rating = Rating(value)  # type: ignore[arg-type]
        assert rating.value == expected
        assert rating.value.as_tuple().exponent == -2

    @pytest.mark.parametrize(
        "value",
        [-1, 6, "-0.01", "5.01", Decimal("5.001"), Decimal("-0.001"), "10", 100, -0.5, 5.5],
    )
    def test_rejects_values_outside_zero_to_five(self, value: object) -> None:
        with pytest.raises(InvalidValue):
            Rating(value)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "value",
        ["NaN", Decimal("NaN"), "Infinity", float("nan"), float("inf"), "abc", "", None, True],
    )
    def test_rejects_non_numbers(self, value: object) -> None:
        with pytest.raises(InvalidValue):
            Rating(value)  # type: ignore[arg-type]

    def test_is_ordered_and_frozen(self) -> None:
        assert Rating("1.5") < Rating(2) < Rating("4.99") < Rating(5)
        assert Rating("3") == Rating(Decimal("3.00"))
        rating = Rating(3)
        with pytest.raises(dataclasses.FrozenInstanceError):
            rating.value = Decimal(4)  # type: ignore[misc]


class TestRatingProperties:
    @PROPERTY
    @given(
        value=st.decimals(min_value=0, max_value=5, places=2, allow_nan=False, allow_infinity=False)
    )
    def test_values_in_bounds_round_trip(self, value: Decimal) -> None:
        assert Rating(value).value == value
        assert Rating(str(value)) == Rating(value)

    @PROPERTY
    @given(
        value=st.one_of(
            st.decimals(max_value=Decimal("-0.01"), allow_nan=False, allow_infinity=False),
            st.decimals(min_value=Decimal("5.01"), allow_nan=False, allow_infinity=False),
            st.integers(max_value=-1),
            st.integers(min_value=6),
        )
    )
    def test_values_out_of_bounds_raise(self, value: Decimal | int) -> None:
        with pytest.raises(InvalidValue):
            Rating(value)  # type: ignore[arg-type]

    @PROPERTY
    @given(
        a=st.decimals(min_value=0, max_value=5, places=2, allow_nan=False, allow_infinity=False),
        b=st.decimals(min_value=0, max_value=5, places=2, allow_nan=False, allow_infinity=False),
    )
    def test_order_follows_the_value(self, a: Decimal, b: Decimal) -> None:
        assert (Rating(a) < Rating(b)) == (a < b)
        assert (Rating(a) == Rating(b)) == (a == b)


# ---- Email ------------------------------------------------------------------------------


class TestEmailExamples:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("alice@example.com", "alice@example.com"),
            ("Alice@Example.COM", "alice@example.com"),
            ("  BOB.Smith+Tag@Mail.Example.org \n", "bob.smith+tag@mail.example.org"),
            ("\tcarol@example.co.uk", "carol@example.co.uk"),
        ],
    )
    def test_lower_cases_and_strips(self, raw: str, expected: str) -> None:
        email = Email(raw)
        assert email.value == expected
        assert str(email) == expected

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "   ",
            "alice",
            "alice.example.com",
            "alice@",
            "@example.com",
            "alice smith@example.com",
            "alice@exa mple.com",
            "alice@@example.com",
            "alice@bob@example.com",
            "alice@example",
            "alice..smith@example.com",
            ".alice@example.com",
            "alice@.example.com",
            "alice@example..com",
        ],
    )
    def test_rejects_malformed_addresses(self, raw: str) -> None:
        with pytest.raises(InvalidValue):
            Email(raw)

    @pytest.mark.parametrize("raw", [None, 42, b"alice@example.com", ["alice@example.com"]])
    def test_rejects_non_strings(self, raw: object) -> None:
        with pytest.raises(InvalidValue):
            Email(raw)  # type: ignore[arg-type]

    def test_equality_ignores_case_and_surrounding_space(self) -> None:
        assert Email("Alice@Example.com") == Email(" alice@example.COM ")
        assert hash(Email("Alice@Example.com")) == hash(Email("alice@example.com"))
        assert Email("alice@example.com") != Email("alice2@example.com")

    def test_is_frozen(self) -> None:
        email = Email("alice@example.com")
        with pytest.raises(dataclasses.FrozenInstanceError):
            email.value = "mallory@example.com"  # type: ignore[misc]


class TestEmailProperties:
    @PROPERTY
    @given(raw=st.emails())
    def test_normalisation_is_idempotent(self, raw: str) -> None:
        email = Email(raw)
        assert Email(email.value) == email
        assert Email(email.value).value == email.value

    @PROPERTY
    @given(raw=st.emails(), padding=st.sampled_from(["", " ", "  ", "\t", "\n", " \t "]))
    def test_value_is_lower_case_and_stripped(self, raw: str, padding: str) -> None:
        email = Email(padding + raw + padding)
        assert email.value == email.value.lower()
        assert email.value == email.value.strip()
        assert email == Email(raw)
        assert email.value.count("@") == 1

    @PROPERTY
    @given(raw=st.emails())
    def test_case_of_the_input_does_not_matter(self, raw: str) -> None:
        assert Email(raw.upper()) == Email(raw.lower()) == Email(raw)

    @PROPERTY
    @given(text=st.text(max_size=40))
    def test_arbitrary_text_is_either_a_valid_address_or_invalid_value(self, text: str) -> None:
        try:
            email = Email(text)
        except InvalidValue:
            return
        assert email.value.count("@") == 1
        assert email.value == email.value.lower()
        assert Email(email.value) == email


# ---- Duration ---------------------------------------------------------------------------


class TestDuration:
    @pytest.mark.parametrize("seconds", [0, 1, 59, 3600, WEEK])
    def test_accepts_whole_seconds_up_to_a_week(self, seconds: int) -> None:
        assert Duration(seconds).seconds == seconds

    @pytest.mark.parametrize("seconds", [-1, -3600, WEEK + 1, 10 * WEEK])
    def test_rejects_out_of_range(self, seconds: int) -> None:
        with pytest.raises(InvalidValue):
            Duration(seconds)

    @pytest.mark.parametrize("seconds", [True, False])
    def test_rejects_bools(self, seconds: bool) -> None:
        with pytest.raises(InvalidValue):
            Duration(seconds)

    @pytest.mark.parametrize("seconds", [1.0, 1.5, "60", Decimal(60), None, timedelta(seconds=5)])
    def test_rejects_non_ints(self, seconds: object) -> None:
        with pytest.raises(InvalidValue):
            Duration(seconds)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("seconds", "text"),
        [
            (0, "0:00"),
            (5, "0:05"),
            (59, "0:59"),
            (60, "1:00"),
            (61, "1:01"),
            (599, "9:59"),
            (3599, "59:59"),
            (3600, "1:00:00"),
            (3661, "1:01:01"),
            (36_000 + 5, "10:00:05"),
            (WEEK, "168:00:00"),
        ],
    )
    def test_str(self, seconds: int, text: str) -> None:
        assert str(Duration(seconds)) == text

    def test_timedelta_round_trip(self) -> None:
        assert Duration.from_timedelta(timedelta(minutes=90)) == Duration(5400)
        assert Duration(5400).as_timedelta() == timedelta(minutes=90)
        assert Duration.from_timedelta(timedelta(days=7)) == Duration(WEEK)
        with pytest.raises(InvalidValue):
            Duration.from_timedelta(timedelta(days=7, seconds=1))

    @pytest.mark.parametrize(
        "delta", [timedelta(seconds=-1), timedelta(seconds=-0.5), timedelta(microseconds=-1)]
    )
    def test_from_negative_timedelta_raises(self, delta: timedelta) -> None:
        with pytest.raises(InvalidValue):
            Duration.from_timedelta(delta)

    def test_is_ordered_and_frozen(self) -> None:
        assert Duration(1) < Duration(60) < Duration(WEEK)
        duration = Duration(10)
        with pytest.raises(dataclasses.FrozenInstanceError):
            duration.seconds = 20  # type: ignore[misc]

    @PROPERTY
    @given(seconds=st.integers(min_value=0, max_value=WEEK))
    def test_str_parses_back_to_the_same_seconds(self, seconds: int) -> None:
        parts = [int(p) for p in str(Duration(seconds)).split(":")]
        total = 0
        for part in parts:
            total = total * 60 + part
        assert total == seconds
        assert Duration.from_timedelta(Duration(seconds).as_timedelta()) == Duration(seconds)
