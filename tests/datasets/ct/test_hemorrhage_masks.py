"""Brain CT Hemorrhage masks: brain/<slice>_HGE_Seg.jpg -> binary ``mask`` (image geometry);
negative slices without a mask file -> empty mask; positive ones -> unknown mask (kept)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from climb.data import StoreDataset
from climb.datasets._masks import MASK_UNKNOWN
from climb.prepare.pipeline import prepare
from climb.store.reader import open_store
from tests.datasets.ct.test_hemorrhage import HEADER
from tests.io.imaging_layouts import write_csv, write_image


def _nearest(path: Path, size: int = 256) -> np.ndarray:
    im = Image.open(path).convert("L")
    return (np.asarray(im.resize((size, size), Image.Resampling.NEAREST)) > 127).astype(np.uint8)


def test_hemorrhage_masks(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "brain_ct_hemorrhage"
    rows = []
    # (patient, slice, positive, side of the JPEGs, mask file)
    plan = [(49, 1, False, 100, False), (49, 2, True, 100, True), (50, 1, True, 650, True),
            (50, 2, True, 100, False), (51, 1, False, 120, False), (51, 2, True, 100, True)]  # fmt: skip
    for pid, sl, pos, side, has_mask in plan:
        rows.append([pid, sl, 0, int(pos), 0, 0, 0, int(not pos), 0])
        d = raw / "Patients_CT" / f"{pid:03d}"
        img = np.full((side, side), 60, dtype=np.uint8)
        if has_mask:
            m = np.zeros((side, side), dtype=np.uint8)
            a, b = side // 4, side // 2
            m[a:b, a : b + side // 5] = 255
            img[m > 0] = 200
            msize = (side + 10, side) if (pid, sl) == (51, 2) else (side, side)
            mm = np.zeros(msize, dtype=np.uint8)
            mm[:side, :side] = m[: msize[0], : msize[1]]
            write_image(d / "brain" / f"{sl}_HGE_Seg.jpg", mm, fmt="JPEG")
        write_image(d / "brain" / f"{sl}.jpg", img, fmt="JPEG")
        write_image(d / "bone" / f"{sl}.jpg", img, fmt="JPEG")
    write_csv(raw / "hemorrhage_diagnosis.csv", HEADER, rows)
    res = prepare("brain_ct_hemorrhage", tmp_path)
    # a missing or mismatched mask keeps the slice (its labels), mask unknown + the reason
    assert not res.quarantined
    st = open_store(res.store)
    df = pd.read_parquet(res.store / "samples.parquet")
    rows_ = dict(zip(df["sample_id"], df["index"], strict=True))
    issues = dict(zip(df["sample_id"], df["mask_issue"], strict=True))
    assert issues["050_002"].startswith("missing mask: no brain/2_HGE_Seg.jpg")
    assert "mask size differs" in issues["051_002"]
    assert {k for k, v in issues.items() if v} == {"050_002", "051_002"}
    masks = np.asarray(st.array("mask")[:])
    assert masks.shape == (6, 1, 256, 256)
    assert (masks[rows_["050_002"]] == MASK_UNKNOWN).all()
    assert (masks[rows_["051_002"]] == MASK_UNKNOWN).all()
    known = [rows_[k] for k, v in issues.items() if not v]
    assert set(np.unique(masks[known]).tolist()) == {0, 1}
    assert not masks[rows_["049_001"]].any() and not masks[rows_["051_001"]].any()
    d49 = raw / "Patients_CT" / "049" / "brain"
    np.testing.assert_array_equal(masks[rows_["049_002"], 0], _nearest(d49 / "2_HGE_Seg.jpg"))
    # 650 px JPEGs are decoded at libjpeg's 1/2 draft scale, the mask as its image
    got = masks[rows_["050_001"], 0]
    want = _nearest(raw / "Patients_CT" / "050" / "brain" / "1_HGE_Seg.jpg")
    assert (got != want).mean() < 0.01 and got.sum() > 0.9 * want.sum()
    image = np.asarray(st.array("image")[rows_["050_001"]])
    assert image[0][got == 1].mean() > 180 and image[0][got == 0].mean() < 80

    meta = json.loads((res.store / "dataset.json").read_text())
    seg = meta["tasks"]["segmentation"]
    assert seg == {**seg, "type": "segmentation", "field": "mask", "column": None}
    assert seg["classes"] == ["background", "hemorrhage"]
    assert meta["fields"]["mask"]["shape"] == [1, 256, 256]
    assert "mask" not in meta["stats"] and "label__segmentation" not in df.columns
    ds = StoreDataset(res.store, tasks=["hemorrhage"], fields=["image", "mask"])
    assert ds[0]["inputs"]["mask"].shape == (1, 256, 256)
