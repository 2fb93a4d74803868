"""Tutor providers: the offline default and an OpenAI-compatible HTTP one, chosen by settings."""

from __future__ import annotations

from learnhub.config import Settings
from learnhub.tutor_providers.base import (
    Passage,
    Turn,
    TutorAnswer,
    TutorProvider,
    TutorProviderError,
    TutorQuestion,
)
from learnhub.tutor_providers.offline import OfflineTutor
from learnhub.tutor_providers.openai_compat import OpenAICompatibleTutor
from learnhub.tutor_providers.retrieval import Retriever


def build_retriever(settings: Settings) -> Retriever:
    """BM25 by default; the semantic modes load the embedding model now, at start-up, and
    fail there (with how to install it) rather than on a learner's first question."""
    if settings.tutor_retrieval == "bm25":
        return Retriever()
    from learnhub.tutor_providers.semantic import MiniLMEmbedder

    return Retriever(settings.tutor_retrieval, MiniLMEmbedder())


def build_provider(settings: Settings) -> TutorProvider:
    retriever = build_retriever(settings)
    if settings.tutor_provider == "openai":
        key = settings.tutor_api_key.get_secret_value() if settings.tutor_api_key else None
        return OpenAICompatibleTutor(
            settings.tutor_api_url,
            settings.tutor_model,
            api_key=key,
            timeout_seconds=settings.tutor_timeout_seconds,
            retriever=retriever,
        )
    return OfflineTutor(retriever=retriever)


__all__ = [
    "OfflineTutor",
    "OpenAICompatibleTutor",
    "Passage",
    "Turn",
    "TutorAnswer",
    "TutorProvider",
    "TutorProviderError",
    "TutorQuestion",
    "build_provider",
    "build_retriever",
]
