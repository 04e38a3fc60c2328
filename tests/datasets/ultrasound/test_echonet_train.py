"""EchoNet regression end to end: native AVIs -> climb prepare -> configs/echonet_ef.yaml
(regression task kind, clip policy, video_to_float, a registered video encoder) -> MAE/RMSE/R²
with bootstrap CIs in results.parquet."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from climb.datasets.ultrasound._videos import EchoNetAdapter
from climb.experiment.config import load_config
from climb.io.video import write_video
from climb.prepare.pipeline import prepare
from climb.train.trainer import train

REPO = Path(__file__).resolve().parents[3]


def _raw(root: Path, n: int = 30, frames: int = 12) -> None:
    d = root / "raw" / "echonet_dynamic" / "EchoNet-Dynamic"
    (d / "Videos").mkdir(parents=True)
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        ef = float(rng.uniform(20, 80))
        level = int(ef * 2)  # brightness carries the EF: learnable
        v = np.full((frames, 32, 32, 3), level, dtype=np.uint8)
        write_video(d / "Videos" / f"V{i:03d}.avi", v, fps=50)
        split = ("TRAIN", "TRAIN", "TRAIN", "VAL", "TEST")[i % 5]
        rows.append([f"V{i:03d}", ef, 30, 80, 32, 32, 50, frames, split])
    with (d / "FileList.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["FileName", "EF", "ESV", "EDV", "FrameHeight", "FrameWidth", "FPS",
                    "NumberOfFrames", "Split"])  # fmt: skip
        w.writerows(rows)
    with (d / "VolumeTracings.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["FileName", "X1", "Y1", "X2", "Y2", "Frame"])
        for r in rows:
            w.writerows([[f"{r[0]}.avi", 1, 2, 3, 4, t] for t in (2, 9)])


def _args(root: Path) -> list[str]:
    return [
        f"data.root={root}",
        "run.device=cpu",
        "data.num_workers=0",
        "data.batch_size=6",
        "data.ragged.video.frames=4",
        "model.encoder=frame_pool",
        "model.encoder_kwargs.image_encoder=resnet18",
        "train.max_steps=6",
        "train.eval_every=3",
        "train.checkpoint_every=3",
        "optim.warmup_steps=1",
        "evaluate.n_boot=20",
    ]


@pytest.mark.slow
def test_echonet_ef_regression_from_config(tmp_path: Path) -> None:
    _raw(tmp_path)
    res = prepare("echonet_dynamic", tmp_path, adapter=EchoNetAdapter(size=32))
    assert not res.quarantined
    cfg = load_config(REPO / "configs" / "echonet_ef.yaml", _args(tmp_path))
    run = train(cfg, tmp_path / "run")
    r = pd.read_parquet(run / "results.parquet")
    test = r[(r.split == "test") & r.class_name.isna()].set_index("metric")
    assert {"mae", "rmse", "r2"} <= set(test.index)
    assert test.loc["mae", "n"] == 6  # the 6 official TEST videos
    for m in ("mae", "rmse"):
        assert 0 < test.loc[m, "value"] < 100
        assert test.loc[m, "ci_low"] <= test.loc[m, "value"] <= test.loc[m, "ci_high"]

    # one random uniform clip in training, every dense clip in evaluation (mean per video)
    from climb.experiment.build import build_tasks

    over = [*_args(tmp_path), "data.ragged.video.eval={name: clip, frames: 4, mode: dense}"]
    cfg2 = load_config(REPO / "configs" / "echonet_ef.yaml", over)
    (t,) = build_tasks(cfg2, None)
    tb = t.train.get_batch(np.arange(4))
    assert tb["inputs"]["video"].shape[0] == 4 and not tb["clip_index"]  # one clip each
    vb = t.val.get_batch(np.arange(len(t.val)))
    ci = vb["clip_index"]["video"]
    assert vb["inputs"]["video"].shape[0] == 3 * len(t.val)  # 12 frames = 3 clips of 4
    np.testing.assert_array_equal(ci.numpy(), np.repeat(np.arange(len(t.val)), 3))
    run2 = train(cfg2, tmp_path / "run_dense")
    r2 = pd.read_parquet(run2 / "results.parquet")
    t2 = r2[(r2.split == "test") & r2.class_name.isna()].set_index("metric")
    assert t2.loc["mae", "n"] == 6  # per video, not per clip
