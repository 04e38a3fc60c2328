"""ECG loader benchmark: random-order batches of 12 x 5000 float32 ECGs from a climb store.

Compares, over the same block-shuffled batch order (one epoch, single process, warm page cache):

- ``store``: climb.data (StoreDataset + ChunkBatchSampler, whole-chunk zarr reads) on a store
  written with the ECG adapters' settings (chunks of 32 records, blosc-zstd level 3 + shuffle);
- ``store-lz4`` / ``store-raw``: the same loader on a blosc-lz4 / an uncompressed store
  (isolates the decode cost of the codec);
- ``npy-mmap``: the same arrays from one uncompressed memory-mapped ``.npy`` (fancy indexing);
- ``per-record .mat``: one Challenge-style ``.mat`` file per sample (``val`` int16, scipy.io),
  as CLIMB's loaders read them (measured on a subset of files, random order).

Full mode also measures memory: with 2 DataLoader workers, the loader's extra memory (PSS of the
main process and its workers, minus the main process before the loader started) over a store
of >= 4 GiB. Data is generated under a temporary directory and removed afterwards.

    python benchmarks/ecg_loader.py --quick          # ~1 min
    python benchmarks/ecg_loader.py                  # full: + memory check on a >= 4 GiB store

The last line of output is one JSON object with every number.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

LEADS, LENGTH, CHUNK = 12, 5000, 32
SAMPLE_BYTES = LEADS * LENGTH * 4


def synth_ecg(rng: np.random.Generator, n: int) -> np.ndarray:
    """ECG-like records: a few harmonics + noise, quantized to 1 µV like WFDB int16 (gain 1000)."""
    t = np.arange(LENGTH, dtype=np.float32) / 500.0
    hr = rng.uniform(0.8, 2.0, (n, 1, 1)).astype(np.float32)
    amp = rng.uniform(0.1, 1.0, (n, LEADS, 1)).astype(np.float32)
    x = amp * (np.sin(2 * np.pi * hr * t) + 0.3 * np.sin(2 * np.pi * 3 * hr * t))
    x += rng.normal(0, 0.03, x.shape).astype(np.float32)
    return (np.round(x * 1000) / 1000).astype(np.float32)


def write_data(root: Path, n: int, n_mat: int, seed: int = 0) -> dict[str, Path]:
    import pandas as pd
    import scipy.io

    from climb.store import FieldSpec, StoreWriter

    rng = np.random.default_rng(seed)
    paths = {
        "store": root / "store",
        "raw": root / "store_raw",
        "lz4": root / "store_lz4",
        "npy": root / "ecg.npy",
        "mat": root / "mat",
    }
    specs = {
        "store": FieldSpec("ecg", "float32", (LEADS, LENGTH), ("lead", "time"), "mV", 500.0, CHUNK),
        "raw": FieldSpec(
            "ecg",
            "float32",
            (LEADS, LENGTH),
            ("lead", "time"),
            "mV",
            500.0,
            CHUNK,
            codec={"name": "none"},
        ),
        "lz4": FieldSpec(
            "ecg",
            "float32",
            (LEADS, LENGTH),
            ("lead", "time"),
            "mV",
            500.0,
            CHUNK,
            codec={"name": "blosc", "cname": "lz4", "clevel": 5, "shuffle": "shuffle"},
        ),
    }
    writers = {
        k: StoreWriter(paths[k], key="bench", fields=[s], num_samples=n) for k, s in specs.items()
    }
    mm = np.lib.format.open_memmap(
        paths["npy"], mode="w+", dtype=np.float32, shape=(n, LEADS, LENGTH)
    )
    paths["mat"].mkdir(parents=True, exist_ok=True)
    step = CHUNK * 16
    for s in range(0, n, step):
        x = synth_ecg(rng, min(step, n - s))
        for w in writers.values():
            w.write("ecg", s, x)
        mm[s : s + len(x)] = x
        for i in range(len(x)):
            if s + i < n_mat:
                scipy.io.savemat(
                    paths["mat"] / f"A{s + i:05d}.mat",
                    {"val": np.round(x[i] * 1000).astype(np.int16)},
                )
    mm.flush()
    del mm
    samples = pd.DataFrame(
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
    tasks = {
        "y": {
            "type": "binary",
            "classes": ["neg", "pos"],
            "label_space": None,
            "column": "label__y",
            "policy": None,
        }
    }
    for w in writers.values():
        w.finalize(
            samples, tasks=tasks, splits={"rule": "bench", "seed": 0, "counts": {"train": n}}
        )
    return paths


def write_big_store(path: Path, n: int, seed: int = 1) -> Path:
    """Only the compressed store (for the memory check), written chunk group by chunk group."""
    import pandas as pd

    from climb.store import FieldSpec, StoreWriter

    rng = np.random.default_rng(seed)
    spec = FieldSpec("ecg", "float32", (LEADS, LENGTH), ("lead", "time"), "mV", 500.0, CHUNK)
    w = StoreWriter(path, key="bench_big", fields=[spec], num_samples=n)
    step = CHUNK * 16
    for s in range(0, n, step):
        w.write("ecg", s, synth_ecg(rng, min(step, n - s)))
    samples = pd.DataFrame(
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
    w.finalize(
        samples,
        tasks={
            "y": {
                "type": "binary",
                "classes": ["neg", "pos"],
                "label_space": None,
                "column": "label__y",
                "policy": None,
            }
        },
        splits={"rule": "bench", "seed": 0, "counts": {"train": n}},
    )
    return path


def _du(p: Path) -> int:
    return (
        sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        if p.is_dir()
        else p.stat().st_size
    )


def _warm(p: Path) -> None:
    files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
    for f in files:
        with f.open("rb") as fh:
            while fh.read(1 << 24):
                pass


def bench_store(path: Path, batches: list[np.ndarray]) -> tuple[float, int]:
    import torch

    from climb.data import StoreDataset

    ds = StoreDataset(path, tasks="y", fields="ecg")
    n = 0
    t = time.perf_counter()
    for b in batches:
        out = ds[b]  # what the DataLoader calls: rows come back in array order
        x: torch.Tensor = out["inputs"]["ecg"]
        n += x.shape[0]
    return n / (time.perf_counter() - t), n


def bench_npy(path: Path, batches: list[np.ndarray]) -> float:
    import torch

    mm = np.load(path, mmap_mode="r")
    n = 0
    t = time.perf_counter()
    for b in batches:
        x = torch.from_numpy(np.ascontiguousarray(mm[np.sort(b)]))
        n += x.shape[0]
    return n / (time.perf_counter() - t)


def bench_mat(path: Path, n_files: int, n_reads: int, seed: int = 0) -> float:
    import scipy.io
    import torch

    order = np.random.default_rng(seed).integers(0, n_files, n_reads)
    t = time.perf_counter()
    for i in order:
        v = scipy.io.loadmat(path / f"A{i:05d}.mat")["val"]
        torch.from_numpy(v.astype(np.float32) / 1000.0)
    return n_reads / (time.perf_counter() - t)


def _pss(pid: int) -> int:
    import psutil

    try:
        m = psutil.Process(pid).memory_full_info()
        return int(getattr(m, "pss", m.uss))
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0


def bench_memory(path: Path, batch_size: int, max_batches: int | None) -> dict[str, Any]:
    import psutil

    from climb.data import StoreDataset, make_loader

    ds = StoreDataset(path, tasks="y", fields="ecg")
    me = psutil.Process()
    base = _pss(me.pid)
    peak, n, i = 0, 0, 0
    t = time.perf_counter()
    for i, b in enumerate(make_loader(ds, batch_size, num_workers=2, seed=1)):
        n += len(b["index"])
        if i % 10 == 0:
            total = _pss(me.pid) + sum(_pss(c.pid) for c in me.children(recursive=True))
            peak = max(peak, total - base)
        if max_batches is not None and i + 1 >= max_batches:
            break
    return {
        "workers": 2,
        "extra_pss_gib": peak / 2**30,
        "samples": n,
        "samples_per_s": n / (time.perf_counter() - t),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small store, no memory check")
    ap.add_argument("--n", type=int, default=2048, help="records for the speed comparison")
    ap.add_argument(
        "--big-n",
        type=int,
        default=24000,
        help="records of the memory-check store (full mode; 24000 = ~4.4 GiB on disk)",
    )
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--tmp", default=None, help="where to generate data (default: system tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the generated data")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from climb.data import ChunkBatchSampler

    n = args.n
    n_mat = min(n, 1024)
    root = Path(tempfile.mkdtemp(prefix="climb-ecg-bench-", dir=args.tmp))
    res: dict[str, Any] = {
        "benchmark": "ecg_loader",
        "mode": "quick" if args.quick else "full",
        "records": n,
        "batch_size": args.batch_size,
        "record_shape": [LEADS, LENGTH],
        "cpus": os.cpu_count(),
    }
    try:
        t = time.perf_counter()
        paths = write_data(root, n, n_mat)
        res["generate_s"] = round(time.perf_counter() - t, 1)
        res["store_bytes"] = _du(paths["store"])
        res["raw_bytes"] = n * SAMPLE_BYTES
        res["store_lz4_bytes"] = _du(paths["lz4"])
        for k in ("store", "raw", "lz4", "npy"):
            _warm(paths[k])
        chunk_ids = np.arange(n) // CHUNK
        batches = ChunkBatchSampler(chunk_ids, args.batch_size, seed=0).batches(0)
        res["store_sps"], _ = bench_store(paths["store"], batches)
        res["store_raw_sps"], _ = bench_store(paths["raw"], batches)
        res["store_lz4_sps"], _ = bench_store(paths["lz4"], batches)
        res["npy_mmap_sps"] = bench_npy(paths["npy"], batches)
        res["mat_sps"] = bench_mat(paths["mat"], n_mat, min(2000, 4 * n_mat))
        res["ratio_vs_npy"] = res["store_sps"] / res["npy_mmap_sps"]
        res["ratio_raw_vs_npy"] = res["store_raw_sps"] / res["npy_mmap_sps"]
        res["speedup_vs_mat"] = res["store_sps"] / res["mat_sps"]
        if not args.quick:
            for k in ("store", "raw", "lz4", "npy", "mat"):  # free the disk first
                shutil.rmtree(paths[k], ignore_errors=True) if paths[k].is_dir() else paths[
                    k
                ].unlink(missing_ok=True)
            t = time.perf_counter()
            big = write_big_store(root / "big", args.big_n)
            res["big_generate_s"] = round(time.perf_counter() - t, 1)
            res["big_records"] = args.big_n
            res["big_store_bytes"] = _du(big)
            res["big_raw_bytes"] = args.big_n * SAMPLE_BYTES
            res["memory"] = bench_memory(big, args.batch_size, None)
        res["goals"] = {
            "ratio_vs_npy>=0.6": res["ratio_vs_npy"] >= 0.6,
            "store_sps>=30000": res["store_sps"] >= 30000,
            "speedup_vs_mat>=8": res["speedup_vs_mat"] >= 8,
        }
        if "memory" in res:
            res["goals"]["extra_mem<1GiB"] = res["memory"]["extra_pss_gib"] < 1.0
            res["goals"]["store>=4GiB"] = res["big_store_bytes"] >= 4 * 2**30
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    rows = [
        ("climb store (blosc-zstd3, chunks 32)", res["store_sps"]),
        ("climb store (blosc-lz4, chunks 32)", res["store_lz4_sps"]),
        ("climb store (uncompressed zarr)", res["store_raw_sps"]),
        ("npy memory-map (same order)", res["npy_mmap_sps"]),
        ("per-record .mat (scipy.io)", res["mat_sps"]),
    ]
    print(
        f"ECG loader: {n} records of 12x5000 float32, batch {args.batch_size}, "
        f"{res['cpus']} CPUs, store {res['store_bytes'] / 2**30:.2f} GiB "
        f"(raw {res['raw_bytes'] / 2**30:.2f} GiB)"
    )
    print(f"{'loader':40s} {'samples/s':>12s} {'MB/s':>10s}")
    for name, sps in rows:
        print(f"{name:40s} {sps:12,.0f} {sps * SAMPLE_BYTES / 1e6:10,.0f}")
    print(
        f"store / npy-mmap: {res['ratio_vs_npy']:.2f}   (uncompressed store: "
        f"{res['ratio_raw_vs_npy']:.2f})   store / per-record .mat: {res['speedup_vs_mat']:.1f}x"
    )
    if "memory" in res:
        m = res["memory"]
        print(
            f"2 workers over a {res['big_store_bytes'] / 2**30:.2f} GiB store "
            f"({res['big_records']} records): extra memory {m['extra_pss_gib']:.2f} GiB (PSS), "
            f"{m['samples_per_s']:,.0f} samples/s"
        )
    for k, v in res["goals"].items():
        print(f"goal {k}: {'met' if v else 'NOT met'}")
    sys.stdout.flush()
    print(json.dumps(res, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
