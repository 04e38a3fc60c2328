"""Prepare throughput for ECG vs merely reading the same records with wfdb.rdrecord; 1 vs 2
workers; store size vs raw size; peak RSS for N and 10 x N records.

Usage: python benchmarks/prepare_ecg.py [--quick] [--n N] [--reps R]
Records: generated Challenge-layout records (.hea + .mat, 12 x 5000 at 500 Hz). Last line: one
JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_raw(root: Path, n: int) -> Path:
    from climb.datasets.ecg._synthetic import write_record

    raw = root / "raw" / "cpsc2018" / "records"
    for i in range(n):
        write_record(raw, f"A{i:05d}", ["426783006", "164889003", "59118001"][: 1 + i % 3], seed=i)
    return root / "raw" / "cpsc2018"


def dir_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def time_read(raw: Path) -> float:
    import wfdb

    t = time.perf_counter()
    for h in sorted(raw.rglob("*.hea")):
        wfdb.rdrecord(str(h.with_suffix("")))
    return time.perf_counter() - t


def time_prepare(root: Path, workers: int) -> float:
    from climb.prepare.pipeline import prepare

    shutil.rmtree(root / "stores", ignore_errors=True)
    t = time.perf_counter()
    prepare("cpsc2018", root, workers=workers, splits="patient")
    return time.perf_counter() - t


def peak_rss_mib(root: Path) -> float:
    code = (
        "import resource; from climb.prepare.pipeline import prepare; "
        f"prepare('cpsc2018', {str(root)!r}, workers=1, splits='patient'); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    shutil.rmtree(root / "stores", ignore_errors=True)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--reps", type=int, default=None)
    args = ap.parse_args()
    n = args.n or (200 if args.quick else 1000)
    reps = args.reps or (3 if args.quick else 5)
    tmp = Path(tempfile.mkdtemp(prefix="climb-bench-"))
    try:
        raw = make_raw(tmp / "a", n)
        read_s = [time_read(raw) for _ in range(reps)]
        w1 = [time_prepare(tmp / "a", 1) for _ in range(reps)]
        w2 = [time_prepare(tmp / "a", 2) for _ in range(reps)]
        store_b, raw_b = dir_size(tmp / "a" / "stores" / "cpsc2018"), dir_size(raw)
        make_raw(tmp / "big", 10 * n // 10)  # N records
        rss_n = peak_rss_mib(tmp / "big")
        shutil.rmtree(tmp / "big")
        make_raw(tmp / "big", 10 * n)
        rss_10n = peak_rss_mib(tmp / "big")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    r, p1, p2 = statistics.median(read_s), statistics.median(w1), statistics.median(w2)
    res = {
        "benchmark": "prepare_ecg",
        "n": n,
        "reps": reps,
        "cpus": os.cpu_count(),
        "read_records_per_s": n / r,
        "prepare_1w_records_per_s": n / p1,
        "prepare_2w_records_per_s": n / p2,
        "ratio_1w_vs_read": r / p1,
        "speedup_2w_vs_1w": p1 / p2,
        "raw_bytes": raw_b,
        "store_bytes": store_b,
        "store_vs_raw": store_b / raw_b,
        "peak_rss_mib_n": rss_n,
        "peak_rss_mib_10n": rss_10n,
        "rss_growth": rss_10n / rss_n - 1,
    }
    print(
        f"prepare ECG benchmark: N={n} generated Challenge records (12x5000 @ 500 Hz), median of {reps}"
    )
    print(f"  wfdb.rdrecord only      {res['read_records_per_s']:8.1f} records/s")
    print(
        f"  prepare, 1 worker       {res['prepare_1w_records_per_s']:8.1f} records/s   ratio to read {res['ratio_1w_vs_read']:.2f} (goal >= 0.75)"
    )
    print(
        f"  prepare, 2 workers      {res['prepare_2w_records_per_s']:8.1f} records/s   speed-up {res['speedup_2w_vs_1w']:.2f}x (goal >= 1.6x)"
    )
    print(
        f"  size: raw {raw_b / 1e6:.1f} MB, store {store_b / 1e6:.1f} MB ({res['store_vs_raw']:.2f} x raw)"
    )
    print(
        f"  peak RSS: N={n}: {rss_n:.0f} MiB, 10N={10 * n}: {rss_10n:.0f} MiB (growth {100 * res['rss_growth']:.0f}%, goal < 20%, < 1 GiB)"
    )
    print(json.dumps(res))
    _ = resource


if __name__ == "__main__":
    main()
