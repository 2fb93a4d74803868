"""A quiz patch as one typed changes object: what is left out stays, and the two limits can
be lifted (None) as well as kept."""

from __future__ import annotations

from learnhub.domain.enums import QuestionType
from learnhub.domain.quiz_rules import QuestionSpec
from learnhub.models.course import Quiz
from learnhub.services.quiz_authoring import QuizChanges


def quiz() -> Quiz:
    return Quiz(title="Charts check", pass_mark=70, max_attempts=3, time_limit_seconds=600)


def test_an_empty_patch_keeps_every_setting_and_the_questions():
    spec = QuizChanges().applied_to(quiz())
    assert (spec.title, spec.pass_mark, spec.max_attempts, spec.time_limit_seconds) == (
        "Charts check",
        70,
        3,
        600,
    )
    assert spec.questions == ()


def test_limits_are_lifted_by_none_and_kept_when_left_out():
    lifted = QuizChanges(max_attempts=None).applied_to(quiz())
    assert (lifted.max_attempts, lifted.time_limit_seconds) == (None, 600)
    changed = QuizChanges(title="New", pass_mark=50, time_limit_seconds=None).applied_to(quiz())
    assert (changed.title, changed.pass_mark, changed.max_attempts) == ("New", 50, 3)
    assert changed.time_limit_seconds is None


def test_given_questions_travel_with_the_spec():
    question = QuestionSpec(text="2 + 2?", type=QuestionType.SHORT_ANSWER, answer_text="4")
    assert list(QuizChanges(questions=[question]).applied_to(quiz()).questions) == [question]
