from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from climb.prepare.pipeline import prepare
from tests.conftest import shared_fixture
from tests.io.imaging_layouts import gradient, write_image

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def bt_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = shared_fixture("brain_tumor")
    root = tmp_path_factory.mktemp("bt")
    (root / "raw").mkdir()
    (root / "raw" / "brain_tumor").symlink_to(src)
    return root


def test_brain_tumor_real_fixture(bt_root: Path) -> None:
    res = prepare("brain_tumor", bt_root)
    assert res.counts == {"test": 48, "train": 48} and not res.quarantined
    df = pd.read_parquet(res.store / "samples.parquet")
    assert df.groupby(["split", "label__tumor_type"]).size().tolist() == [12] * 8
    row = df[df.sample_id == "Training/no_tumor/image (4).jpg"].iloc[0]
    assert row["label__tumor_type"] == 0 and row["split"] == "train"
    import zarr

    arr = zarr.open_array(str(res.store / "arrays/image.zarr"), mode="r")
    assert arr.shape == (96, 1, 256, 256) and str(arr.dtype) == "uint8"
    from climb.data.image_transforms import store_image_stats

    mean, std = store_image_stats(res.store)
    x = arr[np.flatnonzero(df.split.to_numpy() == "train")].astype(np.float64) / 255
    assert abs(mean[0] - x.mean()) < 1e-5 and abs(std[0] - x.std()) < 1e-5
    # same inputs -> same store (deterministic), with 2 workers too
    again = prepare("brain_tumor", bt_root, workers=2)
    assert again.content_hash == res.content_hash


def test_brain_tumor_train_one_step(bt_root: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from climb.cli import app

    prepare("brain_tumor", bt_root)
    cfg = yaml.safe_load((REPO / "configs/brain_tumor.yaml").read_text())
    cfg["data"].update(
        {"root": str(bt_root), "batch_size": 8, "eval_batch_size": 16, "num_workers": 0}
    )
    cfg["model"] = {"encoder": "resnet10t", "encoder_kwargs": {}}
    cfg["run"]["device"] = "cpu"
    cfg["train"].update({"max_steps": 1, "eval_every": 1, "checkpoint_every": 1, "log_every": 1})
    cfg["evaluate"]["n_boot"] = 5
    cfg["optim"]["warmup_steps"] = 0
    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(cfg))
    run = tmp_path / "run"
    r = CliRunner().invoke(app, ["train", str(p), "--out", str(run)])
    assert r.exit_code == 0, r.output
    assert (run / "results.parquet").is_file()


def test_multitask_config_loads() -> None:
    from climb.experiment.config import load_config

    cfg = load_config(REPO / "configs/imaging_multitask.yaml")
    assert len(cfg.data.tasks) == 6 and cfg.model.encoder == "convnextv2_atto"


def test_brain_mri_climb_split(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "brain_mri" / "brain_tumor_dataset"
    for c in ("yes", "no"):
        for i in range(5):
            write_image(raw / c / f"{c}{i}.jpg", gradient(30, 40, 3, seed=i))
    res = prepare("brain_mri", tmp_path, splits="climb")
    assert res.counts == {"test": 2, "train": 8}
    df = pd.read_parquet(res.store / "samples.parquet")
    assert df.label__tumor.tolist().count(1) == 5
