"""What a tutor provider sees and returns. Plain data: no database, no web framework, so
providers are tested on their own and any layer may hand them a question."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Passage:
    """A stretch of course material: a few sentences of a transcript (with where they are
    said in the video), or of the course's description (no video)."""

    text: str
    source_title: str
    video_id: uuid.UUID | None = None
    start_seconds: float = 0.0
    end_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Turn:
    role: str  # "user" | "assistant"
    content: str


@dataclass(frozen=True, slots=True)
class TutorQuestion:
    course_title: str
    passages: tuple[Passage, ...]
    question: str
    history: tuple[Turn, ...] = ()
    # The video the conversation is about, if any: its passages rank a little higher.
    focus_video_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class TutorAnswer:
    content: str
    citations: tuple[Passage, ...]
    model: str
    prompt_tokens: int
    completion_tokens: int
    # False when the course material does not cover the question (and the answer says so).
    covered: bool = True


class TutorProviderError(Exception):
    """The provider could not answer (unreachable, timed out, malformed reply)."""


class TutorProvider(Protocol):
    name: str

    async def answer(self, question: TutorQuestion) -> TutorAnswer: ...

    async def close(self) -> None: ...
