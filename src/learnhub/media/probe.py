"""What an uploaded file really is, read from its bytes by PyAV (FFmpeg's demuxers), never
from its name: the container and video codec decide whether a browser can play it and which
extension the stored file gets; the container's duration becomes the video's length."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import BinaryIO

from learnhub.domain.errors import UnsupportedMediaType

# FFmpeg's demuxer name -> (the codecs of it browsers play, the stored file's extension).
PLAYABLE: dict[str, tuple[frozenset[str], str]] = {
    "matroska,webm": (frozenset({"vp8", "vp9", "av1"}), ".webm"),
    "mov,mp4,m4a,3gp,3g2,mj2": (frozenset({"h264", "hevc", "av1", "vp9"}), ".mp4"),
    "ogg": (frozenset({"theora", "vp8"}), ".ogv"),
}
REFUSED = (
    "this file is not a video this site can play: upload a WebM (VP8, VP9 or AV1), "
    "MP4 (H.264, HEVC or AV1) or Ogg (Theora) file"
)


@dataclass(frozen=True, slots=True)
class ProbedVideo:
    container: str
    codec: str
    extension: str
    duration_seconds: int


def probe_video(source: BinaryIO) -> ProbedVideo:
    """The video in `source` (read from its start; left wherever the demuxer stopped), or
    `UnsupportedMediaType` when it is no video, an unplayable one, or has no duration."""
    import av  # FFmpeg is loaded only where files are read

    source.seek(0)
    try:
        with av.open(source, mode="r") as container:
            name = container.format.name
            videos = list(container.streams.video)
            if name not in PLAYABLE or not videos:
                raise UnsupportedMediaType(REFUSED)
            codecs, extension = PLAYABLE[name]
            codec = videos[0].codec_context.name
            if codec not in codecs:
                raise UnsupportedMediaType(f"{REFUSED} (this one is {codec} in {name})")
            seconds = duration_of(container, videos[0])
    except (av.FFmpegError, ValueError, OSError, EOFError) as error:
        raise UnsupportedMediaType(REFUSED) from error
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise UnsupportedMediaType("this video's length cannot be read from the file")
    return ProbedVideo(name, codec, extension, max(1, round(seconds)))


def duration_of(container: object, stream: object) -> float | None:
    """Seconds, from the container's header (what players show), else from the stream."""
    import av

    total = getattr(container, "duration", None)
    if total:
        return float(total) / av.time_base
    duration, base = getattr(stream, "duration", None), getattr(stream, "time_base", None)
    if duration and base:
        return float(duration * base)
    return None
