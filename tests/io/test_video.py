"""Video reader (PyAV): timestamps not frame counts, frame-count checks, corrupt/empty files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from climb.io.video import VideoReadError, probe, read_video, resample_indices, write_video
from tests.conftest import shared_fixture


def _frames(n: int, h: int = 32, w: int = 48) -> np.ndarray:
    """Frame k is a flat grey level 10 * k (easy to identify after lossy coding)."""
    return np.stack([np.full((h, w, 3), 10 * k, dtype=np.uint8) for k in range(n)])


def _ids(frames: np.ndarray) -> list[int]:
    return [round(float(f.mean()) / 10) for f in frames]


def test_resample_indices_by_time() -> None:
    t = np.array([0.0, 0.04, 0.08, 0.18, 0.28, 0.38])
    assert resample_indices(t, 10).tolist() == [0, 2, 3, 4]  # 0, .1, .2, .3 s -> last frame <= t
    assert resample_indices(t, 25).tolist()[:4] == [0, 1, 2, 2]
    with pytest.raises(ValueError):
        resample_indices(t, 0)


def test_constant_rate_mp4_and_avi(tmp_path: Path) -> None:
    for name in ("a.mp4", "a.avi"):
        write_video(tmp_path / name, _frames(20), fps=50)
        v = read_video(tmp_path / name)
        assert v.frames.shape == (20, 32, 48, 3) and v.frames.dtype == np.uint8
        assert _ids(v.frames) == list(range(20))
        np.testing.assert_allclose(np.diff(v.times), 0.02, atol=1e-6)
        assert not v.is_vfr and v.info.fps == 50 and v.decoded_frames == 20
        half = read_video(tmp_path / name, fps=25, size=(16, 24), gray=True)
        assert half.frames.shape == (10, 16, 24, 1)
        assert _ids(half.frames) == list(range(0, 20, 2))


def test_variable_frame_rate_uses_timestamps(tmp_path: Path) -> None:
    """10 frames at 25 fps then 10 at 10 fps: 10 fps output takes frames by time, not count."""
    times = np.r_[np.arange(10) * 0.04, 0.36 + np.arange(1, 11) * 0.1]
    write_video(tmp_path / "vfr.mp4", _frames(20), fps=25, times=times)
    v = read_video(tmp_path / "vfr.mp4")
    np.testing.assert_allclose(v.times, times - times[0], atol=2e-3)
    assert v.is_vfr and "variable frame rate" in v.notes[0]
    r = read_video(tmp_path / "vfr.mp4", fps=10)
    # targets 0, .1, .2, .3 fall in the fast part (frames 0, 2, 5, 7), then one frame per 0.1 s
    assert _ids(r.frames)[:6] == [0, 2, 5, 7, 9, 10]
    assert len(r.frames) == 14  # 0 .. 1.3 s; counting frames at 10/25 would give 8


def test_bad_videos(tmp_path: Path) -> None:
    (tmp_path / "junk.mp4").write_bytes(b"\x00" * 1000)
    with pytest.raises(VideoReadError, match=r"junk\.mp4: cannot open"):
        read_video(tmp_path / "junk.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(VideoReadError, match=r"empty\.mp4"):
        read_video(tmp_path / "empty.mp4")
    with pytest.raises(VideoReadError, match=r"missing\.avi: file not found"):
        read_video(tmp_path / "missing.avi")
    # an AVI whose index promises more frames than it holds: header count check
    write_video(tmp_path / "t.avi", np.repeat(_frames(15), 2, axis=0), fps=25)
    data = (tmp_path / "t.avi").read_bytes()
    assert probe(tmp_path / "t.avi").header_frames == 30
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: int(len(data) * 0.8)])  # opens, but the last frames are gone
    with pytest.raises(
        VideoReadError, match=r"cut\.avi: decoded \d+ frames but the header says 30"
    ):
        read_video(cut)
    v = read_video(cut, count_tolerance=None)  # the check can be turned off
    assert 0 < v.decoded_frames < 30
    (tmp_path / "half.avi").write_bytes(data[: len(data) // 2])  # index gone: does not open
    with pytest.raises(VideoReadError, match=r"half\.avi: cannot open as a video"):
        read_video(tmp_path / "half.avi")


def test_real_covid_blues_video() -> None:
    d = shared_fixture("covid_blues") / "lus_videos"
    p = d / "patient_12_L1.mp4"
    info = probe(p)
    assert (info.codec, info.width, info.height, info.fps) == ("h264", 350, 350, 25.0)
    v = read_video(p, size=(112, 112), gray=True)
    assert v.frames.shape == (info.header_frames, 112, 112, 1)
    assert v.decoded_frames == info.header_frames and not v.is_vfr
    assert v.times[-1] == pytest.approx((info.header_frames - 1) / 25, abs=1e-6)
    assert 10 < float(v.frames.mean()) < 200  # an ultrasound image, not a blank frame
    one = read_video(p, fps=5)
    assert len(one.frames) == int((info.header_frames - 1) / 25 * 5) + 1
