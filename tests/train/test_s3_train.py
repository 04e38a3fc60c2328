"""Training from a store on object storage (a real S3 protocol server on loopback: moto in
server mode): the same run as from the local copy, under torchrun with 2 gloo processes
(resume included), and a clear error where a local path is needed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch

from climb.core.errors import ClimbError
from climb.experiment.config import from_dict
from climb.train.trainer import train
from tests.store.s3server import SECRET, moto_s3

from .conftest import base_config, write_config

SRC = str(Path(__file__).parents[2] / "src")


@pytest.fixture(scope="module")
def s3_root(data_root: Path) -> Iterator[dict[str, Any]]:
    import s3fs

    with moto_s3() as info:
        url = f"s3://{info['bucket']}/climb"
        fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": info["endpoint"]})
        fs.put(str(data_root / "stores" / "synth"), f"{url}/stores/synth", recursive=True)
        yield {**info, "url": url}


def _results(run: Path) -> pd.DataFrame:
    res = pd.read_parquet(run / "results.parquet")
    res = res[res.class_name.isna()].sort_values(["split", "metric"])
    return res[["split", "metric", "value", "ci_low", "ci_high", "n"]].reset_index(drop=True)


def test_train_from_s3_equals_local(
    s3_root: dict[str, Any], data_root: Path, tmp_path: Path
) -> None:
    over = {"train": {"max_steps": 8, "eval_every": 4, "checkpoint_every": 4}}
    here = train(from_dict(base_config(data_root, **over)), tmp_path / "local")
    cfg = base_config(data_root, **over)
    cfg["data"]["root"] = s3_root["url"]
    run = train(from_dict(cfg), tmp_path / "s3")
    a = torch.load(here / "checkpoints" / "last.pt", weights_only=True)["model"]
    b = torch.load(run / "checkpoints" / "last.pt", weights_only=True)["model"]
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    pd.testing.assert_frame_equal(_results(here), _results(run))
    info = json.loads((run / "run.json").read_text())
    assert info["tasks"]["synth/ml"]["store"] == f"{s3_root['url']}/stores/synth"
    # climb evaluate reads the s3 store again from the saved config
    from climb.evaluate.run import evaluate_run

    evaluate_run(run, splits=["val"], print_table=False)
    assert "val" in set(pd.read_parquet(run / "results.parquet").split)


def test_s3_root_needs_a_local_run_directory(
    s3_root: dict[str, Any], data_root: Path, tmp_path: Path
) -> None:
    cfg = base_config(data_root)
    cfg["data"]["root"] = s3_root["url"]
    with pytest.raises(ClimbError, match="object storage") as e:
        train(from_dict(cfg), None)
    assert "--out" in (e.value.fix or "")
    cfg["data"]["tasks"] = [{"dataset": "nothere", "task": "ml"}]
    with pytest.raises(ClimbError) as e2:
        train(from_dict(cfg), tmp_path / "run")
    assert "nothere" in str(e2.value) and SECRET not in str(e2.value)
    assert not (tmp_path / "run" / "checkpoints" / "last.pt").exists()


def _torchrun(config: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1", "--nproc_per_node",
         "2", "--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{port}",
         "-m", "climb", "train", str(config), "--out", str(out), *extra],
        capture_output=True, text=True, env=env, timeout=180,
    )  # fmt: skip


def test_torchrun_two_processes_from_s3_with_resume(
    s3_root: dict[str, Any], data_root: Path, tmp_path: Path
) -> None:
    """2 gloo processes (c10d rendezvous, as on two nodes) read the same s3:// store; a run
    stopped at step 3 and resumed ends with the weights of the uninterrupted run."""
    over = {
        "train": {"max_steps": 6, "eval_every": 3, "checkpoint_every": 3},
        "data": {"sampling": "block"},
    }
    cfg = base_config(tmp_path / "no-local-stores", **over)
    full_cfg = write_config(tmp_path / "full.yaml", cfg)
    root = ("--root", s3_root["url"])
    r = _torchrun(full_cfg, tmp_path / "full", "--no-eval", *root)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert SECRET not in r.stdout + r.stderr
    info = json.loads((tmp_path / "full" / "run.json").read_text())
    assert info["world_size"] == 2
    cfg["train"]["stop_after"] = 3
    part_cfg = write_config(tmp_path / "part.yaml", cfg)
    r = _torchrun(part_cfg, tmp_path / "part", "--no-eval", *root)
    assert r.returncode == 0, r.stderr[-3000:]
    assert torch.load(tmp_path / "part" / "checkpoints" / "last.pt", weights_only=True)["step"] == 3
    r = _torchrun(full_cfg, tmp_path / "part", "--resume", *root)
    assert r.returncode == 0, r.stderr[-3000:]
    a = torch.load(tmp_path / "full" / "checkpoints" / "last.pt", weights_only=True)
    b = torch.load(tmp_path / "part" / "checkpoints" / "last.pt", weights_only=True)
    assert a["step"] == b["step"] == 6 and len(b["rng"]) == 2
    for k in a["model"]:
        torch.testing.assert_close(a["model"][k], b["model"][k], rtol=1e-5, atol=1e-6)
    assert (tmp_path / "part" / "results.parquet").is_file()
    # climb evaluate --root: the same run read from the local copy of the store
    from typer.testing import CliRunner

    from climb.cli import app

    res = CliRunner().invoke(
        app, ["evaluate", str(tmp_path / "part"), "--split", "test", "--root", str(data_root)]
    )
    assert res.exit_code == 0, res.output
    rows = pd.read_parquet(tmp_path / "part" / "results.parquet")
    rows = rows[rows.class_name.isna() & (rows.metric == "auroc")]
    assert len(rows) == 2 and rows.value.nunique() == 1  # s3 and local: the same number
