"""Shared machinery of the video adapters (ultrasound, echocardiography, surgical video);
docs/volumes-video.md documents the layout and every dataset.

A video is one sample. Its frames are stored as a **ragged** uint8 field ``video`` of shape
``(T, H, W, C)`` (T varies per sample; ``H = W = size``, ``C`` = 1 grey or 3 RGB), chunked along
frames (``frames_per_chunk``), so a clip of K frames reads only the chunks it spans. Frames may
be resampled at prepare time to ``fps`` by presentation time (``None`` = every decoded frame).

Per-sample columns (samples.parquet): ``fps`` (rate of the stored frames), ``native_fps``,
``orig_height``, ``orig_width``, ``orig_frames`` (frames decoded from the file),
``header_frames`` (what the container header says), ``n_frames`` (stored), ``duration_s``,
``vfr`` (variable frame rate detected), ``frame_index`` (decoded-frame index of each stored
frame: ``""`` = every decoded frame, ``"start:stop:step"`` = a regular run, else a JSON list) and ``t0_s``.
Clip sampling (uniform K frames, dense clips, all clips) happens at load time
(:mod:`climb.data.clips`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.adapter import BaseAdapter, RecordError
from climb.core.errors import ClimbError
from climb.core.schema import RaggedFieldSpec
from climb.io.video import VideoReadError, read_video

VIDEO_FIELD = "video"
#: frames: blosc lz4 (fast to decode; a clip loader decodes every epoch)
VIDEO_CODEC: dict[str, Any] = {"name": "blosc", "cname": "lz4", "clevel": 5, "shuffle": "noshuffle"}


def compact_index(idx: np.ndarray, n_decoded: int | None = None) -> str:
    """The decoded-frame indices of the stored frames: ``""`` when they are every decoded frame,
    ``"start:stop:step"`` (Python slice) for an arithmetic run, else a JSON list."""
    idx = np.asarray(idx, dtype=np.int64)
    if (
        n_decoded is not None
        and len(idx) == n_decoded
        and np.array_equal(idx, np.arange(n_decoded))
    ):
        return ""
    if len(idx) >= 2 and np.all(np.diff(idx) == idx[1] - idx[0]) and idx[1] > idx[0]:
        step = int(idx[1] - idx[0])
        return f"{int(idx[0])}:{int(idx[-1]) + 1}:{step}"
    return json.dumps([int(i) for i in idx])


class VideoAdapter(BaseAdapter):
    """Base of the video adapters: ``decode_video`` turns one file into the field + columns."""

    key: str = ""
    version: str = "1"
    size: int = 112
    channels: int = 3
    fps: float | None = None
    max_frames: int = 4096
    frames_per_chunk: int = 16
    count_tolerance: int | None = 1

    def __init__(
        self,
        *,
        size: int | None = None,
        channels: int | None = None,
        fps: float | None = None,
        max_frames: int | None = None,
    ) -> None:
        if size is not None:
            if isinstance(size, bool) or not isinstance(size, int) or not 16 <= size <= 1024:
                raise ValueError(f"size must be an integer from 16 to 1024 pixels, got {size!r}")
            self.size = size
        if channels is not None:
            if channels not in (1, 3):
                raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {channels!r}")
            self.channels = channels
        if fps is not None:
            if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 0 < fps <= 240:
                raise ValueError(f"fps must be a number in (0, 240], got {fps!r}")
            self.fps = float(fps)
        if max_frames is not None:
            if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1:
                raise ValueError(f"max_frames must be a positive integer, got {max_frames!r}")
            self.max_frames = max_frames

    def video_field(self) -> RaggedFieldSpec:
        return RaggedFieldSpec(
            VIDEO_FIELD,
            "uint8",
            (self.size, self.size, self.channels),
            axes=("frame", "height", "width", "channel"),
            sampling_rate_hz=self.fps,
            rows_per_chunk=self.frames_per_chunk,
            codec=dict(VIDEO_CODEC),
        )

    def fields(self) -> list[Any]:
        return [self.video_field()]

    def decode_video(self, path: Path, rel: str) -> tuple[np.ndarray, dict[str, Any]]:
        """``(frames (T, size, size, C) uint8, columns)``; :class:`RecordError` naming ``rel``."""
        frames, cols, _ = self.decode_video_indexed(path, rel)
        return frames, cols

    def decode_video_indexed(
        self, path: Path, rel: str
    ) -> tuple[np.ndarray, dict[str, Any], np.ndarray]:
        """As :meth:`decode_video`, plus the decoded-frame index of each stored frame."""
        if not path.is_file():
            raise RecordError(f"video file missing: {rel}")
        try:
            v = read_video(
                path,
                fps=self.fps,
                size=(self.size, self.size),
                gray=self.channels == 1,
                max_frames=self.max_frames,
                count_tolerance=self.count_tolerance,
            )
        except VideoReadError as exc:
            raise RecordError(f"{rel}: {exc.reason.split(': ', 1)[-1]}") from None
        cols: dict[str, Any] = {
            "fps": round(self.fps or v.info.fps, 6),
            "native_fps": round(v.info.fps, 6),
            "orig_height": v.info.height,
            "orig_width": v.info.width,
            "orig_frames": v.decoded_frames,
            "header_frames": v.info.header_frames,
            "n_frames": int(v.frames.shape[0]),
            "duration_s": round(float(v.all_times[-1] - v.all_times[0]), 4)
            if v.all_times is not None
            else 0.0,
            "vfr": bool(v.is_vfr),
            "frame_index": compact_index(v.source_index, v.decoded_frames),
            "t0_s": round(float(v.times[0]), 6),
        }
        return v.frames, cols, v.source_index

    def need_dir(self, raw_dir: Path, name: str, fix: str) -> Path:
        from climb.datasets._imaging import find_dir

        d = find_dir(raw_dir, name)
        if d is None:
            raise ClimbError(f"no {name}/ folder", where=str(raw_dir), fix=fix)
        return d


__all__ = ["VIDEO_FIELD", "VideoAdapter", "compact_index"]
