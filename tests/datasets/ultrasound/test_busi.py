from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from climb.prepare.pipeline import prepare
from tests.conftest import shared_fixture
from tests.io.imaging_layouts import write_image


def test_busi_real_fixture(tmp_path: Path) -> None:
    src = shared_fixture("busi")
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "busi").symlink_to(src)
    res = prepare("busi", tmp_path, splits="climb")
    df = pd.read_parquet(res.store / "samples.parquet")
    assert len(df) == 30 and not res.quarantined
    # CLIMB: per class, first 75% of sorted names -> int(0.75 * 10) = 7 train, 3 test
    assert res.counts == {"test": 9, "train": 21}
    assert df.groupby("label__busi3").size().tolist() == [10, 10, 10]
    tr = df[(df.split == "train") & (df.label__busi3 == 1)].sample_id.map(
        lambda s: s.split("/")[-1]
    )
    assert sorted(tr)[:2] == ["benign (1).png", "benign (10).png"]


def test_busi_masks_excluded(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "busi" / "Dataset_BUSI_with_GT"
    for c in ("benign", "malignant", "normal"):
        write_image(raw / c / f"{c} (1).png", np.full((20, 20), 90, dtype=np.uint8))
        write_image(raw / c / f"{c} (1)_mask.png", np.zeros((20, 20), dtype=np.uint8))
    res = prepare("busi", tmp_path)
    assert sum(res.counts.values()) == 3
