"""`climb train configs/tuab.yaml` on a tiny generated TUAB store: trains and evaluates with the
EEG metrics (balanced accuracy, Cohen's kappa, weighted F1, AUROC) in results.parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from climb.cli import main
from climb.demo.eeg import write_tuab_tree
from climb.prepare.pipeline import prepare

REPO = Path(__file__).resolve().parents[3]


def test_train_tuab_config_end_to_end(tmp_path: Path) -> None:
    write_tuab_tree(tmp_path / "raw" / "tuab", subjects=8, seconds=24.0, broken=False)
    prepare("tuab", tmp_path)
    overrides = {
        "data.root": str(tmp_path),
        "run.device": "cpu",
        "data.batch_size": 4,
        "train.max_steps": 4,
        "train.eval_every": 2,
        "train.checkpoint_every": 2,
        "evaluate.n_boot": 20,
        "model.encoder_kwargs.embed_dim": 32,
        "model.encoder_kwargs.num_layers": 1,
        "model.encoder_kwargs.num_heads": 2,
    }
    args = ["train", str(REPO / "configs" / "tuab.yaml")]
    for k, v in overrides.items():
        args += ["--set", f"{k}={v}"]
    main(args)
    res = pd.read_parquet(next((tmp_path / "runs").rglob("results.parquet")))
    test = res[(res["split"] == "test") & res["class_name"].isna()]
    metrics = set(test["metric"])
    assert {"auroc", "auprc", "balanced_accuracy", "cohen_kappa", "f1_weighted"} <= metrics
    assert (test["dataset"] == "tuab").all() and (test["task"] == "abnormal").all()
    assert test.loc[test["metric"] == "balanced_accuracy", "value"].between(0, 1).all()
