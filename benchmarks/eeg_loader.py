"""EEG benchmark: prepare (EDF -> store) and the training loader vs what users do today.

Data: a synthetic TUAB tree (``climb.demo.eeg``: TUH channel labels, 250/256 Hz, ±5000 µV on
16 bits, 1-s data records) in a temporary directory, removed afterwards.

1. **Prepare** (``climb prepare tuab``, default protocol: TCP bipolar montage, 0.1-75 Hz band-pass,
   60 Hz notch, 200 Hz, 10-s windows): EDF recordings per second with 1 and 2 workers, against
   plain EDF reading (pyedflib, every signal of every file, physical values): ``prepare_vs_read``
   = prepare records/s / plain-read records/s (the share of the time the standardisation adds).
2. **Loader**: random-order batches of 16 windows (16 channels x 2000 samples, float32 µV) from
   the store through ``climb.data.StoreDataset`` vs the braindecode ``TUHAbnormal``-style lazy
   path: every EDF opened once with ``mne.io.read_raw_edf(preload=False)`` and kept open, and per
   window ``raw.get_data(picks, start, stop)`` + bipolar montage + ``resample_poly`` to 200 Hz
   (no filtering: kinder to the baseline than the store's protocol). The same windows in the same
   batches; single process, warm page cache, median of ``--repeat`` interleaved rounds of at
   least 1 s each.
   ``store_vs_edf`` = store windows/s / lazy-EDF windows/s (goal >= 20).

    python benchmarks/eeg_loader.py --quick     # about a minute
    python benchmarks/eeg_loader.py             # more recordings, longer

The last line of output is one JSON object with every number (``store_sps``, ``store_vs_edf``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

BATCH = 16


def write_tree(raw: Path, n_files: int, seconds: float) -> list[Path]:
    from climb.demo.eeg import write_tuab_tree

    write_tuab_tree(raw, subjects=n_files, seconds=seconds, broken=False)
    return sorted(raw.rglob("*.edf"))


def plain_read(files: list[Path]) -> float:
    import pyedflib

    t = time.perf_counter()
    for f in files:
        with pyedflib.EdfReader(str(f)) as r:
            for i in range(r.signals_in_file):
                r.readSignal(i)
    return len(files) / (time.perf_counter() - t)


def prepare_rate(root: Path, workers: int, n_files: int) -> tuple[float, int]:
    from climb.prepare.pipeline import prepare

    shutil.rmtree(root / "stores", ignore_errors=True)
    t = time.perf_counter()
    res = prepare("tuab", root, workers=workers)
    dt = time.perf_counter() - t
    return n_files / dt, sum(res.counts.values())


def lazy_edf_epoch(store: Path, raw: Path, batches: list[np.ndarray]) -> Any:
    """braindecode-style lazy windows: open Raw per file once, read each window on demand."""
    import mne
    import pandas as pd
    import torch

    from climb.io.edf import normalize_channel
    from climb.io.montage import apply_montage, montage_electrodes, resample

    df = pd.read_parquet(store / "samples.parquet").sort_values("index")
    src = df["source_path"].to_numpy()
    start_s = df["start_s"].to_numpy()
    raws: dict[str, Any] = {}
    picks: dict[str, list[int]] = {}
    need = montage_electrodes("tcp_bipolar")
    for rel in sorted(set(src)):
        r = mne.io.read_raw_edf(str(raw / rel), preload=False, verbose="error")
        names = [normalize_channel(c) for c in r.ch_names]
        raws[rel], picks[rel] = r, [names.index(e) for e in need]

    def window(i: int) -> np.ndarray:
        r = raws[src[i]]
        fs = float(r.info["sfreq"])
        a = round(start_s[i] * fs)
        x = r.get_data(picks=picks[src[i]], start=a, stop=a + round(10 * fs), units="uV")
        return resample(apply_montage(x, "tcp_bipolar"), fs, 200.0)[:, :2000].astype(np.float32)

    def run() -> int:
        for b in batches:
            x = torch.from_numpy(np.stack([window(int(i)) for i in b]))
            assert x.shape[1:] == (16, 2000)
        return sum(len(b) for b in batches)

    return run


def store_epoch(store: Path, batches: list[np.ndarray]) -> Any:
    import torch

    from climb.data import StoreDataset

    ds = StoreDataset(store, tasks="abnormal", fields="eeg")
    ds[batches[0]]  # open outside the clock

    def run() -> int:
        for b in batches:
            x = ds[b]["inputs"]["eeg"]
            assert x.dtype == torch.float32 and x.shape[1:] == (16, 2000)
        return sum(len(b) for b in batches)

    return run


def interleaved(loaders: dict[str, Any], repeat: int, min_s: float = 1.0) -> dict[str, float]:
    """Median windows/s of each loader over ``repeat`` rounds; a round runs every loader in
    turn, each for at least ``min_s`` seconds (whole epochs)."""
    rates: dict[str, list[float]] = {k: [] for k in loaders}
    for _ in range(repeat):
        for k, fn in loaders.items():
            n, t = 0, time.perf_counter()
            while True:
                n += fn()
                dt = time.perf_counter() - t
                if dt >= min_s:
                    break
            rates[k].append(n / dt)
    return {k: statistics.median(v) for k, v in rates.items()}


def warm_up() -> None:
    """Import and first-call costs (mne, scipy, pyedflib) outside every clock."""
    from climb.io.montage import filter_signals, resample

    x = np.random.default_rng(0).normal(size=(2, 2500))
    resample(filter_signals(x, 250.0, (0.1, 75.0), 60.0), 250.0, 200.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--files", type=int, default=None)
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n_files = args.files or (12 if args.quick else 48)
    seconds = args.seconds or (120.0 if args.quick else 600.0)
    res: dict[str, Any] = {"quick": args.quick, "files": n_files, "seconds_per_file": seconds}
    res["load_avg_before"] = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="climb-eeg-bench-"))
    try:
        raw = tmp / "raw" / "tuab"
        t = time.perf_counter()
        files = write_tree(raw, n_files, seconds)
        res["generate_s"] = round(time.perf_counter() - t, 1)
        res["edf_bytes"] = sum(f.stat().st_size for f in files)
        warm_up()
        plain_read(files)  # warm the page cache
        res["plain_read_rps"] = round(statistics.median(plain_read(files) for _ in range(3)), 2)
        for w in (1, 2):
            rps, n_windows = prepare_rate(tmp, w, n_files)
            res[f"prepare_rps_{w}w"] = round(rps, 2)
        res["windows"] = n_windows
        res["prepare_vs_read"] = round(res["prepare_rps_1w"] / res["plain_read_rps"], 4)
        res["prepare_2w_vs_1w"] = round(res["prepare_rps_2w"] / res["prepare_rps_1w"], 3)
        store = tmp / "stores" / "tuab"
        rng = np.random.default_rng(0)
        order = rng.permutation(n_windows)
        batches = [order[i : i + BATCH] for i in range(0, n_windows, BATCH)]
        sps = interleaved(
            {
                "store": store_epoch(store, batches),
                "edf_lazy": lazy_edf_epoch(store, raw, batches),
            },
            args.repeat,
        )
        res["store_sps"] = round(sps["store"], 1)
        res["edf_lazy_sps"] = round(sps["edf_lazy"], 1)
        res["store_vs_edf"] = round(res["store_sps"] / res["edf_lazy_sps"], 2)
        res["load_avg_after"] = os.getloadavg()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for k, v in res.items():
        print(f"{k}: {v}")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
