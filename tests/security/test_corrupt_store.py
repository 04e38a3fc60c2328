"""Corrupt stores read by the data layer: a deleted chunk, flipped bytes, an edited label, a
truncated samples.parquet, a broken zarr.json. Never zeros, never a silent read; a clear error
naming the file. And `climb store validate` exits non-zero on an INVALID store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from climb.cli import main
from climb.core.errors import ClimbError
from climb.core.schema import FieldSpec
from climb.store import StoreWriter, open_store
from climb.store.validate import validate

N = 12
TASKS = {"k": {"type": "multiclass", "classes": ["p", "q", "r"], "column": "label__k"}}


def make_store(path: Path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    data = {
        "raw": rng.normal(size=(N, 3, 5)).astype("float32") + 5,  # never 0
        "packed": rng.normal(size=(N, 4)).astype("float32") + 5,
    }
    w = StoreWriter(
        path,
        key="toy",
        fields=[
            FieldSpec("raw", "float32", (3, 5), chunks=4, codec={"name": "none"}),  # direct
            FieldSpec("packed", "float32", (4,), chunks=4),  # blosc: read through zarr
        ],
        num_samples=N,
    )
    for f, x in data.items():
        w.write(f, 0, x)
    splits = ["train"] * (N - 4) + ["val"] * 2 + ["test"] * 2
    df = pd.DataFrame(
        {
            "sample_id": [f"s{i:02d}" for i in range(N)],
            "patient_id": [f"p{i}" for i in range(N)],
            "split": splits,
            "index": range(N),
            "source_path": [f"r/{i}" for i in range(N)],
            "native_labels": ["{}"] * N,
            "label__k": [i % 3 for i in range(N)],
        }
    )
    w.finalize(
        df,
        tasks=TASKS,
        splits={
            "rule": "patient",
            "seed": 0,
            "counts": {s: splits.count(s) for s in set(splits)},
            "leakage_check": "passed",
        },
        fingerprint="f",
        created_by={"options": {}},
    )
    return data


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    data = make_store(tmp_path / "s")
    return tmp_path / "s", data


def chunk(path: Path, field: str, k: int) -> Path:
    rest = ("0", "0") if field == "raw" else ("0",)  # one 0 per axis after the sample axis
    return path.joinpath("arrays", f"{field}.zarr", "c", str(k), *rest)


def test_intact_store_reads_and_validates(store: tuple[Path, dict[str, np.ndarray]]) -> None:
    path, data = store
    s = open_store(path, verify=True)
    for f, x in data.items():
        np.testing.assert_array_equal(s.read(f, range(N)), x)
    assert s.samples["label__k"].tolist() == [i % 3 for i in range(N)]
    assert (path / "checksums.json").is_file() and s.meta["checksums"]["files"] > 4
    assert validate(path).ok


@pytest.mark.parametrize("field", ["raw", "packed"])
def test_deleted_chunk_is_an_error_on_open(
    store: tuple[Path, dict[str, np.ndarray]], field: str
) -> None:
    path, _ = store
    c = chunk(path, field, 1)
    assert c.is_file()
    c.unlink()
    with pytest.raises(ClimbError) as e:
        open_store(path)
    assert "missing" in e.value.what and e.value.where == str(c)


@pytest.mark.parametrize("field", ["raw", "packed"])
def test_chunk_deleted_after_open_is_never_zeros(
    store: tuple[Path, dict[str, np.ndarray]], field: str
) -> None:
    path, data = store
    s = open_store(path)
    chunk(path, field, 2).unlink()
    np.testing.assert_array_equal(s.read(field, [0, 1]), data[field][[0, 1]])  # chunk 0 fine
    with pytest.raises(ClimbError, match="missing") as e:
        s.read(field, [9])
    assert str(chunk(path, field, 2)) == e.value.where


def test_data_layer_refuses_a_store_with_a_deleted_chunk(
    store: tuple[Path, dict[str, np.ndarray]],
) -> None:
    from climb.data.dataset import StoreDataset

    path, _ = store
    chunk(path, "raw", 0).unlink()
    with pytest.raises(ClimbError, match="missing"):
        ds = StoreDataset(str(path))
        for i in range(len(ds)):
            ds[i]


@pytest.mark.parametrize("field", ["raw", "packed"])
def test_flipped_bytes_are_caught_with_verify(
    store: tuple[Path, dict[str, np.ndarray]], field: str
) -> None:
    path, data = store
    c = chunk(path, field, 1)
    b = bytearray(c.read_bytes())
    b[len(b) // 2] ^= 0x01  # same size: only a digest can tell
    c.write_bytes(bytes(b))
    s = open_store(path, verify=True)
    np.testing.assert_array_equal(s.read(field, [0]), data[field][[0]])  # other chunks read
    with pytest.raises(ClimbError, match="sha256") as e:
        s.read(field, [5])
    assert e.value.where == str(c)
    rep = validate(path)
    assert not rep.ok and any(str(c.relative_to(path)) in x for x in rep.errors)


def test_verify_from_the_environment(
    store: tuple[Path, dict[str, np.ndarray]], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = store
    c = chunk(path, "raw", 0)
    b = bytearray(c.read_bytes())
    b[0] ^= 0x40
    c.write_bytes(bytes(b))
    assert open_store(path).read("raw", [0]).shape == (1, 3, 5)  # not verified by default
    monkeypatch.setenv("CLIMB_VERIFY_STORE", "1")
    with pytest.raises(ClimbError, match="sha256"):
        open_store(path).read("raw", [0])


def test_edited_label_is_caught(store: tuple[Path, dict[str, np.ndarray]]) -> None:
    path, _ = store
    df = pd.read_parquet(path / "samples.parquet")
    df.loc[3, "label__k"] = 2 - int(df.loc[3, "label__k"])
    df.to_parquet(path / "samples.parquet", index=False)
    with pytest.raises(ClimbError, match=r"samples\.parquet") as e:
        open_store(path, verify=True).samples  # noqa: B018
    assert e.value.where == str(path / "samples.parquet")
    assert not validate(path).ok


def test_truncated_samples_parquet_is_a_clear_error(
    store: tuple[Path, dict[str, np.ndarray]],
) -> None:
    path, _ = store
    p = path / "samples.parquet"
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(ClimbError, match=r"samples\.parquet"):
        open_store(path)
    (path / "checksums.json").unlink()  # an old store without a manifest: caught when read
    meta = json.loads((path / "dataset.json").read_text())
    del meta["checksums"]
    (path / "dataset.json").write_text(json.dumps(meta))
    s = open_store(path)
    with pytest.raises(ClimbError, match="truncated or damaged"):
        s.samples  # noqa: B018


@pytest.mark.parametrize("manifest", [True, False])
def test_broken_zarr_json_is_a_clear_error(
    store: tuple[Path, dict[str, np.ndarray]], manifest: bool
) -> None:
    path, _ = store
    if not manifest:
        (path / "checksums.json").unlink()
        meta = json.loads((path / "dataset.json").read_text())
        del meta["checksums"]
        (path / "dataset.json").write_text(json.dumps(meta))
    zj = path / "arrays" / "packed.zarr" / "zarr.json"
    zj.write_text(zj.read_text()[:40])
    with pytest.raises(ClimbError, match=r"zarr\.json") as e:
        open_store(path).read("packed", [0])
    assert "zarr.json" in (e.value.where or "")


def test_broken_dataset_json_is_a_clear_error(store: tuple[Path, dict[str, np.ndarray]]) -> None:
    path, _ = store
    (path / "dataset.json").write_text('{"format": "climb-store", ')
    with pytest.raises(ClimbError, match=r"dataset\.json is damaged"):
        open_store(path)


def test_edited_checksums_manifest_is_caught(store: tuple[Path, dict[str, np.ndarray]]) -> None:
    path, _ = store
    m = json.loads((path / "checksums.json").read_text())
    m["files"].pop(next(iter(m["files"])))
    (path / "checksums.json").write_text(json.dumps(m))
    with pytest.raises(ClimbError, match=r"differs from the one dataset\.json records"):
        open_store(path)


def test_store_validate_exit_code(
    store: tuple[Path, dict[str, np.ndarray]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = store

    def run(*argv: str) -> int:
        try:
            main(list(argv))
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    assert run("store", "validate", str(path)) == 0
    bad = path.parent / "bad"
    shutil.copytree(path, bad)
    chunk(bad, "raw", 1).unlink()
    assert run("store", "validate", str(bad)) == 1
    out = capsys.readouterr()
    assert "INVALID" in out.out + out.err
