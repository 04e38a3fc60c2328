"""Store layout trade-off for 12-lead ECG (12 x 5000): dtype x codec x chunk -> size and read speed.

Usage: python benchmarks/store_layout.py [--quick] [--n N]
Signals: the real PTB-XL fixture records when ../shared/fixtures/ptbxl exists (tiled to N), else
synthetic. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def load_signals(n: int) -> np.ndarray:
    fix = (
        Path(__file__).resolve().parents[1].parent
        / "shared"
        / "fixtures"
        / "ptbxl"
        / "records500"
        / "00000"
    )
    recs = []
    if fix.is_dir():
        import wfdb

        for h in sorted(fix.glob("*_hr.hea"))[:60]:
            recs.append(wfdb.rdrecord(str(h.with_suffix(""))).p_signal.T.astype("float32"))
    if not recs:
        from climb.datasets.ecg._synthetic import synth_signal

        recs = [synth_signal(5000, 500, seed=i).T.astype("float32") for i in range(60)]
    return np.stack([recs[i % len(recs)] for i in range(n)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n", type=int, default=None)
    args = ap.parse_args()
    n = args.n or (256 if args.quick else 1024)
    reps = 3 if args.quick else 5
    import zarr
    from zarr.codecs import BloscCodec

    x = load_signals(n)
    variants = []
    for chunk in (8, 32, 128):
        variants.append(("float32", "zstd3+shuffle", chunk))
    variants += [
        ("float32", "lz4+shuffle", 32),
        ("float32", "zstd3+bitshuffle", 32),
        ("float16", "zstd3+shuffle", 32),
        ("int16 uV", "zstd3+shuffle", 32),
    ]
    rng = np.random.default_rng(0)
    batches = [np.sort(rng.choice(n, 32, replace=False)) for _ in range(20)]
    rows = []
    tmp = Path(tempfile.mkdtemp())
    try:
        for dtype, codec, chunk in variants:
            cname = "lz4" if codec.startswith("lz4") else "zstd"
            shuffle = "bitshuffle" if "bitshuffle" in codec else "shuffle"
            data = {
                "float32": x,
                "float16": x.astype("float16"),
                "int16 uV": np.round(x * 1000).astype("int16"),
            }[dtype]
            err = float(
                np.max(np.abs(data.astype("float64") / (1000 if dtype == "int16 uV" else 1) - x))
            )
            path = tmp / f"{dtype}-{codec}-{chunk}".replace(" ", "_")
            t = time.perf_counter()
            arr = zarr.create_array(
                store=str(path),
                shape=data.shape,
                chunks=(chunk, 12, 5000),
                dtype=data.dtype,
                compressors=[BloscCodec(cname=cname, clevel=3, shuffle=shuffle)],
                overwrite=True,
            )
            arr[:] = data
            write_s = time.perf_counter() - t
            size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
            arr = zarr.open_array(str(path), mode="r")
            rand, seq = [], []
            for _ in range(reps):
                t = time.perf_counter()
                for b in batches:
                    arr.oindex[b]
                rand.append((time.perf_counter() - t) / (len(batches) * 32))
                t = time.perf_counter()
                arr[:]
                seq.append((time.perf_counter() - t) / n)
            rows.append(
                {
                    "dtype": dtype,
                    "codec": codec,
                    "chunk": chunk,
                    "bytes_per_sample": size / n,
                    "ratio": x.nbytes / size,
                    "write_ms_per_sample": 1000 * write_s / n,
                    "random_ms_per_sample": 1000 * statistics.median(rand),
                    "seq_ms_per_sample": 1000 * statistics.median(seq),
                    "max_abs_err_mV": err,
                }
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"store layout, {n} ECGs (12x5000 float32 = 240 kB each); random = batches of 32 random samples"
    )
    print(
        f"{'dtype':9} {'codec':17} {'chunk':>5} {'kB/sample':>9} {'ratio':>6} {'write ms':>8} {'rand ms':>8} {'seq ms':>7} {'max err mV':>10}"
    )
    for r in rows:
        print(
            f"{r['dtype']:9} {r['codec']:17} {r['chunk']:5d} {r['bytes_per_sample'] / 1000:9.1f} {r['ratio']:6.2f} "
            f"{r['write_ms_per_sample']:8.3f} {r['random_ms_per_sample']:8.3f} {r['seq_ms_per_sample']:7.3f} {r['max_abs_err_mV']:10.2g}"
        )
    print(json.dumps({"benchmark": "store_layout", "n": n, "rows": rows}))


if __name__ == "__main__":
    main()
