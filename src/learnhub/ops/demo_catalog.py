"""Demo catalog for `learnhub serve --demo`: instructors, courses, sections, videos and quizzes.

The content is data, `demo_catalog.json` next to this module (shipped in the package); this
module reads it into typed records, checking its shape and the domain's enums as it goes, so a
malformed file fails with the file, the place in it and what is wrong, before anything is
written. The demo loader (`ops.demo`) feeds the records through the course services, which
apply the business rules. Video transcripts are real teaching text because the offline AI
tutor answers learners' questions by retrieval over them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from learnhub.domain.enums import DifficultyLevel, QuestionType

CATALOG_PATH = Path(__file__).with_name("demo_catalog.json")
T = TypeVar("T")


class DemoCatalogError(ValueError):
    """The demo catalog file cannot be read or does not have the expected shape."""


@dataclass(frozen=True)
class DemoOption:
    text: str
    is_correct: bool


@dataclass(frozen=True)
class DemoQuestion:
    text: str
    type: QuestionType
    options: tuple[DemoOption, ...] = ()  # empty for short_answer; "True"/"False" for true_false
    answer_text: str | None = None  # short_answer only; compared case-insensitively


@dataclass(frozen=True)
class DemoQuiz:
    title: str
    pass_mark: int
    max_attempts: int | None
    time_limit_seconds: int | None
    questions: tuple[DemoQuestion, ...]


@dataclass(frozen=True)
class DemoVideo:
    title: str
    url: str
    duration_seconds: int
    transcript: str


@dataclass(frozen=True)
class DemoSection:
    title: str
    videos: tuple[DemoVideo, ...]
    quizzes: tuple[DemoQuiz, ...] = ()


@dataclass(frozen=True)
class DemoCourse:
    title: str
    description: str
    price_amount: str
    currency: str
    difficulty: DifficultyLevel
    tags: tuple[str, ...]
    objectives: tuple[str, ...]
    sections: tuple[DemoSection, ...]
    publish: bool = True


@dataclass(frozen=True)
class DemoInstructor:
    email: str
    display_name: str
    courses: tuple[DemoCourse, ...]


class _Reader:
    """Reads one JSON object's fields, naming the place of any problem in the file."""

    def __init__(self, value: Any, where: str, fields: set[str]) -> None:
        if not isinstance(value, dict):
            raise DemoCatalogError(f"{where}: expected an object, got {type(value).__name__}")
        unknown = set(value) - fields
        if unknown:
            raise DemoCatalogError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        self.value, self.where = value, where

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        if key not in self.value:
            if default is ...:
                raise DemoCatalogError(f"{self.where}: missing field {key!r}")
            return default
        value = self.value[key]
        # bool is an int in Python: an int field must not take true/false, and vice versa.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            if value is None and default is None:
                return default
            raise DemoCatalogError(
                f"{self.where}.{key}: expected {kind.__name__}, got {type(value).__name__}"
            )
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        items = self.get(key, list)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise DemoCatalogError(f"{self.where}.{key}[{i}]: expected str")
        return tuple(items)

    def each(self, key: str, default: Any = ...) -> list[tuple[Any, str]]:
        items = self.get(key, list, default)
        return [(item, f"{self.where}.{key}[{i}]") for i, item in enumerate(items or ())]

    def enum(self, key: str, kind: type[T]) -> T:
        raw = self.get(key, str)
        try:
            return kind(raw)  # type: ignore[call-arg]
        except ValueError:
            choices = ", ".join(m.value for m in kind)  # type: ignore[attr-defined]
            raise DemoCatalogError(f"{self.where}.{key}: {raw!r} is not one of {choices}") from None


def _question(value: Any, where: str) -> DemoQuestion:
    r = _Reader(value, where, {"text", "type", "options", "answer_text"})
    options = []
    for item, at in r.each("options", ()):
        o = _Reader(item, at, {"text", "is_correct"})
        options.append(DemoOption(o.get("text", str), o.get("is_correct", bool)))
    return DemoQuestion(
        text=r.get("text", str),
        type=r.enum("type", QuestionType),
        options=tuple(options),
        answer_text=r.get("answer_text", str, None),
    )


def _quiz(value: Any, where: str) -> DemoQuiz:
    r = _Reader(
        value, where, {"title", "pass_mark", "max_attempts", "time_limit_seconds", "questions"}
    )
    return DemoQuiz(
        title=r.get("title", str),
        pass_mark=r.get("pass_mark", int),
        max_attempts=r.get("max_attempts", int, None),
        time_limit_seconds=r.get("time_limit_seconds", int, None),
        questions=tuple(_question(q, at) for q, at in r.each("questions")),
    )


def _section(value: Any, where: str) -> DemoSection:
    r = _Reader(value, where, {"title", "videos", "quizzes"})
    videos = []
    for item, at in r.each("videos"):
        v = _Reader(item, at, {"title", "url", "duration_seconds", "transcript"})
        videos.append(
            DemoVideo(
                title=v.get("title", str),
                url=v.get("url", str),
                duration_seconds=v.get("duration_seconds", int),
                transcript=v.get("transcript", str),
            )
        )
    return DemoSection(
        title=r.get("title", str),
        videos=tuple(videos),
        quizzes=tuple(_quiz(q, at) for q, at in r.each("quizzes", ())),
    )


def _course(value: Any, where: str) -> DemoCourse:
    fields = {"title", "description", "price_amount", "currency", "difficulty", "tags"}
    fields |= {"objectives", "sections", "publish"}
    r = _Reader(value, where, fields)
    return DemoCourse(
        title=r.get("title", str),
        description=r.get("description", str),
        price_amount=r.get("price_amount", str),
        currency=r.get("currency", str),
        difficulty=r.enum("difficulty", DifficultyLevel),
        tags=r.strings("tags"),
        objectives=r.strings("objectives"),
        sections=tuple(_section(s, at) for s, at in r.each("sections")),
        publish=r.get("publish", bool, True),
    )


def parse_demo_catalog(data: Any, source: str = "demo catalog") -> tuple[DemoInstructor, ...]:
    """The instructors of a decoded catalog document; `DemoCatalogError` names the problem."""
    root = _Reader(data, source, {"instructors"})
    instructors = []
    for item, at in root.each("instructors"):
        r = _Reader(item, at, {"email", "display_name", "courses"})
        instructors.append(
            DemoInstructor(
                email=r.get("email", str),
                display_name=r.get("display_name", str),
                courses=tuple(_course(c, cat) for c, cat in r.each("courses")),
            )
        )
    return tuple(instructors)


def load_demo_catalog(path: Path = CATALOG_PATH) -> tuple[DemoInstructor, ...]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DemoCatalogError(f"{path.name}: cannot read the demo catalog: {exc}") from exc
    return parse_demo_catalog(data, path.name)


@cache
def demo_instructors() -> tuple[DemoInstructor, ...]:
    """The shipped catalog, read once per process."""
    return load_demo_catalog()
