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

Each built-in policy first makes a :class:`Plan` from the samples' lengths alone (which step of
which sample fills each place; ``-1`` = padding), so the dataset reads only those steps
(:meth:`climb.store.ragged.RaggedArray.gather`: the chunks holding them, each once). Every
policy returns the values, ``lengths`` (valid steps per row) and a boolean ``mask``
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


@dataclass
class Plan:
    """Which steps of which samples a policy takes, decided from the samples' lengths alone,
    so that the store reads only those steps (:meth:`climb.store.ragged.RaggedArray.gather`)."""

    take: np.ndarray  # (rows_out, steps) int64: step of the row's sample; -1 = padding
    owner: np.ndarray | None = None  # (rows_out,) batch row of each output row (dense clips)


class Policy(Protocol):
    """``policy(seqs, rows=..., epoch=..., train=..., seed=...) -> Collated``; ``seqs[i]`` is
    ``(T_i, *inner)``, ``rows[i]`` its store row (the key of its random draws).

    A policy that also has ``plan(lengths, rows=..., epoch=..., train=..., seed=...) -> Plan``
    (all built-in ones; :class:`Planned` derives ``__call__`` from it) lets the dataset read
    only the steps it takes; one without it is handed whole samples."""

    name: str

    def __call__(
        self, seqs: Sequence[np.ndarray], *, rows: np.ndarray, epoch: int, train: bool, seed: int
    ) -> Collated: ...


def from_plan(values: np.ndarray, plan: Plan) -> Collated:
    """The collated field of ``values`` ``(rows_out, steps, *inner)`` gathered for ``plan``."""
    mask = plan.take >= 0
    return Collated(values, mask.sum(axis=1).astype(np.int64), mask, plan.owner)


class Planned:
    """Base of the policies that decide from lengths alone (:class:`Plan`); ``__call__``
    applies the plan to samples already in memory."""

    name = ""

    def plan(
        self, lengths: np.ndarray, *, rows: np.ndarray, epoch: int, train: bool, seed: int
    ) -> Plan:
        raise NotImplementedError

    def __call__(
        self, seqs: Sequence[np.ndarray], *, rows: np.ndarray, epoch: int, train: bool, seed: int
    ) -> Collated:
        lengths = np.array([len(s) for s in seqs], dtype=np.int64)
        plan = self.plan(lengths, rows=rows, epoch=epoch, train=train, seed=seed)
        inner, dtype = _inner(seqs)
        out = np.zeros((*plan.take.shape, *inner), dtype=dtype)
        owner = np.arange(len(seqs)) if plan.owner is None else plan.owner
        for i, (o, t) in enumerate(zip(owner.tolist(), plan.take, strict=True)):
            ok = t >= 0
            if ok.any():
                out[i, ok] = seqs[o][t[ok]]
        return from_plan(out, plan)


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


def _window(starts: np.ndarray, lengths: np.ndarray, steps: int) -> np.ndarray:
    """``take`` rows ``starts[i] + 0..steps-1``, ``-1`` past the end of each sample."""
    take = np.asarray(starts, dtype=np.int64)[:, None] + np.arange(steps, dtype=np.int64)[None, :]
    take[take >= np.asarray(lengths, dtype=np.int64)[:, None]] = -1
    return take


class Pad(Planned):
    name = "pad"

    def __init__(self, max_length: int | None = None) -> None:
        if max_length is not None and int(max_length) < 1:
            raise ClimbError(f"pad: max_length must be >= 1, got {max_length}")
        self.max_length = None if max_length is None else int(max_length)

    def plan(
        self, lengths: np.ndarray, *, rows: np.ndarray, epoch: int, train: bool, seed: int
    ) -> Plan:
        longest = int(lengths.max()) if len(lengths) else 0
        steps = max(1, longest if self.max_length is None else min(longest, self.max_length))
        return Plan(_window(np.zeros(len(lengths), dtype=np.int64), lengths, steps))


class Crop(Planned):
    name = "crop"

    def __init__(self, length: int) -> None:
        if int(length) < 1:
            raise ClimbError(f"crop: length must be >= 1, got {length}")
        self.length = int(length)

    def plan(
        self, lengths: np.ndarray, *, rows: np.ndarray, epoch: int, train: bool, seed: int
    ) -> Plan:
        t = np.asarray(lengths, dtype=np.int64)
        room = np.maximum(t - self.length, 0)
        if train:
            starts = np.floor(uniform01(seed, epoch, rows) * (room + 1)).astype(np.int64)
            starts = np.minimum(starts, room)
        else:
            starts = room // 2
        return Plan(_window(starts, t, self.length))


class Clip(Planned):
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

    def plan(
        self, lengths: np.ndarray, *, rows: np.ndarray, epoch: int, train: bool, seed: int
    ) -> Plan:
        k = self.frames
        t = np.asarray(lengths, dtype=np.int64)
        if self.mode == "uniform":
            seg = np.arange(k, dtype=np.float64)
            if train:
                u = np.stack([uniform01(seed, epoch, rows, j) for j in range(k)], axis=1)
            else:
                u = np.full((len(t), k), 0.5)
            u = u.reshape(len(t), k)
            pos = np.floor((seg[None, :] + u) * t[:, None].astype(np.float64) / k).astype(np.int64)
            pos = np.minimum(pos, np.maximum(t[:, None] - 1, 0))
            pos[t == 0] = -1  # an empty sample: all padding
            return Plan(pos)
        starts: list[int] = []
        owner: list[int] = []
        for i, n in enumerate(t.tolist()):
            for st in self.starts(n):
                starts.append(st)
                owner.append(i)
        own = np.asarray(owner, dtype=np.int64)
        take = _window(np.asarray(starts, dtype=np.int64), t[own], k).reshape(len(own), k)
        return Plan(take, own)


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
