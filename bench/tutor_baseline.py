"""The tutor's retrieval as it was before issue 15 (merge14), frozen as the evaluation's
baseline: BM25 over stemmed words of 60-word passages, the conversation's video boosted by
1.25, no notion of "this video", decimals split into words. Only its ranking is kept; the
passages it ranks are cut the old way by `legacy_passages`."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Sequence

import snowballstemmer
from rank_bm25 import BM25Plus

from learnhub.tutor_providers.base import Passage

_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_STOP_WORDS_TEXT = """a about above after again all am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i if in into is it its itself
just me more most my no nor not now of off on once only or other our out over own same
she should so some such than that the their them then there these they this those
through to too under until up very was we were what when where which while who whom why
will with would you your yours explain tell mean means please work works working use
uses using used happen happens difference example examples way ways thing things get
gets make makes need needs want know understand learn course video lesson"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_STEMMER = snowballstemmer.stemmer("english")
FOCUS_BOOST = 1.25
PASSAGE_WORDS = 60
MIN_COVERAGE = 0.5


def terms(text: str) -> list[str]:
    return [_STEMMER.stemWord(w) for w in _WORD.findall(text.lower()) if w not in _STOP_WORDS]


def legacy_passages(video_id: uuid.UUID, title: str, transcript: str) -> list[Passage]:
    """Whole sentences grouped until a passage passes 60 words (times left out: unranked)."""
    passages, group = [], []
    for sentence in (s.strip() for s in _SENTENCE_END.split(transcript) if s.strip()):
        group.append(sentence)
        if sum(len(_WORD.findall(s)) for s in group) >= PASSAGE_WORDS:
            passages.append(Passage(" ".join(group), title, video_id))
            group = []
    if group:
        passages.append(Passage(" ".join(group), title, video_id))
    return passages


def rank(
    passages: Sequence[Passage], question: str, focus_video_id: uuid.UUID | None = None
) -> tuple[list[Passage], bool]:
    """The matching passages, best first, and whether the material covers the question."""
    query = list(dict.fromkeys(terms(question)))
    if not passages or not query:
        return [], False
    corpus = [terms(f"{p.source_title} {p.text}") for p in passages]
    scores = BM25Plus(corpus, delta=0.0).get_scores(query)
    ranked = []
    for i, (passage, words, score) in enumerate(zip(passages, corpus, scores, strict=True)):
        if not set(query) & set(words):
            continue
        boost = FOCUS_BOOST if focus_video_id and passage.video_id == focus_video_id else 1.0
        ranked.append((float(score) * boost, i))
    if not ranked:
        return [], False
    ranked.sort(key=lambda r: r[0], reverse=True)
    n = len(corpus)
    weight = {t: math.log((n + 1) / (sum(t in ws for ws in corpus) + 0.5)) for t in query}
    best = set(corpus[ranked[0][1]])
    total = sum(weight.values())
    coverage = sum(w for t, w in weight.items() if t in best) / total if total > 0 else 0.0
    return [passages[i] for _, i in ranked], coverage >= MIN_COVERAGE
