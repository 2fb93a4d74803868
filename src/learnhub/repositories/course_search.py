"""The catalog's text search (`q`): which listed courses match and how relevant each is.

The search index is kept by the database (revision 0013), not mapped by the models:

- PostgreSQL: the generated column `courses.search_document` (title weighted A, description
  B, 'english' stemming, accents folded by `learnhub_unaccent`) with a GIN index over listed
  courses; `q` is parsed by `websearch_to_tsquery` (words in any order, "quoted phrases",
  -excluded, or) and ranked by `ts_rank`. When that finds nothing, a typo fallback: every word
  of `q` (of four letters or more) must be word-similar (pg_trgm `<%`, served by the trigram
  index ix_courses_title_trgm) to the title, ranked by the summed similarity.
- SQLite: the FTS5 table `courses_fts` (same folding and stemming), ranked by bm25() with the
  title weighted ten times the description. `q` becomes an FTS5 query of quoted terms (so no
  user input is FTS5 syntax): words ANDed, "quoted phrases", -excluded words.

A relevance is a float, higher first; a page's cursor carries it with the course id."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    table,
)
from sqlalchemy.dialects.postgresql import TSVECTOR

from learnhub.models.course import Course

ENGLISH: ColumnElement[Any] = literal_column("'english'::regconfig")
# The generated column as a column of `courses`, for Core statements only.
SEARCH_DOCUMENT: ColumnElement[Any] = literal_column(
    f"{Course.__tablename__}.search_document", TSVECTOR
)
courses_fts = table(
    "courses_fts",
    Column("course_id", Uuid),
    Column("title"),
    Column("description"),
)
# bm25 weights per FTS5 column: course_id (not indexed), title, description.
BM25_WEIGHTS = (0.0, 10.0, 1.0)
MAX_WORDS = 16
# Shorter words have too few trigrams to be told from other words by similarity.
MIN_TYPO_WORD = 4
_TOKEN = re.compile(r'-?"[^"]*"?|\S+')
_WORD = re.compile(r"\w+")


class Mode(Enum):
    """How the courses were found; a cursor remembers it (`Sort` names end in the suffix)."""

    FULL_TEXT = ""
    TYPO = "~typo"


@dataclass(frozen=True, slots=True)
class TextSearch:
    text: str
    mode: Mode = Mode.FULL_TEXT

    def apply(self, stmt: Select[Any], *, postgres: bool) -> tuple[Select[Any], Any]:
        """`stmt` narrowed to the matching courses, and the labelled relevance it selects."""
        if postgres:
            if self.mode is Mode.TYPO:
                return self._typo(stmt)
            query = func.websearch_to_tsquery(ENGLISH, func.learnhub_unaccent(self.text))
            rank = cast(func.ts_rank(SEARCH_DOCUMENT, query), Float).label("rank")
            return stmt.add_columns(rank).where(SEARCH_DOCUMENT.op("@@")(query)), rank
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        # bm25() is lower for better matches: negated, relevance is higher first everywhere.
        rank = (-literal_column(f"bm25(courses_fts, {weights})", Float)).label("rank")
        matched = (
            stmt.add_columns(rank)
            .join(courses_fts, courses_fts.c.course_id == Course.id)
            .where(literal_column("courses_fts").op("MATCH")(fts5_query(self.text)))
        )
        return matched, rank

    def typo_words(self) -> list[str]:
        """The words the typo fallback looks for: none when all are too short to tell a
        typo from another word (then there is no fallback)."""
        return [w for w in search_words(self.text) if len(w) >= MIN_TYPO_WORD]

    def _typo(self, stmt: Select[Any]) -> tuple[Select[Any], Any]:
        searched = Course.title  # what ix_courses_title_trgm covers
        words = self.typo_words()
        if not words:  # (a forged cursor) nothing to look for: an id is never null
            nothing = cast(literal(0.0), Float).label("rank")
            return stmt.add_columns(nothing).where(Course.id.is_(None)), nothing
        similar = [_text(w).op("<%", is_comparison=True)(searched) for w in words]
        score = sum(
            (func.word_similarity(_text(w), searched) for w in words[1:]),
            func.word_similarity(_text(words[0]), searched),
        )
        rank = cast(score, Float).label("rank")
        return stmt.add_columns(rank).where(and_(*similar)), rank


def _text(word: str) -> Any:
    """A bound parameter (never SQL text), typed as text for pg_trgm's operators."""
    return bindparam(None, word, type_=String, unique=True)


def search_words(text: str) -> list[str]:
    """The words of `q` (letters and digits), at most MAX_WORDS."""
    return _WORD.findall(text)[:MAX_WORDS]


def fts5_query(text: str) -> str:
    """`q` as an FTS5 query made only of quoted strings: "words" and "quoted phrases" must
    all match, a -word or -"phrase" must not. Nothing the user typed is read as FTS5 syntax
    (quotes are dropped, so no term can close its string). A query with nothing to match
    becomes `""`, which matches no course."""
    wanted: list[str] = []
    unwanted: list[str] = []
    for token in _TOKEN.findall(text)[:MAX_WORDS]:
        negated = token.startswith("-") and len(token) > 1
        words = search_words(token)
        if not words:
            continue
        term = '"' + " ".join(words) + '"'
        (unwanted if negated else wanted).append(term)
    if not wanted:
        return '""'
    return " ".join(wanted) + "".join(f" NOT {term}" for term in unwanted)


def search_sort_name(base: str, mode: Mode) -> str:
    return base + mode.value


def mode_of(sort_name: str | None) -> Mode:
    return Mode.TYPO if sort_name and sort_name.endswith(Mode.TYPO.value) else Mode.FULL_TEXT
