"""A runtime guard for the soft-delete rule on raw reads (issue 14, item 4).

Every statement the database receives is checked as SQL text, after compilation: each
SELECT (top level, sub-select, CTE, each member of a UNION, the SELECT of an INSERT ... SELECT)
that reads a soft-deletable table must say `<table or alias>.deleted_at IS NULL` for it,
whether the ORM's global filter or `db.soft_delete.live()` put it there, unless the statement
carries the `including_deleted()` marker. Only statements issued from application code
(src/learnhub) are held to it: tests, migrations and tools read deleted rows as they like.

Checking the SQL rather than the Python source means the guard needs no list of files or
query helpers: whatever package a read moves to, it is still checked when a test runs it.
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import greenlet
from sqlalchemy import event
from sqlalchemy.engine import Engine

import learnhub
from learnhub.db.soft_delete import INCLUDE_DELETED
from learnhub.models import Base
from learnhub.models.base import SoftDeleteMixin

APP_DIR = str(Path(learnhub.__file__).resolve().parent)
# Frames of these never decide where a statement comes from: the libraries between the
# caller and the driver (the venv's site-packages, the standard library), and this guard.
LIBRARY_DIRS = tuple(
    {str(Path(p).resolve()) for p in sys.path if p and ("site-packages" in p or "lib/python" in p)}
)
# The application's own stand-in for SQLAlchemy's execution layer (db/driver_reads.py): like
# the libraries, it runs what its caller built and never decides what a statement reads.
EXECUTION_LAYER = (str(Path(learnhub.__file__).resolve().parent / "db" / "driver_reads.py"),)

KEYWORDS = {
    "AS", "ON", "WHERE", "JOIN", "LEFT", "RIGHT", "INNER", "OUTER", "FULL", "CROSS", "NATURAL",
    "GROUP", "ORDER", "LIMIT", "OFFSET", "FOR", "USING", "UNION", "INTERSECT", "EXCEPT",
    "HAVING", "WINDOW", "SET", "RETURNING", "VALUES", "LATERAL", "FETCH", "ONLY",
}  # fmt: skip
_IDENT = r"([A-Za-z_][A-Za-z0-9_$]*)"
# After FROM or JOIN: a table (not `x.y`, which is a column inside e.g. EXTRACT(... FROM x.y)),
# then an optional alias.
_SOURCE = re.compile(_IDENT + r"(?![\w.$(])(?:\s+(?:AS\s+)?" + _IDENT + r")?", re.IGNORECASE)
_FROM_OR_JOIN = re.compile(r"(?<!DELETE )\b(FROM|JOIN)\s+", re.IGNORECASE)
_SET_OPERATOR = re.compile(r"\b(?:UNION|INTERSECT|EXCEPT)(?:\s+ALL)?\b", re.IGNORECASE)
_STARTS_SELECT = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)
_UNQUALIFIED_LIVE = re.compile(r"(?<![\w.])deleted_at\s+IS\s+NULL\b", re.IGNORECASE)


@functools.cache
def soft_deletable_tables() -> frozenset[str]:
    tables = set()
    for mapper in Base.registry.mappers:
        if issubclass(mapper.class_, SoftDeleteMixin) and mapper.local_table is not None:
            tables.add(str(mapper.local_table.name).lower())
    return frozenset(tables)


def _without_literals(sql: str) -> str:
    """String literals blanked (their text is no SQL), quoted identifiers unquoted."""
    sql = re.sub(r"'(?:[^']|'')*'", "''", sql)
    return sql.replace('"', "").replace("`", "")


def _scopes(sql: str) -> list[str]:
    """The statement cut into its SELECT scopes: each parenthesised sub-select becomes its own
    scope and a placeholder in its parent; other parentheses (conditions, function calls)
    stay in the scope they belong to. The top level is one more scope."""
    scopes: list[str] = []
    stack: list[list[str]] = [[]]
    for char in sql:
        if char == "(":
            stack.append([])
        elif char == ")" and len(stack) > 1:
            inner = "".join(stack.pop())
            if _STARTS_SELECT.match(inner):
                scopes.append(inner)
                stack[-1].append("(subselect)")
            else:
                stack[-1].append(f"({inner})")
        else:
            stack[-1].append(char)
    while len(stack) > 1:  # unbalanced: keep the text anyway
        inner = "".join(stack.pop())
        stack[-1].append(f"({inner}")
    scopes.append("".join(stack[0]))
    return scopes


def _sources(part: str, tables: frozenset[str]) -> list[tuple[str, str]]:
    """(table, name it goes by) for each soft-deletable table read in one SELECT."""
    found = []
    for match in _FROM_OR_JOIN.finditer(part):
        position = match.end()
        while True:
            source = _SOURCE.match(part, position)
            if source is None:
                break
            table = source.group(1)
            alias = source.group(2)
            if alias is not None and alias.upper() in KEYWORDS:
                alias = None
                end = source.start(2) if source.start(2) >= 0 else source.end()
                # The keyword belongs to what follows: the list ends here.
                position = end
            else:
                position = source.end()
            if table.lower() in tables:
                found.append((table.lower(), (alias or table).lower()))
            if match.group(1).upper() == "JOIN":
                break
            comma = re.compile(r"\s*,\s*").match(part, position)
            if comma is None:
                break
            position = comma.end()
    return found


@functools.lru_cache(maxsize=4096)
def unfiltered_reads(sql: str) -> tuple[str, ...]:
    """The soft-deletable tables (as `table [alias]`) some SELECT of `sql` reads without
    `deleted_at IS NULL` for them."""
    tables = soft_deletable_tables()
    text = _without_literals(sql)
    lowered = text.lower()
    if not any(table in lowered for table in tables):
        return ()
    missing = []
    for scope in _scopes(text):
        for part in _SET_OPERATOR.split(scope):
            sources = _sources(part, tables)
            for table, name in sources:
                qualified = re.compile(
                    rf"(?<![\w.$]){re.escape(name)}\.deleted_at\s+IS\s+NULL\b", re.IGNORECASE
                )
                if qualified.search(part):
                    continue
                if len(sources) == 1 and _UNQUALIFIED_LIVE.search(part):
                    continue
                missing.append(table if name == table else f"{table} {name}")
    return tuple(missing)


def _frames() -> list[FrameType]:
    """The calling frames, innermost first, across greenlets: SQLAlchemy's asyncio layer runs
    the driver call in a child greenlet whose parent is suspended in the awaiting coroutine."""
    frames: list[FrameType] = []
    frame: FrameType | None = sys._getframe(2)
    current: Any = greenlet.getcurrent()
    while True:
        while frame is not None:
            frames.append(frame)
            frame = frame.f_back
        current = getattr(current, "parent", None)
        if current is None:
            return frames
        frame = current.gr_frame


def application_caller() -> str | None:
    """`file:line` of the innermost caller outside the libraries when it is application code
    (src/learnhub), else None."""
    for frame in _frames():
        filename = frame.f_code.co_filename
        if filename in EXECUTION_LAYER:
            continue
        # The package first: installed without -e, it sits inside site-packages itself.
        if filename.startswith(APP_DIR):
            return f"{Path(filename).relative_to(Path(APP_DIR).parent)}:{frame.f_lineno}"
        if filename == __file__ or filename.startswith(LIBRARY_DIRS) or filename.startswith("<"):
            continue
        return None
    return None


def _is_column_load(context: Any) -> bool:
    """An ORM refresh of an object already in hand (expired or deferred columns, by primary
    key): the global filter exempts it on purpose, so a deleted object stays readable."""
    statement = getattr(getattr(context, "compiled", None), "statement", None)
    options = getattr(statement, "_compile_options", None)
    return bool(getattr(options, "_for_refresh_state", False))


@dataclass(frozen=True, slots=True)
class Violation:
    caller: str
    tables: tuple[str, ...]
    sql: str

    def __str__(self) -> str:
        return (
            f"{self.caller} read {', '.join(self.tables)} without deleted_at IS NULL "
            f"(use db.soft_delete.live(), or including_deleted() on purpose):\n  "
            f"{' '.join(self.sql.split())[:600]}"
        )


class SoftDeleteGuard:
    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def check(self, sql: str, execution_options: Any, *, column_load: bool = False) -> None:
        missing = unfiltered_reads(sql)
        if not missing or column_load or execution_options.get(INCLUDE_DELETED, False):
            return
        caller = application_caller()
        if caller is not None:
            self.violations.append(Violation(caller, missing, sql))

    def install(self) -> None:
        event.listen(Engine, "before_cursor_execute", self._before_cursor_execute)

    def uninstall(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._before_cursor_execute)

    def _before_cursor_execute(
        self,
        _conn: Any,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        context: Any,
        _executemany: bool,
    ) -> None:
        options = context.execution_options if context is not None else {}
        self.check(statement, options, column_load=_is_column_load(context))

    def take(self) -> list[Violation]:
        found, self.violations = self.violations, []
        return found


GUARD = SoftDeleteGuard()
