"""Typed filters, sorts and pagination objects; opaque keyset cursors (SPEC 4)."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Numeric, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from learnhub.domain.enums import UserStatus
from learnhub.domain.errors import InvalidCursor, InvalidValue
from learnhub.models import User
from learnhub.repositories.course_catalog import CATALOG_SORTS
from learnhub.repositories.filters import (
    MAX_CURSOR_LENGTH,
    CursorPagination,
    Eq,
    In,
    IsNull,
    OffsetPagination,
    Range,
    Search,
    Sort,
    decode_cursor,
    encode_cursor,
)

PROPERTY = settings(max_examples=200, deadline=None, database=None)
# The longest text column any list sorts by: users.email.
LONGEST_TEXT_KEY = 254


class _TestBase(DeclarativeBase):
    """A private registry: the learnhub models have no Numeric column to sort on."""


class Priced(_TestBase):
    __tablename__ = "priced_for_cursor_tests"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    total: Mapped[int] = mapped_column(BigInteger)


NEWEST = Sort("newest", User.created_at, descending=True)
BY_EMAIL = Sort("email", User.email, descending=False)
BY_VERSION = Sort("version", User.version)
BY_ID = Sort("id", User.id)
BY_STATUS = Sort("status", User.status)
BY_PRICE = Sort("price", Priced.amount)
BY_TOTAL = Sort("total", Priced.total)  # a 64-bit integer column

ROW_ID = uuid.UUID("0192f0c1-7a3b-7c4d-8e5f-0123456789ab")


def raw_cursor(body: bytes | str) -> str:
    """A cursor whose body is exactly `body`, encoded like the real ones."""
    data = body.encode() if isinstance(body, str) else body
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def json_cursor(data: Any) -> str:
    return raw_cursor(json.dumps(data))


def assert_decodes_or_invalid(cursor: str, sort: Sort) -> None:
    """The contract: decoding returns a (value, UUID) pair or raises InvalidCursor; any
    other exception would surface as a 500 instead of a 400."""
    try:
        _value, row_id = decode_cursor(cursor, sort)
    except InvalidCursor:
        return
    assert isinstance(row_id, uuid.UUID)


# ---- cursor round trips -----------------------------------------------------------------


class TestCursorRoundTrip:
    @pytest.mark.parametrize(
        "value",
        [
            datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=UTC),
            datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-8))),
        ],
    )
    def test_datetime(self, value: datetime) -> None:
        decoded, row_id = decode_cursor(encode_cursor(NEWEST, value, ROW_ID), NEWEST)
        assert isinstance(decoded, datetime)
        assert decoded == value
        assert decoded.utcoffset() == value.utcoffset()
        assert row_id == ROW_ID

    @pytest.mark.parametrize(
        "value", [Decimal("19.99"), Decimal("0.00"), Decimal("999999.99"), Decimal("-5.5")]
    )
    def test_decimal(self, value: Decimal) -> None:
        decoded, row_id = decode_cursor(encode_cursor(BY_PRICE, value, ROW_ID), BY_PRICE)
        assert isinstance(decoded, Decimal)
        assert decoded == value
        assert str(decoded) == str(value)
        assert row_id == ROW_ID

    @pytest.mark.parametrize(
        "value", ["alice@example.com", "", "ünïcödé@exämple.com", 'quote"s\\and/slashes']
    )
    def test_str(self, value: str) -> None:
        decoded, row_id = decode_cursor(encode_cursor(BY_EMAIL, value, ROW_ID), BY_EMAIL)
        assert decoded == value
        assert row_id == ROW_ID

    @pytest.mark.parametrize(
        ("sort", "value"),
        [(BY_VERSION, v) for v in (0, 1, 42, -7, 2**31 - 1, -(2**31))]
        + [(BY_TOTAL, v) for v in (2**31, 2**52, -(2**53) + 1)],
    )
    def test_int(self, sort: Sort, value: int) -> None:
        decoded, row_id = decode_cursor(encode_cursor(sort, value, ROW_ID), sort)
        assert type(decoded) is int
        assert decoded == value
        assert row_id == ROW_ID

    def test_uuid(self) -> None:
        value = uuid.uuid4()
        decoded, row_id = decode_cursor(encode_cursor(BY_ID, value, ROW_ID), BY_ID)
        assert isinstance(decoded, uuid.UUID)
        assert decoded == value
        assert row_id == ROW_ID

    @pytest.mark.parametrize("value", list(UserStatus))
    def test_enum(self, value: UserStatus) -> None:
        decoded, _ = decode_cursor(encode_cursor(BY_STATUS, value, ROW_ID), BY_STATUS)
        assert decoded is value

    def test_cursor_is_opaque_url_safe_text(self) -> None:
        cursor = encode_cursor(BY_EMAIL, "a+b/c?d=e&f@example.com", ROW_ID)
        assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)
        assert "example" not in cursor

    @PROPERTY
    @given(
        value=st.datetimes(
            timezones=st.one_of(
                st.just(UTC),
                st.builds(
                    lambda minutes: timezone(timedelta(minutes=minutes)),
                    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
                ),
            )
        ),
        row_id=st.uuids(),
    )
    def test_any_aware_datetime(self, value: datetime, row_id: uuid.UUID) -> None:
        decoded, decoded_id = decode_cursor(encode_cursor(NEWEST, value, row_id), NEWEST)
        assert decoded == value
        assert decoded.utcoffset() == value.utcoffset()
        assert decoded_id == row_id

    @PROPERTY
    @given(
        value=st.decimals(allow_nan=False, allow_infinity=False).filter(lambda d: abs(d) < 2**53),
        row_id=st.uuids(),
    )
    def test_any_finite_decimal(self, value: Decimal, row_id: uuid.UUID) -> None:
        decoded, decoded_id = decode_cursor(encode_cursor(BY_PRICE, value, row_id), BY_PRICE)
        assert decoded == value
        assert str(decoded) == str(value)
        assert decoded_id == row_id

    @PROPERTY
    @given(value=st.text(max_size=LONGEST_TEXT_KEY), row_id=st.uuids())
    def test_any_str(self, value: str, row_id: uuid.UUID) -> None:
        # Any text a sort key can hold (the longest is an e-mail address, 254 characters):
        # an unbounded string once made a cursor the decoder refused as too long.
        decoded, decoded_id = decode_cursor(encode_cursor(BY_EMAIL, value, row_id), BY_EMAIL)
        assert decoded == value
        assert decoded_id == row_id

    @pytest.mark.parametrize("char", ["a", "é", "€", "𝄞", "\x1f"])
    def test_the_longest_text_key_of_the_widest_characters_fits(self, char: str) -> None:
        value = char * LONGEST_TEXT_KEY
        cursor = encode_cursor(BY_EMAIL, value, ROW_ID)
        assert len(cursor) <= MAX_CURSOR_LENGTH
        assert decode_cursor(cursor, BY_EMAIL) == (value, ROW_ID)

    @PROPERTY
    @given(value=st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1), row_id=st.uuids())
    def test_any_int(self, value: int, row_id: uuid.UUID) -> None:
        """Within a 64-bit column every key round-trips; a 32-bit column's keys round-trip
        within its range and are refused beyond it."""
        decoded, decoded_id = decode_cursor(encode_cursor(BY_TOTAL, value, row_id), BY_TOTAL)
        assert decoded == value
        assert decoded_id == row_id
        cursor = encode_cursor(BY_VERSION, value, row_id)
        if -(2**31) <= value < 2**31:
            assert decode_cursor(cursor, BY_VERSION) == (value, row_id)
        else:
            with pytest.raises(InvalidCursor):
                decode_cursor(cursor, BY_VERSION)

    @pytest.mark.parametrize("value", [2**53, -(2**53), 2**63, 2**70])
    def test_numbers_beyond_any_sort_key_are_forged(self, value: int) -> None:
        # A count, rating or price never gets near 2**53; a cursor that claims so was made
        # by hand and would overflow the database's integer types.
        row_id = uuid.UUID(int=1)
        with pytest.raises(InvalidCursor):
            decode_cursor(encode_cursor(BY_VERSION, value, row_id), BY_VERSION)
        with pytest.raises(InvalidCursor):
            decode_cursor(encode_cursor(BY_PRICE, Decimal(value), row_id), BY_PRICE)

    @PROPERTY
    @given(value=st.uuids(), row_id=st.uuids())
    def test_any_uuid(self, value: uuid.UUID, row_id: uuid.UUID) -> None:
        decoded, decoded_id = decode_cursor(encode_cursor(BY_ID, value, row_id), BY_ID)
        assert decoded == value
        assert decoded_id == row_id


# ---- cursors that must be refused ---------------------------------------------------------


class TestInvalidCursors:
    def test_cursor_for_another_sort_is_refused(self) -> None:
        cursor = encode_cursor(BY_EMAIL, "alice@example.com", ROW_ID)
        other = Sort("email_desc", User.email, descending=True)
        with pytest.raises(InvalidCursor) as info:
            decode_cursor(cursor, other)
        assert isinstance(info.value, InvalidValue)  # mapped to a 4xx like any bad input

    def test_cursor_for_another_sort_of_another_type_is_refused(self) -> None:
        cursor = encode_cursor(NEWEST, datetime(2024, 1, 1, tzinfo=UTC), ROW_ID)
        with pytest.raises(InvalidCursor):
            decode_cursor(cursor, BY_VERSION)

    @pytest.mark.parametrize(
        "cursor",
        [
            "",
            "A",
            "=",
            "====",
            "not a cursor",
            "!!!!",
            "%%%%",
            "@@@@@@@@",
            "ü",
            "ünïcödé-cursor",
            "\x00\x01\x02",
            "eyJz",  # the first bytes of a real cursor: '{"s'
        ],
    )
    def test_garbage_is_refused(self, cursor: str) -> None:
        with pytest.raises(InvalidCursor):
            decode_cursor(cursor, BY_EMAIL)

    @pytest.mark.parametrize("cut", [1, 2, 3, 5, 10, 30])
    def test_truncated_cursor_is_refused(self, cut: int) -> None:
        cursor = encode_cursor(BY_EMAIL, "alice@example.com", ROW_ID)
        with pytest.raises(InvalidCursor):
            decode_cursor(cursor[:-cut], BY_EMAIL)
        with pytest.raises(InvalidCursor):
            decode_cursor(cursor[:cut], BY_EMAIL)

    def test_standard_base64_padding_is_tolerated_but_not_required(self) -> None:
        cursor = encode_cursor(BY_EMAIL, "al", ROW_ID)
        padded = cursor + "=" * (-len(cursor) % 4)
        assert decode_cursor(padded, BY_EMAIL) == decode_cursor(cursor, BY_EMAIL)

    @pytest.mark.parametrize(
        "body",
        [
            b"hello world",
            b"",
            b"\xff\xfe\xfd\x00",
            b"\x80\x81",
            b"{not json}",
            b'{"s": "email", "v": "a", "id": ',
            b"\xef\xbb\xbf{}",
        ],
    )
    def test_valid_base64_but_not_json_is_refused(self, body: bytes) -> None:
        with pytest.raises(InvalidCursor):
            decode_cursor(raw_cursor(body), BY_EMAIL)

    @pytest.mark.parametrize(
        "data",
        [
            None,
            [],
            ["email", "a", str(ROW_ID)],
            "email",
            42,
            {},
            {"s": "email", "v": "a"},
            {"s": "email", "id": str(ROW_ID)},
            {"v": "a", "id": str(ROW_ID)},
            {"s": "email", "v": "a", "id": str(ROW_ID), "extra": 1},
            {"sort": "email", "value": "a", "id": str(ROW_ID)},
        ],
    )
    def test_json_with_wrong_shape_is_refused(self, data: Any) -> None:
        with pytest.raises(InvalidCursor):
            decode_cursor(json_cursor(data), BY_EMAIL)

    @pytest.mark.parametrize(
        ("sort", "value", "row_id"),
        [
            (BY_EMAIL, "a", "not-a-uuid"),
            (BY_EMAIL, "a", 12345),
            (BY_EMAIL, "a", None),
            (BY_EMAIL, "a", [str(ROW_ID)]),
            (BY_EMAIL, 5, str(ROW_ID)),
            (BY_EMAIL, None, str(ROW_ID)),
            (BY_EMAIL, ["a"], str(ROW_ID)),
            (BY_VERSION, "one", str(ROW_ID)),
            (BY_VERSION, None, str(ROW_ID)),
            (BY_VERSION, True, str(ROW_ID)),
            (BY_VERSION, {"n": 1}, str(ROW_ID)),
            (BY_VERSION, "NaN", str(ROW_ID)),
            (BY_ID, "not-a-uuid", str(ROW_ID)),
            (BY_ID, 7, str(ROW_ID)),
            (BY_PRICE, "twelve", str(ROW_ID)),
            (BY_PRICE, {"a": 1}, str(ROW_ID)),
            (BY_PRICE, None, str(ROW_ID)),
            (BY_STATUS, "no-such-status", str(ROW_ID)),
            (NEWEST, "yesterday", str(ROW_ID)),
            (NEWEST, 1714560000, str(ROW_ID)),
            (NEWEST, None, str(ROW_ID)),
        ],
    )
    def test_values_of_the_wrong_type_are_refused(
        self, sort: Sort, value: Any, row_id: Any
    ) -> None:
        with pytest.raises(InvalidCursor):
            decode_cursor(json_cursor({"s": sort.name, "v": value, "id": row_id}), sort)

    def test_values_the_column_cannot_hold_are_refused(self) -> None:
        """Forged keys the database would refuse to compare (a 32-bit count beyond its
        range, a moment before year 1 in UTC) are bad cursors, not database errors."""
        enrollments = CATALOG_SORTS["enrollments"]
        for count in (2**31, -(2**31) - 1, 2**53 - 1):
            forged = json_cursor({"s": "enrollments", "v": count, "id": str(ROW_ID)})
            with pytest.raises(InvalidCursor):
                decode_cursor(forged, enrollments)
        at_the_edge = json_cursor({"s": "enrollments", "v": 2**31 - 1, "id": str(ROW_ID)})
        assert decode_cursor(at_the_edge, enrollments) == (2**31 - 1, ROW_ID)
        before_year_one = {"s": "newest", "v": "0001-01-01T00:00:00+14:00", "id": str(ROW_ID)}
        with pytest.raises(InvalidCursor):
            decode_cursor(json_cursor(before_year_one), NEWEST)

    def test_naive_datetime_cursor_is_refused(self) -> None:
        naive = datetime(2024, 5, 1, 12, 0)  # noqa: DTZ001 - deliberately naive
        with pytest.raises(InvalidCursor):
            decode_cursor(encode_cursor(NEWEST, naive, ROW_ID), NEWEST)
        with pytest.raises(InvalidCursor):
            decode_cursor(
                json_cursor({"s": "newest", "v": "2024-05-01T12:00:00", "id": str(ROW_ID)}),
                NEWEST,
            )

    @pytest.mark.parametrize(
        ("sort", "literal"),
        [
            # JSON as Python reads it allows Infinity; int(inf) raises OverflowError.
            (BY_VERSION, "Infinity"),
            (BY_VERSION, "-Infinity"),
            (BY_VERSION, "1e999"),
            # A Decimal built from a (sign, digits, exponent) list with a huge exponent.
            (BY_PRICE, f"[0,[1],{10**30}]"),
        ],
    )
    def test_overflowing_values_are_refused(self, sort: Sort, literal: str) -> None:
        body = f'{{"s":"{sort.name}","v":{literal},"id":"{ROW_ID}"}}'
        with pytest.raises(InvalidCursor):
            decode_cursor(raw_cursor(body), sort)

    @pytest.mark.parametrize("depth", [1_000, 5_000])
    def test_deeply_nested_json_is_refused(self, depth: int) -> None:
        # About 1.3 kB of cursor text: well within what a query string carries.
        with pytest.raises(InvalidCursor):
            decode_cursor(raw_cursor("[" * depth + "]" * depth), BY_EMAIL)


class TestCursorFuzzing:
    @PROPERTY
    @given(cursor=st.text())
    def test_arbitrary_text_returns_or_raises_invalid_cursor(self, cursor: str) -> None:
        for sort in (BY_EMAIL, BY_VERSION, BY_ID, NEWEST):
            assert_decodes_or_invalid(cursor, sort)

    @PROPERTY
    @given(body=st.binary())
    def test_arbitrary_bytes_returns_or_raises_invalid_cursor(self, body: bytes) -> None:
        cursor = raw_cursor(body)
        for sort in (BY_EMAIL, BY_VERSION, BY_PRICE):
            assert_decodes_or_invalid(cursor, sort)

    @PROPERTY
    @given(
        value=st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
            lambda children: (
                st.lists(children, max_size=4)
                | st.dictionaries(st.text(max_size=5), children, max_size=4)
            ),
            max_leaves=10,
        ),
        row_id=st.one_of(st.uuids().map(str), st.text(max_size=40), st.integers()),
    )
    def test_well_shaped_json_with_arbitrary_values_returns_or_raises_invalid_cursor(
        self, value: Any, row_id: Any
    ) -> None:
        # The right sort name each time, so the value always reaches the type conversion.
        for sort in (BY_EMAIL, BY_VERSION, BY_PRICE, BY_ID, NEWEST, BY_STATUS):
            assert_decodes_or_invalid(json_cursor({"s": sort.name, "v": value, "id": row_id}), sort)


# ---- pagination bounds ------------------------------------------------------------------


class TestPagination:
    def test_cursor_pagination_defaults(self) -> None:
        pagination = CursorPagination()
        assert pagination.limit == 20
        assert pagination.cursor is None

    @pytest.mark.parametrize("limit", [1, 50, 100])
    def test_cursor_pagination_accepts_limits_in_range(self, limit: int) -> None:
        assert CursorPagination(limit=limit).limit == limit

    @pytest.mark.parametrize("limit", [0, -1, 101, 1000])
    def test_cursor_pagination_rejects_limits_out_of_range(self, limit: int) -> None:
        with pytest.raises(InvalidValue):
            CursorPagination(limit=limit)

    def test_offset_pagination_defaults(self) -> None:
        pagination = OffsetPagination()
        assert (pagination.limit, pagination.offset) == (20, 0)

    @pytest.mark.parametrize(("limit", "offset"), [(1, 0), (100, 0), (20, 10_000), (5, 40)])
    def test_offset_pagination_accepts_bounds(self, limit: int, offset: int) -> None:
        pagination = OffsetPagination(limit=limit, offset=offset)
        assert (pagination.limit, pagination.offset) == (limit, offset)

    @pytest.mark.parametrize(
        ("limit", "offset"), [(0, 0), (101, 0), (-5, 0), (20, -1), (20, 10_001)]
    )
    def test_offset_pagination_rejects_out_of_range(self, limit: int, offset: int) -> None:
        with pytest.raises(InvalidValue):
            OffsetPagination(limit=limit, offset=offset)

    @PROPERTY
    @given(limit=st.integers())
    def test_limit_is_valid_exactly_from_1_to_100(self, limit: int) -> None:
        if 1 <= limit <= 100:
            assert CursorPagination(limit=limit).limit == limit
            assert OffsetPagination(limit=limit).limit == limit
        else:
            with pytest.raises(InvalidValue):
                CursorPagination(limit=limit)
            with pytest.raises(InvalidValue):
                OffsetPagination(limit=limit)


# ---- filters ------------------------------------------------------------------------------


def literal_sql(clause: Any) -> str:
    return str(clause.compile(compile_kwargs={"literal_binds": True}))


def unescape_like(pattern: str) -> str:
    """Undo LIKE escaping with '\\'; fail on any unescaped wildcard."""
    out: list[str] = []
    chars = iter(pattern)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars)
            assert nxt in "\\%_", f"stray escape before {nxt!r} in {pattern!r}"
            out.append(nxt)
        else:
            assert ch not in "%_", f"unescaped wildcard {ch!r} in {pattern!r}"
            out.append(ch)
    return "".join(out)


class TestSearch:
    def test_percent_and_underscore_are_escaped(self) -> None:
        sql = literal_sql(Search([User.email], "50%_off").clause())
        assert "'%50\\%\\_off%'" in sql
        assert "ESCAPE '\\'" in sql
        assert "LIKE" in sql.upper()

    def test_backslash_is_escaped_too(self) -> None:
        sql = literal_sql(Search([User.email], "a\\b").clause())
        assert "'%a\\\\b%'" in sql

    def test_plain_text_is_wrapped_in_wildcards(self) -> None:
        sql = literal_sql(Search([User.email], "alice").clause())
        assert "'%alice%'" in sql

    def test_matches_any_of_the_fields_case_insensitively(self) -> None:
        sql = literal_sql(Search([User.email, User.display_name], "Al").clause())
        assert "users.email" in sql
        assert "users.display_name" in sql
        assert " OR " in sql
        assert "lower(" in sql.lower()  # the default dialect renders ILIKE as lower() LIKE

    def test_nul_in_the_needle_is_invalid(self) -> None:
        # PostgreSQL text cannot hold NUL: refuse it as bad input instead of failing in SQL.
        with pytest.raises(InvalidValue):
            Search([User.email], "a\x00b")

    @PROPERTY
    @given(text=st.text(alphabet=st.characters(exclude_characters="\x00"), max_size=30))
    def test_needle_is_always_a_literal(self, text: str) -> None:
        clause = Search([User.email], text).clause()
        params = list(clause.compile().params.values())
        assert len(params) == 1
        pattern = params[0]
        assert pattern.startswith("%")
        assert pattern.endswith("%")
        assert unescape_like(pattern[1:-1]) == text


class TestSimpleFilters:
    def test_eq(self) -> None:
        assert literal_sql(Eq(User.email, "a@example.com").clause()) == (
            "users.email = 'a@example.com'"
        )

    def test_in(self) -> None:
        sql = literal_sql(In(User.version, (1, 2, 3)).clause())
        assert sql == "users.version IN (1, 2, 3)"

    def test_range_with_both_bounds_is_inclusive(self) -> None:
        sql = literal_sql(Range(User.version, 2, 5).clause())
        assert "users.version >= 2" in sql
        assert "users.version <= 5" in sql

    def test_range_with_one_bound(self) -> None:
        assert literal_sql(Range(User.version, minimum=2).clause()) == "users.version >= 2"
        assert literal_sql(Range(User.version, maximum=5).clause()) == "users.version <= 5"

    def test_range_without_bounds_matches_everything(self) -> None:
        sql = literal_sql(Range(User.version).clause()).lower()
        assert "version" not in sql
        assert "true" in sql or "1 = 1" in sql

    def test_is_null(self) -> None:
        assert literal_sql(IsNull(User.last_login_at).clause()) == "users.last_login_at IS NULL"
        assert (
            literal_sql(IsNull(User.last_login_at, is_null=False).clause())
            == "users.last_login_at IS NOT NULL"
        )
