"""Ranked retrieval over a course's own material.

Transcripts are cut into passages of a few whole sentences, each with the time span it is
spoken in: from `[mm:ss]` markers where the transcript has them, otherwise estimated from the
passage's place in the text (speech runs at a roughly even pace). Passages are ranked by
BM25 (with an IDF that never turns negative) over stemmed words without stop words. Whether
the material covers a question at all is decided by how much of the question's weight (IDF)
the best passage matches: a question whose distinctive words appear nowhere in the course is
not covered, however common its other words are.

A question about "this video" (in a conversation tied to a video) is answered from that
video: its passages are the scope, and a question with nothing left once such words are gone
("explain this video") gets the video's passages in order. Ranking is BM25 by default;
`semantic` ranks by cosine similarity of sentence embeddings (the optional extra, see
`semantic.py`) and `hybrid` fuses both rankings by reciprocal rank.
"""

from __future__ import annotations

import asyncio
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Protocol

import snowballstemmer
from rank_bm25 import BM25Plus

from learnhub.tutor_providers.base import Passage

PASSAGE_WORDS = 40  # a passage closes at the sentence that takes it past this many words
FOCUS_BOOST = 1.25  # passages of the conversation's own video rank this much higher
# Share of the question's IDF weight the best passage must match. Words the course never
# uses weigh the most, so natural phrasing ("why are pie charts a bad idea") rarely passes
# half; off-topic questions stay at 0 to 0.25 on the demo catalog (see docs/decisions.md).
MIN_COVERAGE = 0.3
RELATIVE_CUTOFF = 0.5  # further passages are quoted when they score this close to the best

RRF_K = 60  # reciprocal rank fusion's damping constant (the value of its original paper)
# Cosine similarity of question and passage embeddings above which the material covers a
# question the words alone do not match (all-MiniLM-L6-v2: off-topic questions stay at or
# below 0.2 on the demo catalog, answered ones mostly score 0.35 to 0.75).
MIN_SIMILARITY = 0.3

RetrievalMode = Literal["bm25", "semantic", "hybrid"]

_WORD = re.compile(r"\w+", re.UNICODE)
# A term: a version or decimal number kept whole ("WCAG 2.2", "4.5"), or a word.
_TERM = re.compile(r"\d+(?:\.\d+)+|\w+", re.UNICODE)
# "this video", "the lesson", "this clip": the question is about the conversation's video.
_THIS_VIDEO = re.compile(
    r"\b(?:this|that|the|current)\s+(?:video|lesson|lecture|clip|recording|episode)\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MARKER = re.compile(r"\[(?:(\d{1,2}):)?(\d{1,2}):(\d{2})\]")
# Words that carry no subject: they neither rank passages nor count towards coverage.
_STOP_WORDS_TEXT = """a about above after again all am an and any are as at be because been
before being
below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i if in into is it its itself
just me more most my no nor not now of off on once only or other our out over own same
she should so some such than that the their them then there these they this those
through to too under until up very was we were what when where which while who whom why
will with would you your yours explain tell mean means please work works working use
uses using used happen happens difference example examples way ways thing things get
gets make makes need needs want know understand learn course video lesson lessons videos
say says said talk talks cover covers mention mentions describe describes discuss discusses
lecture clip recording episode summarise summarize summary overview main point points s t"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    # The pure-Python stemmer costs far more than a cache look-up; course text repeats words.
    return str(_STEMMER.stemWord(word))


def terms(text: str) -> list[str]:
    """Stemmed, lower-case words without stop words: what ranking compares."""
    return [_stem(w) for w in _TERM.findall(text.lower()) if w not in _STOP_WORDS]


def refers_to_the_video(question: str) -> bool:
    """Whether the question points at the conversation's video ("what does this video say")."""
    return _THIS_VIDEO.search(question) is not None


def count_tokens(text: str) -> int:
    """Words and punctuation marks: the offline provider's token count."""
    return len(_TOKEN.findall(text))


def format_time(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _timed_stretches(transcript: str, duration: float) -> list[tuple[float, float, str]]:
    """(start, end, text) stretches: one per `[mm:ss]` marker, or one for the whole video."""
    marks = list(_MARKER.finditer(transcript))
    if not marks:
        return [(0.0, duration, transcript)]
    stretches = []
    head = transcript[: marks[0].start()].strip()
    first_at = _seconds(marks[0])
    if head:
        stretches.append((0.0, first_at, head))
    for i, mark in enumerate(marks):
        start = min(_seconds(mark), duration)
        end = _seconds(marks[i + 1]) if i + 1 < len(marks) else duration
        text = transcript[mark.end() : marks[i + 1].start() if i + 1 < len(marks) else None]
        stretches.append((start, max(start, min(end, duration)), text.strip()))
    return [s for s in stretches if s[2]]


def _seconds(mark: re.Match[str]) -> float:
    hours, minutes, seconds = mark.group(1), mark.group(2), mark.group(3)
    return float(int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds))


def transcript_passages(
    video_id: uuid.UUID, title: str, duration_seconds: float, transcript: str
) -> list[Passage]:
    """A video's transcript as passages of whole sentences, each with its time span."""
    passages: list[Passage] = []
    for start, end, text in _timed_stretches(transcript or "", float(duration_seconds)):
        sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
        total_chars = sum(len(s) for s in sentences) or 1
        span = end - start
        offset = 0
        group: list[str] = []
        group_start = 0
        for sentence in sentences:
            group.append(sentence)
            offset += len(sentence)
            if sum(len(_WORD.findall(s)) for s in group) >= PASSAGE_WORDS:
                passages.append(
                    _passage(video_id, title, group, start, span, group_start, offset, total_chars)
                )
                group, group_start = [], offset
        if group:
            passages.append(
                _passage(video_id, title, group, start, span, group_start, offset, total_chars)
            )
    return passages


def _passage(
    video_id: uuid.UUID,
    title: str,
    sentences: list[str],
    start: float,
    span: float,
    from_char: int,
    to_char: int,
    total_chars: int,
) -> Passage:
    return Passage(
        text=" ".join(sentences),
        source_title=title,
        video_id=video_id,
        start_seconds=round(start + span * from_char / total_chars, 1),
        end_seconds=round(start + span * to_char / total_chars, 1),
    )


@dataclass(frozen=True, slots=True)
class Ranked:
    passage: Passage
    score: float


@dataclass(frozen=True, slots=True)
class Retrieval:
    ranked: tuple[Ranked, ...]  # best first, only passages that match the question
    coverage: float  # share of the question's IDF weight the best passage matches
    # The question asked for the conversation's video as a whole ("explain this video"):
    # `ranked` is that video's passages in the order they are spoken.
    whole_video: bool = False
    similarity: float = 0.0  # semantic modes: the best passage's cosine similarity

    @property
    def covered(self) -> bool:
        if not self.ranked:
            return False
        matched = self.coverage >= MIN_COVERAGE or self.similarity >= MIN_SIMILARITY
        return self.whole_video or matched

    def best(self, limit: int) -> list[Passage]:
        """The passages worth quoting: the best, and the next ones scoring close to it."""
        if not self.ranked:
            return []
        floor = self.ranked[0].score * RELATIVE_CUTOFF
        return [r.passage for r in self.ranked[:limit] if r.score >= floor]


class Embedder(Protocol):
    """Turns texts into unit-length vectors (see `semantic.py`); cached by the implementation."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


NOTHING = Retrieval(ranked=(), coverage=0.0)


class Retriever:
    """Finds the passages that answer a question, by `mode`: BM25 over terms, semantic
    similarity (needs an `Embedder`), or both fused. Pure computation; `find` moves the
    embedding work of the semantic modes off the event loop."""

    def __init__(self, mode: RetrievalMode = "bm25", embedder: Embedder | None = None) -> None:
        if mode != "bm25" and embedder is None:
            raise ValueError(f"retrieval mode {mode!r} needs an embedder")
        self.mode: RetrievalMode = mode
        self.embedder = embedder

    async def find(
        self, passages: Sequence[Passage], question: str, focus_video_id: uuid.UUID | None = None
    ) -> Retrieval:
        if self.mode == "bm25":
            return self.retrieve(passages, question, focus_video_id)
        # Embedding is CPU-bound (tens of ms to seconds): other requests keep being served.
        return await asyncio.to_thread(self.retrieve, passages, question, focus_video_id)

    def retrieve(
        self, passages: Sequence[Passage], question: str, focus_video_id: uuid.UUID | None = None
    ) -> Retrieval:
        passages = list(passages)
        if focus_video_id is not None and refers_to_the_video(question):
            own = [p for p in passages if p.video_id == focus_video_id]
            if own and not terms(question):
                # "Explain this video": nothing to rank by, so the video in its own order.
                ranked = tuple(Ranked(p, 1.0) for p in own)
                return Retrieval(ranked=ranked, coverage=1.0, whole_video=True)
            if own:
                scoped = self._rank(passages, question, focus_video_id, only_focus=True)
                if scoped.covered:
                    return scoped
                # The video does not cover it: the rest of the course may.
        return self._rank(passages, question, focus_video_id)

    def _rank(
        self,
        passages: list[Passage],
        question: str,
        focus_video_id: uuid.UUID | None,
        only_focus: bool = False,
    ) -> Retrieval:
        lexical = _bm25(passages, question, focus_video_id)
        if only_focus:
            lexical = _within(lexical, passages, question, focus_video_id)
        if self.mode == "bm25":
            return lexical
        pool = [p for p in passages if p.video_id == focus_video_id] if only_focus else passages
        semantic = self._semantic(pool, question, focus_video_id)
        found = semantic if self.mode == "semantic" else _fuse(lexical, semantic)
        # Whether the words match is still known: a term-matched question is covered.
        return Retrieval(found.ranked, lexical.coverage, similarity=semantic.similarity)

    def _semantic(
        self, passages: list[Passage], question: str, focus_video_id: uuid.UUID | None
    ) -> Retrieval:
        assert self.embedder is not None
        vectors = self.embedder.embed([question, *(_embedded_text(p) for p in passages)])
        query, rest = vectors[0], vectors[1:]
        scored = []
        for i, (passage, vector) in enumerate(zip(passages, rest, strict=True)):
            similarity = sum(a * b for a, b in zip(query, vector, strict=True))
            boost = FOCUS_BOOST if focus_video_id and passage.video_id == focus_video_id else 1.0
            scored.append((similarity * boost, similarity, i))
        scored.sort(key=lambda s: s[0], reverse=True)
        ranked = tuple(Ranked(passages[i], max(score, 0.0)) for score, _, i in scored)
        best = max((s[1] for s in scored), default=0.0)
        return Retrieval(ranked=ranked, coverage=0.0, similarity=best)


def _embedded_text(passage: Passage) -> str:
    return f"{passage.source_title}. {passage.text}"


def _bm25(
    passages: Sequence[Passage], question: str, focus_video_id: uuid.UUID | None
) -> Retrieval:
    query = list(dict.fromkeys(terms(question)))
    if not passages or not query:
        return NOTHING
    # The video's title belongs to each of its passages: "in the video on decorators...".
    corpus = [terms(f"{p.source_title} {p.text}") for p in passages]
    # BM25 with Lucene's always-positive IDF, log((N + 1) / df) (BM25+ with delta 0):
    # Okapi's IDF turns negative for a term most passages share, and a small course would
    # then rank its only matching passages below zero.
    index = BM25Plus(corpus, delta=0.0)
    scores = index.get_scores(query)
    ranked: list[tuple[float, int]] = []
    for i, (passage, words, score) in enumerate(zip(passages, corpus, scores, strict=True)):
        if not set(query) & set(words):
            continue
        boost = FOCUS_BOOST if focus_video_id and passage.video_id == focus_video_id else 1.0
        ranked.append((float(score) * boost, i))
    if not ranked:
        return NOTHING
    ranked.sort(key=lambda r: r[0], reverse=True)
    return Retrieval(
        ranked=tuple(Ranked(passages[i], score) for score, i in ranked),
        coverage=_coverage(query, corpus, corpus[ranked[0][1]]),
    )


def _fuse(lexical: Retrieval, semantic: Retrieval) -> Retrieval:
    """Reciprocal rank fusion: each ranking adds 1 / (k + rank) to a passage's score, so
    neither ranking's scale dominates and a passage both rank high comes first."""
    fused: dict[int, float] = {}
    keep: dict[int, Passage] = {}
    for ranking in (lexical.ranked, semantic.ranked):
        for rank, r in enumerate(ranking, 1):
            key = id(r.passage)
            fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + rank)
            keep[key] = r.passage
    order = sorted(fused, key=lambda k: fused[k], reverse=True)
    return Retrieval(ranked=tuple(Ranked(keep[k], fused[k]) for k in order), coverage=0.0)


def _within(
    found: Retrieval, passages: list[Passage], question: str, focus_video_id: uuid.UUID | None
) -> Retrieval:
    """The ranking cut to the conversation's video, coverage judged on its best passage
    (the IDF still that of the whole course)."""
    ranked = tuple(r for r in found.ranked if r.passage.video_id == focus_video_id)
    if not ranked:
        return NOTHING
    query = list(dict.fromkeys(terms(question)))
    corpus = [terms(f"{p.source_title} {p.text}") for p in passages]
    best = terms(f"{ranked[0].passage.source_title} {ranked[0].passage.text}")
    return Retrieval(ranked=ranked, coverage=_coverage(query, corpus, best) if query else 0.0)


def _coverage(query: list[str], corpus: list[list[str]], best: list[str]) -> float:
    """IDF-weighted share of the question's terms found in the best passage. A term the
    course never uses weighs the most, so "bake bread" in a Python course is not covered."""
    n = len(corpus)
    weight = {t: math.log((n + 1) / (sum(t in words for words in corpus) + 0.5)) for t in query}
    best_words = set(best)
    total = sum(weight.values())
    found = sum(w for t, w in weight.items() if t in best_words)
    return found / total if total > 0 else 0.0


_DEFAULT = Retriever()


def retrieve(
    passages: Sequence[Passage], question: str, focus_video_id: uuid.UUID | None = None
) -> Retrieval:
    """BM25 retrieval (the default mode)."""
    return _DEFAULT.retrieve(passages, question, focus_video_id)
