"""`climb train` with kind: graph: k-fold graph classification, node-level multilabel (PPI-style),
multitask across brain-network stores of different ROI counts. Small generated stores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from climb.datasets.brain_network._adapters import AbideAdapter
from climb.prepare.pipeline import prepare
from climb.train.graph import load_graph_config, train_graph
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
        "kind": "graph",
        "run": {"name": "t", "seed": 0, "threads": 1},
        "data": {
            "root": str(root),
            "tasks": [{"dataset": "proteins", "task": "enzyme"}],
            "batch_size": 16,
        },
        "model": {"encoder": "gin", "encoder_kwargs": {"hidden": 16, "layers": 2}},
        "train": {"epochs": 3, "patience": 3, "select": "val_acc"},
        "evaluate": {"n_boot": 20},
    }
    for k, v in over.items():
        base[k] = {**base.get(k, {}), **v} if isinstance(v, dict) else v  # type: ignore[dict-item]
    return base


def test_kfold_reports_mean_std_and_per_fold(root: Path, tmp_path: Path) -> None:
    cfg = load_graph_config(_cfg(root, data={"cv": {"folds": 10, "only_folds": 2}}))
    out = train_graph(cfg, tmp_path / "run")
    res = json.loads((out / "results.json").read_text())
    assert [f["fold"] for f in res["per_fold"]] == [0, 1]
    s = res["summary"]["proteins/enzyme"]
    assert set(s) >= {"accuracy", "auroc"} and len(s["accuracy"]["folds"]) == 2
    assert s["accuracy"]["mean"] == pytest.approx(np.mean(s["accuracy"]["folds"]))
    df = pd.read_parquet(out / "results.parquet")
    assert {"test_fold0", "test_fold1", "cv"} <= set(df["split"])
    acc = df[(df["split"] == "test_fold0") & (df["metric"] == "accuracy")].iloc[0]
    assert acc["ci_low"] <= acc["value"] <= acc["ci_high"]
    assert (out / "checkpoints" / "fold1.pt").is_file()


def test_node_level_ppi_micro_f1(root: Path, tmp_path: Path) -> None:
    cfg = load_graph_config(_cfg(root, data={"tasks": [{"dataset": "ppi", "task": "go_labels"}]},
                                 model={"encoder": "gat", "encoder_kwargs": {"hidden": 8,
                                        "layers": 2}}, train={"select": "val_f1"}))  # fmt: skip
    out = train_graph(cfg, tmp_path / "ppi")
    df = pd.read_parquet(out / "results.parquet")
    row = df[df["metric"] == "micro_f1"].iloc[0]
    assert row["split"] == "test" and 0 <= row["value"] <= 1 and row["n"] > 0


def test_multitask_brain_networks_via_cli(root: Path, tmp_path: Path) -> None:
    import yaml

    from climb.cli import app

    cfg = _cfg(
        root,
        data={"tasks": [{"dataset": "abide", "task": "asd"}, {"dataset": "ppmi", "task": "parkinsons"}],
              "graph": {"method": "knn", "k": 3}},
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


def test_bad_graph_config_is_explained(root: Path) -> None:
    from climb.errors import ClimbError

    with pytest.raises(ClimbError, match=r"unknown key 'train\.epoch'"):
        load_graph_config(_cfg(root, train={"epoch": 3}))
    with pytest.raises(ClimbError, match="has no task 'sex'"):
        train_graph(load_graph_config(_cfg(root, data={"tasks": [{"dataset": "proteins",
                                                                   "task": "sex"}]})))  # fmt: skip
