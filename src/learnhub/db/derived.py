"""What a hot read derives from its rows, kept while the rows read the same.

The course page's statement runs on every request (soft delete, visibility and every counter
are read fresh each time); writing the page's JSON from what it read is a pure function of
that. Done once per change of the course instead of once per request, it saved 12-13% of a
popular course page's CPU (bench/RESULTS.md, "A course page written once per change").
Nothing kept can be stale: a value is reused only for a source equal to the one it was
derived from, compared on every request; anything else derives it afresh."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

Source = TypeVar("Source")
Value = TypeVar("Value")


class Derived(Generic[Source, Value]):
    """`derive(source)` for up to `capacity` keys, reused while the source given for a key
    equals the one its value came from. The source must be immutable (rows, tuples, frozen
    dataclasses) and so must the value: both are shared by every request that reads the
    same. Called from one thread (the event loop's): nothing in it awaits or locks.

    A key's value is kept from the second time it is derived while the key is remembered
    as asked once (the last `capacity` such keys): a key asked once is not kept. A crawl
    through every course then pushes no popular page out, and a page asked once costs no
    keeping (what a kept value held is freed cold, when it is pushed out: about 6 us of a
    course page written afresh, bench/RESULTS.md)."""

    __slots__ = ("_asked_once", "_kept", "capacity", "derive")

    def __init__(self, derive: Callable[[Source], Value], capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a Derived keeps at least one key")
        self.derive = derive
        self.capacity = capacity
        self._kept: dict[Hashable, tuple[Source, Value]] = {}
        self._asked_once: dict[Hashable, None] = {}  # in order of asking, as a bounded set

    def of(self, key: Hashable, source: Source) -> Value:
        kept = self._kept.get(key)
        if kept is not None and kept[0] == source:
            return kept[1]
        value = self.derive(source)
        if kept is None:
            if self._asked_once.pop(key, _ABSENT) is _ABSENT:
                _make_room(self._asked_once, self.capacity)
                self._asked_once[key] = None
                return value
            # The key kept longest goes: insertion order, not recency (a hit moves nothing,
            # which would cost every request).
            _make_room(self._kept, self.capacity)
        self._kept[key] = (source, value)
        return value

    def __len__(self) -> int:
        return len(self._kept)


_ABSENT = object()


def _make_room(bounded: dict[Hashable, Any], capacity: int) -> None:
    """Room for one more key in a dict of at most `capacity` keys: the oldest goes."""
    if len(bounded) >= capacity:
        bounded.pop(next(iter(bounded)), None)
