"""A tiny multi-field store written by climb's store writer: a scaled int16 ECG field, a uint8
image field, a ragged (T, 3) sequence field (sample i holds ``arange(T*3) + 1000*i``), optional
graph fields, and presence columns (``present__img``, ``present__seq``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from climb.core.schema import FieldSpec, RaggedFieldSpec, graph_arrays, graph_fields
from climb.store import StoreWriter

N = 24
C = 3


def write_mf_store(
    path: Path, *, presence: bool = True, graphs: bool = False, bad_presence: bool = False
) -> dict[str, object]:
    rng = np.random.default_rng(0)
    lengths = [int(v) for v in rng.integers(0, 40, N)]
    lengths[3] = 0  # an empty sequence
    lengths[5] = 7
    seqs = [
        (np.arange(t * C, dtype=np.float32).reshape(t, C) + 1000 * i) for i, t in enumerate(lengths)
    ]
    ecg = rng.normal(0, 1, (N, 2, 50)).astype(np.float32)
    img = rng.integers(1, 255, (N, 1, 8, 8), dtype=np.uint8)
    fields: list[object] = [
        FieldSpec("ecg", "float32", (2, 50), ("lead", "time"), "mV", 100.0, 8,
                  {"name": "none", "scale": 1000, "astype": "int16"}),
        FieldSpec("img", "uint8", (1, 8, 8), ("c", "h", "w"), None, None, 8),
        RaggedFieldSpec("seq", "float32", (C,), axes=("time", "channel"), rows_per_chunk=64),
    ]  # fmt: skip
    if graphs:
        fields += graph_fields("g", 2)
    w = StoreWriter(path, key="mf", fields=fields, num_samples=N)  # type: ignore[arg-type]
    w.write("ecg", 0, ecg)
    w.write("img", 0, img)
    w.write_ragged("seq", seqs)
    if graphs:
        gs = [graph_arrays("g", np.ones((3, 2)), np.array([[0, 1], [1, 2]])) for _ in range(N)]
        for f in graph_fields("g", 2):
            w.write_ragged(f.name, [g[f.name] for g in gs])
    has_img = np.ones(N, dtype=bool)
    has_img[[1, 2, 9]] = False
    has_seq = np.ones(N, dtype=bool)
    has_seq[[4]] = False
    cols: dict[str, object] = {
        "sample_id": [f"s{i:03d}" for i in range(N)],
        "patient_id": [f"p{i:03d}" for i in range(N)],
        "split": ["train"] * 16 + ["test"] * 8,
        "index": list(range(N)),
        "source_path": [""] * N,
        "native_labels": ["{}"] * N,
        "label__y": (np.arange(N) % 2).astype(np.int64).tolist(),
    }
    if presence:
        cols["present__img"] = has_img.tolist()
        cols["present__seq"] = has_seq.tolist()
    if bad_presence:
        cols["present__img"] = ["yes"] * N
    tasks = {
        "y": {"type": "binary", "classes": ["a", "b"], "label_space": None,
              "column": "label__y", "policy": None},
    }  # fmt: skip
    w.finalize(pd.DataFrame(cols), tasks=tasks, splits={"rule": "t", "seed": 0, "counts": {}})
    stored_ecg = np.round(ecg * 1000) / 1000
    return {"ecg": stored_ecg.astype(np.float32), "img": img, "seqs": seqs,
            "lengths": np.array(lengths), "has_img": has_img, "has_seq": has_seq}  # fmt: skip
