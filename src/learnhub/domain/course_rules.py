"""The rules a course and its content obey, with no session: slugs, titles, tags, objectives,
positions, durations and video urls. Each check returns the clean value or raises
`InvalidValue`; prices are `value_objects.Price`."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Collection, Sequence

from learnhub.domain.errors import InvalidValue
from learnhub.domain.ids import parse_id
from learnhub.domain.value_objects import Duration

MAX_TAGS, MAX_OBJECTIVES = 10, 20
MAX_POSITION = 10_000


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:200] or "course"


# What `slugify` makes and a slug given on creation must be (api.schemas.courses says so too).
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_SLUG = 220


def is_slug(text: str) -> bool:
    return len(text) <= MAX_SLUG and SLUG.fullmatch(text) is not None


def addressable_slug(slug: str, *, given: bool) -> str:
    """A course is addressed by id or by slug in one path segment, and a segment written as
    an id is an id: a slug must not look like one (32 hex digits, or 8-4-4-4-12). A given
    one is refused; one made from a title gets `-course` appended."""
    if parse_id(slug) is None:
        return slug
    if given:
        raise InvalidValue("a slug must not look like a course id", field="slug")
    return f"{slug}-course"


def free_slug(slug: str, taken: Collection[str]) -> str:
    """`slug`, or the first of `slug-2`, `slug-3`, ... that is not taken."""
    base, n = slug, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def title(raw: str, what: str = "title") -> str:
    value = raw.strip()
    if not 1 <= len(value) <= 200:
        raise InvalidValue(f"{what} must be 1 to 200 characters")
    return value


def tags(raw: Sequence[str]) -> list[str]:
    names = list(dict.fromkeys(t.strip().lower() for t in raw if t.strip()))
    if len(names) > MAX_TAGS or any(len(n) > 50 for n in names):
        raise InvalidValue(f"at most {MAX_TAGS} tags of up to 50 characters")
    return names


def objectives(raw: Sequence[str]) -> list[str]:
    texts = [o.strip() for o in raw if o.strip()]
    if len(texts) > MAX_OBJECTIVES or any(len(t) > 300 for t in texts):
        raise InvalidValue(f"at most {MAX_OBJECTIVES} objectives of up to 300 characters")
    return texts


def position(value: int) -> int:
    if not 0 <= value <= MAX_POSITION:
        raise InvalidValue("position must be between 0 and 10000")
    return value


def duration(value: int) -> int:
    Duration(value)
    if value < 1:
        raise InvalidValue("duration_seconds must be positive")
    return value


# No white space anywhere, whichever regex dialect reads it: `\s` alone means three different
# sets in Python (which adds \x1c-\x1f and \x85), in Rust (pydantic's validator: adds \x85)
# and in ECMA-262 (JSON Schema's dialect, which clients and fuzzers use: adds \ufeff). The
# explicit additions make all three refuse exactly the same characters.
_NO_SPACE = r"\s\x1c-\x1f\x85\ufeff"
# A file of this site's media storage (`learnhub.media`): `courses/<course id>/<name>`, plain
# segments of letters, digits, '.', '_' and '-', none starting with a dot (so no '..').
MEDIA_URL_PREFIX = "/media/"
_MEDIA_SEGMENT = r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}"
_HEX = "[0-9a-fA-F]"
MEDIA_KEY_PATTERN = (
    rf"courses/{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}/{_MEDIA_SEGMENT}"
)
# An http(s) URL elsewhere, or a file of this site's media storage, `/media/<key>`.
VIDEO_URL_PATTERN = (
    rf"^(https?://[^{_NO_SPACE}/$.?#][^{_NO_SPACE}]*|{MEDIA_URL_PREFIX}{MEDIA_KEY_PATTERN})$"
)


def video_url(value: str) -> str:
    url = value.strip()
    if not re.match(VIDEO_URL_PATTERN, url) or len(url) > 2000:
        raise InvalidValue("url must be an http(s) URL or a /media/ file of this site")
    if url.startswith(MEDIA_URL_PREFIX):
        media_key(url.removeprefix(MEDIA_URL_PREFIX))
    return url


def media_key(key: str) -> str:
    """A media storage key (`courses/<course id>/<name>`), checked."""
    if not re.fullmatch(MEDIA_KEY_PATTERN, key) or parse_id(key.split("/")[1]) is None:
        raise InvalidValue("a media file is named courses/<course id>/<file name>")
    return key


def media_course_id(key: str) -> uuid.UUID:
    """The course whose access rules guard the media file `key`."""
    course_id = parse_id(media_key(key).split("/")[1])
    assert course_id is not None  # media_key checked it
    return course_id


# What a locked video leaves out (SPEC 5): where to watch it, and what it says.
LOCKED_VIDEO_FIELDS = ("url", "transcript")


def video_locked(*, is_preview: bool, full: bool) -> bool:
    """The one lock rule (SPEC 5): a caller who may see a course's content in full (enrolled,
    its instructor, an admin) sees every video; one who may see the outline only sees a
    video locked unless it is a free preview. The API's views and ETags, the player and its
    page, the media files' access and the public course page's statement
    (repositories/course_outline.py) all ask this."""
    return not (full or is_preview)
