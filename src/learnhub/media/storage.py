"""Where video files live, behind one small interface: the web app serves them (with HTTP
Range requests) and the demo writes them; uploads (issue 17) will too.

A file is named by a key, `courses/<course id>/<name>`: the course in the key is the one
whose access rules decide who may read it (`services.media`), and a video row points at it
with the site-local URL `/media/<key>` (`domain.course_rules.media_key`)."""

from __future__ import annotations

import mimetypes
import os
import tempfile
from pathlib import Path
from typing import Protocol

from learnhub.domain.course_rules import MEDIA_URL_PREFIX, media_key

CONTENT_TYPES = {".webm": "video/webm", ".mp4": "video/mp4", ".ogv": "video/ogg"}


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def media_url(key: str) -> str:
    """The site-local URL a video row stores for the file `key`."""
    return MEDIA_URL_PREFIX + media_key(key)


class MediaStorage(Protocol):
    def local_path(self, key: str) -> Path | None:
        """The file of `key` on this machine, None when there is none (served as a 404)."""

    def exists(self, key: str) -> bool: ...

    def save(self, key: str, data: bytes) -> None:
        """Store `data` as `key`, whole or not at all (a reader never sees half a file)."""


class LocalMediaStorage:
    """Files under one directory (`LEARNHUB_MEDIA_DIR`, by default `./media`, next to the
    embedded SQLite file)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        # media_key refuses '..', absolute paths and odd characters: the path stays inside.
        return self.root.joinpath(*media_key(key).split("/"))

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
