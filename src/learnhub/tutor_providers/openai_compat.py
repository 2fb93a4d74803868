"""A tutor backed by any OpenAI-compatible chat-completions endpoint (OpenAI, a local vLLM,
Ollama, llama.cpp server...). It is grounded the same way as the offline tutor: the passages
retrieval finds are the only material it is given, numbered so it can cite them, and a
question the material does not cover is answered as such without calling the model."""

from __future__ import annotations

import re
from typing import Any

import httpx

from learnhub.tutor_providers.base import Passage, TutorAnswer, TutorProviderError, TutorQuestion
from learnhub.tutor_providers.offline import cite, not_covered_reply
from learnhub.tutor_providers.retrieval import Retriever, count_tokens

MAX_PASSAGES = 4
_REFERENCE = re.compile(r"\[(\d{1,2})\]")

SYSTEM_PROMPT = (
    "You are the tutor of the online course “{course}”. Answer the learner's question using "
    "only the numbered course passages below, citing them as [1], [2]... where you use them. "
    "If they do not answer the question, say so plainly. Be concise.\n\n{passages}"
)


class OpenAICompatibleTutor:
    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_seconds: float = 30.0,
        max_passages: int = MAX_PASSAGES,
        transport: httpx.AsyncBaseTransport | None = None,
        retriever: Retriever | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.model = model
        self.max_passages = max_passages
        self.retriever = retriever or Retriever()
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            timeout=timeout_seconds,
            # Connection failures are retried once; a slow or failing model is not.
            transport=transport or httpx.AsyncHTTPTransport(retries=1),
        )

    async def answer(self, question: TutorQuestion) -> TutorAnswer:
        found = await self.retriever.find(
            question.passages, question.question, question.focus_video_id
        )
        if not found.covered:
            content = not_covered_reply(question.course_title)
            return TutorAnswer(
                content=content,
                citations=(),
                model=self.model,
                prompt_tokens=0,
                completion_tokens=0,
                covered=False,
            )
        given = found.best(self.max_passages)
        reply = await self._complete(self._messages(question, given))
        content, usage = _parse(reply)
        return TutorAnswer(
            content=content,
            citations=_cited(content, given),
            model=str(reply.get("model") or self.model),
            prompt_tokens=_count(usage, "prompt_tokens", 0),
            completion_tokens=_count(usage, "completion_tokens", count_tokens(content)),
        )

    def _messages(self, question: TutorQuestion, given: list[Passage]) -> list[dict[str, str]]:
        numbered = "\n".join(f"[{i}] ({cite(p)}) {p.text}" for i, p in enumerate(given, 1))
        system = SYSTEM_PROMPT.format(course=question.course_title, passages=numbered)
        return [
            {"role": "system", "content": system},
            *({"role": t.role, "content": t.content} for t in question.history),
            {"role": "user", "content": question.question},
        ]

    async def _complete(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        payload = {"model": self.model, "messages": messages, "temperature": 0.2}
        try:
            response = await self._client.post("chat/completions", json=payload)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise TutorProviderError(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(body, dict):
            raise TutorProviderError("the completion is not a JSON object")
        return body

    async def close(self) -> None:
        await self._client.aclose()


def _parse(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise TutorProviderError("the completion has no message content") from exc
    if not isinstance(content, str) or not content.strip():
        raise TutorProviderError("the completion's content is empty")
    usage = body.get("usage")
    return content.strip(), usage if isinstance(usage, dict) else {}


def _count(usage: dict[str, Any], key: str, fallback: int) -> int:
    value = usage.get(key)
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else fallback
    )


def _cited(content: str, given: list[Passage]) -> tuple[Passage, ...]:
    """The passages the answer refers to as [n]; all that were given if it names none."""
    numbers = dict.fromkeys(int(n) for n in _REFERENCE.findall(content))
    named = [given[n - 1] for n in numbers if 1 <= n <= len(given)]
    return tuple(named or given)
