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


def test_a_value_is_kept_from_its_second_derivation_while_its_source_reads_the_same() -> None:
    derive = Counting()
    derived = Derived(derive, capacity=4)
    first = derived.of("a", ("title", 1))
    assert len(derived) == 0  # asked once: derived, not kept
    # Asked again with an equal source (a new object, as every request's row is).
    second = derived.of("a", ("title", int("1")))
    assert len(derived) == 1
    third = derived.of("a", ("title", int("1")))
    assert first == second == third == "title v1"
    assert third is second
    assert derive.asked == [("title", 1), ("title", 1)]


def kept(derived: Derived[tuple[str, int], str], *keys: str) -> None:
    """Ask for each key twice: from then on its value is kept."""
    for key in keys:
        derived.of(key, (key, 1))
        derived.of(key, (key, 1))


def test_a_changed_source_is_derived_afresh_and_kept_in_place_of_the_old() -> None:
    derive = Counting()
    derived = Derived(derive, capacity=4)
    kept(derived, "a")
    assert derived.of("a", ("a", 2)) == "a v2"
    assert derived.of("a", ("a", 2)) == "a v2"  # kept at once: the key was kept
    assert derived.of("a", ("retitled", 2)) == "retitled v2"
    # Back to an earlier source: derived again, never an older value by mistake.
    assert derived.of("a", ("a", 1)) == "a v1"
    assert derive.asked == [("a", 1), ("a", 1), ("a", 2), ("retitled", 2), ("a", 1)]
    assert len(derived) == 1


def test_keys_are_kept_apart() -> None:
    derived = Derived(Counting(), capacity=4)
    kept(derived, "a")
    assert derived.of("b", ("b", 1)) == "b v1"
    assert derived.of("a", ("a", 1)) == "a v1"
    assert derived.of("b", ("b", 1)) == "b v1"


def test_no_more_keys_are_kept_than_the_capacity_the_oldest_going_first() -> None:
    derive = Counting()
    derived = Derived(derive, capacity=2)
    kept(derived, "a", "b", "c")  # "a" goes
    assert len(derived) == 2
    derive.asked.clear()
    derived.of("b", ("b", 1))  # still kept: not derived again
    derived.of("c", ("c", 1))
    assert derive.asked == []
    derived.of("a", ("a", 1))  # derived again, and asked once again: not kept yet
    assert derived.of("b", ("b", 1)) == "b v1"
    derived.of("a", ("a", 1))  # kept now; "b", kept longest, goes
    derived.of("b", ("b", 1))
    assert derive.asked == [("a", 1), ("a", 1), ("b", 1)]
    assert len(derived) == 2


def test_keys_asked_once_never_push_a_kept_key_out() -> None:
    """A crawl through every course leaves the popular pages kept."""
    derive = Counting()
    derived = Derived(derive, capacity=2)
    kept(derived, "popular")
    for n in range(100):
        derived.of(f"crawled {n}", ("crawled", n))
    assert len(derived) == 1
    derive.asked.clear()
    assert derived.of("popular", ("popular", 1)) == "popular v1"
    assert derive.asked == []


def test_only_the_last_keys_asked_once_are_remembered() -> None:
    derive = Counting()
    derived = Derived(derive, capacity=2)
    derived.of("a", ("a", 1))
    derived.of("b", ("b", 1))
    derived.of("c", ("c", 1))  # "a" is forgotten: asked once again below, not kept
    derived.of("a", ("a", 1))
    assert len(derived) == 0
    derived.of("c", ("c", 1))  # "c" still remembered: kept
    assert len(derived) == 1
    assert derive.asked == [("a", 1), ("b", 1), ("c", 1), ("a", 1), ("c", 1)]


def test_a_key_whose_source_changed_at_full_capacity_pushes_no_other_key_out() -> None:
    derive = Counting()
    derived = Derived(derive, capacity=2)
    kept(derived, "a", "b")
    derived.of("a", ("a", 2))  # a change of a kept key: no room needed
    derived.of("b", ("b", 1))
    assert derive.asked == [("a", 1), ("a", 1), ("b", 1), ("b", 1), ("a", 2)]


def test_a_derived_keeps_at_least_one_key() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Derived(Counting(), capacity=0)
