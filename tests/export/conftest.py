"""Tiny stores for the export tests: an image store (grey 1-channel and 2-view fields, every
task type), a video store and the synthetic signal store of tests/data."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))

CLASSES = ["normal", "benign", "malignant"]
FINDINGS = ["mass", "calcification"]
CARD = {
    "key": "tinyimg",
    "name": "Tiny images",
    "description": "test store",
    "licence": {"id": "CC-BY-NC-ND-4.0", "name": "CC BY-NC-ND 4.0", "url": None},
    "access": "dua",
    "citation": "@misc{tiny, title={Tiny}}",
    "modalities": [{"name": "img", "kind": "image"}, {"name": "views", "kind": "image"}],
}


def make_image_store(
    path: Path, n: int = 24, *, nan_rows: tuple[int, ...] = (), seg: bool = False
) -> dict[str, Any]:
    from climb.core.schema import FieldSpec
    from climb.store import StoreWriter

    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(n, 1, 16, 12), dtype=np.uint8)
    views = rng.random((n, 2, 8, 8)).astype(np.float32)
    for r in nan_rows:
        views[r, 0, 0, 0] = np.nan
    fields = [
        FieldSpec("img", "uint8", (1, 16, 12), axes=("channel", "height", "width"), chunks=8),
        FieldSpec("views", "float32", (2, 8, 8), axes=("view", "height", "width"), chunks=8),
    ]
    w = StoreWriter(path, key="tinyimg", fields=fields, num_samples=n)
    w.write("img", 0, img)
    w.write("views", 0, views)
    mc = rng.integers(0, 3, n)
    mc[3] = -1
    ml = rng.integers(0, 2, (n, 2))
    ml[5, 1] = -1
    reg = rng.random(n) * 10
    reg[7] = np.nan
    splits = ["train"] * (n - 8) + ["val"] * 4 + ["test"] * 4
    df = pd.DataFrame(
        {
            "sample_id": [f"t/{i:03d}" for i in range(n)],
            "patient_id": [f"p{i // 2}" for i in range(n)],
            "split": splits,
            "index": range(n),
            "source_path": [f"raw/{i}.png" for i in range(n)],
            "native_labels": [json.dumps({"c": int(m)}) for m in mc],
            "label__kind": mc,
            "label__bin": (mc == 2).astype(np.int64),
            "label__find": [list(r) for r in ml],
            "label__size": reg,
        }
    )
    tasks = {
        "kind": {"type": "multiclass", "classes": CLASSES, "column": "label__kind"},
        "bin": {"type": "binary", "classes": ["no", "yes"], "column": "label__bin"},
        "find": {"type": "multilabel", "classes": FINDINGS, "column": "label__find"},
        "size": {"type": "regression", "classes": [], "column": "label__size", "unit": "mm"},
    }
    if seg:
        tasks["mask"] = {"type": "segmentation", "classes": ["bg", "fg"], "column": None}
    counts = {s: splits.count(s) for s in ("train", "val", "test")}
    w.finalize(
        df,
        tasks=tasks,
        splits={"rule": "test", "seed": 0, "counts": counts, "leakage_check": "passed"},
        card=CARD,
        fingerprint="f",
    )
    return {"img": img, "views": views, "mc": mc, "ml": ml, "reg": reg, "splits": splits}


def make_video_store(path: Path, n: int = 6) -> np.ndarray:
    from climb.core.schema import FieldSpec
    from climb.store import StoreWriter

    rng = np.random.default_rng(1)
    vid = rng.integers(0, 256, size=(n, 5, 3, 16, 16), dtype=np.uint8)
    spec = FieldSpec(
        "clip", "uint8", (5, 3, 16, 16), axes=("frame", "channel", "height", "width"), chunks=4
    )
    w = StoreWriter(path, key="tinyvid", fields=[spec], num_samples=n)
    w.write("clip", 0, vid)
    splits = ["train"] * (n - 2) + ["test"] * 2
    df = pd.DataFrame(
        {
            "sample_id": [f"v{i}" for i in range(n)],
            "patient_id": [f"p{i}" for i in range(n)],
            "split": splits,
            "index": range(n),
            "source_path": [f"{i}.mp4" for i in range(n)],
            "native_labels": ["{}"] * n,
            "label__covid": np.arange(n) % 2,
        }
    )
    w.finalize(
        df,
        tasks={
            "covid": {
                "type": "binary",
                "classes": ["No COVID", "Has COVID"],
                "column": "label__covid",
            }
        },
        splits={
            "rule": "test",
            "seed": 0,
            "counts": {"train": n - 2, "test": 2},
            "leakage_check": "passed",
        },
        card={
            "key": "tinyvid",
            "licence": {"id": "CC-BY-4.0", "name": "CC BY 4.0"},
            "access": "open",
            "modalities": [{"name": "clip", "kind": "video"}],
        },
        fingerprint="v",
    )
    return vid


@pytest.fixture(scope="session")
def image_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    p = tmp_path_factory.mktemp("stores") / "tinyimg"
    return p, make_image_store(p)


@pytest.fixture(scope="session")
def signal_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from climb_synth_store import make_store

    p = tmp_path_factory.mktemp("stores") / "synth"
    make_store(p, n=16, channels=3, seq_len=200, chunk=8)
    return p


def make_ragged_video_store(path: Path, n: int = 4) -> list[np.ndarray]:
    """A store laid out as the video adapters write it: a ragged (T_i, H, W, C) uint8 ``video``
    field, an ``fps`` column per sample, plus a ragged (n_i, 2) float32 ``events`` field."""
    from climb.core.schema import RaggedFieldSpec
    from climb.store import StoreWriter

    rng = np.random.default_rng(2)
    vids = [rng.integers(0, 256, size=(3 + i, 16, 16, 1), dtype=np.uint8) for i in range(n)]
    events = [rng.random((i + 1, 2)).astype(np.float32) for i in range(n)]
    specs = [
        RaggedFieldSpec(
            "video", "uint8", (16, 16, 1), axes=("frame", "height", "width", "channel")
        ),
        RaggedFieldSpec("events", "float32", (2,), axes=("event", "value")),
    ]
    w = StoreWriter(path, key="raggedvid", fields=specs, num_samples=n)
    w.write_ragged("video", vids)
    w.write_ragged("events", events)
    df = pd.DataFrame(
        {
            "sample_id": [f"r{i}" for i in range(n)],
            "patient_id": [f"p{i}" for i in range(n)],
            "split": ["train"] * n,
            "index": range(n),
            "source_path": [f"{i}.avi" for i in range(n)],
            "native_labels": ["{}"] * n,
            "fps": [5.0 + i for i in range(n)],
            "label__ef": rng.random(n) * 60,
        }
    )
    w.finalize(
        df,
        tasks={"ef": {"type": "regression", "classes": [], "column": "label__ef", "unit": "%"}},
        splits={"rule": "t", "seed": 0, "counts": {"train": n}, "leakage_check": "passed"},
        card={"key": "raggedvid", "licence": {"id": "CC-BY-4.0", "name": "CC BY 4.0"}},
        fingerprint="r",
    )
    return vids
