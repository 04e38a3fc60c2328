"""Batch loaders over a :class:`StoreDataset` driven by a :class:`ChunkBatchSampler`.

:func:`make_loader` returns an iterable of whole batches (each read by the dataset in one go)
that overlaps reading with the caller's compute:

- ``num_workers=0`` (default): in-process, with a background thread that reads the next
  ``prefetch`` batches (default 2) while the caller computes on the current one. Chunk-file
  copies, zarr decoding and numpy/torch conversions release the GIL, so the thread runs
  alongside torch's compute. Transforms marked thread-safe (the deterministic ones of
  climb.data.transforms) run in the thread; others (random augmentation, any unmarked callable)
  run when the batch is handed over, in batch order, so they draw from torch's global RNG
  exactly as without prefetching. ``prefetch=0``: read in the caller's thread.
- ``num_workers=N``: N worker processes that hand batches over through reused shared memory
  (climb.data.workers), not the DataLoader's fresh segment per tensor per batch; they serve
  every epoch of the dataset (``persistent_workers=False``: one pass).
- ``backend="torch"``: ``torch.utils.data.DataLoader`` as before (``prefetch`` = its
  ``prefetch_factor``).

Every path gives the same batches in the same order (random transforms aside: those draw from
the worker's RNG, seeded per batch, in worker processes). :func:`to_device` moves a batch
(pinned host memory + ``non_blocking`` copies on CUDA, see ``pin_memory``).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import torch
from torch.utils.data import DataLoader, Sampler

from climb.core.errors import ClimbError
from climb.data.dataset import BatchRequest, StoreDataset
from climb.data.mixture import TaskStream
from climb.data.samplers import ChunkBatchSampler, Mode

BACKENDS = ("climb", "torch")


def _map(obj: Any, fn: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, Mapping):
        return {k: _map(v, fn) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_map(v, fn) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_map(v, fn) for v in obj)
    return obj


def pin_batch(batch: Any) -> Any:
    """Every CPU tensor of ``batch`` in page-locked memory (a no-op without CUDA)."""
    if not torch.cuda.is_available():
        return batch
    return _map(batch, lambda t: t if t.is_pinned() or t.device.type != "cpu" else t.pin_memory())


def to_device(batch: Any, device: torch.device | str, *, non_blocking: bool | None = None) -> Any:
    """A copy of ``batch`` (nested dicts/lists of tensors) with every tensor on ``device``.

    On CUDA the copies are ``non_blocking`` for pinned tensors (``make_loader(...,
    pin_memory=True)`` pins them in the prefetch thread or on arrival from a worker), so the
    host-to-device transfer overlaps with the compute already queued."""
    dev = torch.device(device)

    def move(t: torch.Tensor) -> torch.Tensor:
        if t.device == dev:
            return t
        nb = non_blocking if non_blocking is not None else dev.type == "cuda" and t.is_pinned()
        return t.to(dev, non_blocking=nb)

    return _map(batch, move)


# ----------------------------------------------------------------------------- prefetch thread


_END = object()


def _produce(
    dataset: StoreDataset,
    requests: list[BatchRequest],
    out: queue.Queue[Any],
    stop: threading.Event,
    pin: bool,
) -> None:
    """The prefetch thread: read batches in order into ``out`` until done or stopped."""

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    try:
        for r in requests:
            if stop.is_set():
                return
            b = dataset.get_batch(r.positions, keep_order=False, epoch=r.epoch, stage="read")
            if pin:
                b = pin_batch(b)
            if not put(("ok", b)):
                return
        put(("end", None))
    except BaseException as exc:  # handed to the consumer, raised there in order
        put(("err", exc))


class PrefetchIterator(Iterator[dict[str, Any]]):
    """Batches read by a background thread, ``depth`` ahead of the consumer.

    The thread holds no reference to this object: dropping an unfinished iterator (or
    :meth:`close`, or an exception in the consumer) stops it; it never outlives the pass."""

    def __init__(
        self, dataset: StoreDataset, requests: list[BatchRequest], depth: int, pin: bool
    ) -> None:
        self.dataset = dataset
        self._left = len(requests)
        self._q: queue.Queue[Any] = queue.Queue(maxsize=max(1, int(depth)))
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=_produce,
            args=(dataset, requests, self._q, self._stop, pin),
            name="climb-prefetch",
            daemon=True,
        )
        self._thread.start()
        self._finalizer = weakref.finalize(self, _stop_thread, self._stop, self._q, self._thread)

    def __iter__(self) -> PrefetchIterator:
        return self

    def __next__(self) -> dict[str, Any]:
        if self._stop.is_set():
            raise StopIteration
        while True:
            try:
                kind, b = self._q.get(timeout=1.0)
                break
            except queue.Empty:
                if not self._thread.is_alive():  # it always says why it stopped, but be safe
                    self.close()
                    raise ClimbError(
                        "the loader's prefetch thread stopped without a batch",
                        fix="run with prefetch=0 to read in the calling thread",
                    ) from None
        if kind == "ok":
            self._left -= 1
            return self.dataset.finish_batch(b)
        self.close()
        if kind == "err":
            raise b
        raise StopIteration

    def __len__(self) -> int:
        return self._left

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        self._finalizer()


def _stop_thread(stop: threading.Event, q: queue.Queue[Any], thread: threading.Thread) -> None:
    stop.set()
    with contextlib.suppress(queue.Empty):
        while True:  # free the thread if it waits on a full queue
            q.get_nowait()
    if thread is not threading.current_thread():
        thread.join(timeout=10)


def _inline(dataset: StoreDataset, requests: list[BatchRequest]) -> Iterator[dict[str, Any]]:
    for r in requests:
        yield dataset.get_batch(r.positions, keep_order=False, epoch=r.epoch)


# ----------------------------------------------------------------------------- the loader


class _RequestSampler(Sampler[BatchRequest]):
    """A ChunkBatchSampler's batches as :class:`BatchRequest` (positions + epoch)."""

    def __init__(self, sampler: ChunkBatchSampler) -> None:
        self.sampler = sampler

    def __iter__(self) -> Iterator[BatchRequest]:
        epoch = self.sampler.epoch
        for b in self.sampler:
            yield BatchRequest(b, epoch)

    def __len__(self) -> int:
        return len(self.sampler)


class BatchLoader(Iterable[dict[str, Any]]):
    """What :func:`make_loader` returns: iterate for one epoch of batches (from
    ``start_batch`` on the first pass, as the sampler's state says)."""

    def __init__(
        self,
        dataset: StoreDataset,
        sampler: ChunkBatchSampler,
        *,
        num_workers: int = 0,
        prefetch: int = 2,
        pin_memory: bool = False,
        seed: int = 0,
        persistent_workers: bool = True,
    ) -> None:
        self.dataset = dataset
        self.persistent_workers = bool(persistent_workers)
        self.sampler = sampler
        self.num_workers = int(num_workers)
        self.prefetch = int(prefetch)
        self.pin_memory = bool(pin_memory) and torch.cuda.is_available()
        self.seed = int(seed)

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        first = self.sampler.start_batch
        epoch = self.sampler.epoch
        requests = [BatchRequest(b, epoch) for b in self.sampler]
        if self.num_workers > 0:
            from climb.data.workers import WorkerIterator

            return WorkerIterator(
                self.dataset,
                [(r.positions, r.epoch) for r in requests],
                num_workers=self.num_workers,
                prefetch=max(1, self.prefetch),
                seed=self.seed,
                first=first,
                pin_memory=self.pin_memory,
                persistent=self.persistent_workers,
            )
        if self.prefetch > 0:
            return PrefetchIterator(self.dataset, requests, self.prefetch, self.pin_memory)
        it = _inline(self.dataset, requests)
        return (pin_batch(b) for b in it) if self.pin_memory else it


def make_loader(
    dataset: StoreDataset,
    batch_size: int,
    *,
    shuffle: bool = True,
    mode: Mode = "block",
    window_chunks: int | None = None,
    seed: int = 0,
    drop_last: bool = False,
    rank: int = 0,
    world_size: int = 1,
    num_workers: int = 0,
    pin_memory: bool = False,
    epoch: int = 0,
    start_batch: int = 0,
    prefetch: int = 2,
    backend: str = "climb",
    persistent_workers: bool = True,
) -> BatchLoader | DataLoader[Any]:
    """Whole batches read chunk-by-chunk by the dataset, prepared while the caller computes.

    ``prefetch``: batches read ahead (in-process: by a background thread; ``0`` = none; with
    workers: per worker). ``num_workers``: worker processes (shared-memory hand-over); with
    ``persistent_workers`` (default) the same processes serve the next epochs of this dataset
    (they keep the dataset as it was when they started) and end when the dataset is freed.
    ``pin_memory``: page-locked batches (CUDA only) for :func:`to_device`'s non-blocking
    copies. ``backend="torch"``: a plain ``torch.utils.data.DataLoader`` instead.
    """
    if backend not in BACKENDS:
        from climb.core.registry import suggestion

        hint = suggestion(backend, BACKENDS)
        raise ClimbError(
            f"unknown loader backend {backend!r}" + (f"; {hint}" if hint else ""),
            fix=f"one of {', '.join(BACKENDS)}",
        )
    if num_workers < 0 or prefetch < 0:
        raise ClimbError(f"num_workers and prefetch must be >= 0, got {num_workers} and {prefetch}")
    sampler = ChunkBatchSampler(
        dataset.chunk_ids,
        batch_size,
        shuffle=shuffle,
        mode=mode,
        window_chunks=window_chunks,
        seed=seed,
        drop_last=drop_last,
        rank=rank,
        world_size=world_size,
    )
    sampler.load_state_dict({"epoch": epoch, "start_batch": start_batch})
    if backend == "climb":
        return BatchLoader(
            dataset,
            sampler,
            num_workers=num_workers,
            prefetch=prefetch,
            pin_memory=pin_memory,
            seed=seed * 1_000_003 + epoch,
            persistent_workers=persistent_workers,
        )
    # an own generator: creating an iterator must not consume the global torch RNG (which
    # drives dropout), or a resumed run would diverge from an uninterrupted one
    gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(epoch))
    return DataLoader(
        dataset,
        sampler=_RequestSampler(sampler),
        batch_size=None,
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=False,
        prefetch_factor=max(1, prefetch) if num_workers > 0 else None,
        generator=gen,
    )


def task_stream(dataset: StoreDataset, batch_size: int, **kw: Any) -> TaskStream:
    """An endless resumable stream of training batches (epochs follow each other)."""

    def make_iter(epoch: int, start_batch: int) -> Iterator[Any]:
        return iter(make_loader(dataset, batch_size, epoch=epoch, start_batch=start_batch, **kw))

    return TaskStream(make_iter)


__all__ = [
    "BACKENDS",
    "BatchLoader",
    "PrefetchIterator",
    "make_loader",
    "pin_batch",
    "task_stream",
    "to_device",
]
