"""BCSS masks: native codes 0-21 kept exactly, with the image's geometry; size mismatch ->
quarantine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from climb.data import StoreDataset
from climb.datasets.pathology.bcss import BCSS_CODES
from climb.prepare.pipeline import prepare
from climb.store.reader import open_store
from tests.io.imaging_layouts import gradient, write_image


def _roi_mask(h: int, w: int) -> np.ndarray:
    """Stripes of several codes (tumor 1 dominant), incl. 0, 7 (exclude) and 21 (other)."""
    m = np.ones((h, w), dtype=np.uint8)
    m[: h // 6] = 0
    m[h // 6 : h // 3, : w // 2] = 2
    m[h // 6 : h // 3, w // 2 :] = 21
    m[-h // 6 :, : w // 3] = 7
    m[-h // 6 :, w // 3 :] = 13
    m[h // 2 : h // 2 + 5, 10:20] = 4
    return m


def test_bcss_masks(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "bcss"
    names = {
        "wide": ("TCGA-A1-A0SK-DX1_xmin0_ymin0.png", 120, 300),  # h, w: 300 -> 256, 120 -> 102
        "tall": ("TCGA-OL-A5D6-DX1_xmin0_ymin0.png", 500, 180),  # 500 -> 256, 180 -> 92
        "square": ("TCGA-A2-A04P-DX1_xmin0_ymin0.png", 64, 64),  # upscaled to 256
    }
    masks = {}
    for k, (name, h, w) in names.items():
        write_image(raw / "images" / name, gradient(h, w, 3))
        masks[k] = _roi_mask(h, w)
        write_image(raw / "masks" / name, masks[k])
    bad = "TCGA-E2-A14N-DX1_xmin0_ymin0.png"
    write_image(raw / "images" / bad, gradient(100, 100, 3))
    write_image(raw / "masks" / bad, np.ones((100, 90), dtype=np.uint8))
    res = prepare("bcss", tmp_path, splits="climb")
    assert len(res.quarantined) == 1
    q = res.quarantined[0]
    assert q["record"].endswith(bad) and "mask size differs from its image" in q["reason"]
    assert "90x100" in q["reason"] and "100x100" in q["reason"]

    st = open_store(res.store)
    df = pd.read_parquet(res.store / "samples.parquet")
    rows = dict(zip(df["sample_id"], df["index"], strict=True))
    stored = np.asarray(st.array("mask")[:])
    assert stored.shape == (3, 1, 256, 256) and stored.dtype == np.uint8
    for k, (name, h, w) in names.items():
        got = stored[rows[f"images/{name}"], 0]
        s = 256 / max(h, w)
        nw, nh = round(w * s), round(h * s)
        ref = np.asarray(Image.fromarray(masks[k]).resize((nw, nh), Image.Resampling.NEAREST))
        want = np.zeros((256, 256), dtype=np.uint8)
        y0, x0 = (256 - nh) // 2, (256 - nw) // 2
        want[y0 : y0 + nh, x0 : x0 + nw] = ref
        np.testing.assert_array_equal(got, want)
        assert set(np.unique(got).tolist()) == {0, 1, 2, 4, 7, 13, 21}  # codes exactly kept
    assert df.set_index("sample_id").loc[f"images/{names['wide'][0]}", "label__tissue_type"] == 0

    meta = json.loads((res.store / "dataset.json").read_text())
    seg = meta["tasks"]["segmentation"]
    assert seg["field"] == "mask" and seg["column"] is None
    assert seg["classes"] == list(BCSS_CODES) and len(seg["classes"]) == 22
    assert seg["classes"][7] == "exclude" and seg["classes"][21] == "other"
    assert meta["tasks"]["tissue_type"]["column"] == "label__tissue_type"
    assert "label__segmentation" not in df.columns
    assert "mask" not in meta["stats"] and len(meta["stats"]["image"]["mean"]) == 3

    ds = StoreDataset(res.store, tasks="tissue_type", fields=["image", "mask"])
    item = ds[0]
    assert item["inputs"]["image"].shape == (3, 256, 256)
    assert item["inputs"]["mask"].shape == (1, 256, 256)


def test_bcss_code_out_of_range_quarantined(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "bcss"
    name = "TCGA-A1-A0SK-DX1_xmin0_ymin0.png"
    write_image(raw / "images" / name, gradient(32, 32, 3))
    m = np.ones((32, 32), dtype=np.uint8)
    m[0, 0] = 22
    write_image(raw / "masks" / name, m)
    write_image(raw / "images" / ("x" + name), gradient(32, 32, 3))
    write_image(raw / "masks" / ("x" + name), np.ones((32, 32), dtype=np.uint8))
    res = prepare("bcss", tmp_path)
    assert [q["reason"] for q in res.quarantined] == ["mask code 22 is not a BCSS code (0-21)"]
