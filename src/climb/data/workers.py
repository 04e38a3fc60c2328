"""Worker processes that hand whole batches to the main process through reused shared memory.

Why not ``torch.utils.data.DataLoader(num_workers=N)``: it moves every tensor of every batch into
a fresh shared-memory segment (one copy, fresh pages and a file descriptor each, per tensor, per
batch) and the main process maps each one again. On the ECG store that cost more than reading
the batch in-process: 2 workers delivered 8-12 k samples/s of 12 x 1000 against 65-78 k
in-process (docs/benchmarks.md "Loader overlap"); even a batch without its array took 3.8 ms.

Here the main process owns a small pool of shared-memory *slots* (one flat ``uint8`` buffer
each, sized from the first batch). A worker reads its batch with
:meth:`StoreDataset.get_batch`, copies the large tensors into the slot it was given and sends
back only their layout (offset, dtype, shape) and the small tensors (labels, index, masks). The
main process serves numpy views of the slot as tensors, without a copy; the slot returns to the
pool when the last tensor that views it is freed (a ``weakref.finalize`` on the numpy base the
tensors share), so a consumer that keeps a batch keeps it intact. When every slot is held the
pool grows (a consumer that holds on to every batch holds their memory, as it would anyway); a
batch larger than its slot comes back the DataLoader way once and the slot is enlarged.

Batches come back in order; batch ``i`` of an epoch is always read by worker ``i % N`` with
torch's RNG seeded from ``(seed, epoch, i)``, so random transforms in workers give the same
batches whatever the number of batches already consumed (resume) and the timing.
"""

from __future__ import annotations

import contextlib
import pickle
import traceback
import weakref
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from climb.core.errors import ClimbError

#: tensors of at least this many bytes travel in the slot; smaller ones are pickled
SLOT_MIN_BYTES = 16384
_ALIGN = 64


def batch_seed(seed: int, epoch: int, i: int) -> int:
    from climb.data.collate import uniform01

    u = uniform01(int(seed), int(epoch), np.array([int(i)]), 7)[0]
    return int(u * (1 << 53))


def _flatten(obj: Any, big: list[torch.Tensor]) -> Any:
    """The batch with every large tensor replaced by ``("__slot__", k)`` (k-th of ``big``)."""
    if isinstance(obj, torch.Tensor):
        if obj.numel() * obj.element_size() >= SLOT_MIN_BYTES:
            big.append(obj)
            return ("__slot__", len(big) - 1)
        return obj.numpy() if obj.device.type == "cpu" and not obj.requires_grad else obj
    if isinstance(obj, dict):
        return {k: _flatten(v, big) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_flatten(v, big) for v in obj]
    return obj


def _unflatten(obj: Any, views: list[torch.Tensor]) -> Any:
    if isinstance(obj, tuple) and len(obj) == 2 and obj[0] == "__slot__":
        return views[obj[1]]
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj)
    if isinstance(obj, dict):
        return {k: _unflatten(v, views) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_unflatten(v, views) for v in obj]
    return obj


def _layout(tensors: Sequence[torch.Tensor]) -> tuple[list[tuple[int, str, tuple[int, ...]]], int]:
    out, off = [], 0
    for t in tensors:
        n = t.numel() * t.element_size()
        out.append((off, str(t.dtype).removeprefix("torch."), tuple(t.shape)))
        off += (n + _ALIGN - 1) // _ALIGN * _ALIGN
    return out, off


class _Arena:
    """Bump allocator over a slot: the dataset reads dense fields straight into it."""

    def __init__(self, buf: torch.Tensor | None) -> None:
        self.buf = buf
        self.base = buf.numpy() if buf is not None else None
        self.ptr = buf.data_ptr() if buf is not None else 0
        self.cap = buf.numel() if buf is not None else 0
        self.off = 0

    def take(self, nbytes: int) -> int | None:
        if self.off + nbytes > self.cap:
            return None
        off = self.off
        self.off += (nbytes + _ALIGN - 1) // _ALIGN * _ALIGN
        return off

    def __call__(self, shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray:
        dt = np.dtype(dtype)
        n = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
        off = self.take(n) if self.base is not None else None
        if off is None:
            return np.empty(shape, dtype=dt)
        return self.base[off : off + n].view(dt).reshape(shape)

    def owns(self, t: torch.Tensor) -> bool:
        p = t.data_ptr()
        return self.cap > 0 and self.ptr <= p < self.ptr + self.cap


def _worker(wid: int, dataset: Any, slots: dict[int, torch.Tensor], conn: Any) -> None:
    torch.set_num_threads(1)
    with contextlib.suppress(KeyboardInterrupt, EOFError, BrokenPipeError):
        while True:
            msg = conn.recv()
            if msg is None:
                return
            i, positions, epoch, slot_id, new_slot, batch_rng = msg
            if new_slot is not None:
                slots[slot_id] = new_slot
            try:
                torch.default_generator.manual_seed(batch_rng)
                arena = _Arena(slots.get(slot_id))
                b = dataset.get_batch(positions, keep_order=False, epoch=epoch, alloc=arena)
                big: list[torch.Tensor] = []
                flat = _flatten(b, big)
                layout: list[tuple[int, str, tuple[int, ...]]] | None = []
                for t in big:
                    n = t.numel() * t.element_size()
                    if arena.owns(t) and t.is_contiguous():
                        off: int | None = t.data_ptr() - arena.ptr
                    else:  # a transform made a new tensor: copy it into the slot
                        off = arena.take(n)
                        if off is None:
                            layout = None
                            break
                        dst = arena.buf[off : off + n]  # type: ignore[index]
                        dst.copy_(t.contiguous().reshape(-1).view(torch.uint8))
                    layout.append((int(off), str(t.dtype).removeprefix("torch."), tuple(t.shape)))
                if layout is None:  # does not fit: torch's shared-memory way, slot untouched
                    total = _layout(big)[1]
                    own = _clone_from(b, arena)
                    conn.send((i, "own", slot_id, own, total))
                    continue
                conn.send((i, "slot", slot_id, flat, layout))
            except Exception as exc:  # report, keep serving (the main process decides)
                try:
                    payload: Any = pickle.dumps(exc)
                except Exception:
                    payload = None
                conn.send((i, "err", slot_id, payload, traceback.format_exc()))


def _clone_from(obj: Any, arena: _Arena) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.clone() if arena.owns(obj) else obj
    if isinstance(obj, dict):
        return {k: _clone_from(v, arena) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clone_from(v, arena) for v in obj]
    return obj


class WorkerPool:
    """Worker processes and their shared-memory slots, kept across passes (epochs) of one
    dataset when ``persistent`` (the processes keep the dataset as it was when they started)."""

    def __init__(self, num_workers: int) -> None:
        self.num_workers = int(num_workers)
        self.procs: list[Any] = []
        self.conns: list[Any] = []
        self.slots: dict[int, torch.Tensor] = {}
        self.free: deque[int] = deque()
        self.known: list[set[int]] = [set() for _ in range(self.num_workers)]
        self.pending = [0] * self.num_workers  # tasks sent, answers not yet received
        self.cap = 0
        self.busy = False
        self._finalizer: Any = None

    @property
    def started(self) -> bool:
        return bool(self.procs)

    def alive(self) -> bool:
        return all(p.is_alive() for p in self.procs)

    def new_slot(self) -> int:
        k = max(self.slots, default=-1) + 1
        self.slots[k] = torch.empty(self.cap, dtype=torch.uint8).share_memory_()
        return k

    def start(self, dataset: Any, cap: int, n_slots: int) -> None:
        import torch.multiprocessing as tmp

        self.cap = cap
        for _ in range(n_slots):
            self.free.append(self.new_slot())
        methods = tmp.get_all_start_methods()
        ctx = tmp.get_context("fork" if "fork" in methods else "spawn")
        for w in range(self.num_workers):
            here, there = ctx.Pipe(duplex=True)
            p = ctx.Process(
                target=_worker,
                args=(w, dataset, dict(self.slots), there),
                daemon=True,
                name=f"climb-loader-{w}",
            )
            p.start()
            there.close()
            self.procs.append(p)
            self.conns.append(here)
            self.known[w] = set(self.slots)
        self._finalizer = weakref.finalize(self, _shutdown, self.procs, self.conns)

    def send(self, w: int, msg: Any) -> None:
        self.conns[w].send(msg)
        self.pending[w] += 1

    def drain(self, timeout: float = 60.0) -> bool:
        """Collect the answers still due (a pass closed early); their slots return to the pool.
        ``False`` if a worker did not answer (then the pool must not be reused)."""
        for w in range(self.num_workers):
            while self.pending[w] > 0:
                if not self.conns[w].poll(timeout):
                    return False
                try:
                    _i, _kind, slot_id, _payload, _extra = self.conns[w].recv()
                except (EOFError, OSError):
                    return False
                self.pending[w] -= 1
                self.free.append(slot_id)
        return True

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()


#: persistent pools: dataset -> {num_workers: pool} (weak: a dataset's pools go with it)
_POOLS: weakref.WeakKeyDictionary[Any, dict[int, WorkerPool]] = weakref.WeakKeyDictionary()


def _acquire(dataset: Any, num_workers: int, persistent: bool) -> WorkerPool:
    pools = _POOLS.setdefault(dataset, {}) if persistent else {}
    pool = pools.get(num_workers)
    if pool is not None and not pool.busy and pool.alive():
        pool.busy = True
        return pool
    if pool is not None and not pool.busy:  # a worker died: start over
        pool.close()
        pools.pop(num_workers, None)
    pool = WorkerPool(num_workers)
    pool.busy = True
    if persistent and num_workers not in pools:
        pools[num_workers] = pool
    return pool


class WorkerIterator(Iterator[dict[str, Any]]):
    """One pass over ``requests`` (``(positions, epoch)`` per batch) read by worker processes."""

    def __init__(
        self,
        dataset: Any,
        requests: Sequence[tuple[np.ndarray, int]],
        *,
        num_workers: int,
        prefetch: int = 2,
        seed: int = 0,
        first: int = 0,
        pin_memory: bool = False,
        timeout: float = 300.0,
        persistent: bool = True,
    ) -> None:
        self.dataset = dataset
        self.requests = list(requests)
        self.first = int(first)  # batch number of requests[0] in its epoch (seeds)
        self.num_workers = int(num_workers)
        self.window = max(1, int(prefetch)) * self.num_workers
        self.seed = int(seed)
        self.pin = pin_memory and torch.cuda.is_available()
        self.timeout = float(timeout)
        self.persistent = persistent
        self._sent = 0
        self._next = 0
        self._done: dict[int, Any] = {}
        self._closed = False
        self._procs: list[Any] = []
        self._pool: WorkerPool | None = None
        if not self.requests:
            self._closed = True
            return
        pool = _acquire(dataset, self.num_workers, persistent)
        self._pool = pool
        self._finalizer = weakref.finalize(self, _release_pool, pool, persistent)
        if not pool.started:
            # the first batch is read here: it sizes the slots and is served as batch 0
            pos0, ep0 = self.requests[0]
            b0 = self._read_here(pos0, ep0, self.first)
            self._done[0] = ("here", b0)
            self._sent = 1
            big: list[torch.Tensor] = []
            _flatten(b0, big)
            pool.start(dataset, max(_ALIGN, int(_layout(big)[1] * 1.25) + _ALIGN), self.window + 1)
        self._procs = pool.procs

    # compatibility views of the pool (tests look at them)
    @property
    def _slots(self) -> dict[int, torch.Tensor]:
        return self._pool.slots if self._pool is not None else {}

    def _read_here(self, positions: np.ndarray, epoch: int, i: int) -> dict[str, Any]:
        state = torch.random.get_rng_state()
        try:  # the same seed as a worker would use, without touching the caller's RNG
            torch.default_generator.manual_seed(batch_seed(self.seed, epoch, i))
            return self.dataset.get_batch(positions, keep_order=False, epoch=epoch)  # type: ignore[no-any-return]
        finally:
            torch.random.set_rng_state(state)

    # ------------------------------------------------------------------ dispatch
    def _dispatch(self) -> None:
        pool = self._pool
        assert pool is not None
        while self._sent < len(self.requests) and self._sent < self._next + self.window:
            slot_id = pool.free.popleft() if pool.free else pool.new_slot()
            slot = pool.slots[slot_id]
            if slot.numel() < pool.cap:  # enlarged after a batch that did not fit
                pool.slots[slot_id] = slot = torch.empty(
                    pool.cap, dtype=torch.uint8
                ).share_memory_()
                for k in pool.known:
                    k.discard(slot_id)
            w = self._sent % self.num_workers
            new = None if slot_id in pool.known[w] else slot
            pool.known[w].add(slot_id)
            pos, ep = self.requests[self._sent]
            i = self.first + self._sent
            pool.send(w, (i, pos, ep, slot_id, new, batch_seed(self.seed, ep, i)))
            self._sent += 1

    def _wait(self, k: int) -> Any:
        """Batch ``k``: the next answer of worker ``k % N`` (each answers in order)."""
        import time

        pool = self._pool
        assert pool is not None
        start = time.monotonic()
        w = k % self.num_workers
        conn, proc = pool.conns[w], pool.procs[w]
        while k not in self._done:
            broken = False
            if conn.poll(1.0):
                try:
                    i, kind, slot_id, payload, extra = conn.recv()
                except (EOFError, OSError):
                    broken = True  # the worker's end is closed: it exited
                else:
                    pool.pending[w] -= 1
                    self._done[i - self.first] = (kind, slot_id, payload, extra)
                    continue
            if broken or not proc.is_alive():
                proc.join(timeout=1)
                code = proc.exitcode
                self._fail()
                raise ClimbError(
                    f"loader worker {proc.name} died (exit code {code})",
                    fix="out of memory? run with num_workers=0 (in-process, prefetching thread) "
                    "or fewer workers",
                )
            if time.monotonic() - start > self.timeout:
                self._fail()
                raise ClimbError(
                    f"no batch from the loader's workers in {self.timeout:.0f} s",
                    fix="run with num_workers=0 to see what the reading does in the main process",
                )
        return self._done.pop(k)

    def _fail(self) -> None:
        """A broken pool: shut it down instead of returning it."""
        if self._pool is not None:
            self._pool.close()
            self._pool.busy = False
        self.close()

    # ------------------------------------------------------------------ iteration
    def __iter__(self) -> WorkerIterator:
        return self

    def __next__(self) -> dict[str, Any]:
        if self._closed or self._next >= len(self.requests):
            self.close()
            raise StopIteration
        pool = self._pool
        assert pool is not None
        self._dispatch()
        k = self._next
        got = self._wait(k)
        self._next += 1
        if got[0] == "here":
            return self._pinned(got[1])
        kind, slot_id, payload, extra = got
        if kind == "err":
            pool.free.append(slot_id)
            self.close()
            exc = None
            if payload is not None:
                # the worker's own exception, pickled by our child process (_worker) and
                # sent through this process's private pipe (conn.recv() unpickles every message
                # of that pipe alike); nothing read from data files reaches it
                with contextlib.suppress(Exception):
                    exc = pickle.loads(payload)
            if isinstance(exc, BaseException):
                raise exc
            raise RuntimeError(f"loader worker failed on batch {k}:\n{extra}")
        if kind == "own":  # did not fit: enlarge the slots from now on
            pool.cap = max(pool.cap, int(extra * 1.25) + _ALIGN)
            pool.free.append(slot_id)
            return self._pinned(payload)
        slot = pool.slots[slot_id]
        base = slot.numpy()  # a fresh ndarray object: the tensors below keep it alive
        views = []
        for off, dt, shape in extra:
            dtype = getattr(torch, dt)
            n = int(np.prod(shape, dtype=np.int64)) * torch.empty((), dtype=dtype).element_size()
            views.append(torch.from_numpy(base[off : off + n]).view(dtype).view(shape))
        weakref.finalize(base, pool.free.append, slot_id)
        del base
        return self._pinned(_unflatten(payload, views))

    def _pinned(self, batch: dict[str, Any]) -> dict[str, Any]:
        if not self.pin:
            return batch
        from climb.data.loader import pin_batch

        return pin_batch(batch)

    def __len__(self) -> int:
        return len(self.requests) - self._next

    def close(self) -> None:
        """End the pass: collect what is still due, hand the pool back (or shut it down)."""
        if self._closed:
            return
        self._closed = True
        fin = getattr(self, "_finalizer", None)
        if fin is not None:
            fin()


def _release_pool(pool: WorkerPool, persistent: bool) -> None:
    if persistent and pool.alive() and pool.drain():
        pool.busy = False
        return
    pool.close()
    pool.busy = False


def _shutdown(procs: list[Any], conns: list[Any]) -> None:
    for c in conns:
        with contextlib.suppress(Exception):
            c.send(None)
    for p in procs:
        p.join(timeout=5)
    for p in procs:
        if p.is_alive():
            p.terminate()
            p.join(timeout=5)
    for c in conns:
        with contextlib.suppress(Exception):
            c.close()
