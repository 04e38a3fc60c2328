"""configs/ultrasound_multitask.yaml end to end on small stores: BUSI (real PNGs, image encoder)
+ COVID-BLUES (real videos) + COVID-US + EchoNet (generated, grey), one frame_pool encoder for
the video tasks, per-field transforms; every task evaluated on its test split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from climb.datasets.ultrasound._videos import CovidBluesAdapter, CovidUSAdapter, EchoNetAdapter
from climb.demo.video import write_echonet_tree
from climb.experiment.config import load_config
from climb.io.video import write_video
from climb.prepare.pipeline import prepare
from climb.train.trainer import train
from tests.conftest import shared_fixture

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_ultrasound_multitask_from_config(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "busi").symlink_to(shared_fixture("busi"), target_is_directory=True)
    (raw / "covid_blues").symlink_to(shared_fixture("covid_blues"), target_is_directory=True)
    d = raw / "covid_us" / "videos"
    d.mkdir(parents=True)
    for i in range(12):
        lab = ("covid", "pneumonia", "normal")[i % 3]
        write_video(
            d / f"{i:03d}_src{i % 2}_{lab}.mp4", np.full((6, 32, 32, 3), 20 * (i % 3), np.uint8)
        )
    write_echonet_tree(raw / "echonet_dynamic", videos=12, frames=8, broken=False)
    from climb.prepare.pipeline import resolve_adapter

    busi = resolve_adapter("busi", {"size": 32})
    for key, ad in (("busi", busi), ("covid_blues", CovidBluesAdapter(size=32)),
                    ("covid_us", CovidUSAdapter(size=32)),
                    ("echonet_dynamic", EchoNetAdapter(size=32, channels=1))):  # fmt: skip
        assert not prepare(key, tmp_path, adapter=ad).quarantined
    cfg = load_config(
        REPO / "configs" / "ultrasound_multitask.yaml",
        [
            f"data.root={tmp_path}",
            "run.device=cpu",
            "data.num_workers=0",
            "data.batch_size=4",
            "data.eval_batch_size=8",
            "data.ragged.video.frames=4",
            "model.encoders.image.name=resnet18",
            "model.encoders.video.kwargs.image_encoder=resnet18",
            "train.max_steps=4",
            "train.eval_every=2",
            "train.checkpoint_every=2",
            "optim.warmup_steps=1",
            "evaluate.n_boot=10",
        ],
    )
    run = train(cfg, tmp_path / "run")
    r = pd.read_parquet(run / "results.parquet")
    test = r[(r.split == "test") & r.class_name.isna()]
    assert set(test.dataset) == {"busi", "covid_blues", "covid_us", "echonet_dynamic"}
    # COVID-BLUES' 8 real patients may leave one class in test (AUROC undefined, 'n' kept)
    auroc = test[test.metric == "auroc"]
    assert {"busi", "covid_us", "echonet_dynamic"} <= set(auroc.dataset)
