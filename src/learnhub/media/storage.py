"""Where video files live, behind one small interface: the web app serves them (with HTTP
Range requests) and the demo and the studio's uploads (issue 17) write them.

A file is named by a key, `courses/<course id>/<name>`: the course in the key is the one
whose access rules decide who may read it (`services.media`), and a video row points at it
with the site-local URL `/media/<key>` (`domain.course_rules.media_key`)."""

from __future__ import annotations

import mimetypes
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Protocol

from learnhub.domain.course_rules import MEDIA_URL_PREFIX, media_key

COPY_CHUNK = 1024 * 1024
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

    def save_stream(self, key: str, source: BinaryIO) -> None:
        """Store what `source` holds (from its start) as `key`, copied in chunks (an upload is
        never held in memory), whole or not at all."""

    def delete(self, key: str) -> None:
        """Remove `key`'s file if there is one."""


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
        self._write(key, lambda file: file.write(data))

    def save_stream(self, key: str, source: BinaryIO) -> None:
        source.seek(0)
        self._write(key, lambda file: shutil.copyfileobj(source, file, COPY_CHUNK))

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def _write(self, key: str, fill: Callable[[BinaryIO], object]) -> None:
        # A temporary file next to the target, renamed over it: atomic on one file system.
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                fill(file)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
