"""Catalog search that finds (issue 15 item 5): full-text search over course titles and
descriptions, words in any order, accents and case folded, ranked by relevance.

PostgreSQL: `unaccent` (a trusted extension, like pg_trgm) behind an IMMUTABLE wrapper
`learnhub_unaccent` (unaccent() itself is only STABLE, so it cannot feed a generated column or
an index), a stored generated column `courses.search_document` (the title weighted A, the
description B; the 'english' configuration stems and drops stop words) and a GIN index on it
over listed courses. Adding a stored generated column rewrites `courses` once under its
exclusive lock (seconds at 100k rows); the index is then built CONCURRENTLY, as in 0008, so
enrolments and reviews (which update the course's counters) are not blocked by the build.
The typo fallback (word similarity, pg_trgm) reads a new trigram index on the titles of
listed courses; the trigram index of 0002 over title and description served the substring
search this replaces and is dropped (rechecking similarity against whole descriptions took
seconds at 100k courses).

SQLite: an FTS5 table `courses_fts` (a copy of each course's id, title and description;
tokenizer `porter unicode61 remove_diacritics 2`, the same folding and stemming) kept in step
by triggers on `courses`. It is keyed by the course id, not by rowid: `courses` has no
INTEGER PRIMARY KEY, so its rowids may change on VACUUM.

Both: the price index of listed courses leads with the currency (prices compare within one
currency, which the catalog now always filters by with a price filter or sort), so a price
page is one range of it and the lowest and highest listed currency are its two ends. On
PostgreSQL the new index is built CONCURRENTLY beside the old one, which is then dropped and
the new one renamed into its place.

Revision ID: 0013_catalog_search
Revises: 0012_audit_checkpoint
Create Date: 2026-12-06 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_catalog_search"
down_revision: str | None = "0012_audit_checkpoint"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED = "status = 'published' AND deleted_at IS NULL"
FTS_INDEX = "ix_courses_search_fts"
PRICE_INDEX = "ix_courses_price"
TITLE_TRGM_INDEX = "ix_courses_title_trgm"
OLD_TRGM_INDEX = "ix_courses_search_trgm"

# The exact expression the application's query reads (repositories.course_search).
SEARCH_DOCUMENT = (
    "setweight(to_tsvector('english'::regconfig, learnhub_unaccent(title)), 'A') || "
    "setweight(to_tsvector('english'::regconfig, learnhub_unaccent(description)), 'B')"
)

SQLITE_UPGRADE = [
    "CREATE VIRTUAL TABLE courses_fts USING fts5("
    "course_id UNINDEXED, title, description, "
    "tokenize = 'porter unicode61 remove_diacritics 2')",
    "INSERT INTO courses_fts (course_id, title, description) "
    "SELECT id, title, description FROM courses",
    "CREATE TRIGGER courses_fts_insert AFTER INSERT ON courses BEGIN "
    "INSERT INTO courses_fts (course_id, title, description) "
    "VALUES (new.id, new.title, new.description); END",
    "CREATE TRIGGER courses_fts_update AFTER UPDATE OF id, title, description ON courses BEGIN "
    "DELETE FROM courses_fts WHERE course_id = old.id; "
    "INSERT INTO courses_fts (course_id, title, description) "
    "VALUES (new.id, new.title, new.description); END",
    "CREATE TRIGGER courses_fts_delete AFTER DELETE ON courses BEGIN "
    "DELETE FROM courses_fts WHERE course_id = old.id; END",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for statement in SQLITE_UPGRADE:
            op.execute(statement)
        _sqlite_price_index(["price_currency", "price_amount", "id"])
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    # The wrapper names the extension's schema and dictionary explicitly: an IMMUTABLE
    # function must not depend on the caller's search_path.
    schema = op.get_bind().scalar(
        sa.text(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'unaccent'"
        )
    )
    op.execute(
        "CREATE FUNCTION learnhub_unaccent(text) RETURNS text "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS "
        f"$$ SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1) $$"
    )
    op.execute(
        "ALTER TABLE courses ADD COLUMN search_document tsvector "
        f"GENERATED ALWAYS AS ({SEARCH_DOCUMENT}) STORED"
    )
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        try:
            _build(FTS_INDEX, "gin (search_document)")
            _build(TITLE_TRGM_INDEX, "gin (title gin_trgm_ops)")
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {OLD_TRGM_INDEX}")
            _build(f"{PRICE_INDEX}_next", "btree (price_currency, price_amount, id)")
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {PRICE_INDEX}")
            op.execute(f"ALTER INDEX {PRICE_INDEX}_next RENAME TO {PRICE_INDEX}")
        finally:
            op.execute("RESET statement_timeout")


def _build(name: str, method_and_columns: str) -> None:
    # A leftover of an earlier, failed concurrent build is INVALID: drop it first.
    op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    op.execute(
        f"CREATE INDEX CONCURRENTLY {name} ON courses USING {method_and_columns} WHERE {LISTED}"
    )


def _sqlite_price_index(columns: list[str]) -> None:
    op.drop_index(PRICE_INDEX, "courses", sqlite_where=sa.text(LISTED))
    op.create_index(PRICE_INDEX, "courses", columns, sqlite_where=sa.text(LISTED))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        _sqlite_price_index(["price_amount", "id"])
        for trigger in ("courses_fts_insert", "courses_fts_update", "courses_fts_delete"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE courses_fts")
        return
    with op.get_context().autocommit_block():
        op.execute("SET statement_timeout = 0")
        try:
            _build(f"{PRICE_INDEX}_next", "btree (price_amount, id)")
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {PRICE_INDEX}")
            op.execute(f"ALTER INDEX {PRICE_INDEX}_next RENAME TO {PRICE_INDEX}")
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {FTS_INDEX}")
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {TITLE_TRGM_INDEX}")
            _build(OLD_TRGM_INDEX, "gin ((title || ' ' || description) gin_trgm_ops)")
        finally:
            op.execute("RESET statement_timeout")
    op.execute("ALTER TABLE courses DROP COLUMN search_document")
    op.execute("DROP FUNCTION learnhub_unaccent(text)")
    # The extension stays: other objects of the database may have come to rely on it.
