"""ECG loader benchmark: random-order batches of 12 x 5000 float32 ECGs from a climb store.

Compares, over the same block-shuffled batch order (single process, warm page cache; median of
``--repeat`` rounds, each round running every loader once in turn):

- ``store``: climb.data (StoreDataset + ChunkBatchSampler) on a store written with the ECG
  adapters' settings (``climb.datasets.ecg._ecg``: chunks of 32 records, ``ECG_CODEC`` = int16
  µV, uncompressed, read straight from the chunk files by ``climb.store.reader.ChunkRows``);
- ``store-zarr``: the same store read through zarr (``CLIMB_DIRECT_READ=0``);
- ``store-f32``: float32, uncompressed (direct reads);
- ``store-zstd`` / ``store-lz4``: float32 with blosc-zstd 3 (the ECG default before) / blosc-lz4,
  and int16 µV with blosc-lz4 (decoded by zarr; isolates the decode cost of a codec);
- ``npy-mmap``: the same arrays from one uncompressed memory-mapped ``.npy`` (fancy indexing);
- ``per-record .mat``: one Challenge-style ``.mat`` file per sample (``val`` int16, gain 1000),
  ``scipy.io.loadmat`` + conversion to float32 mV, as CLIMB's loaders read them (a subset of
  files, random order).

Full mode also measures memory: with 2 DataLoader workers, the loader's extra memory (PSS of the
main process and its workers, minus the main process before the loader started) over a store
(ECG default settings) of >= 4 GiB. Data is generated under a temporary directory and removed
afterwards.

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

from climb.datasets.ecg._ecg import ECG_CHUNK, ECG_CODEC

LEADS, LENGTH, CHUNK = 12, 5000, ECG_CHUNK
SAMPLE_BYTES = LEADS * LENGTH * 4
CODECS: dict[str, dict[str, Any]] = {
    "default": dict(ECG_CODEC),
    "f32": {"name": "none"},
    "zstd": {"name": "blosc", "cname": "zstd", "clevel": 3, "shuffle": "shuffle"},
    "lz4": {"name": "blosc", "cname": "lz4", "clevel": 5, "shuffle": "shuffle"},
    "i16lz4": {**ECG_CODEC, "name": "blosc", "cname": "lz4", "clevel": 5, "shuffle": "shuffle"},
}


def _spec(codec: dict[str, Any]) -> Any:
    from climb.core.schema import FieldSpec

    return FieldSpec(
        "ecg", "float32", (LEADS, LENGTH), ("lead", "time"), "mV", 500.0, CHUNK, dict(codec)
    )


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

    from climb.store import StoreWriter

    rng = np.random.default_rng(seed)
    paths = {k: root / f"store_{k}" for k in CODECS}
    paths["npy"] = root / "ecg.npy"
    paths["mat"] = root / "mat"
    specs = {k: _spec(c) for k, c in CODECS.items()}
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
    """Only the default store (for the memory check), written chunk group by chunk group."""
    import pandas as pd

    from climb.store import StoreWriter

    rng = np.random.default_rng(seed)
    w = StoreWriter(path, key="bench_big", fields=[_spec(ECG_CODEC)], num_samples=n)
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


def store_epoch(path: Path, batches: list[np.ndarray], direct: bool = True) -> Any:
    """One epoch of ``StoreDataset[batch]`` (what the DataLoader calls: rows in array order)."""
    import torch

    from climb.data import StoreDataset

    os.environ["CLIMB_DIRECT_READ"] = "1" if direct else "0"
    try:
        ds = StoreDataset(path, tasks="y", fields="ecg")
        ds[batches[0]]  # open the store (and pick the read path) outside the clock
    finally:
        os.environ.pop("CLIMB_DIRECT_READ", None)

    def run() -> int:
        for b in batches:
            assert ds[b]["inputs"]["ecg"].dtype == torch.float32
        return sum(len(b) for b in batches)

    return run


def npy_epoch(path: Path, batches: list[np.ndarray]) -> Any:
    import torch

    mm = np.load(path, mmap_mode="r")

    def run() -> int:
        for b in batches:
            torch.from_numpy(np.ascontiguousarray(mm[np.sort(b)]))
        return sum(len(b) for b in batches)

    return run


def mat_epoch(path: Path, n_files: int, n_reads: int, seed: int = 0) -> Any:
    """One ``.mat`` per sample: ``scipy.io.loadmat`` + int16 -> float32 mV (gain 1000)."""
    import scipy.io
    import torch

    order = np.random.default_rng(seed).integers(0, n_files, n_reads)

    def run() -> int:
        for i in order:
            v = scipy.io.loadmat(path / f"A{i:05d}.mat")["val"]
            torch.from_numpy(v.astype(np.float32) / np.float32(1000.0))
        return n_reads

    return run


def interleaved(loaders: dict[str, Any], repeat: int, slow: tuple[str, ...]) -> dict[str, float]:
    """samples/s of each loader: the median of ``repeat`` rounds, each round running every
    loader once in turn (so load from other jobs hits all loaders alike); loaders in ``slow``
    run every other round only."""
    times: dict[str, list[float]] = {k: [] for k in loaders}
    counts: dict[str, int] = {}
    for i in range(repeat):
        for k, run in loaders.items():
            if k in slow and i % 2:
                continue
            t = time.perf_counter()
            counts[k] = run()
            times[k].append(time.perf_counter() - t)
    return {k: counts[k] / float(np.median(v)) for k, v in times.items()}


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
        default=36000,
        help="records of the memory-check store (full mode; 36000 = ~4.02 GiB on disk)",
    )
    ap.add_argument("--repeat", type=int, default=7, help="rounds of epochs (median)")
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
        for k in CODECS:
            res[f"store_{k}_bytes"] = _du(paths[k])
        res["store_bytes"] = res["store_default_bytes"]
        res["raw_bytes"] = n * SAMPLE_BYTES
        res["bytes_per_record"] = {k: res[f"store_{k}_bytes"] / n for k in CODECS}
        for k in (*CODECS, "npy", "mat"):
            _warm(paths[k])
        chunk_ids = np.arange(n) // CHUNK
        batches = ChunkBatchSampler(chunk_ids, args.batch_size, seed=0).batches(0)
        loaders = {
            "store": store_epoch(paths["default"], batches),
            "npy_mmap": npy_epoch(paths["npy"], batches),
            "mat": mat_epoch(paths["mat"], n_mat, min(1000, 4 * n_mat)),
            "store_zarr": store_epoch(paths["default"], batches, direct=False),
            "store_f32": store_epoch(paths["f32"], batches),
            "store_zstd": store_epoch(paths["zstd"], batches),
            "store_lz4": store_epoch(paths["lz4"], batches),
            "store_i16lz4": store_epoch(paths["i16lz4"], batches),
        }
        res["load_avg_before"] = os.getloadavg()
        sps = interleaved(
            loaders, args.repeat, slow=("store_zarr", "store_zstd", "store_lz4", "store_i16lz4")
        )
        res.update({f"{k}_sps": v for k, v in sps.items()})
        res["ratio_vs_npy"] = res["store_sps"] / res["npy_mmap_sps"]
        res["ratio_f32_vs_npy"] = res["store_f32_sps"] / res["npy_mmap_sps"]
        res["speedup_vs_mat"] = res["store_sps"] / res["mat_sps"]
        res["load_avg"] = os.getloadavg()
        if not args.quick:
            for k in (*CODECS, "npy", "mat"):  # free the disk first
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
        ("climb store, int16 uV raw (ECG default)", res["store_sps"], "default"),
        ("  same store read through zarr", res["store_zarr_sps"], "default"),
        ("climb store, float32 raw", res["store_f32_sps"], "f32"),
        ("climb store, blosc-zstd3 (old default)", res["store_zstd_sps"], "zstd"),
        ("climb store, blosc-lz4", res["store_lz4_sps"], "lz4"),
        ("climb store, int16 uV + blosc-lz4", res["store_i16lz4_sps"], "i16lz4"),
        ("npy memory-map (same order)", res["npy_mmap_sps"], None),
        ("per-record .mat (scipy.io)", res["mat_sps"], None),
    ]
    print(
        f"ECG loader: {n} records of 12x5000 float32, batch {args.batch_size}, "
        f"{res['cpus']} CPUs, load {res['load_avg_before'][0]:.2f}-{res['load_avg'][0]:.2f}, "
        f"default store {res['store_bytes'] / 2**30:.2f} GiB "
        f"(float32 raw {res['raw_bytes'] / 2**30:.2f} GiB)"
    )
    print(f"{'loader':42s} {'samples/s':>10s} {'MB/s':>8s} {'KB/record':>10s}")
    for name, sps, k in rows:
        kb = f"{res['bytes_per_record'][k] / 1e3:10,.0f}" if k else f"{'':10s}"
        print(f"{name:42s} {sps:10,.0f} {sps * SAMPLE_BYTES / 1e6:8,.0f} {kb}")
    print(
        f"store / npy-mmap: {res['ratio_vs_npy']:.2f}   float32 store: "
        f"{res['ratio_f32_vs_npy']:.2f}   "
        f"store / per-record .mat: {res['speedup_vs_mat']:.1f}x"
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
