"""The public course page's read model (PostgreSQL): a published course with its sections,
videos and quizzes in ONE statement, the content as JSON built by PostgreSQL.

What an anonymous caller sees of a course is its outline (services/course_access.py: a
published course's outline is public, nothing else exists for them), so the statement
selects by the catalog's own `Listed` rule and `live()` on every table it reads, like the
catalog (course_catalog.py). Its videos are as that caller sees them: locked by the one lock
rule (domain.course_rules.video_locked), asked here for both values of a video's preview
flag, so that the page is written without decoding its sections (`_outline_only_video`).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Text,
    bindparam,
    case,
    cast,
    false,
    func,
    literal_column,
    null,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Dialect

from learnhub.db.driver_reads import (
    CompiledRead,
    ReadSource,
    compile_read,
    source_dialect,
    source_rows,
)
from learnhub.db.soft_delete import live
from learnhub.domain.course_rules import LOCKED_VIDEO_FIELDS, video_locked
from learnhub.models.course import Course, Quiz, QuizQuestion, Section, Video
from learnhub.repositories.course_catalog import CatalogCard, Listed, card_of, catalog_select

EMPTY: ColumnElement[Any] = literal_column("'[]'::json")


@dataclass(frozen=True, slots=True)
class CourseOutline:
    """A course page as the statement read it: the course as a catalog card, and its live
    sections in order, each with its live videos (locked for a caller who may see the
    outline only) and quizzes in order, as the JSON text PostgreSQL wrote. Equal outlines
    make equal pages: the card holds every column the page shows (the statement does not
    read the catalog generation)."""

    card: CatalogCard
    sections_json: str


def _json_list(entry: Any, order: Any, source: Any, *where: ColumnElement[bool]) -> Any:
    return (
        select(func.coalesce(func.json_agg(aggregate_order_by(entry, order)), EMPTY))
        .select_from(source)
        .where(*where)
        .scalar_subquery()
    )


def live_question_count() -> Any:
    """A quiz's live questions, counted where the quiz is selected (explicitly live: the
    global filter is not relied on inside sub-selects)."""
    return (
        select(func.count(QuizQuestion.id))
        .where(QuizQuestion.quiz_id == Quiz.id, live(QuizQuestion))
        .correlate_except(QuizQuestion)
        .scalar_subquery()
    )


def _object(**fields: Any) -> Any:
    """`json_build_object` with its keys written into the statement: as parameters they
    were 22 more values to bind on every run of the course page (all constants)."""
    arguments: list[Any] = []
    for key, value in fields.items():
        arguments += [literal_column(f"'{key}'"), value]  # keys are identifiers of ours
    return func.json_build_object(*arguments)


def _outline_only_video() -> Any:
    """A video as a caller who may see the outline only sees it. The one lock rule
    (`video_locked`) is asked for both values of the preview flag when the statement is
    built, and PostgreSQL picks the answer for each video; the fields a locked video leaves
    out are null in it. Its keys in the order of the API's `VideoSummary`."""
    locked = case(
        (Video.is_preview, _sql_bool(video_locked(is_preview=True, full=False))),
        else_=_sql_bool(video_locked(is_preview=False, full=False)),
    )
    fields = {
        "id": Video.id, "title": Video.title, "url": Video.url,
        "duration_seconds": Video.duration_seconds, "position": Video.position,
        "version": Video.version, "is_preview": Video.is_preview,
    }  # fmt: skip
    shown = {
        name: case((locked, null()), else_=column) if name in LOCKED_VIDEO_FIELDS else column
        for name, column in fields.items()
    }
    return _object(**shown, locked=locked)


def _sql_bool(value: bool) -> ColumnElement[bool]:
    """A constant written into the statement (`true`/`false`), not a parameter to bind."""
    return true() if value else false()


def _sections() -> Any:
    question_count = live_question_count()
    video = _outline_only_video()
    quiz = _object(
        id=Quiz.id, title=Quiz.title, position=Quiz.position,
        pass_mark=Quiz.pass_mark, max_attempts=Quiz.max_attempts,
        time_limit_seconds=Quiz.time_limit_seconds, version=Quiz.version,
        question_count=question_count,
    )  # fmt: skip
    videos = _json_list(
        video, Video.position, Video.__table__, Video.section_id == Section.id, live(Video)
    )
    quizzes = _json_list(
        quiz, Quiz.position, Quiz.__table__, Quiz.section_id == Section.id, live(Quiz)
    )
    section = _object(
        id=Section.id, course_id=Section.course_id, title=Section.title,
        position=Section.position, version=Section.version,
        videos=videos, quizzes=quizzes,
    )  # fmt: skip
    return _json_list(
        section, Section.position, Section.__table__, Section.course_id == Course.id, live(Section)
    )


@functools.cache
def outline_statement(by_slug: bool) -> Select[Any]:
    """The published course with this slug (or id), built once: the catalog card's columns
    and the sections' JSON as one more column, as text: written into the page as it is, not
    decoded by the driver's codec for `json` (the standard library's decoder)."""
    key = Course.slug == bindparam("key") if by_slug else Course.id == bindparam("key")
    return (
        catalog_select(True, generation=False)
        .add_columns(cast(_sections(), Text).label("sections"))
        .where(Listed().clause(), key)
    )


@functools.lru_cache(maxsize=16)  # per key kind and engine (dialect)
def outline_read(by_slug: bool, dialect: Dialect) -> CompiledRead:
    return compile_read(outline_statement(by_slug), dialect)


def outline_of(row: Sequence[Any]) -> CourseOutline:
    """A row of `outline_statement`: the card's columns, then the sections' JSON text."""
    *card_columns, sections = row
    card = card_of(card_columns, postgres=True, generation=False)
    return CourseOutline(card=card, sections_json=sections)


class CourseOutlineRepository:
    """The public course page in one statement, on PostgreSQL (`available`); elsewhere the
    ORM's detail loading (CourseRepository.get_detail) serves it. Reads from a session or
    from a unit of work's pooled driver connection (db/uow.py, DriverReadUnitOfWork)."""

    READS_ON_DRIVER = True

    def __init__(self, source: ReadSource) -> None:
        self.source = source

    @property
    def available(self) -> bool:
        return source_dialect(self.source).name == "postgresql"

    async def published(self, key: uuid.UUID | str) -> CourseOutline | None:
        """The published, live course with this id (a UUID) or slug (a string)."""
        by_slug = not isinstance(key, uuid.UUID)
        read_for = functools.partial(outline_read, by_slug)
        rows = await source_rows(self.source, outline_statement(by_slug), read_for, {"key": key})
        return outline_of(rows[0]) if rows else None
