"""Store writer, reader (local and fsspec URL) and validator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from climb.core.errors import ClimbError
from climb.core.schema import FieldSpec
from climb.store import StoreWriter, open_store
from climb.store.validate import validate

TASKS = {
    "y": {"type": "multilabel", "classes": ["a", "b", "c"], "column": "label__y", "policy": "x"},
    "k": {"type": "multiclass", "classes": ["p", "q", "r"], "column": "label__k", "policy": "x"},
}


def make_store(
    path: Path, n: int = 10, patients: list[str] | None = None, splits: list[str] | None = None
) -> np.ndarray:
    rng = np.random.default_rng(0)
    data = rng.normal(size=(n, 2, 7)).astype("float32")
    w = StoreWriter(
        path,
        key="toy",
        fields=[FieldSpec("x", "float32", (2, 7), ("c", "t"), "mV", 100.0, chunks=4)],
        num_samples=n,
    )
    w.write("x", 0, data[:5])
    w.write("x", 5, data[5:])
    splits = splits or ["train"] * (n - 2) + ["val", "test"]
    df = pd.DataFrame(
        {
            "sample_id": [f"s{i:02d}" for i in range(n)],
            "patient_id": patients or [f"p{i}" for i in range(n)],
            "split": splits,
            "index": range(n),
            "source_path": [f"r/{i}.hea" for i in range(n)],
            "native_labels": [json.dumps({"codes": [i]}) for i in range(n)],
            "label__y": [[1, 0, -1]] * n,
            "label__k": [i % 3 - (i == 0) for i in range(n)],
        }
    )
    counts = {s: splits.count(s) for s in sorted(set(splits))}
    w.finalize(
        df,
        tasks=TASKS,
        splits={"rule": "patient", "seed": 0, "counts": counts, "leakage_check": "passed"},
        fingerprint="f",
        created_by={"options": {}},
        quarantine=[{"record": "bad", "reason": "all samples are NaN", "stage": "read"}],
    )
    return data


def test_roundtrip_and_batched_read(tmp_path: Path) -> None:
    data = make_store(tmp_path / "s")
    s = open_store(tmp_path / "s")
    assert len(s) == 10 and s.meta["format_version"] == 1
    assert s.meta["fields"]["x"]["chunks"] == [4, 2, 7]
    np.testing.assert_array_equal(s.array("x")[:], data)
    idx = [7, 1, 7, 3, 9]
    np.testing.assert_array_equal(s.read("x", idx), data[idx])
    np.testing.assert_array_equal(s.read("x", [2, 3, 4]), data[2:5])
    assert s.read("x", []).shape == (0, 2, 7)
    with pytest.raises(IndexError):
        s.read("x", [10])
    df = s.samples
    assert df["label__y"].iloc[0].tolist() == [1, 0, -1]
    assert str(df["label__k"].dtype) == "int64" and df["label__k"].iloc[0] == -1
    assert s.quarantine() == [{"record": "bad", "reason": "all samples are NaN", "stage": "read"}]
    with pytest.raises(ClimbError, match="no field"):
        s.array("nope")


def test_fsspec_url(tmp_path: Path) -> None:
    import fsspec

    data = make_store(tmp_path / "s")
    fs = fsspec.filesystem("memory")
    fs.put(str(tmp_path / "s"), "/teststore", recursive=True)
    s = open_store("memory://teststore")
    assert s.is_remote and len(s) == 10
    np.testing.assert_array_equal(s.read("x", [9, 0]), data[[9, 0]])
    assert s.samples["sample_id"].tolist()[:2] == ["s00", "s01"]
    assert len(s.quarantine()) == 1


def test_missing_store_is_clear(tmp_path: Path) -> None:
    with pytest.raises(ClimbError, match=r"dataset\.json is missing"):
        open_store(tmp_path)


def test_validate_ok_and_detects_problems(tmp_path: Path) -> None:
    make_store(tmp_path / "s")
    rep = validate(tmp_path / "s")
    assert rep.ok, rep.errors
    # leakage: one patient in train and val
    pats = [f"p{i}" for i in range(10)]
    pats[8] = "p0"
    make_store(tmp_path / "leak", patients=pats)
    rep = validate(tmp_path / "leak")
    assert not rep.ok and any("more than one split" in e for e in rep.errors)
    # tampered array content and manifest mismatch
    shutil.copytree(tmp_path / "s", tmp_path / "t")
    meta = json.loads((tmp_path / "t" / "dataset.json").read_text())
    meta["num_samples"] = 11
    (tmp_path / "t" / "dataset.json").write_text(json.dumps(meta))
    rep = validate(tmp_path / "t")
    assert any("11" in e for e in rep.errors)
    import zarr

    shutil.copytree(tmp_path / "s", tmp_path / "u")
    arr = zarr.open_array(str(tmp_path / "u" / "arrays" / "x.zarr"), mode="r+")
    arr[3] = 0
    rep = validate(tmp_path / "u")
    assert any("content hash" in e for e in rep.errors)


def test_content_hash_versions(tmp_path: Path) -> None:
    """v2 (per-chunk digests, what prepare's workers compute) is written and verified; a store
    hashed with v1 (before 2026-11-29, no content_hash_version) still verifies; a hash that does
    not match its declared version is reported."""
    import hashlib

    import zarr

    from climb.store.writer import (
        HASH_VERSION,
        array_digest,
        combine_block_digests,
        content_hash,
    )

    make_store(tmp_path / "s", n=10)
    meta_path = tmp_path / "s" / "dataset.json"
    meta = json.loads(meta_path.read_text())
    assert meta["content_hash_version"] == HASH_VERSION == 2
    assert validate(tmp_path / "s").ok

    arr = zarr.open_array(str(tmp_path / "s" / "arrays" / "x.zarr"), mode="r")
    data = np.asarray(arr[:])
    blocks = [hashlib.sha256(np.ascontiguousarray(data[i : i + 4])).digest() for i in (0, 4, 8)]
    assert array_digest(arr) == combine_block_digests(data.shape, data.dtype, blocks)
    v1 = hashlib.sha256(json.dumps([list(data.shape), "float32"]).encode())
    v1.update(data.tobytes())
    assert array_digest(arr, version=1) == v1.hexdigest() != array_digest(arr)

    meta["content_hash"] = content_hash(tmp_path / "s", ["x"], version=1)
    del meta["content_hash_version"]
    meta_path.write_text(json.dumps(meta))
    assert validate(tmp_path / "s").ok  # an old store: v1, still verified

    meta["content_hash_version"] = 2
    meta_path.write_text(json.dumps(meta))
    rep = validate(tmp_path / "s")
    assert not rep.ok and any("content hash differs" in e for e in rep.errors)


def test_store_info_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from climb.cli import main

    make_store(tmp_path / "s", n=10)
    main(["store", "info", str(tmp_path / "s")])
    out = capsys.readouterr().out
    assert "samples: 10" in out and "quarantined: 1" in out
    assert "on disk" in out and "blosc zstd" in out  # the FieldSpec default codec
    assert "(2, 7)" in out and "mV" in out
