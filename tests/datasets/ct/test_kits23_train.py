"""KiTS23 end to end: generated NIfTI + kits23.json -> climb prepare -> configs/kits23.yaml
(crop of slices, ct_window presets as channels, MONAI 3-D ResNet) -> AUROC with CIs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from climb.datasets.ct._volumes import Kits23Adapter
from climb.experiment.config import load_config
from climb.prepare.pipeline import prepare
from climb.train.trainer import train
from tests.io.ct_fixtures import write_nifti

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_kits23_from_config(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "kits23" / "dataset"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    cases = []
    for i in range(24):
        cid = f"case_{i:05d}"
        mal = bool(i % 2)
        cases.append({"case_id": cid, "malignant": mal})
        hu = rng.normal(40, 30, (10 + i % 3, 24, 24)).astype(np.float32)
        if mal:
            hu[4:7, 8:14, 8:14] += 200  # an enhancing "tumour"
        (raw / cid).mkdir()
        write_nifti(raw / cid / "imaging.nii.gz", hu, (3.0, 1.0, 1.0))
    (raw / "kits23.json").write_text(json.dumps(cases))
    res = prepare("kits23", tmp_path, adapter=Kits23Adapter(size=16))
    assert not res.quarantined
    cfg = load_config(
        REPO / "configs" / "kits23.yaml",
        [
            f"data.root={tmp_path}",
            "run.device=cpu",
            "data.num_workers=0",
            "data.ragged.ct.length=8",
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
    assert "auroc" in test.index
    n_test = int((pd.read_parquet(res.store / "samples.parquet")["split"] == "test").sum())
    assert test.loc["auroc", "n"] == n_test > 0
