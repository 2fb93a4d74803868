"""The default tutor: answers offline, from the course's own material only, by quoting the
passages that best match the question and citing the video and time they come from."""

from __future__ import annotations

from learnhub.tutor_providers.base import Passage, TutorAnswer, TutorQuestion
from learnhub.tutor_providers.retrieval import Retriever, count_tokens, format_time

MODEL = "offline-bm25"  # the default; "offline-semantic" / "offline-hybrid" by retrieval mode
MAX_QUOTES = 3


def not_covered_reply(course_title: str) -> str:
    return (
        f"The material of “{course_title}” does not cover this question, so I cannot answer "
        "it from the course. Try asking with the words the videos use, or ask your instructor."
    )


def cite(passage: Passage) -> str:
    if passage.video_id is None:
        return f"course description of “{passage.source_title}”"
    return f"“{passage.source_title}”, at {format_time(passage.start_seconds)}"


class OfflineTutor:
    name = "offline"

    def __init__(self, max_quotes: int = MAX_QUOTES, retriever: Retriever | None = None) -> None:
        self.max_quotes = max_quotes
        self.retriever = retriever or Retriever()

    async def answer(self, question: TutorQuestion) -> TutorAnswer:
        found = await self.retriever.find(
            question.passages, question.question, question.focus_video_id
        )
        quoted = found.best(self.max_quotes) if found.covered else []
        if quoted:
            if found.whole_video:
                lines = [f"Here is what “{quoted[0].source_title}” covers:"]
            else:
                lines = ["Here is what the course material says about that:"]
            lines += [f"{i}. “{p.text}” ({cite(p)})" for i, p in enumerate(quoted, 1)]
            content = "\n\n".join(lines)
        else:
            content = not_covered_reply(question.course_title)
        # What was read to answer: the question and the passages quoted.
        prompt_tokens = count_tokens(question.question) + sum(count_tokens(p.text) for p in quoted)
        return TutorAnswer(
            content=content,
            citations=tuple(quoted),
            model=f"offline-{self.retriever.mode}",
            prompt_tokens=prompt_tokens,
            completion_tokens=count_tokens(content),
            covered=bool(quoted),
        )

    async def close(self) -> None:
        return None
