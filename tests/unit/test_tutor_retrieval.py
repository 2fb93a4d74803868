"""The tutor's retrieval and providers, without a database: passages and their times,
ranking, coverage, token counts, and the OpenAI-compatible client's handling of replies."""

from __future__ import annotations

import itertools
import json
import uuid

import httpx
import pytest

from learnhub.ops.demo_catalog import demo_instructors
from learnhub.tutor_providers import (
    OfflineTutor,
    OpenAICompatibleTutor,
    Passage,
    TutorProviderError,
    TutorQuestion,
)
from learnhub.tutor_providers.retrieval import (
    count_tokens,
    format_time,
    retrieve,
    terms,
    transcript_passages,
)

VIDEO = uuid.UUID("00000000-0000-7000-8000-000000000001")


def _python_fundamentals():
    (course,) = [
        c for i in demo_instructors() for c in i.courses if c.title == "Python Fundamentals"
    ]
    return course


def demo_passages() -> list[Passage]:
    return [
        passage
        for section in _python_fundamentals().sections
        for video in section.videos
        for passage in transcript_passages(
            uuid.uuid5(VIDEO, video.title), video.title, video.duration_seconds, video.transcript
        )
    ]


def test_passages_keep_whole_sentences_and_spread_over_the_duration():
    sentence = "Recursion calls itself with a smaller input each time until a base case. "
    transcript = sentence * 20
    passages = transcript_passages(VIDEO, "Recursion", 600, transcript)
    assert len(passages) > 1
    assert " ".join(p.text for p in passages) == transcript.strip()
    assert all(p.text.endswith(".") for p in passages)
    assert passages[0].start_seconds == 0.0 and passages[-1].end_seconds == 600.0
    for earlier, later in itertools.pairwise(passages):
        assert earlier.end_seconds == later.start_seconds  # contiguous, in order
    assert {p.video_id for p in passages} == {VIDEO}


def test_time_markers_in_a_transcript_set_the_passage_times():
    transcript = "[00:00] Intro words here. [01:05] Stacks grow. [1:02:03] Much later."
    passages = transcript_passages(VIDEO, "Timed", 4000, transcript)
    assert [(p.start_seconds, p.text) for p in passages] == [
        (0.0, "Intro words here."),
        (65.0, "Stacks grow."),
        (3723.0, "Much later."),
    ]
    assert passages[1].end_seconds == 3723.0 and passages[2].end_seconds == 4000.0


def test_an_empty_transcript_has_no_passages():
    assert transcript_passages(VIDEO, "Silent", 60, "") == []
    assert transcript_passages(VIDEO, "Silent", 60, "   ") == []


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0, "0:00"), (59.9, "0:59"), (65, "1:05"), (3723, "1:02:03")]
)
def test_times_are_shown_as_a_player_shows_them(seconds, shown):
    assert format_time(seconds) == shown


def test_terms_are_stemmed_without_stop_words():
    assert terms("How do the Functions work?") == ["function"]
    assert terms("Comprehensions, comprehension!") == ["comprehens", "comprehens"]
    assert count_tokens("Hi, there!") == 4


def test_the_best_passage_answers_and_off_topic_questions_are_not_covered():
    passages = demo_passages()
    found = retrieve(passages, "What is a list comprehension?")
    assert found.covered
    assert "comprehension" in found.best(1)[0].text.lower()
    assert found.best(1)[0].source_title == "Lists, Dictionaries and Comprehensions"
    for question in ("How do I bake sourdough bread?", "What is the capital of France?", "the"):
        assert not retrieve(passages, question).covered, question
    assert not retrieve([], "anything").covered


def test_the_conversation_video_breaks_ties_towards_itself():
    a = Passage("Stacks hold frames.", "A", uuid.uuid4())
    b = Passage("Stacks hold frames.", "B", uuid.uuid4())
    assert retrieve([a, b], "stacks frames", focus_video_id=b.video_id).best(1) == [b]
    assert retrieve([a, b], "stacks frames", focus_video_id=a.video_id).best(1) == [a]


async def test_offline_tutor_quotes_at_most_three_passages_with_their_sources():
    tutor = OfflineTutor()
    passages = tuple(demo_passages())
    answer = await tutor.answer(TutorQuestion(PYTHON, passages, "list comprehension"))
    assert answer.covered and 1 <= len(answer.citations) <= 3
    for passage in answer.citations:
        assert f"“{passage.text}”" in answer.content
        assert f"“{passage.source_title}”, at {format_time(passage.start_seconds)}" in (
            answer.content
        )
    assert answer.completion_tokens == count_tokens(answer.content)
    nothing = await tutor.answer(TutorQuestion(PYTHON, passages, "sourdough bread"))
    assert not nothing.covered and nothing.citations == () and PYTHON in nothing.content


PYTHON = "Python Fundamentals"


def openai_tutor(handler) -> OpenAICompatibleTutor:
    return OpenAICompatibleTutor(
        "http://tutor.test/v1", "m", transport=httpx.MockTransport(handler)
    )


def completion(content, usage=None) -> httpx.Response:
    body = {"choices": [{"message": {"role": "assistant", "content": content}}]}
    if usage is not None:
        body["usage"] = usage
    return httpx.Response(200, json=body)


async def test_openai_tutor_cites_the_passages_the_answer_names():
    passages = tuple(demo_passages())
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return completion("See [2] and [9] and [2].", {"prompt_tokens": 7})

    tutor = openai_tutor(handler)
    answer = await tutor.answer(TutorQuestion(PYTHON, passages, "list comprehension"))
    given = retrieve(passages, "list comprehension").best(4)
    assert answer.citations == (given[1],)  # [9] was never given; [2] counts once
    assert answer.prompt_tokens == 7 and answer.completion_tokens == count_tokens(answer.content)
    assert seen[0]["messages"][-1] == {"role": "user", "content": "list comprehension"}
    await tutor.close()


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(502, text="bad gateway"),
        httpx.Response(200, text="not json"),
        httpx.Response(200, json=["a list"]),
        httpx.Response(200, json={"choices": [{"message": {"content": "   "}}]}),
        httpx.Response(200, json={"choices": [{"message": {"content": 42}}]}),
    ],
)
async def test_openai_tutor_turns_bad_replies_into_provider_errors(reply):
    tutor = openai_tutor(lambda _request: reply)
    with pytest.raises(TutorProviderError):
        await tutor.answer(TutorQuestion(PYTHON, tuple(demo_passages()), "list comprehension"))
    await tutor.close()
