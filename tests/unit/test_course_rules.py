"""The course, content and quiz rules of `domain/`, checked without a session."""

from __future__ import annotations

import uuid
from datetime import UTC

import pytest

from learnhub.domain import course_rules
from learnhub.domain.clock import utc_now
from learnhub.domain.enums import QuestionType
from learnhub.domain.errors import InvalidValue
from learnhub.domain.quiz_rules import (
    MAX_OPTIONS,
    MAX_QUESTIONS,
    OptionSpec,
    QuestionSpec,
    QuizSpec,
    validate_question,
    validate_quiz,
)


def test_the_clock_is_utc_and_aware():
    assert utc_now().tzinfo is UTC


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Python Fundamentals", "python-fundamentals"),
        ("  Crème Brûlée & Co.  ", "creme-brulee-co"),
        ("C++ / Rust: 2nd edition!", "c-rust-2nd-edition"),
        ("日本語", "course"),  # nothing ASCII left: a fixed fallback
        ("x" * 300, "x" * 200),
    ],
)
def test_slugs_are_lowercase_ascii_words_joined_by_hyphens(title, slug):
    assert course_rules.slugify(title) == slug


def test_a_taken_slug_gets_the_first_free_number():
    assert course_rules.free_slug("intro", set()) == "intro"
    assert course_rules.free_slug("intro", {"intro", "intro-2", "intro-4"}) == "intro-3"


def test_titles_tags_and_objectives_are_trimmed_and_bounded():
    assert course_rules.title("  A title ") == "A title"
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(InvalidValue, match="title must be 1 to 200 characters"):
            course_rules.title(bad)
    with pytest.raises(InvalidValue, match="name must be 1 to 200"):
        course_rules.title("", "name")
    assert course_rules.tags([" Python", "python", "", "SQL "]) == ["python", "sql"]
    with pytest.raises(InvalidValue, match="at most 10 tags"):
        course_rules.tags([f"t{i}" for i in range(11)])
    with pytest.raises(InvalidValue, match="up to 50 characters"):
        course_rules.tags(["x" * 51])
    assert course_rules.objectives([" Learn ", " "]) == ["Learn"]
    with pytest.raises(InvalidValue, match="at most 20 objectives"):
        course_rules.objectives(["o"] * 21)
    with pytest.raises(InvalidValue, match="up to 300 characters"):
        course_rules.objectives(["o" * 301])


def test_positions_durations_and_urls():
    assert course_rules.position(0) == 0 and course_rules.position(10_000) == 10_000
    for bad in (-1, 10_001):
        with pytest.raises(InvalidValue, match="position must be between 0 and 10000"):
            course_rules.position(bad)
    assert course_rules.duration(1) == 1
    with pytest.raises(InvalidValue, match="duration_seconds must be positive"):
        course_rules.duration(0)
    with pytest.raises(InvalidValue):
        course_rules.duration(-5)
    assert course_rules.video_url(" https://v.example.com/a.mp4 ") == "https://v.example.com/a.mp4"
    for bad in ("ftp://v.example.com/a", "https://", "not a url", "https://x/" + "a" * 2000):
        with pytest.raises(InvalidValue, match="url must be an http"):
            course_rules.video_url(bad)


def _options(*correct: bool) -> list[OptionSpec]:
    return [OptionSpec(f"option {i}", c) for i, c in enumerate(correct)]


@pytest.mark.parametrize(
    "question",
    [
        QuestionSpec("Pick one", QuestionType.SINGLE_CHOICE, _options(True, False)),
        QuestionSpec("Pick some", QuestionType.MULTIPLE_CHOICE, _options(True, True, False)),
        QuestionSpec("True?", QuestionType.TRUE_FALSE, _options(False, True)),
        QuestionSpec("Name it", QuestionType.SHORT_ANSWER, answer_text="it"),
    ],
)
def test_well_formed_questions_pass(question):
    validate_question(question)


@pytest.mark.parametrize(
    ("question", "message"),
    [
        (QuestionSpec(" ", QuestionType.SHORT_ANSWER, answer_text="a"), "question text"),
        (QuestionSpec("Q", QuestionType.SHORT_ANSWER), "answer_text and no options"),
        (
            QuestionSpec("Q", QuestionType.SHORT_ANSWER, _options(True), answer_text="a"),
            "answer_text and no options",
        ),
        (QuestionSpec("Q", QuestionType.SINGLE_CHOICE, _options(True)), "exactly one correct"),
        (
            QuestionSpec("Q", QuestionType.SINGLE_CHOICE, _options(True, True)),
            "exactly one correct",
        ),
        (
            QuestionSpec("Q", QuestionType.MULTIPLE_CHOICE, _options(False, False)),
            "at least one correct",
        ),
        (
            QuestionSpec("Q", QuestionType.TRUE_FALSE, _options(True, False, False)),
            "exactly two options",
        ),
        (
            QuestionSpec("Q", QuestionType.MULTIPLE_CHOICE, _options(*[True] * (MAX_OPTIONS + 1))),
            "at most 10 options",
        ),
        (
            QuestionSpec("Q", QuestionType.SINGLE_CHOICE, [OptionSpec(" ", True), OptionSpec("b")]),
            "1-500 characters",
        ),
    ],
)
def test_malformed_questions_are_refused(question, message):
    with pytest.raises(InvalidValue, match=message):
        validate_question(question)


def test_quiz_settings_are_checked_before_its_questions():
    validate_quiz(QuizSpec("Quiz", pass_mark=0, max_attempts=1, time_limit_seconds=1))
    for spec, message in [
        (QuizSpec(""), "title must be 1 to 200"),
        (QuizSpec("Q", pass_mark=101), "pass_mark is a percentage"),
        (QuizSpec("Q", max_attempts=0), "max_attempts must be at least 1"),
        (QuizSpec("Q", time_limit_seconds=0), "time_limit_seconds must be positive"),
        (
            QuizSpec("Q", questions=[QuestionSpec("Q", QuestionType.SHORT_ANSWER, answer_text="a")]
                     * (MAX_QUESTIONS + 1)),
            "at most 100 questions",
        ),
        (QuizSpec("Q", questions=[QuestionSpec("Q", QuestionType.SHORT_ANSWER)]), "answer_text"),
    ]:  # fmt: skip
        with pytest.raises(InvalidValue, match=message):
            validate_quiz(spec)


# White space as each regex dialect reading the URL pattern knows it: Python's `\s` (the
# service's check), Rust's (pydantic's validator) and ECMA-262's (JSON Schema, used by clients
# and by the fuzzer). A character in any one of these sets must be refused by all readers.
SPACES_OF_SOME_DIALECT = ["\t", " ", "\x1c", "\x1f", "\x85", "\xa0", "\u2028", "\u3000", "\ufeff"]


@pytest.mark.parametrize("space", SPACES_OF_SOME_DIALECT, ids=lambda c: f"U+{ord(c):04X}")
def test_a_video_url_with_white_space_of_any_dialect_is_refused_by_every_reader(space):
    from pydantic import BaseModel, Field, ValidationError

    class Body(BaseModel):  # validated by pydantic-core's (Rust) regex engine
        url: str = Field(pattern=course_rules.VIDEO_URL_PATTERN)

    for url in (f"https://v.example.com/a{space}b", f"https://{space}v.example.com/"):
        with pytest.raises(InvalidValue):
            course_rules.video_url(url)
        with pytest.raises(ValidationError):
            Body(url=url)
    Body(url="https://v.example.com/é")  # not white space anywhere: accepted


def test_a_video_url_may_be_a_file_of_this_sites_media_storage():
    key = f"courses/{uuid.UUID(int=7)}/lesson-1.webm"
    assert course_rules.video_url(f" /media/{key} ") == f"/media/{key}"
    assert course_rules.media_course_id(key) == uuid.UUID(int=7)
    for bad in (
        "/media/courses/../x.webm",
        f"/media/courses/{uuid.UUID(int=7)}/.hidden",
        f"/media/courses/{uuid.UUID(int=7)}/a/b.webm",
        "/media/courses/not-an-id/1.webm",
        "/static/app.css",
        "/media/",
    ):
        with pytest.raises(InvalidValue):
            course_rules.video_url(bad)
