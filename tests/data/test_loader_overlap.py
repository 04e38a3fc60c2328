"""The overlapping loaders: the prefetch thread and the shared-memory worker processes give the
same batches, in the same order, as reading in the calling thread; they stop cleanly (no thread
or process left behind on close, on an early drop, or on an error); to_device moves batches."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from climb_mf_store import write_mf_store

from climb.data import StoreDataset, make_loader, task_stream, to_device
from climb.data.loader import BatchLoader, PrefetchIterator
from climb.data.workers import WorkerIterator


@pytest.fixture(scope="module")
def mf_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("mf") / "mf"
    write_mf_store(p)
    return p


def _flat(b: Any, prefix: str = "") -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for k, v in b.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def _same(a: list[Any], b: list[Any]) -> None:
    assert len(a) == len(b) and len(a) > 0
    for x, y in zip(a, b, strict=True):
        fx, fy = _flat(x), _flat(y)
        assert fx.keys() == fy.keys()
        for k in fx:
            assert fx[k].dtype == fy[k].dtype and fx[k].shape == fy[k].shape, k
            assert fx[k].numpy().tobytes() == fy[k].numpy().tobytes(), k  # bit for bit, NaN too


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "climb-prefetch" and t.is_alive()]


def _wait_for(cond: Any, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        gc.collect()
        if cond():
            return True
        time.sleep(0.02)
    return bool(cond())


def _mf(path: Path, **kw: Any) -> StoreDataset:
    return StoreDataset(
        path,
        split="train",
        fields=["ecg", "img", "seq"],
        tasks="y",
        ragged={"seq": {"name": "crop", "length": 6}},
        **kw,
    )


def test_prefetch_same_batches_same_order(synth_store: Path, mf_store: Path) -> None:
    for ds in (StoreDataset(synth_store, split="train", tasks=["ml", "bin"]), _mf(mf_store)):
        for epoch in (0, 1):
            ref = list(make_loader(ds, 5, seed=2, epoch=epoch, prefetch=0))
            loader = make_loader(ds, 5, seed=2, epoch=epoch, prefetch=3)
            assert isinstance(loader, BatchLoader) and len(loader) == len(ref)
            _same(list(loader), ref)
        # resume mid-epoch: the same tail
        tail = list(make_loader(ds, 5, seed=2, epoch=1, start_batch=2))
        _same(tail, list(make_loader(ds, 5, seed=2, epoch=1, prefetch=0))[2:])
    assert _wait_for(lambda: not _prefetch_threads())


def test_prefetch_thread_stops_on_drop_close_and_error(synth_store: Path) -> None:
    ds = StoreDataset(synth_store, split="train", tasks="ml")
    it = iter(make_loader(ds, 4, prefetch=2))
    assert isinstance(it, PrefetchIterator)
    next(it)
    assert it.alive
    it.close()
    assert not it.alive
    with pytest.raises(StopIteration):
        next(it)
    it2 = iter(make_loader(ds, 4, prefetch=2))
    next(it2)
    del it2  # dropped unfinished: the thread must not outlive it
    assert _wait_for(lambda: not _prefetch_threads())

    # an error while reading batch 3 reaches the consumer at batch 3, then the thread is gone
    class Broken(StoreDataset):
        calls = 0

        def read_field(self, *a: Any, **k: Any) -> np.ndarray:
            Broken.calls += 1
            if Broken.calls == 4:
                raise ValueError("disk on fire")
            return super().read_field(*a, **k)

    bad = Broken(synth_store, split="train", tasks="ml")
    got = []
    with pytest.raises(ValueError, match="disk on fire"):
        for b in make_loader(bad, 4, prefetch=2):
            got.append(b)
    assert len(got) == 3
    assert _wait_for(lambda: not _prefetch_threads())

    # an exception in the consumer's loop body: leaving the loop drops the iterator
    def train_a_bit() -> None:
        for i, _b in enumerate(make_loader(ds, 4, prefetch=2)):
            if i == 1:
                raise RuntimeError("step failed")

    with pytest.raises(RuntimeError):
        train_a_bit()
    assert _wait_for(lambda: not _prefetch_threads())


def test_random_transforms_run_in_the_consumer_thread(synth_store: Path) -> None:
    where: list[str] = []

    def augment(x: torch.Tensor) -> torch.Tensor:  # unmarked: draws from the global RNG
        where.append(threading.current_thread().name)
        return x + torch.rand(())

    ds = StoreDataset(synth_store, split="train", tasks="ml", transforms=augment)
    torch.manual_seed(5)
    ref = [b["inputs"]["ecg"] for b in make_loader(ds, 8, prefetch=0)]
    where.clear()
    torch.manual_seed(5)
    got = [b["inputs"]["ecg"] for b in make_loader(ds, 8, prefetch=2)]
    assert all(torch.equal(a, b) for a, b in zip(ref, got, strict=True))
    assert set(where) == {threading.main_thread().name}


def test_workers_same_batches_as_in_process(synth_store: Path, mf_store: Path) -> None:
    for ds in (StoreDataset(synth_store, split="train", tasks=["ml", "reg"]), _mf(mf_store)):
        ref = list(make_loader(ds, 5, seed=4, epoch=1, prefetch=0))
        # every batch kept alive at once: slots must never be overwritten under the consumer
        kept = list(make_loader(ds, 5, seed=4, epoch=1, num_workers=2, prefetch=1))
        _same(kept, ref)
        tail = list(make_loader(ds, 5, seed=4, epoch=1, start_batch=3, num_workers=2))
        _same(tail, ref[3:])
        other = list(make_loader(ds, 5, seed=4, epoch=2, num_workers=2))  # the next epoch
        _same(other, list(make_loader(ds, 5, seed=4, epoch=2, prefetch=0)))
        # batches dropped as soon as used: the slots freed above are reused, none are added
        del kept, tail, other
        gc.collect()
        it = iter(make_loader(ds, 5, seed=4, epoch=1, num_workers=2, prefetch=1))
        assert isinstance(it, WorkerIterator)
        n_slots = len(it._slots)
        for r, b in zip(ref, it, strict=True):
            _same([b], [r])
            del b
        assert len(it._slots) == n_slots


def test_workers_persist_across_epochs_and_end_with_the_dataset(synth_store: Path) -> None:
    ds = StoreDataset(synth_store, split="train", tasks="ml")
    it = iter(make_loader(ds, 4, num_workers=2, epoch=0))
    next(it)
    procs = list(it._procs)  # type: ignore[attr-defined]
    del it  # an unfinished pass: what is still due is collected, the pool is reused
    it2 = iter(make_loader(ds, 4, num_workers=2, epoch=1))
    assert [p.pid for p in it2._procs] == [p.pid for p in procs]  # type: ignore[attr-defined]
    got = [b["index"] for b in it2]
    assert torch.equal(torch.cat(got).sort().values, torch.arange(len(ds)))
    del it2, ds, got
    assert _wait_for(lambda: not any(p.is_alive() for p in procs))


def test_workers_stop_on_drop_and_report_errors(synth_store: Path) -> None:
    ds = StoreDataset(synth_store, split="train", tasks="ml")
    it = iter(make_loader(ds, 4, num_workers=2, persistent_workers=False))
    next(it)
    procs = list(it._procs)  # type: ignore[attr-defined]
    assert all(p.is_alive() for p in procs)
    del it
    assert _wait_for(lambda: not any(p.is_alive() for p in procs))

    class Broken(StoreDataset):
        def get_batch(self, positions: Any, **kw: Any) -> dict[str, Any]:
            if 7 in set(np.asarray(positions).tolist()):
                raise ValueError("bad record 7")
            return super().get_batch(positions, **kw)

    bad = Broken(synth_store, split="train", tasks="ml")
    it2 = iter(make_loader(bad, 4, num_workers=2, shuffle=False))
    with pytest.raises(ValueError, match="bad record 7"):
        for _ in it2:
            pass
    procs = list(it2._procs)  # type: ignore[attr-defined]
    # the pool survives a reading error (it answered), and goes with its dataset
    again = list(make_loader(bad, 4, num_workers=2, shuffle=False, start_batch=2))
    assert len(again) == len(make_loader(bad, 4)) - 2
    del it2, bad
    assert _wait_for(lambda: not any(p.is_alive() for p in procs))


def test_task_stream_close_stops_prefetch(synth_store: Path) -> None:
    ds = StoreDataset(synth_store, split="train", tasks="ml")
    s = task_stream(ds, 8, seed=1)
    n = len(make_loader(ds, 8))
    seen = [next(s)["index"] for _ in range(n + 2)]  # into the second epoch
    assert s.state_dict() == {"epoch": 1, "batch": 2}
    first = next(iter(make_loader(ds, 8, seed=1, epoch=1, prefetch=0)))
    assert torch.equal(seen[n], first["index"])
    s.close()
    assert _wait_for(lambda: not _prefetch_threads())


def test_to_device_moves_every_tensor(mf_store: Path) -> None:
    b = next(iter(make_loader(_mf(mf_store), 4, prefetch=0)))
    m = to_device(b, "meta")
    flat = _flat(m)
    assert flat and all(t.device.type == "meta" for t in flat.values())
    assert m["inputs"]["ecg"].shape == b["inputs"]["ecg"].shape
    same = to_device(b, "cpu")
    assert same["inputs"]["ecg"] is b["inputs"]["ecg"]  # already there: no copy


def test_torch_backend_still_available(synth_store: Path) -> None:
    from torch.utils.data import DataLoader

    ds = StoreDataset(synth_store, split="train", tasks="ml")
    dl = make_loader(ds, 6, seed=3, backend="torch")
    assert isinstance(dl, DataLoader)
    _same(list(dl), list(make_loader(ds, 6, seed=3, prefetch=0)))
    from climb.core.errors import ClimbError

    with pytest.raises(ClimbError, match="did you mean: torch"):
        make_loader(ds, 6, backend="torhc")
