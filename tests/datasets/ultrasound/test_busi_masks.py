"""BUSI lesion masks: the ``mask`` field (union of ``_mask*.png``, binary, image geometry)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from climb.data import StoreDataset
from climb.datasets._masks import MASK_UNKNOWN
from climb.datasets.ultrasound._adapters import busi_mask_files
from climb.prepare.pipeline import prepare
from climb.store.reader import open_store
from tests.conftest import shared_fixture


def _save(path: Path, a: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a).save(path)


def _lesion(h: int, w: int, box: tuple[int, int, int, int]) -> np.ndarray:
    m = np.zeros((h, w), dtype=np.uint8)
    y0, y1, x0, x1 = box
    m[y0:y1, x0:x1] = 255
    return m


def _rows(store: Path) -> dict[str, int]:
    df = pd.read_parquet(store / "samples.parquet")
    return dict(zip(df["sample_id"], df["index"], strict=True))


def _mask_of(store: Path, sample: str) -> np.ndarray:
    return np.asarray(open_store(store).array("mask")[_rows(store)[sample]])


def _nearest_pad(mask: np.ndarray, nw: int, nh: int, size: int = 256) -> np.ndarray:
    """Independent reference: Pillow NEAREST to (nw, nh), zero-padded centred to size x size."""
    r = np.asarray(Image.fromarray(mask).resize((nw, nh), Image.Resampling.NEAREST))
    out = np.zeros((size, size), dtype=np.uint8)
    y0, x0 = (size - nh) // 2, (size - nw) // 2
    out[y0 : y0 + nh, x0 : x0 + nw] = r
    return out


def test_mask_file_matching() -> None:
    names = ["benign (1).png", "benign (1)_mask.png", "benign (1)_mask_1.png",
             "benign (10)_mask.png", "benign (1)_MASK_2.png", "benign (1)_masked.png"]  # fmt: skip
    assert busi_mask_files(Path("benign (1).png"), names) == [
        "benign (1)_MASK_2.png", "benign (1)_mask.png", "benign (1)_mask_1.png"
    ]  # fmt: skip


def test_busi_real_fixture_masks(tmp_path: Path) -> None:
    """The real (mask-less, 256x256) fixture plus generated masks: benign/malignant masks are
    non-empty where the mask file is, normal images (no mask file) are all background; without
    mask files benign/malignant images are quarantined with a reason."""
    src = shared_fixture("busi")
    raw = tmp_path / "raw" / "busi"
    shutil.copytree(src, raw)
    res0 = prepare("busi", tmp_path, splits="climb")
    # no sample is lost for a missing mask: kept with an all-unknown mask and the reason
    assert not res0.quarantined and res0.counts == {"test": 9, "train": 21}
    df0 = pd.read_parquet(res0.store / "samples.parquet").set_index("sample_id")
    lesion = df0["label__busi3"] != 0
    assert lesion.sum() == 20
    assert df0.loc[lesion, "mask_issue"].str.startswith("missing mask").all()
    assert (df0.loc[~lesion, "mask_issue"] == "").all()
    masks0 = np.asarray(open_store(res0.store).array("mask")[:])
    assert (masks0[df0.loc[lesion, "index"].to_numpy()] == MASK_UNKNOWN).all()
    assert not masks0[df0.loc[~lesion, "index"].to_numpy()].any()

    boxes: dict[str, np.ndarray] = {}
    for cls in ("benign", "malignant"):
        for p in sorted((raw / cls).glob("*.png")):
            w, h = Image.open(p).size
            i = int(p.stem.split("(")[1].rstrip(")"))
            m = _lesion(h, w, (20 + i, 80 + 3 * i, 30, 90 + 2 * i))
            _save(p.with_name(f"{p.stem}_mask.png"), m)
            boxes[f"{cls}/{p.name}"] = m
    res = prepare("busi", tmp_path, splits="climb")
    assert not res.quarantined and res.counts == {"test": 9, "train": 21}
    st = open_store(res.store)
    df = pd.read_parquet(res.store / "samples.parquet").set_index("sample_id")
    masks = np.asarray(st.array("mask")[:])
    assert masks.shape == (30, 1, 256, 256) and masks.dtype == np.uint8
    assert set(np.unique(masks).tolist()) == {0, 1}
    for sid, m in boxes.items():
        got = masks[df.loc[sid, "index"], 0]
        assert got.any()
        np.testing.assert_array_equal(got, (_nearest_pad(m, 256, 256) > 127).astype(np.uint8))
    for sid in df.index[df["label__busi3"] == 0]:
        assert not masks[df.loc[sid, "index"]].any() and df.loc[sid, "mask_files"] == 0

    meta = json.loads((res.store / "dataset.json").read_text())
    seg = meta["tasks"]["lesion_segmentation"]
    assert seg["type"] == "segmentation" and seg["field"] == "mask" and seg["column"] is None
    assert seg["classes"] == ["background", "lesion"]
    assert "label__lesion_segmentation" not in df.columns
    assert "image" in meta["stats"] and "mask" not in meta["stats"]
    assert meta["fields"]["mask"]["chunks"][0] == meta["fields"]["image"]["chunks"][0]
    assert "lesion_segmentation" not in meta["label_counts"]


def test_busi_union_geometry_and_alignment(tmp_path: Path) -> None:
    """Non-square images: the mask gets the image's resize + centred padding (nearest), the
    union of _mask, _mask_1, _mask_2, and lies where the lesion is in the stored image."""
    raw = tmp_path / "raw" / "busi" / "Dataset_BUSI_with_GT"
    h, w = 200, 300  # pad mode: 300 -> 256, 200 -> round(170.67) = 171 rows, 42 rows above
    img = np.full((h, w), 30, dtype=np.uint8)
    img[40:90, 50:120] = 220
    img[120:180, 200:280] = 220
    _save(raw / "malignant" / "malignant (1).png", img)
    m0 = _lesion(h, w, (40, 90, 50, 120))
    m1 = _lesion(h, w, (120, 180, 200, 280))
    m2 = _lesion(h, w, (60, 70, 100, 260))  # overlaps both
    _save(raw / "malignant" / "malignant (1)_mask.png", m0)
    _save(raw / "malignant" / "malignant (1)_mask_1.png", m1)
    _save(raw / "malignant" / "malignant (1)_mask_2.png", m2)
    _save(raw / "benign" / "benign (1).png", img)  # no mask file -> kept, mask unknown
    _save(raw / "normal" / "normal (1).png", img)  # normal with an (empty) mask file
    _save(raw / "normal" / "normal (1)_mask.png", np.zeros((h, w), dtype=np.uint8))
    _save(raw / "normal" / "normal (2).png", img)
    _save(raw / "normal" / "normal (2)_mask.png", np.zeros((h + 1, w), dtype=np.uint8))
    res = prepare("busi", tmp_path)
    assert not res.quarantined
    issues = pd.read_parquet(res.store / "samples.parquet").set_index("source_path")["mask_issue"]
    issues.index = [Path(i).name for i in issues.index]
    assert issues["benign (1).png"].startswith("missing mask")
    assert "mask size differs" in issues["normal (2).png"]
    assert issues["malignant (1).png"] == "" and issues["normal (1).png"] == ""
    for name in ("benign (1).png", "normal (2).png"):
        got_unknown = _mask_of(res.store, f"Dataset_BUSI_with_GT/{name.split(' ')[0]}/{name}")
        assert (got_unknown == MASK_UNKNOWN).all()

    got = _mask_of(res.store, "Dataset_BUSI_with_GT/malignant/malignant (1).png")
    assert got.shape == (1, 256, 256)
    union = np.maximum(np.maximum(m0, m1), m2)
    want = (_nearest_pad(union, 256, 171) > 127).astype(np.uint8)
    np.testing.assert_array_equal(got[0], want)
    assert not got[0, :42].any() and not got[0, 42 + 171 :].any()  # padding = background
    assert not _mask_of(res.store, "Dataset_BUSI_with_GT/normal/normal (1).png").any()

    # aligned with the stored image: lesion pixels (outside the m2 bridge) are the bright ones
    st = open_store(res.store)
    image = np.asarray(st.array("image")[_rows(res.store)["Dataset_BUSI_with_GT/malignant/malignant (1).png"]])[0]  # fmt: skip
    core = (_nearest_pad(np.maximum(m0, m1), 256, 171) > 127) & ~(_nearest_pad(m2, 256, 171) > 127)
    inner = core & np.roll(core, 2, 0) & np.roll(core, -2, 0) & np.roll(core, 2, 1) & np.roll(core, -2, 1)  # fmt: skip
    assert image[inner].min() > 200 and image[want == 0].mean() < 60

    # StoreDataset: the segmentation task is not a label column; pass tasks= and fields=
    ds = StoreDataset(res.store, tasks=["busi3"], fields=["image", "mask"])
    b = ds.get_batch(np.arange(len(ds)))
    assert b["inputs"]["mask"].shape == (len(ds), 1, 256, 256)
    assert set(np.unique(b["inputs"]["mask"].numpy()).tolist()) <= {0, 1, MASK_UNKNOWN}


def test_mask_store_defaults_and_validation(tmp_path: Path) -> None:
    """The mask is not a default input nor a label-column task; the store validates."""
    from climb.core.errors import ClimbError
    from climb.store.validate import validate

    raw = tmp_path / "raw" / "busi"
    img = np.full((64, 64), 40, dtype=np.uint8)
    for cls, n in (("benign", 3), ("malignant", 3), ("normal", 3)):
        for i in range(1, n + 1):
            _save(raw / cls / f"{cls} ({i}).png", img)
            _save(raw / cls / f"{cls} ({i})_mask.png", _lesion(64, 64, (10, 30, 10, 30 + i)))
    res = prepare("busi", tmp_path)
    ds = StoreDataset(res.store)
    assert ds.fields == ["image"] and ds.tasks == ["busi3"]
    with pytest.raises(ClimbError, match="array field 'mask'"):
        StoreDataset(res.store, tasks=["lesion_segmentation"])
    rep = validate(res.store)
    assert rep.ok, rep.errors
    assert "target field of task lesion_segmentation" in rep.checks


def test_store_info_names_the_mask_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from climb.cli import main

    raw = tmp_path / "raw" / "busi"
    img = np.full((40, 40), 40, dtype=np.uint8)
    for cls in ("benign", "normal"):
        for i in (1, 2):
            _save(raw / cls / f"{cls} ({i}).png", img)
            _save(raw / cls / f"{cls} ({i})_mask.png", _lesion(40, 40, (5, 15, 5, 15)))
    res = prepare("busi", tmp_path)
    main(["store", "info", str(res.store)])
    out = capsys.readouterr().out
    assert "lesion_segmentation (segmentation): target field 'mask', 2 classes" in out
