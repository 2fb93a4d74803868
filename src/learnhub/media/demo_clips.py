"""The demo's videos as real media files: small WebM (VP8) clips of the length each video row
claims, made by PyAV (whose wheels bundle FFmpeg with libvpx), so Chromium plays them offline.

A clip is a tiny, low frame rate picture (a bar filling up as it plays, in a colour of its
own): a ten-minute clip is about 50 kB and takes a fraction of a second to encode."""

from __future__ import annotations

import tempfile
from pathlib import Path

WIDTH, HEIGHT = 96, 54  # 16:9; even sizes, as YUV 4:2:0 needs
FRAMES_PER_SECOND = 1
# Keyframes every few seconds: seeking (a resume point, a tutor citation) lands quickly.
KEYFRAME_INTERVAL = 4 * FRAMES_PER_SECOND


def demo_clip(duration_seconds: int, hue: int = 0) -> bytes:
    """A WebM clip of exactly `duration_seconds`; `hue` (any int) picks its colour."""
    import av  # imported here: only the demo loader needs FFmpeg

    frames = max(1, duration_seconds * FRAMES_PER_SECOND)
    u_value, v_value = 64 + (hue * 53) % 128, 64 + (hue * 97) % 128
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.webm"
        with av.open(str(path), "w", format="webm") as output:
            stream = output.add_stream("libvpx", rate=FRAMES_PER_SECOND)
            stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
            stream.options = {"deadline": "realtime", "cpu-used": "8", "g": str(KEYFRAME_INTERVAL)}
            for index in range(frames):
                frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
                filled = WIDTH * (index + 1) // frames
                row = bytes([235]) * filled + bytes([60]) * (WIDTH - filled)
                luma = frame.planes[0]
                # Planes may be padded: each row is `line_size` bytes wide.
                padding = bytes(luma.line_size - WIDTH)
                top, bar = bytes([60]) * WIDTH + padding, row + padding
                rows = [bar if HEIGHT // 3 <= y < 2 * HEIGHT // 3 else top for y in range(HEIGHT)]
                luma.update(b"".join(rows))
                frame.planes[1].update(bytes([u_value]) * frame.planes[1].buffer_size)
                frame.planes[2].update(bytes([v_value]) * frame.planes[2].buffer_size)
                frame.pts = index
                for packet in stream.encode(frame):
                    output.mux(packet)
            for packet in stream.encode():
                output.mux(packet)
        return path.read_bytes()
