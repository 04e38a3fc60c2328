"""Read videos (mp4, avi, mov, ...) with PyAV, by presentation time, not by frame count.

Every decoded frame carries its presentation timestamp (``pts * time_base``, in seconds).
Resampling to a target rate picks, for each target time ``t0 + k / fps``, the last frame shown
at or before that time (what a player displays), so variable-frame-rate files (phone
recordings, screen captures) come out at the right times instead of being stretched or
squeezed as counting frames would do. Without ``fps`` all frames are returned with their times.

Checks (each raises :class:`VideoReadError` with a reason naming the file):

* the file cannot be opened or has no video stream (corrupt, truncated, not a video);
* no frame decodes (zero-frame video);
* the decoded frame count disagrees with the container's header (``nb_frames``) by more than
  ``count_tolerance`` frames (a truncated file that still opens).

Frames come back as ``(T, H, W, C)`` uint8, ``C`` = 3 (RGB) or 1 (luma, ``gray=True``),
optionally resized by FFmpeg's swscale (``size=(height, width)``, area interpolation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np


class VideoReadError(Exception):
    """A video that cannot be read; ``reason`` is short and names the file."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class VideoInfo:
    """What the container says (nothing decoded)."""

    path: str
    codec: str
    width: int
    height: int
    fps: float  # average frame rate from the header (0 if unknown)
    header_frames: int  # nb_frames from the header (0 if unknown)
    duration_s: float  # container/stream duration (0 if unknown)
    time_base: str


@dataclass
class Video:
    frames: np.ndarray  # (T, H, W, C) uint8
    times: np.ndarray  # (T,) float64 seconds (presentation time of each returned frame)
    info: VideoInfo
    decoded_frames: int  # frames decoded from the file (before resampling)
    source_index: np.ndarray  # (T,) int64: index of each returned frame among decoded frames
    notes: list[str] = field(default_factory=list)

    @property
    def is_vfr(self) -> bool:
        """True when the decoded frame intervals vary by more than 10% (variable frame rate)."""
        return is_variable_rate(self.all_times) if self.all_times is not None else False

    all_times: np.ndarray | None = None  # presentation times of every decoded frame


def is_variable_rate(times: np.ndarray, tol: float = 0.1) -> bool:
    d = np.diff(np.asarray(times, dtype=np.float64))
    if d.size < 2:
        return False
    med = float(np.median(d))
    return bool(med > 0 and np.max(np.abs(d - med)) > tol * med)


def _open(path: str | Path) -> Any:
    import av

    p = Path(path)
    if not p.is_file():
        raise VideoReadError(f"{p.name}: file not found")
    try:
        container = av.open(str(p))
    except (av.error.FFmpegError, OSError, ValueError) as exc:  # type: ignore[attr-defined]
        raise VideoReadError(f"{p.name}: cannot open as a video ({_short(exc)})") from None
    if not container.streams.video:
        container.close()
        raise VideoReadError(f"{p.name}: no video stream in the file")
    return container


def _short(exc: BaseException) -> str:
    s = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return s[:200]


def _info(path: str | Path, container: Any) -> VideoInfo:
    s = container.streams.video[0]
    rate = s.average_rate or s.guessed_rate or s.base_rate
    dur = 0.0
    if s.duration is not None and s.time_base is not None:
        dur = float(s.duration * s.time_base)
    elif container.duration is not None:
        dur = container.duration / 1e6
    return VideoInfo(
        path=str(path),
        codec=s.codec_context.name,
        width=int(s.codec_context.width),
        height=int(s.codec_context.height),
        fps=float(rate) if rate else 0.0,
        header_frames=int(s.frames or 0),
        duration_s=dur,
        time_base=str(s.time_base),
    )


def probe(path: str | Path) -> VideoInfo:
    """Header information of ``path`` (no decoding)."""
    c = _open(path)
    try:
        return _info(path, c)
    finally:
        c.close()


def resample_indices(times: np.ndarray, fps: float, start: float | None = None) -> np.ndarray:
    """Indices (into ``times``, sorted ascending) of the frames shown at ``start + k / fps`` for
    ``k = 0, 1, ...`` up to the last frame's time: for each target time the last frame whose
    presentation time is <= it (times within 1e-6 s count as equal)."""
    t = np.asarray(times, dtype=np.float64)
    if t.size == 0:
        return np.zeros(0, dtype=np.int64)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    t0 = float(t[0]) if start is None else float(start)
    n = math.floor((float(t[-1]) - t0) * fps + 1e-6) + 1
    targets = t0 + np.arange(max(n, 0)) / fps
    idx = np.searchsorted(t, targets + 1e-6, side="right") - 1
    return np.clip(idx, 0, t.size - 1).astype(np.int64)


def read_video(
    path: str | Path,
    *,
    fps: float | None = None,
    size: tuple[int, int] | None = None,
    gray: bool = False,
    max_frames: int | None = None,
    count_tolerance: int | None = 1,
) -> Video:
    """Decode ``path`` to ``(T, H, W, C)`` uint8 (see the module doc).

    ``fps``: resample to this rate by presentation time (``None`` = every frame);
    ``size``: ``(height, width)`` output size (``None`` = native); ``gray``: one luma channel;
    ``max_frames``: stop after this many output frames; ``count_tolerance``: allowed difference
    between decoded and header frame counts (``None`` = do not check).
    """
    import av

    name = Path(path).name
    container = _open(path)
    try:
        info = _info(path, container)
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tb = stream.time_base or Fraction(1, 1)
        fmt = "gray" if gray else "rgb24"
        kw: dict[str, Any] = {"format": fmt}
        if size is not None:
            kw.update(height=int(size[0]), width=int(size[1]), interpolation="AREA")
        arrays: list[np.ndarray] = []
        times: list[float] = []
        last_pts: float | None = None
        n_decoded = 0
        try:
            for frame in container.decode(stream):
                n_decoded += 1
                if frame.pts is not None:
                    t = float(frame.pts * tb)
                elif frame.time is not None:
                    t = float(frame.time)
                else:  # no timestamps at all: fall back to the nominal rate
                    t = (n_decoded - 1) / (info.fps or 1.0)
                if last_pts is not None and t <= last_pts:
                    t = last_pts + 1e-9  # keep times strictly increasing (duplicated pts)
                last_pts = t
                times.append(t)
                arrays.append(frame.to_ndarray(**kw))
                if max_frames is not None and fps is None and len(arrays) >= max_frames:
                    break
        except av.error.FFmpegError as exc:  # type: ignore[attr-defined]
            if not arrays:
                raise VideoReadError(f"{name}: cannot decode ({_short(exc)})") from None
            raise VideoReadError(
                f"{name}: decoding failed after {n_decoded} frame(s) ({_short(exc)}); the file "
                "is truncated or corrupt"
            ) from None
    finally:
        container.close()
    if not arrays:
        raise VideoReadError(f"{name}: zero frames decoded (empty or corrupt video)")
    truncated = max_frames is not None and fps is None and len(arrays) >= max_frames
    if (
        count_tolerance is not None
        and not truncated
        and info.header_frames > 0
        and abs(n_decoded - info.header_frames) > count_tolerance
    ):
        raise VideoReadError(
            f"{name}: decoded {n_decoded} frames but the header says {info.header_frames} "
            "(truncated or corrupt file)"
        )
    t_all = np.asarray(times, dtype=np.float64)
    if fps is not None:
        idx = resample_indices(t_all, fps)
        if max_frames is not None:
            idx = idx[:max_frames]
    else:
        idx = np.arange(len(arrays), dtype=np.int64)
    frames = np.stack([arrays[i] for i in idx])
    if frames.ndim == 3:
        frames = frames[..., None]
    v = Video(
        frames=np.ascontiguousarray(frames),
        times=t_all[idx],
        info=info,
        decoded_frames=n_decoded,
        source_index=idx,
        all_times=t_all,
    )
    if v.is_vfr:
        v.notes.append("variable frame rate: frames chosen by presentation time")
    return v


def write_video(
    path: str | Path,
    frames: np.ndarray,
    fps: float = 25.0,
    *,
    codec: str | None = None,
    times: np.ndarray | None = None,
) -> None:
    """Write ``(T, H, W[, C])`` uint8 frames with PyAV (tests, the demo corpus, benchmarks).

    ``codec``: default ``mpeg4`` for .avi and ``libx264``/``mpeg4`` (whichever is available) for
    other containers; ``times``: presentation times in seconds (variable frame rate)."""
    import av

    p = Path(path)
    a = np.asarray(frames, dtype=np.uint8)
    if a.ndim == 3:
        a = a[..., None]
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    if codec is None:
        codec = "mpeg4" if p.suffix.lower() == ".avi" else _h264_or_mpeg4()
    rate = Fraction(fps).limit_denominator(1000)
    with av.open(str(p), mode="w") as out:
        st = out.add_stream(codec, rate=rate)
        st.width, st.height = int(a.shape[2]), int(a.shape[1])
        st.pix_fmt = "yuv420p"
        if times is not None:
            st.codec_context.time_base = Fraction(1, 1000)
        for k, img in enumerate(a):
            fr = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            if times is not None:
                fr.pts = round(float(times[k]) * 1000)
                fr.time_base = Fraction(1, 1000)
            for pkt in st.encode(fr):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)


def _h264_or_mpeg4() -> str:
    import av

    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


__all__ = [
    "Video",
    "VideoInfo",
    "VideoReadError",
    "is_variable_rate",
    "probe",
    "read_video",
    "resample_indices",
    "write_video",
]
