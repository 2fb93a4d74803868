"""Ranked text retrieval over a course's own material.

Transcripts are cut into passages of a few whole sentences, each with the time span it is
spoken in: from `[mm:ss]` markers where the transcript has them, otherwise estimated from the
passage's place in the text (speech runs at a roughly even pace). Passages are ranked by
BM25 (with an IDF that never turns negative) over stemmed words without stop words. Whether
the material covers a question at all is decided by how much of the question's weight (IDF)
the best passage matches: a question whose distinctive words appear nowhere in the course is
not covered, however common its other words are.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from rank_bm25 import BM25Plus

from learnhub.tutor_providers.base import Passage

PASSAGE_WORDS = 60  # a passage closes at the sentence that takes it past this many words
FOCUS_BOOST = 1.25  # passages of the conversation's own video rank this much higher
MIN_COVERAGE = 0.5  # share of the question's IDF weight the best passage must match
RELATIVE_CUTOFF = 0.5  # further passages are quoted when they score this close to the best

_WORD = re.compile(r"\w+", re.UNICODE)
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
gets make makes need needs want know understand learn course video lesson"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    # The pure-Python stemmer costs far more than a cache look-up; course text repeats words.
    return str(_STEMMER.stemWord(word))


def terms(text: str) -> list[str]:
    """Stemmed, lower-case words without stop words: what ranking compares."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP_WORDS]


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
    ranked: tuple[Ranked, ...]  # best first, only passages sharing a term with the question
    coverage: float  # share of the question's IDF weight the best passage matches

    @property
    def covered(self) -> bool:
        return bool(self.ranked) and self.coverage >= MIN_COVERAGE

    def best(self, limit: int) -> list[Passage]:
        """The passages worth quoting: the best, and the next ones scoring close to it."""
        if not self.ranked:
            return []
        floor = self.ranked[0].score * RELATIVE_CUTOFF
        return [r.passage for r in self.ranked[:limit] if r.score >= floor]


def retrieve(
    passages: Sequence[Passage], question: str, focus_video_id: uuid.UUID | None = None
) -> Retrieval:
    query = list(dict.fromkeys(terms(question)))
    if not passages or not query:
        return Retrieval(ranked=(), coverage=0.0)
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
        return Retrieval(ranked=(), coverage=0.0)
    ranked.sort(key=lambda r: r[0], reverse=True)
    return Retrieval(
        ranked=tuple(Ranked(passages[i], score) for score, i in ranked),
        coverage=_coverage(query, corpus, corpus[ranked[0][1]]),
    )


def _coverage(query: list[str], corpus: list[list[str]], best: list[str]) -> float:
    """IDF-weighted share of the question's terms found in the best passage. A term the
    course never uses weighs the most, so "bake bread" in a Python course is not covered."""
    n = len(corpus)
    weight = {t: math.log((n + 1) / (sum(t in words for words in corpus) + 0.5)) for t in query}
    best_words = set(best)
    total = sum(weight.values())
    found = sum(w for t, w in weight.items() if t in best_words)
    return found / total if total > 0 else 0.0
