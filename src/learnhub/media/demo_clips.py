"""The demo's videos as real media files: small WebM (VP8) clips of the length each video row
claims, made by PyAV (whose wheels bundle FFmpeg with libvpx), so Chromium plays them offline.

A clip is a tiny picture (a bar filling up as it plays, in a colour of its own) with a
variable frame rate: a new frame only when the bar grows, at most `STEPS` of them whatever
the length, then one last frame a second before the end, so the clip lasts exactly its
duration. A ten-minute clip is a few kB and takes a fraction of a second to encode."""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

WIDTH, HEIGHT = 96, 54  # 16:9; even sizes, as YUV 4:2:0 needs
STEPS = 48  # pictures per clip (the bar's growth steps)
KEYFRAME_INTERVAL = 8  # frames: seeking (a resume point, a tutor citation) decodes a few
MILLISECONDS = Fraction(1, 1000)


def frame_times(duration_seconds: int) -> list[int]:
    """When each frame starts, in ms: `STEPS` even steps (one a second for short clips), and
    a last frame a second before the end (a frame lasts a second at the nominal rate)."""
    steps = max(1, min(STEPS, duration_seconds))
    times = [k * duration_seconds * 1000 // steps for k in range(steps)]
    last = max(0, duration_seconds - 1) * 1000
    return times if times[-1] >= last else [*times, last]


def demo_clip(duration_seconds: int, hue: int = 0) -> bytes:
    """A WebM clip of exactly `duration_seconds`; `hue` (any int) picks its colour."""
    import av  # imported here: only the demo loader needs FFmpeg

    times = frame_times(duration_seconds)
    u_value, v_value = 64 + (hue * 53) % 128, 64 + (hue * 97) % 128
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.webm"
        with av.open(str(path), "w", format="webm") as output:
            stream = output.add_stream("libvpx", rate=1)
            stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
            stream.time_base = stream.codec_context.time_base = MILLISECONDS
            # One thread and no look-ahead: on a busy machine libvpx's thread pool, not the
            # encoding, was the cost (30 times slower).
            stream.options = {
                "deadline": "realtime",
                "cpu-used": "16",
                "lag-in-frames": "0",
                "threads": "1",
                "g": str(KEYFRAME_INTERVAL),
            }
            for index, start in enumerate(times):
                frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
                filled = WIDTH * min(index + 1, len(times)) // len(times)
                luma = frame.planes[0]
                # Planes may be padded: each row is `line_size` bytes wide.
                padding = bytes(luma.line_size - WIDTH)
                plain = bytes([60]) * WIDTH + padding
                bar = bytes([235]) * filled + bytes([60]) * (WIDTH - filled) + padding
                rows = [bar if HEIGHT // 3 <= y < 2 * HEIGHT // 3 else plain for y in range(HEIGHT)]
                luma.update(b"".join(rows))
                frame.planes[1].update(bytes([u_value]) * frame.planes[1].buffer_size)
                frame.planes[2].update(bytes([v_value]) * frame.planes[2].buffer_size)
                frame.pts, frame.time_base = start, MILLISECONDS
                for packet in stream.encode(frame):
                    output.mux(packet)
            for packet in stream.encode():
                output.mux(packet)
        return path.read_bytes()
