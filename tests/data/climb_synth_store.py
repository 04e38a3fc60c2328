"""Small climb stores in the native format (docs/store-format.md), written independently of
climb.store's writer (pyarrow + zarr), so the data layer is also a format cross-check.

The signal is learnable: class c of the multilabel task ``ml`` adds a sinusoid of frequency
``FREQS[c]`` to channel c; the binary task ``bin`` is class 0 of ``ml``; ``mc`` (multiclass) is the
channel holding the strongest sinusoid.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import zarr

FREQS = (3.0, 7.0, 13.0)
ML_CLASSES = ["a", "b", "c"]


def make_store(
    path: Path,
    *,
    key: str = "synth",
    n: int = 240,
    channels: int = 3,
    seq_len: int = 500,
    chunk: int = 16,
    seed: int = 0,
    field: str = "ecg",
    missing: float = 0.05,
    splits: tuple[float, float, float] = (0.6, 0.2, 0.2),
    noise: float = 1.0,
) -> Path:
    rng = np.random.default_rng(seed)
    path = Path(path)
    (path / "arrays").mkdir(parents=True, exist_ok=True)
    t = np.arange(seq_len) / 100.0
    ml = (rng.random((n, 3)) < 0.4).astype(np.int8)
    amp = rng.random((n, 3)) * ml + 0.3
    mc = np.argmax(amp * ml + rng.random((n, 3)) * 0.01, axis=1).astype(np.int64)
    mc[ml.sum(1) == 0] = 0
    x = rng.normal(0, noise, (n, channels, seq_len)).astype(np.float32)
    for c in range(min(3, channels)):
        x[:, c] += (ml[:, c : c + 1] * 1.5 * np.sin(2 * np.pi * FREQS[c] * t)).astype(np.float32)
    arr = zarr.create_array(
        store=str(path / "arrays" / f"{field}.zarr"),
        shape=x.shape,
        chunks=(chunk, channels, seq_len),
        dtype="float32",
    )
    arr[:] = x
    binary = ml[:, 0].astype(np.int64)
    ml_lab = ml.copy()
    miss = rng.random((n, 3)) < missing
    ml_lab[miss] = -1
    binary[rng.random(n) < missing] = -1
    reg = amp[:, 0].astype(np.float64)
    reg[rng.random(n) < missing] = np.nan
    n_pat = max(1, n // 2)
    patients = [f"p{i % n_pat:04d}" for i in range(n)]
    # patient-level split
    u = np.random.default_rng(seed + 1).random(n_pat)
    cut = np.cumsum(splits)
    split_of_pat = np.where(u < cut[0], "train", np.where(u < cut[1], "val", "test"))
    split = [str(split_of_pat[i % n_pat]) for i in range(n)]
    table = pa.table(
        {
            "sample_id": pa.array([f"{key}-{i:05d}" for i in range(n)], pa.string()),
            "patient_id": pa.array(patients, pa.string()),
            "split": pa.array(split, pa.string()),
            "index": pa.array(np.arange(n), pa.int64()),
            "source_path": pa.array([f"rec{i}.mat" for i in range(n)], pa.string()),
            "native_labels": pa.array([json.dumps({"ml": r.tolist()}) for r in ml], pa.string()),
            "label__ml": pa.array([r.tolist() for r in ml_lab], pa.list_(pa.int8())),
            "label__bin": pa.array(binary, pa.int64()),
            "label__mc": pa.array(mc, pa.int64()),
            "label__reg": pa.array(reg, pa.float64()),
        }
    )
    pq.write_table(table, path / "samples.parquet")
    counts = {s: split.count(s) for s in ("train", "val", "test")}
    meta = {
        "format": "climb-store",
        "format_version": 1,
        "key": key,
        "card": {
            "key": key,
            "modalities": [
                {
                    "name": field,
                    "kind": "signal",
                    "shape": [channels, seq_len],
                    "axes": ["lead", "time"],
                }
            ],
        },
        "num_samples": n,
        "fields": {
            field: {
                "dtype": "float32",
                "shape": [channels, seq_len],
                "axes": ["lead", "time"],
                "unit": "mV",
                "sampling_rate_hz": 100.0,
                "chunks": [chunk, channels, seq_len],
                "ragged": False,
            }
        },
        "tasks": {
            "ml": {
                "type": "multilabel",
                "classes": ML_CLASSES,
                "label_space": None,
                "column": "label__ml",
                "policy": None,
            },
            "bin": {
                "type": "binary",
                "classes": ["neg", "pos"],
                "label_space": None,
                "column": "label__bin",
                "policy": None,
            },
            "mc": {
                "type": "multiclass",
                "classes": ML_CLASSES,
                "label_space": None,
                "column": "label__mc",
                "policy": None,
            },
            "reg": {
                "type": "regression",
                "classes": [],
                "label_space": None,
                "column": "label__reg",
                "policy": None,
            },
        },
        "splits": {
            "rule": "synthetic patient-level",
            "seed": seed,
            "counts": counts,
            "leakage_check": "passed",
        },
        "provenance": {},
        "fingerprint": f"synthetic-{seed}",
        "created_by": {"climb": "tests"},
        "stats": {},
    }
    (path / "dataset.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    (path / "quarantine.jsonl").write_text("", encoding="utf-8")
    return path
