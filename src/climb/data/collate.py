"""Collation policies for ragged fields (variable-length time/frames), registered by name.

A ragged field stores sample ``i`` as an array ``(T_i, *inner)`` (time/frames first, as the store
keeps it: docs/store-format.md). A batch of them becomes one dense tensor by a policy, chosen per
field with ``StoreDataset(..., ragged={field: {"name": "pad"}})`` (a config's
``data.ragged``):

``pad`` ``{max_length: null}``
    pad (zeros, at the end) to the longest sample of the batch -> ``(B, T, *inner)``;
    ``max_length`` caps ``T`` (longer samples keep their first ``max_length`` steps).
``crop`` ``{length: L}``
    a window of ``L`` steps: random start in training, centred in evaluation; shorter samples are
    padded at the end -> ``(B, L, *inner)``.
``clip`` ``{frames: K, mode: uniform}``
    ``K`` steps spread uniformly over the whole sample (``K`` equal segments; a random step
    of each segment in training, its centre in evaluation; short samples repeat steps)
    -> ``(B, K, *inner)``.
``clip`` ``{frames: K, mode: dense, stride: s, cover_end: true}``
    every window of ``K`` steps at stride ``s`` (default ``K``; with ``cover_end`` one more
    window ends at the last step), a sample shorter than ``K`` gives one padded window
    -> ``(N_clips, K, *inner)`` plus ``clip_index`` ``(N_clips,)``: the batch row each clip
    belongs to, so evaluation can average clip scores per sample.

Every policy returns the values, ``lengths`` (valid steps per row) and a boolean ``mask``
``(rows, steps)`` (True = real data; padding is zeros and False). Random choices are a hash of
``(seed, epoch, store row, draw)``: the same sample gets the same crop in the same epoch whatever
the batch, the order, the worker or the thread, and a different one next epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from climb.core.errors import ClimbError
from climb.core.registry import Registry


@dataclass
class Collated:
    """One ragged field of a batch, made dense."""

    values: np.ndarray  # (rows, steps, *inner)
    lengths: np.ndarray  # (rows,) int64, valid steps of each row
    mask: np.ndarray  # (rows, steps) bool, True = real data
    clip_index: np.ndarray | None = None  # (rows,) batch row of each clip (dense clips only)


class Policy(Protocol):
    """``policy(seqs, rows=..., epoch=..., train=..., seed=...) -> Collated``; ``seqs[i]`` is
    ``(T_i, *inner)``, ``rows[i]`` its store row (the key of its random draws)."""

    name: str

    def __call__(
        self, seqs: Sequence[np.ndarray], *, rows: np.ndarray, epoch: int, train: bool, seed: int
    ) -> Collated: ...


COLLATES: Registry[Callable[..., Policy]] = Registry("ragged collate policy")

_M1, _M2, _GOLDEN = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0x9E3779B97F4A7C15


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (uint64 -> uint64), vectorised."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(_M1)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(_M2)
    return x ^ (x >> np.uint64(31))


def uniform01(seed: int, epoch: int, rows: np.ndarray, draw: int | np.ndarray = 0) -> np.ndarray:
    """Deterministic uniforms in [0, 1): one per ``(seed, epoch, row, draw)``."""
    with np.errstate(over="ignore"):
        h = _mix(np.full(1, int(seed) & 0xFFFFFFFFFFFFFFFF, dtype=np.uint64) + np.uint64(_GOLDEN))
        h = _mix(h ^ np.uint64(int(epoch) & 0xFFFFFFFFFFFFFFFF))
        r = np.asarray(rows, dtype=np.int64).astype(np.uint64)
        h = _mix(h ^ (r * np.uint64(_GOLDEN)))
        d = np.asarray(draw, dtype=np.int64).astype(np.uint64)
        h = _mix(h ^ (d + np.uint64(1)) * np.uint64(_M2))
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _inner(seqs: Sequence[np.ndarray]) -> tuple[tuple[int, ...], np.dtype[Any]]:
    if not seqs:
        return (), np.dtype("float32")
    return tuple(seqs[0].shape[1:]), seqs[0].dtype


def _gather(
    seqs: Sequence[np.ndarray], starts: np.ndarray, steps: int, *, take: np.ndarray | None = None
) -> Collated:
    """Rows ``seqs[i][starts[i] : starts[i] + steps]`` (or the steps ``take[i]``), zero padded."""
    inner, dtype = _inner(seqs)
    n = len(seqs)
    out = np.zeros((n, steps, *inner), dtype=dtype)
    lengths = np.zeros(n, dtype=np.int64)
    for i, s in enumerate(seqs):
        if take is not None:
            if len(s):
                out[i] = s[take[i]]
                lengths[i] = steps
            continue
        part = s[int(starts[i]) : int(starts[i]) + steps]
        out[i, : len(part)] = part
        lengths[i] = len(part)
    mask = np.arange(steps)[None, :] < lengths[:, None]
    return Collated(out, lengths, mask)


class Pad:
    name = "pad"

    def __init__(self, max_length: int | None = None) -> None:
        if max_length is not None and int(max_length) < 1:
            raise ClimbError(f"pad: max_length must be >= 1, got {max_length}")
        self.max_length = None if max_length is None else int(max_length)

    def __call__(
        self, seqs: Sequence[np.ndarray], *, rows: np.ndarray, epoch: int, train: bool, seed: int
    ) -> Collated:
        longest = max((len(s) for s in seqs), default=0)
        steps = max(1, longest if self.max_length is None else min(longest, self.max_length))
        return _gather(seqs, np.zeros(len(seqs), dtype=np.int64), steps)


class Crop:
    name = "crop"

    def __init__(self, length: int) -> None:
        if int(length) < 1:
            raise ClimbError(f"crop: length must be >= 1, got {length}")
        self.length = int(length)

    def __call__(
        self, seqs: Sequence[np.ndarray], *, rows: np.ndarray, epoch: int, train: bool, seed: int
    ) -> Collated:
        t = np.array([len(s) for s in seqs], dtype=np.int64)
        room = np.maximum(t - self.length, 0)
        if train:
            starts = np.floor(uniform01(seed, epoch, rows) * (room + 1)).astype(np.int64)
            starts = np.minimum(starts, room)
        else:
            starts = room // 2
        return _gather(seqs, starts, self.length)


class Clip:
    name = "clip"
    MODES = ("uniform", "dense")

    def __init__(
        self,
        frames: int,
        mode: str = "uniform",
        stride: int | None = None,
        cover_end: bool = True,
    ) -> None:
        if int(frames) < 1:
            raise ClimbError(f"clip: frames must be >= 1, got {frames}")
        if mode not in self.MODES:
            from climb.core.registry import suggestion

            hint = suggestion(mode, self.MODES)
            raise ClimbError(
                f"clip: unknown mode {mode!r}" + (f"; {hint}" if hint else ""),
                fix="mode: uniform (K steps spread over the sample) or dense (all windows)",
            )
        if stride is not None and int(stride) < 1:
            raise ClimbError(f"clip: stride must be >= 1, got {stride}")
        self.frames = int(frames)
        self.mode = mode
        self.stride = int(stride) if stride else self.frames
        self.cover_end = bool(cover_end)

    def starts(self, t: int) -> list[int]:
        """Start step of every dense window of a sample of ``t`` steps."""
        k, s = self.frames, self.stride
        if t <= k:
            return [0]
        out = list(range(0, t - k + 1, s))
        if self.cover_end and out[-1] != t - k:
            out.append(t - k)
        return out

    def __call__(
        self, seqs: Sequence[np.ndarray], *, rows: np.ndarray, epoch: int, train: bool, seed: int
    ) -> Collated:
        k = self.frames
        if self.mode == "uniform":
            t = np.array([len(s) for s in seqs], dtype=np.float64)
            seg = np.arange(k, dtype=np.float64)
            if train:
                u = np.stack([uniform01(seed, epoch, rows, j) for j in range(k)], axis=1)
            else:
                u = np.full((len(seqs), k), 0.5)
            pos = np.floor((seg[None, :] + u) * t[:, None] / k).astype(np.int64)
            pos = np.minimum(pos, np.maximum(t[:, None].astype(np.int64) - 1, 0))
            return _gather(seqs, np.zeros(len(seqs), dtype=np.int64), k, take=pos)
        parts: list[np.ndarray] = []
        starts: list[int] = []
        owner: list[int] = []
        for i, s in enumerate(seqs):
            for st in self.starts(len(s)):
                parts.append(s)
                starts.append(st)
                owner.append(i)
        c = _gather(parts, np.asarray(starts, dtype=np.int64), k)
        if not parts:  # an empty batch
            inner, dtype = _inner(seqs)
            c = Collated(
                np.zeros((0, k, *inner), dtype=dtype),
                np.zeros(0, dtype=np.int64),
                np.zeros((0, k), dtype=bool),
            )
        c.clip_index = np.asarray(owner, dtype=np.int64)
        return c


COLLATES.register("pad", Pad)
COLLATES.register("crop", Crop)
COLLATES.register("clip", Clip)


def build_collate(spec: str | Mapping[str, Any] | Policy | None, *, where: str = "") -> Policy:
    """``"pad"``, ``{"name": "crop", "length": 256}`` or a policy object -> a policy."""
    if spec is None:
        return Pad()
    if callable(spec) and not isinstance(spec, (str, Mapping)):
        return spec
    s: dict[str, Any] = {"name": spec} if isinstance(spec, str) else dict(spec)
    name = s.pop("name", None)
    if name is None:
        raise ClimbError(
            "a ragged collate policy needs a name",
            where=where or None,
            fix=f"e.g. {{name: pad}}; known: {', '.join(COLLATES.names())}",
        )
    try:
        factory = COLLATES.get(str(name))
    except ClimbError as exc:
        raise ClimbError(exc.what, where=where or None, fix=exc.fix) from None
    try:
        return factory(**s)
    except TypeError as exc:
        raise ClimbError(
            f"bad arguments for ragged collate policy {name!r}: {exc}",
            where=where or None,
            fix={
                "pad": "pad takes max_length",
                "crop": "crop takes length",
                "clip": "clip takes frames, mode (uniform|dense), stride, cover_end",
            }.get(str(name)),
        ) from None
