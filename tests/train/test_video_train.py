"""Video through the one trainer: per-frame labels (the ``per_frame`` kind on Cholec80's
per-second phases) and clip-level classification with dense clips aggregated per sample.
Generated Cholec80 tree (grey level = second, phase p during seconds 15p .. 15p + 14)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from climb.experiment.build import aggregate_clips
from climb.experiment.config import from_dict
from climb.train.trainer import train
from tests.datasets.surgical_video.test_cholec80 import _write


@pytest.fixture(scope="module")
def cholec_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from climb.datasets.surgical_video._adapters import Cholec80Adapter
    from climb.prepare.pipeline import prepare

    root = tmp_path_factory.mktemp("cholec")
    raw = root / "raw" / "cholec80" / "cholec80"
    for d in ("videos", "phase_annotations", "tool_annotations"):
        (raw / d).mkdir(parents=True)
    for n in (1, 2, 41, 49):  # official split: 1-40 train, 41-48 val, 49-80 test
        _write(raw, n, seconds=45)
    prepare("cholec80", root, adapter=Cholec80Adapter(size=16))
    return root


def _cfg(root: Path, task: str, **over: object) -> dict[str, object]:
    cfg: dict[str, object] = {
        "run": {"name": task, "seed": 0, "device": "cpu"},
        "data": {
            "root": str(root),
            "tasks": [{"dataset": "cholec80", "task": task, "field": "video"}],
            "batch_size": 16,
            "eval_batch_size": 32,
            "transforms": {"video": [{"name": "video_to_float", "layout": "BCTHW"}]},
        },
        "model": {"encoders": {"video": {"name": "frame_pool",
                                         "kwargs": {"image_encoder": "resnet10t"}}}},
        "optim": {"lr": 3e-3, "warmup_steps": 2},
        "train": {"max_steps": 30, "eval_every": 10, "select": "auto"},
        "evaluate": {"n_boot": 50},
    }  # fmt: skip
    for k, v in over.items():
        cfg[k] = {**cfg.get(k, {}), **v}  # type: ignore[dict-item]
    return cfg


def test_per_frame_phase(cholec_root: Path, tmp_path: Path) -> None:
    run = train(from_dict(_cfg(cholec_root, "phase")), tmp_path / "phase")
    res = pd.read_parquet(run / "results.parquet")
    agg = res[(res.split == "test") & res.class_name.isna()].set_index("metric")
    assert {"accuracy", "f1", "balanced_accuracy", "jaccard"} <= set(agg.index)
    # every known second of the test video is one frame of the metrics
    assert agg.loc["accuracy", "n"] == 45
    assert (
        agg.loc["jaccard", "ci_low"] <= agg.loc["jaccard", "value"] <= agg.loc["jaccard", "ci_high"]
    )
    assert agg.loc["auroc", "value"] > 0.6  # the phase follows the grey level
    assert "per frame" in agg.loc["accuracy", "note"]


def test_tools_per_frame_multilabel(cholec_root: Path, tmp_path: Path) -> None:
    run = train(from_dict(_cfg(cholec_root, "tools", train={"max_steps": 10})), tmp_path / "t")
    res = pd.read_parquet(run / "results.parquet")
    auprc = res[(res.split == "test") & res.class_name.isna() & (res.metric == "auprc")]
    assert len(auprc) == 1  # macro AUPRC over tools = the tool mAP


def test_dense_clips_are_aggregated_per_sample() -> None:
    out = torch.tensor([[1.0], [3.0], [10.0], [-2.0], [4.0]])
    idx = torch.tensor([0, 0, 1, 2, 2])
    np.testing.assert_allclose(aggregate_clips(out, idx, "mean").numpy(), [[2.0], [10.0], [1.0]])
    np.testing.assert_allclose(aggregate_clips(out, idx, "max").numpy(), [[3.0], [10.0], [4.0]])
