"""`climb train` on graph stores through the one trainer: k-fold graph classification,
node-level multilabel (PPI-style), multitask across brain-network stores of different ROI
counts, resume and `climb evaluate` of a k-fold run. Small generated stores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from climb.datasets.brain_network._adapters import AbideAdapter
from climb.experiment.config import from_dict
from climb.prepare.pipeline import prepare
from climb.train.trainer import train
from tests.io.test_graphs import write_ppi_pyg


def _toy_proteins(folder: Path, n: int = 60) -> None:
    """TU files: cycles (label 1) vs paths (label 2) with 3 node label values."""
    rng = np.random.default_rng(0)
    a, ind, gl, nl, na = [], [], [], [], []
    start = 1
    for g in range(n):
        k = int(rng.integers(4, 8))
        cyc = g % 2 == 0
        pairs = [(i, i + 1) for i in range(k - 1)] + ([(k - 1, 0)] if cyc else [])
        for u, v in pairs:
            a += [f"{start + u}, {start + v}", f"{start + v}, {start + u}"]
        ind += [str(g + 1)] * k
        nl += [str(i % 3) for i in range(k)]
        na += ["1.0"] * k
        gl.append("1" if cyc else "2")
        start += k
    folder.mkdir(parents=True)
    for suf, rows in (("A", a), ("graph_indicator", ind), ("graph_labels", gl),
                      ("node_labels", nl), ("node_attributes", na)):  # fmt: skip
        (folder / f"PROTEINS_{suf}.txt").write_text("\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = tmp_path_factory.mktemp("graphroot")
    _toy_proteins(r / "raw" / "proteins")
    prepare("proteins", r)
    write_ppi_pyg(r / "raw" / "ppi", n_labels=121)
    prepare("ppi", r)
    rng = np.random.default_rng(0)
    corr = np.stack([np.corrcoef(rng.normal(size=(30, 10)).T) for _ in range(30)])
    lab = np.arange(30) % 2
    corr[lab == 1, :3, :3] += 0.5  # a learnable difference
    (r / "raw" / "abide").mkdir(parents=True)
    np.save(r / "raw" / "abide" / "ABIDE.npy", {"corr": corr.astype(np.float32), "label": lab,
                                                "site": np.array(["A", "B"] * 15)})  # fmt: skip
    prepare("abide", r, adapter=AbideAdapter(n_rois=10))
    from scipy.io import savemat

    X = np.empty((24, 1), dtype=object)
    for i in range(24):
        X[i, 0] = rng.random((84, 84, 1))
    (r / "raw" / "ppmi").mkdir(parents=True)
    savemat(r / "raw" / "ppmi" / "PPMI.mat", {"X": X, "label": np.array([[-1], [1]] * 12)})
    prepare("ppmi", r)
    return r


def _cfg(root: Path, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "run": {"name": "t", "seed": 0, "threads": 1, "device": "cpu"},
        "data": {
            "root": str(root),
            "tasks": [{"dataset": "proteins", "task": "enzyme"}],
            "batch_size": 16,
        },
        "model": {"encoder": "gin", "encoder_kwargs": {"hidden": 16, "layers": 2}, "pool": "sum"},
        "optim": {"name": "adam", "schedule": "step", "lr": 0.01, "weight_decay": 0.0,
                  "step_size": 50, "gamma": 0.5, "grad_clip": None},
        "train": {"epochs": 3, "patience": 3, "select": "val_acc"},
        "evaluate": {"n_boot": 20},
    }  # fmt: skip
    for k, v in over.items():
        base[k] = {**base.get(k, {}), **v} if isinstance(v, dict) else v  # type: ignore[dict-item]
    return base


def test_kfold_reports_mean_std_and_per_fold(root: Path, tmp_path: Path) -> None:
    cfg = from_dict(_cfg(root, data={"cv": {"folds": 10, "only_folds": 2}}))
    out = train(cfg, tmp_path / "run")
    res = json.loads((out / "results.json").read_text())
    s = res["proteins/enzyme"]
    assert {"accuracy_mean", "auroc_mean"} <= set(s)
    df = pd.read_parquet(out / "results.parquet")
    assert {"test_fold0", "test_fold1", "cv"} <= set(df["split"])
    acc = df[(df["split"] == "test_fold0") & (df["metric"] == "accuracy")].iloc[0]
    assert acc["ci_low"] <= acc["value"] <= acc["ci_high"]
    folds = df[df["split"].isin(["test_fold0", "test_fold1"]) & (df["metric"] == "accuracy")
               & df["class_name"].isna()]["value"]  # fmt: skip
    cv = df[(df["split"] == "cv") & (df["metric"] == "accuracy_mean")].iloc[0]
    assert cv["value"] == pytest.approx(folds.mean()) and cv["n"] == 2
    assert (out / "folds" / "fold1" / "checkpoints" / "best.pt").is_file()
    # the test folds are disjoint and every fold trains on graphs outside its test fold
    from climb.experiment.build import build_tasks

    t0 = build_tasks(cfg, None, fold=0)[0]
    t1 = build_tasks(cfg, None, fold=1)[0]
    assert not set(t0.parts["test"]) & set(t1.parts["test"])
    assert not set(t0.parts["train"]) & set(t0.parts["test"])
    # climb evaluate re-evaluates every fold (and appends the same numbers)
    from climb.evaluate.run import evaluate_run

    rows = evaluate_run(out, print_table=False)
    again = [r for r in rows if r["split"] == "test_fold0" and r["metric"] == "accuracy"
             and not r.get("class_name")]  # fmt: skip
    assert again[0]["value"] == pytest.approx(acc["value"])


def test_node_level_ppi_micro_f1(root: Path, tmp_path: Path) -> None:
    cfg = from_dict(_cfg(root, data={"tasks": [{"dataset": "ppi", "task": "go_labels"}]},
                         model={"encoder": "gat", "encoder_kwargs": {"hidden": 8,
                                "layers": 2}}, train={"select": "val_f1"}))  # fmt: skip
    out = train(cfg, tmp_path / "ppi")
    df = pd.read_parquet(out / "results.parquet")
    row = df[df["metric"] == "micro_f1"].iloc[0]
    assert row["split"] == "test" and 0 <= row["value"] <= 1 and row["n"] > 0


def test_multitask_brain_networks_via_cli(root: Path, tmp_path: Path) -> None:
    import yaml

    from climb.cli import app

    cfg = _cfg(
        root,
        data={"tasks": [{"dataset": "abide", "task": "asd"}, {"dataset": "ppmi", "task": "parkinsons"}],
              "graph": {"method": "knn", "k": 3}, "mixture": "round_robin"},
        model={"encoder": "graph_transformer", "encoder_kwargs": {"hidden": 8, "layers": 1},
               "proj_dim": 16, "pool": "mean"},
        train={"select": "val_auroc"},
    )  # fmt: skip
    p = tmp_path / "mt.yaml"
    p.write_text(yaml.safe_dump(cfg))
    res = CliRunner().invoke(app, ["train", str(p), "--out", str(tmp_path / "mt")])
    assert res.exit_code == 0, res.output
    df = pd.read_parquet(tmp_path / "mt" / "results.parquet")
    assert set(df["dataset"]) == {"abide", "ppmi"}
    assert {"auroc", "accuracy"} <= set(df["metric"])
    # different ROI counts: one input projection per task in front of the shared encoder
    import torch

    ck = torch.load(tmp_path / "mt" / "checkpoints" / "best.pt", weights_only=True)
    assert {k.split(".")[1] for k in ck["model"] if k.startswith("adapters.")} == {
        "abide__asd", "ppmi__parkinsons"}  # fmt: skip


def test_graph_resume_and_no_eval(root: Path, tmp_path: Path) -> None:
    import torch

    over = {"train": {"epochs": 4, "patience": None, "select": "val_acc"}}
    full = train(from_dict(_cfg(root, **over)), tmp_path / "full", evaluate_at_end=False)
    assert not (full / "results.parquet").exists()
    part_cfg = _cfg(root, **over)
    part_cfg["train"]["stop_after"] = 5  # type: ignore[index]
    part = train(from_dict(part_cfg), tmp_path / "part", evaluate_at_end=False)
    part = train(from_dict(_cfg(root, **over)), part, resume=True, evaluate_at_end=False)
    a = torch.load(full / "checkpoints" / "last.pt", weights_only=True)["model"]
    b = torch.load(part / "checkpoints" / "last.pt", weights_only=True)["model"]
    for k in a:
        torch.testing.assert_close(a[k], b[k])


def test_bad_graph_config_is_explained(root: Path, tmp_path: Path) -> None:
    from climb.core.errors import ClimbError

    with pytest.raises(ClimbError, match=r"unknown key 'train\.epoch'"):
        from_dict(_cfg(root, train={"epoch": 3}))
    with pytest.raises(ClimbError, match="has no task 'sex'"):
        train(from_dict(_cfg(root, data={"tasks": [{"dataset": "proteins", "task": "sex"}]})),
              tmp_path / "x")  # fmt: skip
    with pytest.raises(ClimbError, match="kind: graph"):
        from_dict({**_cfg(root), "kind": "graph"})
