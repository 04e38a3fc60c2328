"""Chunk-aware batch samplers: block shuffle (whole chunks), exact random, sequential.

A store keeps samples in zarr chunks along axis 0; decoding a chunk is the unit of work. The
block-shuffle sampler makes random-order training read whole chunks:

1. shuffle the order of the chunks (seeded by ``seed`` and the epoch);
2. group consecutive chunks of that order into windows of ``window_chunks`` chunks;
3. shuffle the samples within each window;
4. concatenate the windows and cut the stream into batches.

A batch then touches about ``window_chunks`` (+1 at window boundaries) chunks, which
:class:`~climb.data.dataset.StoreDataset` reads with one zarr read per run of consecutive chunks.
``mode="exact"`` draws a uniform random permutation instead (every batch touches up to
``batch_size`` chunks; slower, statistically exact). ``shuffle=False`` keeps dataset order.

Distributed: every rank computes the same global stream, pads it by wrapping around so that its
length is a multiple of ``world_size`` (``drop_last=True`` truncates instead), and takes its own
contiguous slice, so each rank gets the same number of samples and reads its own chunks.

The sampler is resumable: ``state_dict()`` holds the epoch and the number of batches already
consumed in it; ``load_state_dict()`` makes the next ``__iter__`` continue from there.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
from torch.utils.data import Sampler

from climb.core.errors import ClimbError

Mode = Literal["block", "exact"]
MODES: tuple[str, ...] = ("block", "exact")


def _rng(seed: int, epoch: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, int(epoch)]))


def auto_window_chunks(chunk_ids: np.ndarray, batch_size: int) -> int:
    """Chunks per shuffle window so that a window holds about one batch of this dataset."""
    n_chunks = max(1, len(np.unique(chunk_ids)))
    per_chunk = max(1.0, len(chunk_ids) / n_chunks)
    return max(1, math.ceil(batch_size / per_chunk))


def epoch_order(
    chunk_ids: np.ndarray,
    *,
    shuffle: bool,
    mode: Mode = "block",
    window_chunks: int = 1,
    seed: int = 0,
    epoch: int = 0,
) -> np.ndarray:
    """The order of dataset positions for one epoch (every position exactly once)."""
    n = len(chunk_ids)
    if not shuffle:
        return np.arange(n, dtype=np.int64)
    rng = _rng(seed, epoch)
    if mode == "exact":
        return rng.permutation(n).astype(np.int64)
    if mode != "block":
        raise ClimbError(f"unknown sampling mode {mode!r}", fix=f"use one of {', '.join(MODES)}")
    # positions grouped by chunk (stable, so positions inside a chunk stay in dataset order)
    by_chunk = np.argsort(chunk_ids, kind="stable")
    uniq, starts = np.unique(chunk_ids[by_chunk], return_index=True)
    bounds = np.append(starts, n)
    order = rng.permutation(len(uniq))
    out = np.empty(n, dtype=np.int64)
    pos = 0
    w = max(1, int(window_chunks))
    for i in range(0, len(order), w):
        parts = [by_chunk[bounds[c] : bounds[c + 1]] for c in order[i : i + w]]
        win = np.concatenate(parts)
        rng.shuffle(win)
        out[pos : pos + len(win)] = win
        pos += len(win)
    return out


class ChunkBatchSampler(Sampler[list[int]]):
    """Yields batches (lists of dataset positions) in chunk-aware order; see the module doc.

    ``chunk_ids[i]`` is the zarr chunk that holds dataset position ``i``
    (:attr:`StoreDataset.chunk_ids`). Use with ``DataLoader(dataset, sampler=this,
    batch_size=None)``: the dataset then reads each batch in one go.
    """

    def __init__(
        self,
        chunk_ids: np.ndarray,
        batch_size: int,
        *,
        shuffle: bool = True,
        mode: Mode = "block",
        window_chunks: int | None = None,
        seed: int = 0,
        drop_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if batch_size < 1:
            raise ClimbError(f"batch_size must be >= 1, got {batch_size}")
        if mode not in MODES:
            raise ClimbError(
                f"unknown sampling mode {mode!r}", fix=f"use one of {', '.join(MODES)}"
            )
        if world_size < 1 or not 0 <= rank < world_size:
            raise ClimbError(f"bad distributed rank {rank} for world size {world_size}")
        self.chunk_ids = np.asarray(chunk_ids, dtype=np.int64)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.mode: Mode = mode
        self.window_chunks = (
            int(window_chunks)
            if window_chunks
            else auto_window_chunks(self.chunk_ids, self.batch_size)
        )
        self.seed = int(seed)
        self.drop_last = drop_last
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self.start_batch = 0  # batches of the current epoch already consumed (resume)

    # -- sizes
    def num_samples(self) -> int:
        """Samples this rank gets per epoch (equal on every rank)."""
        n = len(self.chunk_ids)
        if self.world_size == 1:
            return n
        return n // self.world_size if self.drop_last else math.ceil(n / self.world_size)

    def __len__(self) -> int:
        m = self.num_samples()
        return m // self.batch_size if self.drop_last else math.ceil(m / self.batch_size)

    # -- order
    def rank_order(self, epoch: int | None = None) -> np.ndarray:
        """This rank's positions for ``epoch`` in the order they are served."""
        e = self.epoch if epoch is None else epoch
        order = epoch_order(
            self.chunk_ids,
            shuffle=self.shuffle,
            mode=self.mode,
            window_chunks=self.window_chunks,
            seed=self.seed,
            epoch=e,
        )
        if self.world_size > 1:
            per = self.num_samples()
            total = per * self.world_size
            if total > len(order):  # pad by wrapping around (equal counts on every rank)
                reps = math.ceil(total / max(1, len(order)))
                order = np.tile(order, reps)[:total]
            else:
                order = order[:total]
            order = order[self.rank * per : (self.rank + 1) * per]
        return order

    def batches(self, epoch: int | None = None) -> list[np.ndarray]:
        order = self.rank_order(epoch)
        out = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.drop_last and out and len(out[-1]) < self.batch_size:
            out.pop()
        return out

    def __iter__(self) -> Iterator[list[int]]:
        start = self.start_batch
        self.start_batch = 0
        for b in self.batches()[start:]:
            yield b.tolist()

    # -- resume
    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def state_dict(self) -> dict[str, Any]:
        return {"epoch": self.epoch, "start_batch": self.start_batch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.epoch = int(state["epoch"])
        self.start_batch = int(state["start_batch"])
