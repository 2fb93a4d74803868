"""The media storage's local directory and the demo's clips, without a server: keys stay
inside the directory, a save is whole or absent, and a clip is real WebM media lasting
exactly the duration it was made for (read back by FFmpeg through PyAV)."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import av
import pytest

from learnhub.domain.errors import InvalidValue, UnsupportedMediaType
from learnhub.media.demo_clips import demo_clip, frame_times
from learnhub.media.probe import probe_video
from learnhub.media.storage import LocalMediaStorage, content_type, media_url

KEY = f"courses/{uuid.UUID(int=3)}/1.webm"


def test_the_local_storage_keeps_files_under_its_directory(tmp_path: Path) -> None:
    storage = LocalMediaStorage(tmp_path / "media")
    assert storage.local_path(KEY) is None and not storage.exists(KEY)
    storage.save(KEY, b"first")
    storage.save(KEY, b"second")  # replaced whole
    path = storage.local_path(KEY)
    assert path is not None and path.read_bytes() == b"second"
    assert path.is_relative_to(tmp_path / "media")
    assert [p.name for p in path.parent.iterdir()] == ["1.webm"]  # no temporary file left
    for bad in (
        "../escape.webm",
        "courses/../../x",
        "/etc/passwd",
        f"courses/{uuid.UUID(int=3)}/..",
    ):
        with pytest.raises(InvalidValue):
            storage.save(bad, b"x")
        with pytest.raises(InvalidValue):
            storage.local_path(bad)
    assert not (tmp_path / "escape.webm").exists()


def test_media_urls_and_content_types() -> None:
    assert media_url(KEY) == f"/media/{KEY}"
    assert content_type(KEY) == "video/webm"
    assert content_type(KEY.replace(".webm", ".MP4")) == "video/mp4"


@pytest.mark.parametrize("seconds", [1, 24, 47, 600])
def test_a_demo_clip_is_webm_video_of_its_duration(seconds: int) -> None:
    data = demo_clip(seconds, hue=seconds)
    assert data[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a Matroska/WebM file
    with av.open(io.BytesIO(data)) as container:
        assert container.format.name.startswith("matroska")
        (stream,) = container.streams.video
        assert stream.codec_context.name in ("vp8", "libvpx")
        assert container.duration is not None
        assert container.duration / av.time_base == pytest.approx(seconds, abs=0.01)
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == len(frame_times(seconds)) <= 49


def test_a_stream_is_saved_from_its_start_and_deleted(tmp_path: Path) -> None:
    storage = LocalMediaStorage(tmp_path / "media")
    source = io.BytesIO(b"0123456789" * 300_000)  # 3 MB: several copy chunks
    source.read(7)  # wherever the stream was left, the whole of it is stored
    storage.save_stream(KEY, source)
    path = storage.local_path(KEY)
    assert path is not None and path.read_bytes() == source.getvalue()
    assert [p.name for p in path.parent.iterdir()] == ["1.webm"]
    storage.delete(KEY)
    storage.delete(KEY)  # already gone: nothing to do
    assert not storage.exists(KEY)


def test_a_probe_reads_what_the_bytes_are_not_the_name() -> None:
    probed = probe_video(io.BytesIO(demo_clip(12)))
    assert (probed.extension, probed.codec, probed.duration_seconds) == (".webm", "vp8", 12)
    for not_a_video in (
        b"",
        b"plain text, named clip.webm\n" * 20,
        b"\x1a\x45\xdf\xa3" + bytes(64),
    ):
        with pytest.raises(UnsupportedMediaType):
            probe_video(io.BytesIO(not_a_video))
