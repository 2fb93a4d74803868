"""`Derived` (db/derived.py): a value derived from a read's rows is reused only while the rows
read the same, and only for a bounded number of keys."""

from __future__ import annotations

import pytest

from learnhub.db.derived import Derived


class Counting:
    """A derivation that records what it was asked to derive."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    def __call__(self, source: tuple[str, int]) -> str:
        self.asked.append(source)
        return f"{source[0]} v{source[1]}"


def test_a_value_is_derived_once_while_its_source_reads_the_same() -> None:
    derive = Counting()
    derived = Derived(derive, capacity=4)
    first = derived.of("a", ("title", 1))
    # An equal source read again (a new object, as every request's row is): the same value.
    again = derived.of("a", ("title", int("1")))
    assert first == again == "title v1"
    assert again is first
    assert derive.asked == [("title", 1)]


def test_a_changed_source_is_derived_afresh_and_kept_in_place_of_the_old() -> None:
    derive = Counting()
    derived = Derived(derive, capacity=4)
    derived.of("a", ("title", 1))
    assert derived.of("a", ("title", 2)) == "title v2"
    assert derived.of("a", ("retitled", 2)) == "retitled v2"
    # Back to an earlier source: derived again, never an older value by mistake.
    assert derived.of("a", ("title", 1)) == "title v1"
    assert derive.asked == [("title", 1), ("title", 2), ("retitled", 2), ("title", 1)]
    assert len(derived) == 1


def test_keys_are_kept_apart() -> None:
    derived = Derived(Counting(), capacity=4)
    assert derived.of("a", ("same", 1)) == "same v1"
    assert derived.of("b", ("other", 1)) == "other v1"
    assert derived.of("a", ("same", 1)) == "same v1"


def test_no_more_keys_are_kept_than_the_capacity_the_oldest_going_first() -> None:
    derive = Counting()
    derived = Derived(derive, capacity=2)
    derived.of("a", ("a", 1))
    derived.of("b", ("b", 1))
    derived.of("c", ("c", 1))  # "a" goes
    assert len(derived) == 2
    derived.of("b", ("b", 1))  # still kept: not derived again
    derived.of("a", ("a", 1))  # derived again; "b", kept longest, goes
    assert derive.asked == [("a", 1), ("b", 1), ("c", 1), ("a", 1)]
    assert len(derived) == 2


def test_a_key_whose_source_changed_at_full_capacity_pushes_no_other_key_out() -> None:
    derive = Counting()
    derived = Derived(derive, capacity=2)
    derived.of("a", ("a", 1))
    derived.of("b", ("b", 1))
    derived.of("a", ("a", 2))  # a change of a kept key: no room needed
    derived.of("b", ("b", 1))
    assert derive.asked == [("a", 1), ("b", 1), ("a", 2)]


def test_a_derived_keeps_at_least_one_key() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Derived(Counting(), capacity=0)
