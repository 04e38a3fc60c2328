from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from climb.cli import app

from .conftest import base_config, write_config


def test_cli_train_evaluate(data_root: Path, tmp_path: Path) -> None:
    cfg = base_config(Path("/nonexistent"), train={"max_steps": 6, "eval_every": 3})
    p = write_config(tmp_path / "c.yaml", cfg)
    run = tmp_path / "run"
    r = CliRunner().invoke(
        app,
        [
            "train",
            str(p),
            "--out",
            str(run),
            "--set",
            f"data.root={data_root}",
            "--set",
            "train.log_every=2",
        ],
    )
    assert r.exit_code == 0, r.output
    assert (run / "results.parquet").is_file()
    r = CliRunner().invoke(app, ["evaluate", str(run), "--split", "val", "--n-boot", "10"])
    assert r.exit_code == 0, r.output
    assert "auroc" in r.output
    res = pd.read_parquet(run / "results.parquet")
    assert set(res.split) == {"test", "val"}


def test_cli_bad_config_message(tmp_path: Path) -> None:
    cfg = base_config(tmp_path)
    cfg["optim"]["lr_rate"] = 1
    p = write_config(tmp_path / "c.yaml", cfg)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    r = subprocess.run(
        [sys.executable, "-c", "from climb.cli import main; main()", "train", str(p)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 2
    assert "unknown key 'optim.lr_rate'" in r.stderr and "did you mean 'lr'" in r.stderr


def test_ddp_two_processes_gloo(data_root: Path, tmp_path: Path) -> None:
    cfg = base_config(
        data_root,
        train={"max_steps": 6, "eval_every": 3, "checkpoint_every": 3},
        data={"sampling": "block"},
    )
    p = write_config(tmp_path / "c.yaml", cfg)
    run = tmp_path / "ddp"
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(Path(__file__).parents[2] / "src"),
    }
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(port),
            "-m",
            "climb",
            "train",
            str(p),
            "--out",
            str(run),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    import json

    import torch

    info = json.loads((run / "run.json").read_text())
    assert info["world_size"] == 2
    ck = torch.load(run / "checkpoints" / "last.pt", weights_only=False)
    assert ck["step"] == 6 and len(ck["rng"]) == 2
    assert (run / "results.parquet").is_file()


def test_cli_train_verify_catches_flipped_bytes(
    data_root: Path, tmp_path: Path, monkeypatch
) -> None:
    """`climb train --verify` hashes each store file when first read: a same-size bit flip in a
    chunk (invisible to the cheap checks on opening) is an error naming the file, exit 1."""
    import json
    import shutil

    from climb.store.integrity import write_checksums

    monkeypatch.delenv("CLIMB_VERIFY_STORE", raising=False)
    root = tmp_path / "root"
    shutil.copytree(data_root / "stores" / "synth", root / "stores" / "synth")
    store = root / "stores" / "synth"
    meta = json.loads((store / "dataset.json").read_text())
    meta["checksums"] = write_checksums(store)
    (store / "dataset.json").write_text(json.dumps(meta))
    chunks = sorted(
        p for p in (store / "arrays").rglob("*") if p.is_file() and "/c/" in p.as_posix()
    )
    victim = chunks[0]
    b = bytearray(victim.read_bytes())
    b[len(b) // 2] ^= 0x10
    victim.write_bytes(bytes(b))
    cfg = base_config(root, train={"max_steps": 2, "eval_every": 2, "log_every": 1})
    p = write_config(tmp_path / "c.yaml", cfg)
    r = CliRunner().invoke(app, ["train", str(p), "--out", str(tmp_path / "ok"), "--no-eval"])
    assert r.exit_code == 0, r.output  # the cheap checks pass: same size
    assert os.environ.get("CLIMB_VERIFY_STORE") is None
    r = CliRunner().invoke(
        app, ["train", str(p), "--out", str(tmp_path / "bad"), "--no-eval", "--verify"]
    )
    assert os.environ.get("CLIMB_VERIFY_STORE") is None  # put back after the command
    assert r.exit_code != 0
    assert isinstance(r.exception, Exception) and "sha256" in str(r.exception)
    assert victim.name in str(r.exception) or victim.name in str(getattr(r.exception, "where", ""))
