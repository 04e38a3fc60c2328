"""results.parquet: append atomically, read back, schema errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from climb.core.errors import ClimbError
from climb.evaluate import (
    RESULT_COLUMNS,
    append_results,
    compute_metrics,
    metric_rows,
    read_results,
)


def _rows(run: str, k: int = 2) -> list[dict[str, object]]:
    return [
        {
            "run_id": run,
            "dataset": "ptbxl",
            "task": "ecg7",
            "split": "test",
            "metric": "auroc",
            "class_name": None if i == 0 else f"c{i}",
            "value": 0.5 + i / 10,
            "ci_low": 0.4,
            "ci_high": 0.9,
            "n": 100,
            "config_hash": "abc",
            "code_version": "0.1.0",
        }
        for i in range(k)
    ]


def test_append_and_read(tmp_path: Path) -> None:
    path = tmp_path / "run1" / "results.parquet"
    assert append_results(path, _rows("r1")) == path
    append_results(path, _rows("r1", 3))
    df = read_results(path)
    assert list(df.columns) == RESULT_COLUMNS
    assert len(df) == 5
    assert df["class_name"].isna().sum() == 2
    assert df["value"].dtype == np.float64 and df["n"].dtype == np.int64
    assert df["created_at"].str.endswith("+00:00").all()
    assert not list(path.parent.glob("*.tmp"))  # no temporary file left behind


def test_read_folder_recursively_and_folder_target(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    append_results(tmp_path / "a", _rows("a"))  # a folder -> <folder>/results.parquet
    append_results(tmp_path / "b" / "results.parquet", _rows("b", 1))
    df = read_results(tmp_path)
    assert sorted(df["run_id"].unique()) == ["a", "b"]
    assert len(read_results([tmp_path / "a" / "results.parquet"])) == 2
    assert read_results(tmp_path / "a" / "results.parquet").iloc[0]["note"] == ""


def test_metric_rows_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 100)
    res = compute_metrics("binary", y, rng.random(100), classes=["n", "p"], n_boot=20)
    rows = metric_rows(res, run_id="r", dataset="d", task="t", split="test")
    append_results(tmp_path / "results.parquet", rows)
    df = read_results(tmp_path / "results.parquet")
    assert len(df) == len(res)
    assert df.loc[df.metric == "auroc", "value"].item() == pytest.approx(
        next(r.value for r in res if r.metric == "auroc")
    )


def test_bad_rows_and_paths(tmp_path: Path) -> None:
    with pytest.raises(ClimbError, match="unknown column"):
        append_results(tmp_path / "r.parquet", [{**_rows("r")[0], "auc": 1.0}])
    with pytest.raises(ClimbError, match="lacks required"):
        append_results(tmp_path / "r.parquet", [{"run_id": "r", "value": 1.0}])
    assert not (tmp_path / "r.parquet").exists()
    with pytest.raises(ClimbError, match="not found"):
        read_results(tmp_path / "nothing")
    bad = tmp_path / "bad" / "results.parquet"
    bad.parent.mkdir()
    bad.write_bytes(b"garbage")
    with pytest.raises(ClimbError, match="cannot be read"):
        append_results(bad, _rows("r"))
    assert read_results([]).columns.tolist() == RESULT_COLUMNS
