"""Loader overlap benchmark: does reading the next batch hide behind the model step?

    python benchmarks/loader_overlap.py --quick      # a few minutes on 2 cores
    python benchmarks/loader_overlap.py              # more samples, more repeats, 3 compute sizes

Two settings, each a store written by ``climb.store.StoreWriter`` with the adapters' settings:

- ``ecg``: 12 x 1000 float32 mV stored as int16 µV, uncompressed (``ECG_CODEC``, ``ECG_CHUNK``),
  batches of 64, read straight from the chunk files and divided to float32;
- ``image``: 1 x 224 x 224 uint8, blosc-lz4 (the imaging adapters' codec and chunking), batches
  of 64, ``to_float(1/255)`` as the batch transform.

Per setting, medians of ``--repeats`` rounds (each round runs every variant once, in turn):

- ``t_l``: ms per batch of the loader alone, read in the calling thread (``prefetch=0``);
- ``t_c``: ms per step of a fixed compute: the step reduces the batch and runs a loop of
  256 x 256 float32 matmuls (torch, one thread) sized so that ``t_c ~ t_l`` (``--compute``
  scales it; full mode also runs 0.5 and 2): the case where overlap matters most;
- ``wall``: ms per step of ``for batch in make_loader(...): step(batch)`` with the default
  prefetch thread (``prefetch=2``) and, as the baseline users had, with ``prefetch=0``;
- ``overlap_ratio`` = wall / max(t_c, t_l) (1.0 = the load is completely hidden; reading in
  the calling thread gives about (t_c + t_l) / max);
- ``overlap_ratio_device_wait``: the same with an accelerator-like step (the host thread
  waits ``t_l`` ms without using a CPU, as it does in a CUDA sync): what a GPU run sees; with a
  CPU compute step the loader's thread needs a free core to overlap;
- loader throughput (samples/s, loader alone): in-process, 2 workers (climb's shared-memory
  workers) and 2 workers of ``torch.utils.data.DataLoader`` (``backend="torch"``, what
  ``num_workers=2`` meant before); ``workers2_vs_inprocess`` = 2 workers / in-process, steady
  state (after the first 5 batches; the time to them, with the workers' start, is reported
  apart, and the CPU time per batch of all processes of the pass);
- ECG only: the loader against the same batches from a memory-mapped float32 ``.npy``
  (fancy indexing, the ceiling of a float32 loader), and with ``raw_dtype=True`` (int16 µV
  batches, half the bytes; ``scale_on_device`` turns them into the same float32 values on the
  device).

The last line of output is one JSON object with every number. Data lives in a temporary
directory, removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from climb.datasets.ecg._ecg import ECG_CHUNK, ECG_CODEC

BATCH = 64
IMAGE_CODEC = {"name": "blosc", "cname": "lz4", "clevel": 5, "shuffle": "noshuffle"}


def _samples(n: int) -> Any:
    import pandas as pd

    return pd.DataFrame(
        {
            "sample_id": [f"r{i}" for i in range(n)],
            "patient_id": [f"p{i}" for i in range(n)],
            "split": ["train"] * n,
            "index": np.arange(n),
            "source_path": [""] * n,
            "native_labels": ["{}"] * n,
            "label__y": (np.arange(n) % 2).astype(np.int64),
        }
    )


TASKS = {
    "y": {"type": "binary", "classes": ["a", "b"], "label_space": None,
          "column": "label__y", "policy": None},
}  # fmt: skip


def write_ecg(root: Path, n: int) -> tuple[Path, Path]:
    from climb.core.schema import FieldSpec
    from climb.store import StoreWriter

    spec = FieldSpec(
        "ecg", "float32", (12, 1000), ("lead", "time"), "mV", 100.0, ECG_CHUNK, dict(ECG_CODEC)
    )
    w = StoreWriter(root / "ecg", key="ecg", fields=[spec], num_samples=n)
    npy = root / "ecg.npy"
    mm = np.lib.format.open_memmap(npy, mode="w+", dtype=np.float32, shape=(n, 12, 1000))
    rng = np.random.default_rng(0)
    t = np.arange(1000, dtype=np.float32) / 100.0
    for s in range(0, n, 512):
        k = min(512, n - s)
        hr = rng.uniform(0.8, 2.0, (k, 1, 1)).astype(np.float32)
        x = rng.uniform(0.1, 1.0, (k, 12, 1)).astype(np.float32) * np.sin(2 * np.pi * hr * t)
        x = (np.round((x + rng.normal(0, 0.03, x.shape)) * 1000) / 1000).astype(np.float32)
        w.write("ecg", s, x)
        mm[s : s + k] = x
    mm.flush()
    del mm
    w.finalize(_samples(n), tasks=TASKS, splits={"rule": "b", "seed": 0, "counts": {"train": n}})
    return root / "ecg", npy


def write_images(root: Path, n: int) -> Path:
    from climb.core.schema import FieldSpec
    from climb.store import StoreWriter

    per = 224 * 224
    chunks = int(max(8, min(128, (4 << 20) // per)))  # as climb.datasets._imaging
    spec = FieldSpec("image", "uint8", (1, 224, 224), ("c", "h", "w"), None, None, chunks,
                     dict(IMAGE_CODEC))  # fmt: skip
    w = StoreWriter(root / "img", key="img", fields=[spec], num_samples=n)
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:224, 0:224].astype(np.float32) / 224.0
    for s in range(0, n, 256):
        k = min(256, n - s)
        a = rng.uniform(0.2, 1.0, (k, 1, 1, 1)).astype(np.float32)
        base = 120 + 80 * np.sin(6 * a * xx) * np.cos(4 * a * yy)
        img = np.clip(base + rng.normal(0, 12, (k, 1, 224, 224)), 0, 255).astype(np.uint8)
        w.write("image", s, img)
    w.finalize(_samples(n), tasks=TASKS, splits={"rule": "b", "seed": 0, "counts": {"train": n}})
    return root / "img"


def _warm(p: Path) -> None:
    for f in [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]:
        with f.open("rb") as fh:
            while fh.read(1 << 24):
                pass


# ----------------------------------------------------------------------------- compute


class Compute:
    """A fixed compute step: reduce the batch, then ``iters`` (256 x k) @ (k x k) matmuls + tanh
    (large enough ops that torch spends its time in kernels, which release the GIL)."""

    def __init__(self, iters: int, k: int = 512) -> None:
        g = torch.Generator().manual_seed(0)
        self.w = torch.randn(k, k, generator=g) / k**0.5
        self.a0 = torch.randn(256, k, generator=g)
        self.k = k
        self.iters = max(1, int(iters))

    def __call__(self, batch: dict[str, Any]) -> float:
        x = next(iter(batch["inputs"].values()))
        s = x.float().reshape(x.shape[0], -1)[:, ::97].sum()
        a = self.a0
        for _ in range(self.iters):
            a = torch.tanh(a @ self.w)
        return float(a.sum() + s)


class DeviceWait:
    """An accelerator-like step: the host thread reduces the batch, then waits ``ms`` without
    using a CPU (what a CUDA step looks like from the host: kernels queued, then a sync)."""

    def __init__(self, ms: float) -> None:
        self.ms = float(ms)

    def __call__(self, batch: dict[str, Any]) -> float:
        x = next(iter(batch["inputs"].values()))
        s = float(x.reshape(x.shape[0], -1)[:, ::97].float().sum())
        time.sleep(self.ms / 1e3)
        return s


def calibrate(target_ms: float, batch: dict[str, Any]) -> Compute:
    """A step of about ``target_ms``: the largest k whose matmul fits 4 times in it."""
    best = Compute(1, 128)
    for k in (128, 256, 512, 768, 1024):
        c = Compute(5, k)
        c(batch)
        t = time.perf_counter()
        c(batch)
        per_iter = (time.perf_counter() - t) * 1e3 / c.iters
        if per_iter * 4 > target_ms:
            break
        best = c
    c = Compute(20, best.k)
    c(batch)
    times = []
    for _ in range(5):
        t = time.perf_counter()
        c(batch)
        times.append(time.perf_counter() - t)
    per_iter = statistics.median(times) * 1e3 / c.iters
    return Compute(round(target_ms / max(per_iter, 1e-6)), best.k)


# ----------------------------------------------------------------------------- measuring


def _alive_children_cpu_s() -> float:
    """CPU seconds of this process's live children (persistent workers are not joined, so
    RUSAGE_CHILDREN does not see them): utime + stime from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for task in Path("/proc/self/task").glob("*"):
        try:
            pids = (task / "children").read_text().split()
        except OSError:
            continue
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _cpu_s() -> float:
    import resource

    own = time.process_time()
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + ch.ru_utime + ch.ru_stime + _alive_children_cpu_s()


def loader_ms(make: Callable[[], Any], skip: int = 5) -> tuple[float, float, float]:
    """(ms per batch after the first ``skip`` batches: steady state, ms for the first ``skip``
    batches incl. start-up, CPU ms per batch of the whole pass: this process with its threads +
    its worker processes, once joined)."""
    c0 = _cpu_s()
    t0 = time.perf_counter()
    it = iter(make())
    k = 0
    t1 = t0
    for _b in it:
        k += 1
        if k == skip:
            t1 = time.perf_counter()
    t2 = time.perf_counter()
    del it
    import gc

    gc.collect()
    time.sleep(0.05)  # workers joined: their CPU counts in RUSAGE_CHILDREN
    return (t2 - t1) * 1e3 / max(k - skip, 1), (t1 - t0) * 1e3, (_cpu_s() - c0) * 1e3 / max(k, 1)


def wall_ms(make: Callable[[], Any], step: Callable[[dict[str, Any]], float]) -> float:
    t = time.perf_counter()
    k = 0
    for b in make():
        step(b)
        k += 1
    return (time.perf_counter() - t) * 1e3 / k


def compute_ms(step: Callable[[dict[str, Any]], float], batch: dict[str, Any], n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        step(batch)
    return (time.perf_counter() - t) * 1e3 / n


def npy_ms(npy: Path, batches: list[np.ndarray]) -> float:
    mm = np.load(npy, mmap_mode="r")
    t = time.perf_counter()
    for b in batches:
        torch.from_numpy(mm[np.sort(b)])
    return (time.perf_counter() - t) * 1e3 / len(batches)


def med(xs: list[float]) -> float:
    return round(statistics.median(xs), 3)


def run_setting(
    name: str,
    store: Path,
    *,
    repeats: int,
    compute_scales: list[float],
    transforms: Any = None,
    npy: Path | None = None,
) -> dict[str, Any]:
    from climb.data import StoreDataset, make_loader, scale_on_device

    ds = StoreDataset(store, tasks="y", transforms=transforms)
    raw = StoreDataset(store, tasks="y", raw_dtype=True) if npy is not None else None

    def loader(**kw: Any) -> Callable[[], Any]:
        return lambda: make_loader(ds, BATCH, seed=1, **kw)

    probe = next(iter(make_loader(ds, BATCH, seed=1, prefetch=0)))
    t_l0 = statistics.median(loader_ms(loader(prefetch=0))[0] for _ in range(2))
    steps = {s: calibrate(s * t_l0, probe) for s in compute_scales}
    rec: dict[str, list[float]] = {}

    def add(k: str, v: float) -> None:
        rec.setdefault(k, []).append(v)

    from climb.data.samplers import ChunkBatchSampler

    order = ChunkBatchSampler(ds.chunk_ids, BATCH, seed=1).batches()
    for _r in range(repeats):
        add("load_1min", os.getloadavg()[0])
        ms, _first, cpu = loader_ms(loader(prefetch=0))
        add("t_l_ms", ms)
        add("inprocess_samples_per_s", BATCH * 1e3 / ms)
        add("inprocess_cpu_ms_per_batch", cpu)
        ms, first, cpu = loader_ms(loader(num_workers=2))
        add("workers2_samples_per_s", BATCH * 1e3 / ms)
        add("workers2_start_ms", first)
        add("workers2_cpu_ms_per_batch", cpu)
        ms, first, cpu = loader_ms(loader(num_workers=2, backend="torch"))
        add("torch_workers2_samples_per_s", BATCH * 1e3 / ms)
        add("torch_workers2_start_ms", first)
        add("torch_workers2_cpu_ms_per_batch", cpu)
        for s, step in steps.items():
            tc = compute_ms(step, probe, 10)
            add(f"t_c_ms@{s}", tc)
            add(f"wall_prefetch_ms@{s}", wall_ms(loader(prefetch=2), step))
            add(f"wall_noprefetch_ms@{s}", wall_ms(loader(prefetch=0), step))
        dev = DeviceWait(t_l0)
        tc = compute_ms(dev, probe, 10)
        add("t_wait_ms", tc)
        add("wall_prefetch_wait_ms", wall_ms(loader(prefetch=2), dev))
        add("wall_noprefetch_wait_ms", wall_ms(loader(prefetch=0), dev))
        add("wall_workers2_wait_ms", wall_ms(loader(num_workers=2), dev))
        if npy is not None and raw is not None:
            add("npy_ms", npy_ms(npy, order))
            ms, _, _ = loader_ms(lambda: make_loader(raw, BATCH, seed=1, prefetch=0))
            add("raw_ms", ms)
            b = raw.get_batch(order[0], keep_order=False)
            t = time.perf_counter()
            scale_on_device(b, raw.raw_specs)
            add("raw_scale_cpu_ms", (time.perf_counter() - t) * 1e3)
        print(f"  {name} round {_r + 1}/{repeats} done", file=sys.stderr, flush=True)
    out: dict[str, Any] = {k: med(v) for k, v in rec.items()}
    out["compute_k"] = {str(s): [c.k, c.iters] for s, c in steps.items()}
    out["batch"] = BATCH
    out["batches_per_epoch"] = len(order)
    out["workers2_vs_inprocess"] = round(
        statistics.median(
            w / i
            for w, i in zip(
                rec["workers2_samples_per_s"], rec["inprocess_samples_per_s"], strict=True
            )
        ),
        3,
    )
    out["torch_workers2_vs_inprocess"] = round(
        statistics.median(
            w / i
            for w, i in zip(
                rec["torch_workers2_samples_per_s"], rec["inprocess_samples_per_s"], strict=True
            )
        ),
        3,
    )
    for s in compute_scales:
        ratios, base = [], []
        for tc, tl, wp, wn in zip(rec[f"t_c_ms@{s}"], rec["t_l_ms"], rec[f"wall_prefetch_ms@{s}"],
                                  rec[f"wall_noprefetch_ms@{s}"], strict=True):  # fmt: skip
            ratios.append(wp / max(tc, tl))
            base.append(wn / max(tc, tl))
        out[f"overlap_ratio@{s}"] = round(statistics.median(ratios), 3)
        out[f"noprefetch_ratio@{s}"] = round(statistics.median(base), 3)
    for key, name in (("prefetch", "overlap_ratio_device_wait"),
                      ("noprefetch", "noprefetch_ratio_device_wait"),
                      ("workers2", "workers2_ratio_device_wait")):  # fmt: skip
        out[name] = round(
            statistics.median(
                w / max(t, tl)
                for w, t, tl in zip(
                    rec[f"wall_{key}_wait_ms"], rec["t_wait_ms"], rec["t_l_ms"], strict=True
                )
            ),
            3,
        )
    if npy is not None:
        out["store_vs_npy"] = round(
            statistics.median(n / t for n, t in zip(rec["npy_ms"], rec["t_l_ms"], strict=True)), 3
        )
        out["raw_vs_npy"] = round(
            statistics.median(n / t for n, t in zip(rec["npy_ms"], rec["raw_ms"], strict=True)), 3
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer samples and repeats")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--compute", type=float, default=1.0, help="t_c / t_l of the main case")
    ap.add_argument("--keep", type=str, default=None, help="write the data here and keep it")
    args = ap.parse_args()
    torch.set_num_threads(1)
    quick = args.quick
    repeats = args.repeats or (5 if quick else 7)
    n_ecg, n_img = (4096, 1024) if quick else (16384, 4096)
    scales = [args.compute] if quick else sorted({0.5, args.compute, 2.0})
    load_before = os.getloadavg()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="climb-overlap-"))
    try:
        t = time.perf_counter()
        ecg, npy = write_ecg(tmp, n_ecg)
        img = write_images(tmp, n_img)
        for p in (ecg, npy, img):
            _warm(p)
        print(f"data written in {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
        from climb.data import build_transforms

        res = {
            "ecg": run_setting("ecg", ecg, repeats=repeats, compute_scales=scales, npy=npy),
            "image": run_setting(
                "image",
                img,
                repeats=repeats,
                compute_scales=scales,
                transforms=build_transforms([{"name": "to_float", "scale": 1 / 255}]),
            ),
        }
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    main_s = args.compute
    for k, r in res.items():
        print(
            f"{k:6} t_l {r['t_l_ms']:.2f} ms  t_c {r[f't_c_ms@{main_s}']:.2f} ms  "
            f"wall prefetch {r[f'wall_prefetch_ms@{main_s}']:.2f} ms "
            f"(overlap_ratio {r[f'overlap_ratio@{main_s}']:.3f}; no prefetch "
            f"{r[f'noprefetch_ratio@{main_s}']:.3f})  samples/s in-process "
            f"{r['inprocess_samples_per_s']:.0f}, 2 workers {r['workers2_samples_per_s']:.0f} "
            f"({r['workers2_vs_inprocess']:.2f}x), torch 2 workers "
            f"{r['torch_workers2_samples_per_s']:.0f} ({r['torch_workers2_vs_inprocess']:.2f}x); "
            f"device-like wait step: overlap_ratio {r['overlap_ratio_device_wait']:.3f} "
            f"(no prefetch {r['noprefetch_ratio_device_wait']:.3f}, 2 workers "
            f"{r['workers2_ratio_device_wait']:.3f})",
            flush=True,
        )
    summary = {
        "benchmark": "loader_overlap",
        "quick": quick,
        "repeats": repeats,
        "n": {"ecg": n_ecg, "image": n_img},
        "overlap_ratio": max(r[f"overlap_ratio@{main_s}"] for r in res.values()),
        "workers2_vs_inprocess": min(r["workers2_vs_inprocess"] for r in res.values()),
        "overlap_ratio_device_wait": max(r["overlap_ratio_device_wait"] for r in res.values()),
        "settings": res,
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "load_before": [round(v, 2) for v in load_before],
            "load_after": [round(v, 2) for v in os.getloadavg()],
        },
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
