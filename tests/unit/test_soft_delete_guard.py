"""The soft-delete guard itself (tests/support/soft_delete_guard.py), and the static half of
the rule: outside db/soft_delete.py, no code in src/learnhub writes the criterion by hand."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import learnhub
from tests.support.soft_delete_guard import unfiltered_reads

APP = Path(learnhub.__file__).resolve().parent


@pytest.mark.parametrize(
    ("sql", "missing"),
    [
        ("SELECT courses.id FROM courses WHERE courses.deleted_at IS NULL", ()),
        ("SELECT courses.id FROM courses WHERE courses.id = ?", ("courses",)),
        # Unqualified, in a one-table SELECT (hand-written text()).
        ("SELECT id FROM tags WHERE name = $1 AND deleted_at IS NULL", ()),
        # An alias needs its own criterion.
        (
            "SELECT c.id FROM courses AS c JOIN courses AS p ON p.id = c.id "
            "WHERE c.deleted_at IS NULL",
            ("courses p",),
        ),
        # A criterion in the outer SELECT does not cover a sub-select of the same table.
        (
            "SELECT courses.id, (SELECT count(*) FROM videos WHERE videos.course_id = "
            "courses.id) AS n FROM courses WHERE courses.deleted_at IS NULL",
            ("videos",),
        ),
        (
            "SELECT courses.id FROM courses WHERE courses.deleted_at IS NULL AND EXISTS "
            "(SELECT 1 FROM course_tags, tags WHERE tags.id = course_tags.tag_id AND "
            "(tags.deleted_at IS NULL))",
            (),
        ),
        # Each member of a UNION on its own.
        (
            "SELECT max(at) FROM (SELECT e.enrolled_at AS at FROM enrollments AS e WHERE "
            "e.deleted_at IS NULL UNION ALL SELECT v.completed_at FROM video_progress AS v) "
            "AS anon_1",
            ("video_progress v",),
        ),
        (
            "INSERT INTO learner_stats (user_id) SELECT users.id FROM users WHERE users.id = ?",
            ("users",),
        ),
        # Writes and non-soft-deletable tables are not reads to check.
        ("DELETE FROM courses WHERE courses.id = ?", ()),
        ("UPDATE courses SET title = ? WHERE courses.id = ?", ()),
        ("SELECT audit_log.id FROM audit_log", ()),
        ("SELECT 'FROM courses' AS s FROM outbox", ()),
        ("SELECT EXTRACT(epoch FROM courses.created_at) FROM courses", ("courses",)),
    ],
)
def test_the_guard_finds_reads_without_the_criterion(sql, missing):
    assert unfiltered_reads(sql) == missing


def _hand_written_criteria(path: Path) -> list[int]:
    """Lines of `path` that spell the rule themselves: `<x>.deleted_at.is_(None)`,
    `<x>.deleted_at == None`, or SQL text with `deleted_at IS NULL`."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        is_none_call = (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "is_"
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "deleted_at"
            and any(isinstance(a, ast.Constant) and a.value is None for a in node.args)
        )
        # `== None` builds SQL; `is None` on a loaded object is plain Python, not a read.
        equals_none = (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Attribute)
            and node.left.attr == "deleted_at"
            and isinstance(node.ops[0], ast.Eq)
            and any(isinstance(c, ast.Constant) and c.value is None for c in node.comparators)
        )
        sql_text = (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.search(r"deleted_at\s+IS\s+NULL", node.value, re.IGNORECASE) is not None
        )
        if is_none_call or equals_none or sql_text:
            lines.append(node.lineno)
    return lines


def test_no_code_writes_the_soft_delete_criterion_by_hand():
    """Raw reads use `db.soft_delete.live()` (which the runtime guard recognises like any
    criterion, but which keeps the rule in one place). Models may name the predicate of
    their partial indexes: that is DDL, not a read."""
    allowed = {APP / "db" / "soft_delete.py"}
    offenders = [
        f"{path.relative_to(APP.parent)}:{line}"
        for path in sorted(APP.rglob("*.py"))
        if path not in allowed and APP / "models" not in path.parents
        for line in _hand_written_criteria(path)
    ]
    assert not offenders, offenders
