"""Cholec80 per-second phase end to end: native mp4 + annotation files -> climb prepare ->
configs/cholec80_phase.yaml (per_frame task kind, frame_pool per-frame features) -> frame
accuracy / macro F1 / Jaccard with CIs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from climb.datasets.surgical_video._adapters import Cholec80Adapter
from climb.experiment.config import load_config
from climb.prepare.pipeline import prepare
from climb.train.trainer import train
from tests.datasets.surgical_video.test_cholec80 import _write

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_cholec80_phase_per_frame_from_config(tmp_path: Path) -> None:
    root = tmp_path / "raw" / "cholec80" / "cholec80"
    for d in ("videos", "phase_annotations", "tool_annotations"):
        (root / d).mkdir(parents=True)
    for n in (1, 2, 41, 50):  # official: 2 train, 1 val, 1 test
        _write(root, n, seconds=30)
    res = prepare("cholec80", tmp_path, adapter=Cholec80Adapter(size=16))
    assert not res.quarantined
    cfg = load_config(
        REPO / "configs" / "cholec80_phase.yaml",
        [
            f"data.root={tmp_path}",
            "run.device=cpu",
            "data.num_workers=0",
            "data.batch_size=16",
            "model.encoder_kwargs.image_encoder=resnet18",
            "train.max_steps=4",
            "train.eval_every=2",
            "train.checkpoint_every=2",
            "optim.warmup_steps=1",
            "evaluate.n_boot=20",
        ],
    )
    run = train(cfg, tmp_path / "run")
    r = pd.read_parquet(run / "results.parquet")
    test = r[(r.split == "test") & r.class_name.isna()].set_index("metric")
    assert {"accuracy", "jaccard"} <= set(test.index)
    assert test.loc["accuracy", "n"] == 30  # every second of the test video once
    assert 0 <= test.loc["accuracy", "value"] <= 1
