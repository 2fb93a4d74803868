"""The studio's quiz form (issue 17): every question type on one page without script (a
fixed number of option rows per question and one blank question to add), read back into the
API's `QuizIn`, and shown again as typed, or next to their saved version on a conflict."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from learnhub.api.schemas.quizzes import QuizIn
from learnhub.domain.enums import QuestionType
from learnhub.domain.quiz_rules import OptionSpec, QuestionSpec, QuizSpec
from learnhub.web.studio_forms import (
    OPTION_SLOTS,
    QUESTION_TYPES,
)


def question_slots(form: Mapping[str, str], count: int) -> list[dict[str, Any]]:
    """The questions typed on the quiz form, as typed (one blank slot is left for a new one;
    a question whose text is blank is not part of the quiz)."""
    slots = []
    for i in range(count):
        prefix = f"q{i}_"
        slots.append(
            {
                "text": form.get(prefix + "text", "")[:2000],
                "type": form.get(prefix + "type", QuestionType.SINGLE_CHOICE.value),
                "answer_text": form.get(prefix + "answer", "")[:500],
                "explanation": form.get(prefix + "explanation", "")[:2000],
                "options": [
                    {
                        "text": form.get(f"{prefix}opt{j}", "")[:500],
                        "is_correct": bool(form.get(f"{prefix}correct{j}")),
                    }
                    for j in range(OPTION_SLOTS)
                ],
            }
        )
    return slots


def quiz_body(values: Mapping[str, Any]) -> dict[str, Any]:
    def number(text: str) -> Any:
        text = text.strip()
        return None if not text else int(text) if text.isdigit() else text

    questions = []
    for slot in values["questions"]:
        if not slot["text"].strip():
            continue
        options = [o for o in slot["options"] if o["text"].strip()]
        kind = slot["type"]
        if kind == QuestionType.SHORT_ANSWER.value:
            options = []
        questions.append(
            {
                "text": slot["text"],
                "type": kind,
                "options": options,
                "answer_text": slot["answer_text"] if kind == QuestionType.SHORT_ANSWER else None,
                "explanation": slot["explanation"] or None,
            }
        )
    return {
        "title": values["title"],
        "pass_mark": number(values["pass_mark"]) if values["pass_mark"].strip() else 70,
        "max_attempts": number(values["max_attempts"]),
        "time_limit_seconds": number(values["time_limit_seconds"]),
        "questions": questions,
    }


def typed_quiz(form: Mapping[str, str]) -> dict[str, Any]:
    count = min(int(c) if (c := form.get("slots", "1")).isdigit() else 1, 101)
    return {
        "title": form.get("title", "")[:200],
        "pass_mark": form.get("pass_mark", "")[:6],
        "max_attempts": form.get("max_attempts", "")[:6],
        "time_limit_seconds": form.get("time_limit_seconds", "")[:8],
        "questions": question_slots(form, count),
    }


def quiz_values(quiz: Any) -> dict[str, Any]:
    questions = [
        {
            "text": q.text,
            "type": q.type.value,
            "answer_text": q.answer_text or "",
            "explanation": q.explanation or "",
            "options": [{"text": o.text, "is_correct": o.is_correct} for o in q.options],
        }
        for q in quiz.questions
    ]
    return {
        "title": quiz.title,
        "pass_mark": str(quiz.pass_mark),
        "max_attempts": "" if quiz.max_attempts is None else str(quiz.max_attempts),
        "time_limit_seconds": ""
        if quiz.time_limit_seconds is None
        else str(quiz.time_limit_seconds),
        "questions": questions,
    }


def with_blank_slot(values: dict[str, Any]) -> dict[str, Any]:
    """The form's question slots: the quiz's questions, each with OPTION_SLOTS option rows,
    and one blank question to add (no script needed to grow the form)."""
    blank_option = {"text": "", "is_correct": False}
    questions = [q for q in values["questions"] if q["text"].strip()]
    questions.append(
        {
            "text": "",
            "type": QuestionType.SINGLE_CHOICE.value,
            "answer_text": "",
            "explanation": "",
            "options": [],
        }
    )
    for question in questions:
        options = question["options"][:OPTION_SLOTS]
        question["options"] = options + [blank_option] * (OPTION_SLOTS - len(options))
    return {**values, "questions": questions}


def quiz_summary(values: Mapping[str, Any]) -> str:
    """The questions in one readable text, to put theirs next to mine."""
    lines = []
    for n, q in enumerate((q for q in values["questions"] if q["text"].strip()), start=1):
        correct = [o["text"] for o in q["options"] if o["is_correct"] and o["text"].strip()]
        key = q["answer_text"] if q["type"] == QuestionType.SHORT_ANSWER else ", ".join(correct)
        explained = f" (explanation: {q['explanation']})" if q["explanation"].strip() else ""
        lines.append(f"{n}. {q['text']} [{q['type']}] → {key}{explained}")
    return "\n".join(lines)


def quiz_flat(values: Mapping[str, Any]) -> dict[str, str]:
    """The quiz's values as the form's fields (to resubmit them as hidden fields)."""
    flat = {
        name: values[name] for name in ("title", "pass_mark", "max_attempts", "time_limit_seconds")
    }
    for i, q in enumerate(values["questions"]):
        flat.update(
            {
                f"q{i}_text": q["text"],
                f"q{i}_type": q["type"],
                f"q{i}_answer": q["answer_text"],
                f"q{i}_explanation": q["explanation"],
            }
        )
        for j, option in enumerate(q["options"]):
            flat[f"q{i}_opt{j}"] = option["text"]
            if option["is_correct"]:
                flat[f"q{i}_correct{j}"] = "yes"
    flat["slots"] = str(len(values["questions"]))
    return flat


def quiz_spec(body: QuizIn) -> QuizSpec:
    return QuizSpec(
        title=body.title,
        pass_mark=body.pass_mark,
        max_attempts=body.max_attempts,
        time_limit_seconds=body.time_limit_seconds,
        questions=[
            QuestionSpec(
                text=q.text,
                type=q.type,
                options=[OptionSpec(o.text, o.is_correct) for o in q.options],
                answer_text=q.answer_text,
                explanation=q.explanation,
            )
            for q in body.questions
        ],
    )


def quiz_form_context(
    values: dict[str, Any], *, action: str, course_id: uuid.UUID, version: str = ""
) -> dict[str, Any]:
    return {
        "values": with_blank_slot(values),
        "errors": {},
        "action": action,
        "course_id": course_id,
        "version": version,
        "question_types": QUESTION_TYPES,
        "option_slots": OPTION_SLOTS,
    }


def form_strings(form: Any) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


BLANK_QUIZ: dict[str, Any] = {
    "title": "",
    "pass_mark": "70",
    "max_attempts": "",
    "time_limit_seconds": "",
    "questions": [],
}
