"""The statement histogram's labels (db/instrumentation.py, `classify`): the operation and
the statement's own table, not a sub-select's."""

from __future__ import annotations

import pytest

from learnhub.db.instrumentation import classify


@pytest.mark.parametrize(
    ("statement", "labels"),
    [
        ("SELECT users.id FROM users WHERE users.id = $1", ("SELECT", "users")),
        (
            "SELECT courses.id, (SELECT array_agg(tags.name) FROM course_tags JOIN tags "
            "ON tags.id = course_tags.tag_id WHERE course_tags.course_id = courses.id) AS tags "
            "FROM courses LEFT OUTER JOIN users ON users.id = courses.instructor_id",
            ("SELECT", "courses"),
        ),
        ("SELECT count(*) FROM (SELECT 1 FROM videos) AS v", ("SELECT", "videos")),
        ('INSERT INTO "audit_log" (id) VALUES ($1)', ("INSERT", "audit_log")),
        ("UPDATE courses SET version = 2 WHERE id = $1", ("UPDATE", "courses")),
        ("DELETE FROM outbox WHERE id = $1", ("DELETE", "outbox")),
        ("SELECT 1", ("SELECT", "-")),
        ("BEGIN", ("BEGIN", "-")),
    ],
)
def test_a_statement_is_labelled_by_its_own_table(statement: str, labels: tuple[str, str]):
    assert classify(statement) == labels
