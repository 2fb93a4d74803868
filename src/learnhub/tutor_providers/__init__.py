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


def build_provider(settings: Settings) -> TutorProvider:
    if settings.tutor_provider == "openai":
        key = settings.tutor_api_key.get_secret_value() if settings.tutor_api_key else None
        return OpenAICompatibleTutor(
            settings.tutor_api_url,
            settings.tutor_model,
            api_key=key,
            timeout_seconds=settings.tutor_timeout_seconds,
        )
    return OfflineTutor()


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
]
