from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from climb.core.errors import ClimbError
from climb.data import StoreDataset, few_shot_indices
from climb.experiment.config import from_dict
from climb.train.trainer import lr_lambda, train

from .conftest import base_config


def _weights(run: Path, name: str = "last") -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoints" / f"{name}.pt", weights_only=False)["model"]


def test_single_task_learns_and_evaluates(data_root: Path, tmp_path: Path) -> None:
    cfg = from_dict(base_config(data_root, train={"max_steps": 40, "eval_every": 20}))
    run = train(cfg, tmp_path / "run")
    log = pd.read_csv(run / "metrics.csv")
    tr = log[log.kind == "train"]
    assert tr.loss.iloc[-2:].mean() < tr.loss.iloc[:2].mean()
    assert (run / "config.yaml").is_file() and (run / "metrics.jsonl").is_file()
    res = pd.read_parquet(run / "results.parquet")
    auc = res[(res.metric == "auroc") & res.class_name.isna() & (res.split == "test")]
    assert len(auc) == 1 and auc.value.iloc[0] > 0.8
    assert auc.ci_low.iloc[0] <= auc.value.iloc[0] <= auc.ci_high.iloc[0]
    assert {"run_id", "config_hash", "code_version", "n"} <= set(res.columns)
    # a second run into the same directory is refused without --resume
    with pytest.raises(ClimbError, match="--resume"):
        train(cfg, run)


def test_resume_matches_uninterrupted(data_root: Path, tmp_path: Path) -> None:
    over = {
        "train": {"max_steps": 12, "eval_every": 4, "checkpoint_every": 5, "log_every": 2},
        "model": {"head_dropout": 0.2},
    }
    full = train(
        from_dict(base_config(data_root, **over)), tmp_path / "full", evaluate_at_end=False
    )
    part_cfg = base_config(data_root, **over)
    part_cfg["train"]["stop_after"] = 7
    part = train(from_dict(part_cfg), tmp_path / "part", evaluate_at_end=False)
    ck = torch.load(part / "checkpoints" / "last.pt", weights_only=False)
    assert ck["step"] == 7
    part = train(
        from_dict(base_config(data_root, **over)), part, resume=True, evaluate_at_end=False
    )
    assert torch.load(part / "checkpoints" / "last.pt", weights_only=False)["step"] == 12
    a, b = _weights(full), _weights(part)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)
    steps = pd.read_csv(part / "metrics.csv").query("kind == 'train'").step.tolist()
    assert steps == sorted(set(steps)) and steps[-1] == 12
    # a changed config is refused on resume
    bad = base_config(data_root, **over)
    bad["optim"]["lr"] = 1.0
    with pytest.raises(ClimbError, match=r"optim\.lr"):
        train(from_dict(bad), part, resume=True)


def test_multitask_then_few_shot_linear_probe(data_root: Path, tmp_path: Path) -> None:
    mt = base_config(
        data_root,
        data={
            "tasks": [{"dataset": "synth", "task": "ml"}, {"dataset": "synth2", "task": "mc"}],
            "mixture": "round_robin",
        },
        train={"max_steps": 20, "eval_every": 10},
    )
    run = train(from_dict(mt), tmp_path / "mt", evaluate_at_end=False)
    w = _weights(run, "best")
    assert any(k.startswith("heads.synth__ml.") for k in w)
    assert any(k.startswith("heads.synth2__mc.") for k in w)
    assert len({k.split(".")[1] for k in w if k.startswith("encoders.")}) == 1  # one shared encoder
    log = pd.read_csv(run / "metrics.csv")
    assert set(log[log.kind == "train"].task) == {"synth/ml", "synth2/mc"}

    fs = base_config(
        data_root,
        data={"tasks": [{"dataset": "synth2", "task": "bin"}], "few_shot": {"k": 8, "seed": 0}},
        model={"init": str(run), "freeze_encoder": True},
        optim={"lr": 1e-2, "warmup_steps": 0},
        train={"max_steps": 10, "eval_every": 5},
    )
    probe = train(from_dict(fs), tmp_path / "fs")
    rec = json.loads((probe / "few_shot" / "synth2__bin.json").read_text())
    ds = StoreDataset(data_root / "stores" / "synth2", split="train", tasks="bin")
    want = ds.sample_ids[few_shot_indices(ds.labels["bin"], "binary", 8, seed=0)]
    assert rec["sample_ids"] == want.tolist() and rec["n"] == 16
    assert rec["class_counts"] == {"neg": 8, "pos": 8}
    # linear probe: the encoder is the multitask one, untouched
    p = _weights(probe)
    for k, v in w.items():
        if k.startswith("encoders."):
            torch.testing.assert_close(p[k], v)
    res = pd.read_parquet(probe / "results.parquet")
    assert set(res.task) == {"bin"}


def test_lr_schedule() -> None:
    lrs = [lr_lambda(s, 10, 100, 0.1) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert lrs[-1] >= 0.1 and np.all(np.diff(lrs[10:]) <= 1e-12)
