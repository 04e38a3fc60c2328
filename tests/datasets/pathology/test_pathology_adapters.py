from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from climb.datasets.pathology._adapters import LC5, bcss_patch_label, tcga_case
from climb.prepare.pipeline import prepare
from tests.io.imaging_layouts import gradient, write_image


def test_lc25000_prepare(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "lc25000" / "lung_colon_image_set"
    for c in LC5:
        group = "colon_image_sets" if c.startswith("colon") else "lung_image_sets"
        for i in range(4):
            write_image(raw / group / c / f"{c}{i}.jpeg", gradient(50, 50, 3, seed=i), fmt="JPEG")
    res = prepare("lc25000", tmp_path, splits="climb")
    assert res.counts == {"test": 5, "train": 15}  # stratified 25%
    df = pd.read_parquet(res.store / "samples.parquet")
    assert sorted(df["label__tissue_type"].value_counts().tolist()) == [4] * 5


def test_bcss_patch_labels(tmp_path: Path) -> None:
    m = np.zeros((10, 10), dtype=np.uint8)
    m[:6] = 2
    assert bcss_patch_label(m)[0] == 1  # stroma
    m[:] = 7
    assert bcss_patch_label(m)[0] is None
    assert tcga_case("TCGA-OL-A5D6-DX1_xmin1_ymin2") == ("TCGA-OL-A5D6", "OL")
    raw = tmp_path / "raw" / "bcss"
    for i, (site, code) in enumerate([("A1", 1), ("A2", 3), ("OL", 4), ("E2", 0)]):
        name = f"TCGA-{site}-A0{i}K-DX1_xmin0_ymin0.png"
        write_image(raw / "images" / name, gradient(32, 32, 3))
        write_image(raw / "masks" / name, np.full((32, 32), code, dtype=np.uint8))
    res = prepare("bcss", tmp_path, splits="climb")
    assert "not 1-4" in res.quarantined[0]["reason"]
    df = pd.read_parquet(res.store / "samples.parquet").set_index("patient_id")
    assert (
        df.loc["TCGA-OL-A02K", "split"] == "test"
        and df.loc["TCGA-OL-A02K", "label__tissue_type"] == 3
    )
    assert df.loc["TCGA-A2-A01K", "label__tissue_type"] == 2
