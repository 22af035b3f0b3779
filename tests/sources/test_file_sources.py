"""File sources on the real sample videos, files made from them, and broken files."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import pytest
from PIL import Image
from tests.helpers.data import shared_data

from openlfr.errors import OpenLFRError, SourceError
from openlfr.sources import FrameSource, SourceState, open_source
from openlfr.sources.pacing import Pacer
from openlfr.types import Frame


def _count(source: FrameSource) -> int:
    # Counts without keeping frames: 105 decoded 1080p frames would hold ~650 MB.
    return sum(1 for _ in source.frames())


def _first_frames(path: Path, count: int) -> list[Frame]:
    source = open_source(str(path))
    frames = []
    for frame in source.frames():
        frames.append(frame)
        if len(frames) == count:
            break
    source.close()
    return frames


@pytest.mark.parametrize(
    ("name", "expected", "shape"),
    [
        pytest.param("crowd_walk_1080p.mp4", 105, (1080, 1920, 3), marks=pytest.mark.slow),  # 1080p decode
        ("hamilton_short.mp4", 275, (360, 640, 3)),
    ],
)
def test_mp4_yields_every_frame(video_dir: Path, name: str, expected: int, shape: tuple[int, int, int]) -> None:
    source = open_source(str(video_dir / name), source_id="cam-1")
    assert isinstance(source, FrameSource)
    assert source.source_id == "cam-1" and not source.live
    previous: Frame | None = None
    count = 0
    for frame in source.frames():
        assert frame.source_id == "cam-1"
        assert frame.index == count
        assert frame.image.shape == shape and frame.image.dtype == np.uint8
        if previous is not None:
            assert frame.media_time_s > previous.media_time_s
            assert frame.captured_at >= previous.captured_at
        previous, count = frame, count + 1
    assert count == expected
    health = source.health()
    assert health.state == SourceState.ENDED
    assert health.frames_read == expected and health.frames_dropped == 0 and health.fps > 0
    assert health.last_frame_at is not None and abs(health.last_frame_at - time.time()) < 60


def test_media_time_follows_the_file_rate(hamilton: Path) -> None:
    frames = _first_frames(hamilton, 31)
    assert frames[0].media_time_s == pytest.approx(0.0)
    assert frames[30].media_time_s == pytest.approx(30 / 29.97, abs=0.01)


def test_mkv(video_dir: Path) -> None:
    clip = sorted((video_dir / "asl").glob("*.mkv"))[0]
    source = open_source(str(clip))
    frames = list(source.frames())
    assert len(frames) > 30
    assert frames[0].image.shape == (480, 640, 3)
    assert frames[-1].media_time_s == pytest.approx((len(frames) - 1) / 30, abs=0.05)


def test_avi_written_from_a_sample(hamilton: Path, tmp_path: Path) -> None:
    avi = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(avi), cv2.VideoWriter.fourcc(*"MJPG"), 30.0, (640, 360))
    originals = _first_frames(hamilton, 30)
    for frame in originals:
        writer.write(frame.image)
    writer.release()
    frames = list(open_source(str(avi)).frames())
    assert len(frames) == 30
    assert frames[29].media_time_s == pytest.approx(29 / 30, abs=0.01)
    # MJPEG is lossy but the picture must be the same one.
    difference = np.abs(frames[10].image.astype(np.int16) - originals[10].image.astype(np.int16))
    assert float(difference.mean()) < 8


def test_animated_gif(hamilton: Path, tmp_path: Path) -> None:
    gif = tmp_path / "clip.gif"
    images = [Image.fromarray(f.image[:, :, ::-1]).resize((160, 90)) for f in _first_frames(hamilton, 12)]
    images[0].save(gif, save_all=True, append_images=images[1:], duration=100, loop=0)
    frames = list(open_source(str(gif)).frames())
    assert len(frames) == 12
    assert frames[0].image.shape == (90, 160, 3)
    assert frames[11].media_time_s == pytest.approx(1.1, abs=0.05)


def test_image_folder_in_natural_order_skipping_bad_images(hamilton: Path, tmp_path: Path) -> None:
    originals = _first_frames(hamilton, 3)
    for number, frame in zip((1, 2, 10), originals, strict=True):
        cv2.imwrite(str(tmp_path / f"frame_{number}.png"), frame.image)
    (tmp_path / "frame_5.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "notes.txt").write_text("ignored")
    source = open_source(str(tmp_path), fps=10)
    frames = list(source.frames())
    assert len(frames) == 3
    for got, original in zip(frames, originals, strict=True):
        assert np.array_equal(got.image, original.image)  # PNG is lossless: order is proven by content
    assert [f.index for f in frames] == [0, 1, 2]
    assert frames[2].media_time_s == pytest.approx(3 / 10)  # position 3 of 4 images (the bad one counts)
    health = source.health()
    assert health.state == SourceState.ENDED
    assert health.last_error is not None and "frame_5.jpg" in health.last_error


def test_real_photo_folder() -> None:
    folder = shared_data() / "faces" / "dlib_johns"
    person = sorted(p for p in folder.iterdir() if p.is_dir())[0]
    expected = len([p for p in person.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"}])
    frames = list(open_source(str(person)).frames())
    assert len(frames) == expected > 0
    assert all(f.image.ndim == 3 and f.image.shape[2] == 3 for f in frames)


class FakeClock:
    """Monotonic seconds that move only when a pacer waits (``wait``) or a test says so."""

    def __init__(self) -> None:
        self.now = 100.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now


class ClockedStop(threading.Event):
    """A stop event whose timed wait passes on the fake clock at once (an untimed wait really blocks)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is None or self.is_set():
            return super().wait(timeout)
        self.clock.waits.append(timeout)
        self.clock.now += timeout
        return False


class RecordingPacer(Pacer):
    """The real pacer on a fake clock; remembers the media times it was asked to pace."""

    made: ClassVar[list[RecordingPacer]] = []

    def __init__(self, stop: threading.Event) -> None:
        self.clock = FakeClock()
        self.source_stop = stop
        self.paced: list[float] = []
        super().__init__(ClockedStop(self.clock), clock=self.clock)
        RecordingPacer.made.append(self)

    def wait_until(self, media_time_s: float) -> float:
        self.paced.append(media_time_s)
        return super().wait_until(media_time_s)


@pytest.fixture
def pacers(monkeypatch: pytest.MonkeyPatch) -> list[RecordingPacer]:
    RecordingPacer.made = []
    monkeypatch.setattr("openlfr.sources.file.Pacer", RecordingPacer)
    return RecordingPacer.made


def test_realtime_paces_at_native_speed(hamilton: Path, pacers: list[RecordingPacer]) -> None:
    source = open_source(str(hamilton), realtime=True)
    frames = []
    for frame in source.frames():
        frames.append(frame)
        if len(frames) == 31:
            break
    source.close()
    (pacer,) = pacers
    assert pacer.paced == [f.media_time_s for f in frames]  # every frame waits for its media time
    # 30 intervals of a 29.97 fps file last 1.0 s: that is how long the (instant) consumer was made to wait.
    span = frames[30].media_time_s - frames[0].media_time_s
    assert sum(pacer.clock.waits) == pytest.approx(span) == pytest.approx(30 / 29.97, abs=0.01)


def test_a_realtime_file_counts_the_frames_a_camera_would_have_sent_while_it_was_behind(
    hamilton: Path, pacers: list[RecordingPacer]
) -> None:
    """Played as a camera, a file whose reader stalls does not slow down unseen: the frames due meanwhile are
    counted as dropped, as a live camera's would be (a starved camera showed 0 dropped while it read 40 % of
    its frames)."""
    source = open_source(str(hamilton), realtime=True)
    frames = source.frames()
    next(frames)
    (pacer,) = pacers
    pacer.clock.now += 0.5  # half a second behind: caught up by going on at once, nothing dropped
    next(frames)
    assert source.health().frames_dropped == 0
    pacer.clock.now += 2.0  # a 2 s stall: the pacer's clock moves on, 2 s of a 29.97 fps camera count as lost
    third = next(frames)
    lag = 2.5 - 2 / 29.97  # behind the third frame's due time
    assert source.health().frames_dropped == round(lag * 29.97) == 73
    assert third.index == 2  # every frame read is still numbered and yielded in order
    source.close()


def test_fast_mode_is_not_paced(hamilton: Path, pacers: list[RecordingPacer]) -> None:
    source = open_source(str(hamilton))
    assert _count(source) == 275
    assert pacers == []  # no pacer: frames come as fast as they decode


def test_pacer_waits_out_media_time_and_never_bursts_to_catch_up() -> None:
    clock = FakeClock()
    pacer = Pacer(ClockedStop(clock), clock=clock)
    for index in range(31):
        pacer.wait_until(index / 30)
    assert clock.waits == pytest.approx([1 / 30] * 30)
    clock.waits.clear()
    clock.now += 0.5  # the consumer fell half a second behind: frames due meanwhile go at once...
    for index in range(31, 46):
        pacer.wait_until(index / 30)
    assert clock.waits == []
    clock.now += 5.0  # ...but after a long stall the clock restarts instead of bursting through 5 s of frames
    assert pacer.wait_until(46 / 30) == pytest.approx(5.0 - 1 / 30)  # the time given up, for the drop count
    assert pacer.wait_until(47 / 30) == 0.0
    assert clock.waits == pytest.approx([1 / 30])
    clock.waits.clear()
    pacer.wait_until(0.0)  # a looping file restarts its media time: no wait, a new origin
    pacer.wait_until(1 / 30)
    assert clock.waits == pytest.approx([1 / 30])


def test_loop_restarts_and_keeps_counting(video_dir: Path) -> None:
    clip = sorted((video_dir / "asl").glob("*.mkv"))[0]
    length = _count(open_source(str(clip)))
    source = open_source(str(clip), loop=True)
    frames = []
    for frame in source.frames():
        frames.append(frame)
        if len(frames) == length + 5:
            break
    source.close()
    assert [f.index for f in frames] == list(range(length + 5))
    assert frames[length].media_time_s == pytest.approx(0.0)  # position in the file restarts
    assert source.health().state == SourceState.CLOSED


class BlockingPacer(Pacer):
    """Paces the first frame, then waits on the stop event with no end: only close() can wake it."""

    waiting = threading.Event()

    def wait_until(self, media_time_s: float) -> float:
        if self._origin is None:
            return super().wait_until(media_time_s)
        BlockingPacer.waiting.set()
        self._stop.wait()
        return 0.0


def test_close_from_another_thread_ends_a_paced_iteration(hamilton: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    BlockingPacer.waiting = threading.Event()
    monkeypatch.setattr("openlfr.sources.file.Pacer", BlockingPacer)
    source = open_source(str(hamilton), realtime=True)
    iterator = source.frames()
    next(iterator)
    closer = threading.Thread(target=lambda: BlockingPacer.waiting.wait() and source.close())
    closer.start()
    remaining = sum(1 for _ in iterator)  # returns only because close() woke the waiting pacer
    closer.join()
    assert remaining < 30  # not the remaining 274 frames
    assert source.health().state == SourceState.CLOSED


def test_frames_can_be_iterated_once(hamilton: Path) -> None:
    with contextlib.closing(open_source(str(hamilton))) as source:
        source.frames()
        with pytest.raises(RuntimeError, match="once"):
            source.frames()
    assert source.health().state == SourceState.CLOSED
    source.close()  # idempotent


def test_first_half_of_an_mp4_is_a_clear_error(video_dir: Path, tmp_path: Path) -> None:
    # The samples keep their index (moov) at the end, so half a file cannot even be opened.
    original = video_dir / "crowd_walk_1080p.mp4"
    half = tmp_path / "half.mp4"
    half.write_bytes(original.read_bytes()[: original.stat().st_size // 2])
    with pytest.raises(SourceError, match=r"half\.mp4: cannot open .*truncated") as caught:
        open_source(str(half))
    assert caught.value.code == "source_unavailable"


@pytest.mark.slow  # ffmpeg remux and a full decode
def test_truncated_faststart_mp4_fails_when_it_stops_early(hamilton: Path, tmp_path: Path) -> None:
    # With the index at the front, a cut file opens and decodes until the data runs out.
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is not installed (scripts/install-system-deps.sh)")
    faststart = tmp_path / "faststart.mp4"
    subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(hamilton), "-c", "copy", "-movflags", "+faststart", str(faststart)],
        check=True,
        timeout=60,
    )
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(faststart.read_bytes()[: faststart.stat().st_size // 2])
    source = open_source(str(cut))
    count = 0
    with pytest.raises(SourceError, match=r"ends early, after \d+ of 275 frames"):
        for _ in source.frames():
            count += 1
    assert 0 < count < 275
    health = source.health()
    assert health.state == SourceState.FAILED and health.last_error is not None


@pytest.mark.parametrize("content", [b"", b"not a video at all", bytes(range(256)) * 400])
def test_garbage_files_are_clear_errors(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "camera.mp4"
    path.write_bytes(content)
    with pytest.raises(SourceError) as caught:  # at once: a hang would fail on the test timeout
        open_source(str(path))
    assert "camera.mp4" in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("/no/such/file.mp4", "no such video file"),
        ("", "empty source spec"),
        ("ftp://user:hunter2@example.org/x.mp4", r"ftp://\*\*\*@example\.org/x\.mp4: unsupported URL scheme"),
    ],
)
def test_bad_specs(spec: str, match: str) -> None:
    with pytest.raises(OpenLFRError, match=match) as caught:
        open_source(spec)
    assert "hunter2" not in str(caught.value)


def test_empty_folder_and_folder_of_unreadable_images(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no images"):
        open_source(str(tmp_path))
    (tmp_path / "a.jpg").write_bytes(b"junk")
    source = open_source(str(tmp_path))
    with pytest.raises(SourceError, match="none of the 1 images could be decoded"):
        list(source.frames())
    assert source.health().state == SourceState.FAILED
