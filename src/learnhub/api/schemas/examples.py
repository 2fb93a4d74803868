"""Example values for the OpenAPI document: one coherent story (Ada, a learner, in Grace's
course "Data Visualisation with Python"), so the examples in /docs and /redoc read as real
requests and answers. tests/api/test_openapi_docs.py validates each against its schema."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from pydantic import BaseModel, ConfigDict

import learnhub.api.schemas as package

USER_ID = "0193a5b2-0001-7000-8000-00000000a0a0"
INSTRUCTOR_ID = "0193a5b2-0002-7000-8000-00000000b0b0"
COURSE_ID = "0193a5b2-0003-7000-8000-00000000c0c0"
SECTION_ID = "0193a5b2-0004-7000-8000-00000000d0d0"
VIDEO_ID = "0193a5b2-0005-7000-8000-00000000e0e0"
QUIZ_ID = "0193a5b2-0006-7000-8000-00000000f0f0"
QUESTION_ID = "0193a5b2-0007-7000-8000-000000001111"
OPTION_IDS = ("0193a5b2-0008-7000-8000-000000002221", "0193a5b2-0008-7000-8000-000000002222")
ENROLLMENT_ID = "0193a5b2-0009-7000-8000-000000003333"
REVIEW_ID = "0193a5b2-000a-7000-8000-000000004444"
ATTEMPT_ID = "0193a5b2-000b-7000-8000-000000005555"
CONVERSATION_ID = "0193a5b2-000c-7000-8000-000000006666"
MESSAGE_IDS = ("0193a5b2-000d-7000-8000-000000007771", "0193a5b2-000d-7000-8000-000000007772")
AUDIT_ID = "0193a5b2-000e-7000-8000-000000008888"
ACTIVITY_ID = "0193a5b2-000f-7000-8000-000000009999"
CREATED = "2026-03-02T09:30:00Z"
UPDATED = "2026-03-09T17:05:12Z"
NEXT_CURSOR = "eyJrIjpbIjIwMjYtMDMtMDJUMDk6MzA6MDBaIl0sImlkIjoiMDE5M2E1YjIifQ"


def example(value: dict[str, Any]) -> ConfigDict:
    """A model's config (merged with its base's) with `value` as its schema's example."""
    return ConfigDict(json_schema_extra={"examples": [value]})


def first_example(model: Any) -> Any:
    """The example a model declares with `example()`, or None."""
    extra = getattr(model, "model_config", {}).get("json_schema_extra")
    return extra["examples"][0] if isinstance(extra, dict) and extra.get("examples") else None


USER: dict[str, Any] = {
    "id": USER_ID,
    "email": "ada@example.com",
    "display_name": "Ada Lovelace",
    "status": "active",
    "roles": ["student"],
    "created_at": CREATED,
    "updated_at": UPDATED,
    "last_login_at": UPDATED,
    "version": 3,
}
INSTRUCTOR: dict[str, Any] = {"id": INSTRUCTOR_ID, "display_name": "Grace Hopper"}
AUTHOR: dict[str, Any] = {"id": USER_ID, "display_name": "Ada Lovelace"}
PRICE: dict[str, Any] = {"amount": "19.99", "currency": "EUR"}
COURSE: dict[str, Any] = {
    "id": COURSE_ID,
    "slug": "data-visualisation-with-python",
    "title": "Data Visualisation with Python",
    "description": "Charts that tell the truth, with pandas and matplotlib.",
    "price": PRICE,
    "difficulty": "intermediate",
    "status": "published",
    "instructor_id": INSTRUCTOR_ID,
    "instructor": INSTRUCTOR,
    "rating": 4.5,
    "rating_count": 2,
    "rating_histogram": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1},
    "enrollment_count": 128,
    "tags": ["data", "python"],
    "objectives": ["Choose the right chart", "Label axes honestly"],
    "version": 4,
    "created_at": CREATED,
    "updated_at": UPDATED,
    "published_at": UPDATED,
    "tutor_enabled": True,
}
SECTION: dict[str, Any] = {
    "id": SECTION_ID,
    "course_id": COURSE_ID,
    "title": "Getting started",
    "position": 0,
    "version": 1,
}
VIDEO_SUMMARY: dict[str, Any] = {
    "id": VIDEO_ID,
    "title": "Your first bar chart",
    "url": "https://videos.example.com/first-bar-chart.mp4",
    "duration_seconds": 540,
    "position": 0,
    "version": 1,
    "is_preview": True,
    "locked": False,
}
VIDEO: dict[str, Any] = VIDEO_SUMMARY | {
    "course_id": COURSE_ID,
    "section_id": SECTION_ID,
    "transcript": "Today we draw a bar chart and label both axes.",
}
QUIZ_SUMMARY: dict[str, Any] = {
    "id": QUIZ_ID,
    "title": "Charts check",
    "position": 0,
    "pass_mark": 70,
    "max_attempts": 3,
    "time_limit_seconds": 600,
    "version": 1,
}
COURSE_DETAIL: dict[str, Any] = COURSE | {
    "sections": [
        SECTION | {"videos": [VIDEO_SUMMARY], "quizzes": [QUIZ_SUMMARY | {"question_count": 1}]}
    ]
}
QUESTION: dict[str, Any] = {
    "id": QUESTION_ID,
    "text": "Which chart compares categories best?",
    "type": "single_choice",
    "options": [{"id": OPTION_IDS[0], "text": "Bar chart"}, {"id": OPTION_IDS[1], "text": "Pie"}],
}
QUESTION_KEY: dict[str, Any] = QUESTION | {
    "options": [
        {"id": OPTION_IDS[0], "text": "Bar chart", "is_correct": True},
        {"id": OPTION_IDS[1], "text": "Pie", "is_correct": False},
    ],
    "answer_text": None,
    "explanation": "Bars share one baseline, so their lengths compare at a glance.",
}
QUIZ_AUTHOR: dict[str, Any] = QUIZ_SUMMARY | {
    "course_id": COURSE_ID,
    "section_id": SECTION_ID,
    "questions": [QUESTION_KEY],
}
QUIZ: dict[str, Any] = QUIZ_SUMMARY | {
    "course_id": COURSE_ID,
    "section_id": SECTION_ID,
    "question_count": 1,
    "questions": [QUESTION],
    "locked": False,
}
ENROLLMENT: dict[str, Any] = {
    "id": ENROLLMENT_ID,
    "user_id": USER_ID,
    "course_id": COURSE_ID,
    "status": "active",
    "enrolled_at": CREATED,
    "completed_at": None,
    "version": 1,
}
MY_ENROLLMENT: dict[str, Any] = ENROLLMENT | {
    "course": {
        "id": COURSE_ID,
        "slug": COURSE["slug"],
        "title": COURSE["title"],
        "status": "published",
    },
    "course_available": True,
    "progress_percent": 40.0,
}
PROGRESS: dict[str, Any] = {
    "video_id": VIDEO_ID,
    "position_seconds": 312.5,
    "watched_seconds": 300.0,
    "completed": False,
    "completed_at": None,
    "updated_at": UPDATED,
}
PROFILE: dict[str, Any] = {
    "id": INSTRUCTOR_ID,
    "display_name": "Grace Hopper",
    "badges": ["instructor"],
    "courses": [COURSE],
    "courses_next": f"/api/v1/courses?instructor_id={INSTRUCTOR_ID}&cursor={NEXT_CURSOR}",
}
REVIEW: dict[str, Any] = {
    "id": REVIEW_ID,
    "user_id": USER_ID,
    "author": AUTHOR,
    "course_id": COURSE_ID,
    "rating": 5,
    "body": "Clear, practical, and the exercises are fun.",
    "status": "published",
    "version": 1,
    "created_at": CREATED,
    "updated_at": UPDATED,
}
MESSAGES: list[dict[str, Any]] = [
    {
        "id": MESSAGE_IDS[0],
        "role": "user",
        "content": "Why label both axes?",
        "citations": [],
        "model": None,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "latency_ms": 0,
        "created_at": UPDATED,
    },
    {
        "id": MESSAGE_IDS[1],
        "role": "assistant",
        "content": "The video says an unlabelled axis hides the scale of the comparison.",
        "citations": [{"video_id": VIDEO_ID, "start_seconds": 42.0, "end_seconds": 61.5}],
        "model": "offline",
        "prompt_tokens": 180,
        "completion_tokens": 24,
        "latency_ms": 35,
        "created_at": UPDATED,
    },
]
AUDIT_ENTRY: dict[str, Any] = {
    "id": AUDIT_ID,
    "occurred_at": UPDATED,
    "actor_id": INSTRUCTOR_ID,
    "request_id": "5f0c6a1e2b7d4c9a",
    "entity_type": "course",
    "entity_id": COURSE_ID,
    "action": "update",
    "changes": {"title": ["Data Viz", "Data Visualisation with Python"]},
}
ACTIVITY: dict[str, Any] = {
    "id": ACTIVITY_ID,
    "type": "video_completed",
    "subject_type": "video",
    "subject_id": VIDEO_ID,
    "occurred_at": UPDATED,
    "metadata": {"course_id": COURSE_ID},
}
SECOND_SECTION_ID = "0193a5b2-0004-7000-8000-00000000d0d1"
ACCESS_TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIwMTkzYTViMiJ9.c2lnbmF0dXJl"
REFRESH_TOKEN = "rt_5mQk3vX9pL2wZ8nB4cR7tY1uE6oA0sD"
ANSWER: dict[str, Any] = {"question_id": QUESTION_ID, "option_ids": [OPTION_IDS[0]]}
QUESTION_IN: dict[str, Any] = {
    "text": QUESTION["text"],
    "type": "single_choice",
    "options": [{"text": "Bar chart", "is_correct": True}, {"text": "Pie", "is_correct": False}],
    "explanation": "Bars share one baseline, so their lengths compare at a glance.",
}
PROGRESS_IN: dict[str, Any] = {"position_seconds": 312.5, "played_segments": [[0, 312.5]]}


def json_example(value: Any, media_type: str = "application/json") -> dict[int | str, Any]:
    """`responses=` for a route whose answer has no model to carry an example."""
    return {200: {"content": {media_type: {"example": value}}}}


EXPORT: dict[str, Any] = {
    "user": USER,
    "stats": {
        "enrolled_courses": 1,
        "completed_courses": 0,
        "completed_videos": 1,
        "passed_quizzes": 1,
        "last_activity_at": UPDATED,
        "refreshed_at": UPDATED,
    },
    "sessions": [],
    "password_resets": [],
    "activity": [],
    "history": [],
    "enrollments": [ENROLLMENT],
    "video_progress": [PROGRESS | {"course_id": COURSE_ID}],
    "quiz_attempts": [],
    "reviews": [REVIEW],
    "tutor_conversations": [],
}
METRICS = (
    "# HELP learnhub_outbox_backlog Outbox events not yet published\n"
    "# TYPE learnhub_outbox_backlog gauge\n"
    "learnhub_outbox_backlog 0.0\n"
)


def restore_examples(document: dict[str, Any]) -> dict[str, Any]:
    """Put the models' examples back into the document as declared. FastAPI writes the
    document with `exclude_none`, which also drops every null inside an example, and an
    example without its nullable fields no longer matches its schema (they are required)."""
    schemas = document.get("components", {}).get("schemas", {})
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for model in vars(module).values():
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                continue
            value = first_example(model)
            if value is not None and model.__name__ in schemas:
                schemas[model.__name__]["examples"] = [value]
    for name, schema in schemas.items():
        item = name.removeprefix("PageOut_").removesuffix("_")
        if name.startswith("PageOut_") and schemas.get(item, {}).get("examples"):
            page = {"items": [schemas[item]["examples"][0]], "next_cursor": NEXT_CURSOR}
            schema["examples"] = [page]
    return document
