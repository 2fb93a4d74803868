"""The catalog search's query building, without a database: what reaches SQLite's FTS5 is
made only of quoted strings, and relevance cursors round-trip."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import literal_column

from learnhub.domain.errors import InvalidCursor
from learnhub.repositories.course_search import Mode, TextSearch, fts5_query, mode_of
from learnhub.repositories.filters import Sort, cursor_sort_name, decode_cursor, encode_cursor


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("python data", '"python" "data"'),
        ("Crème   brûlée", '"Crème" "brûlée"'),
        ('"data analysis" python', '"data analysis" "python"'),
        ("python -beginners", '"python" NOT "beginners"'),
        ('python -"for beginners"', '"python" NOT "for beginners"'),
        ("-beginners python", '"python" NOT "beginners"'),
        ("title:rust NEAR(a b) x* OR y", '"title rust" "NEAR a" "b" "x" "OR" "y"'),
        ('unclosed "quote', '"unclosed" "quote"'),
        ("%", '""'),
        ("-python", '""'),
        ('""', '""'),
        ("snake_case", '"snake_case"'),
    ],
)
def test_fts5_query_is_quoted_words_only(q, expected):
    assert fts5_query(q) == expected


def test_fts5_query_is_bounded():
    assert fts5_query(" ".join(f"w{i}" for i in range(100))).count('"') == 2 * 16


def test_typo_fallback_only_for_words_long_enough_to_compare():
    assert TextSearch("kubenetes in go").typo_words() == ["kubenetes"]
    assert TextSearch("go js").typo_words() == []


def test_a_relevance_cursor_carries_rank_id_and_mode():
    rank = literal_column("rank")
    order = Sort("relevance~typo", rank, descending=True, value_type=float)
    row_id = uuid.uuid4()
    cursor = encode_cursor(order, 0.8908184703423299, row_id)
    assert cursor_sort_name(cursor) == "relevance~typo"
    assert mode_of(cursor_sort_name(cursor)) is Mode.TYPO
    assert decode_cursor(cursor, order) == (0.8908184703423299, row_id)
    # Another mode's cursor does not fit, and a forged rank is refused, not passed on.
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, Sort("relevance", rank, descending=True, value_type=float))
    forged = encode_cursor(order, "high", row_id)
    with pytest.raises(InvalidCursor):
        decode_cursor(forged, order)
    assert cursor_sort_name("not a cursor!") is None
    assert mode_of(None) is Mode.FULL_TEXT
