"""CT volume adapters: KiTS23 (real kits23.json + generated NIfTI), INSPECT (NIfTI), RSPECT
(generated DICOM; study-level split and leakage check), LNDb (.mhd/.raw windows)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from climb.datasets.ct._volumes import (
    RSPECT_EXAM,
    InspectAdapter,
    Kits23Adapter,
    LndbAdapter,
    RspectAdapter,
    inspect_pe_type,
    nodule_slices,
    rspect_slice_label,
    window_label,
)
from climb.io.volume import read_nifti
from climb.prepare.pipeline import prepare
from climb.store import open_store
from tests.conftest import shared_fixture
from tests.io.ct_fixtures import write_ct_series, write_mhd, write_nifti


def _vol(nz: int, n: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-1024, 1500, (nz, n, n)).astype(np.float32)


def test_label_rules() -> None:
    assert [
        inspect_pe_type(*t) for t in [(0, 1, 1), (1, 1, 1), (1, 1, 0), (1, 0, 1), (1, 0, 0)]
    ] == [
        0,
        1,
        2,
        3,
        4,
    ]
    assert [rspect_slice_label(0, 1), rspect_slice_label(1, 1), rspect_slice_label(1, 0)] == [
        0,
        1,
        2,
    ]
    assert nodule_slices(10.4, 2.0, 1.0) == (8, 12)  # small: centre +- 2
    assert nodule_slices(10, 8.0, 1.25) == (6, 14)  # big: +- ceil(4 / 1.25)
    assert window_label(0, 24, [(22, 26, False)]) == [1, 0]  # slices 22, 23 overlap
    assert window_label(0, 24, [(23, 27, True)]) == [0, 0]  # only slice 23
    assert window_label(12, 24, [(23, 27, True)]) == [0, 1]


def test_kits23_real_json_generated_nifti(tmp_path: Path) -> None:
    cases = json.loads((shared_fixture("kits23") / "kits23.json").read_text())
    raw = tmp_path / "raw" / "kits23"
    (raw / "dataset").mkdir(parents=True)
    (raw / "dataset" / "kits23.json").symlink_to(shared_fixture("kits23") / "kits23.json")
    nulls = [c["case_id"] for c in cases if c.get("malignant") is None]
    benign = [c["case_id"] for c in cases if c.get("malignant") is False][:2]
    malignant = [c["case_id"] for c in cases if c.get("malignant") is True][:3]
    assert nulls and len(benign) == 2
    chosen = [*benign, *malignant, nulls[0]]
    for k, cid in enumerate(chosen):
        d = raw / "dataset" / cid
        d.mkdir()
        hu = _vol(6, 32, seed=k)
        write_nifti(d / "imaging.nii.gz", hu, (3.0, 0.8, 0.8))
        if k != 1:  # case 1 has no segmentation
            seg = np.zeros(hu.shape, dtype=np.uint8)
            seg[2:4, 8:20, 8:20] = 1
            seg[3, 10:14, 10:14] = 2
            write_nifti(d / "segmentation.nii.gz", seg, (3.0, 0.8, 0.8))
    bad = raw / "dataset" / malignant[-1] / "imaging.nii.gz"
    bad.write_bytes(b"corrupt")
    res = prepare("kits23", tmp_path, adapter=Kits23Adapter(size=16), splits="climb")
    reasons = sorted(q["reason"] for q in res.quarantined)
    assert len(reasons) == 2
    assert f"dataset/{malignant[-1]}/imaging.nii.gz: not a readable NIfTI" in reasons[0]
    assert f"no 'malignant' value for {nulls[0]} in kits23.json (labels missing)" in reasons[1]
    st = open_store(res.store)
    df = st.samples.set_index("sample_id")
    assert sorted(df.index) == sorted([*benign, *malignant[:2]])
    assert [df.loc[c, "label__malignancy"] for c in benign] == [0, 0]
    assert [df.loc[c, "label__malignancy"] for c in malignant[:2]] == [1, 1]
    labelled = [c["case_id"] for c in cases if c.get("malignant") is not None]
    cut = int(0.75 * len(labelled))
    for c in df.index:
        assert df.loc[c, "split"] == ("train" if labelled.index(c) < cut else "test")
    assert st.fields["ct"]["dtype"] == "int16" and st.fields["ct"]["shape"] == [None, 16, 16]
    i0 = int(df.loc[benign[0], "index"])
    ct = st.read("ct", [i0])[0]
    m = st.read("mask", [i0])[0]
    assert ct.shape == (6, 16, 16) and m.shape == ct.shape
    assert set(np.unique(m)) == {0, 1, 2}
    src = read_nifti(raw / "dataset" / benign[0] / "imaging.nii.gz")
    assert abs(float(ct.mean()) - float(src.array.mean())) < 30  # HU kept (resized, not windowed)
    assert (
        df.loc[benign[0], "spacing_x"] == pytest.approx(1.6)
        and df.loc[benign[0], "spacing_z"] == 3.0
    )
    assert df.loc[benign[0], "orig_shape"] == "6,32,32" and df.loc[benign[0], "n_slices"] == 6
    i1 = int(df.loc[benign[1], "index"])
    assert (st.read("mask", [i1])[0] == 255).all()
    assert "no segmentation.nii.gz" in df.loc[benign[1], "mask_issue"]


def test_inspect_rule_and_impressions(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "inspect"
    (raw / "CTPA").mkdir(parents=True)
    rows = [
        ("PE1", 0, 0, 0),
        ("PE2", 1, 1, 1),
        ("PE3", 1, 1, 0),
        ("PE4", 1, 0, 1),
        ("PE5", 1, 0, 0),
    ]
    with (raw / "Final_Impressions_labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["impression_id", "pe_positive", "pe_acute", "pe_subsegmentalonly", "impressions"]
        )
        for r in rows:
            w.writerow([*r, f"impression of {r[0]}"])
        w.writerow(["PE6", "", 0, 0, "no label"])
    for k, r in enumerate([*rows, ("PE6",), ("PE7",)]):
        write_nifti(raw / "CTPA" / f"{r[0]}.nii.gz", _vol(4, 16, k), (2.0, 1.0, 1.0))
    res = prepare("inspect", tmp_path, adapter=InspectAdapter(size=16), splits="climb")
    reasons = sorted(q["reason"] for q in res.quarantined)
    assert reasons == [
        "CTPA/PE6.nii.gz: pe_positive missing in Final_Impressions_labels.csv",
        "CTPA/PE7.nii.gz: not in Final_Impressions_labels.csv (labels missing)",
    ]
    df = open_store(res.store).samples.set_index("sample_id")
    assert df["label__pe_type"].to_dict() == {"PE1": 0, "PE2": 1, "PE3": 2, "PE4": 3, "PE5": 4}
    assert df.loc["PE3", "impression"] == "impression of PE3" and df.loc["PE1", "label__pe"] == 0
    assert df["split"].tolist() == ["train"] * 4 + ["test"]  # first 75% of the 6 rows


def _rspect_study(raw: Path, k: int, nz: int, pe: list[int], chronic: int, rows: list) -> str:
    study = f"1.2.3.{k}"
    series = f"1.2.3.{k}.1"
    files = write_ct_series(
        raw / "train" / study / series, _vol(nz, 16, k), study_uid=study, series_uid=series
    )
    import pydicom

    for f in files:
        ds = pydicom.dcmread(str(f), stop_before_pixels=True)
        sop = ds.SOPInstanceUID
        f.rename(f.parent / f"{sop}.dcm")
        z = round(float(ds.ImagePositionPatient[2]) / 2.5)
        ex = {e: 0 for e in RSPECT_EXAM}
        ex["negative_exam_for_pe"] = int(not any(pe))
        ex["chronic_pe"] = chronic
        rows.append({"StudyInstanceUID": study, "SeriesInstanceUID": series, "SOPInstanceUID": sop,
                     "pe_present_on_image": pe[z], **ex})  # fmt: skip
    return study


def test_rspect_study_level_split_and_leakage(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "rspect"
    rows: list[dict] = []
    studies = []
    for k in range(12):
        nz = 5
        pe = [0, 0, 1, 1, 0] if k % 3 else [0] * nz
        studies.append(_rspect_study(raw, k, nz, pe, chronic=int(k % 3 == 2), rows=rows))
    # a study whose series has a missing slice, and one folder with no train.csv rows
    bad = _rspect_study(raw, 50, 5, [0] * 5, 0, rows)
    victim = sorted((raw / "train" / bad).rglob("*.dcm"))
    import pydicom

    zs = {
        p: float(pydicom.dcmread(str(p), stop_before_pixels=True).ImagePositionPatient[2])
        for p in victim
    }
    [p.unlink() for p, z in zs.items() if z == 5.0]
    shutil.copytree(raw / "train" / studies[0], raw / "train" / "9.9.9")
    with (raw / "train.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    res = prepare("rspect", tmp_path, adapter=RspectAdapter(size=16))
    reasons = sorted(q["reason"] for q in res.quarantined)
    assert len(reasons) == 2
    assert "missing slice(s) between" in reasons[0] and bad in reasons[0]
    assert reasons[1] == "train/9.9.9: study not in train.csv (labels missing)"
    st = open_store(res.store)
    df = st.samples.set_index("sample_id")
    assert len(df) == 12 and st.meta["splits"]["leakage_check"] == "passed"
    assert df["patient_id"].tolist() == df.index.tolist()  # the study is the group
    assert df.groupby("split").size().sum() == 12 and (df.index.value_counts() == 1).all()
    for k, s in enumerate(studies):
        assert df.loc[s, "label__pe_study"] == (0 if k % 3 == 0 else (1 if k % 3 == 2 else 2))
        sl = st.read("pe_slice", [int(df.loc[s, "index"])])[0]
        c = rspect_slice_label(1, int(k % 3 == 2))
        exp = [0] * 5 if k % 3 == 0 else [0, 0, c, c, 0]  # slices in position order
        assert sl.tolist() == exp
    ct = st.read("ct", [0])[0]
    assert ct.shape == (5, 16, 16) and ct.dtype == np.int16
    # the slice field lines up with the stored slices (ordered by position)
    assert df["n_slices"].tolist() == [5] * 12


def test_lndb_windows_and_labels(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "lndb"
    (raw / "data").mkdir(parents=True)
    sp = (1.25, 0.7, 0.7)
    for sid, nz in ((1, 48), (2, 60), (3, 20)):
        write_mhd(raw / "data" / f"LNDb-{sid:04d}.mhd", _vol(nz, 16, sid).astype(np.int16), sp)
    (raw / "data" / "LNDb-0004.mhd").write_text("ObjectType = Image\nNDims = 3\n")
    with (raw / "trainNodules_gt.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["LNDbID", "RadID", "FindingID", "x", "y", "z", "Nodule", "Volume", "AgrLevel"])
        w.writerow([1, 1, 1, 0, 0, 30 * 1.25, 1, 4 / 3 * np.pi * 4**3, 2])  # big, slice 30 +- 4
        w.writerow([1, 1, 2, 0, 0, 5 * 1.25, 1, "", 1])  # small, slice 5 +- 2
        w.writerow([1, 1, 3, 0, 0, 40 * 1.25, 0, 100, 1])  # not a nodule
        w.writerow([2, 1, 1, 0, 0, 11 * 1.25, 1, 1.0, 1])  # small (d = 1.24 mm), slices 9..13
    res = prepare("lndb", tmp_path, adapter=LndbAdapter(size=16), splits="climb")
    reasons = sorted(q["reason"] for q in res.quarantined)
    assert len(reasons) == 2
    assert reasons[0] == "data/LNDb-0003.mhd: 20 slices, fewer than one window of 24"
    assert reasons[1] == "data/LNDb-0004.mhd: unreadable MetaImage header"
    st = open_store(res.store)
    df = st.samples.set_index("sample_id")
    assert st.fields["ct"]["shape"] == [24, 16, 16]
    lab = {k: list(v) for k, v in df["label__nodule_size"].items()}
    # scan 1: 48 slices -> windows at 0, 12, 24; scan 2: 60 slices -> 0, 12, 24, 36
    assert lab["LNDb-0001_w000"] == [1, 0]  # small 3..7; big 26..34 starts after slice 23
    assert lab["LNDb-0001_w001"] == [0, 1] and lab["LNDb-0001_w002"] == [0, 1]
    # scan 2's small nodule covers slices 9..13: windows 0 and 12 (slices 12, 13) see it
    assert [lab[f"LNDb-0002_w{k:03d}"] for k in range(4)] == [[1, 0], [1, 0], [0, 0], [0, 0]]
    assert len([k for k in lab if k.startswith("LNDb-0002")]) == (60 - 24) // 12 + 1
    assert df["label__has_nodule"].to_dict()["LNDb-0001_w001"] == 1
    x = st.read("ct", [int(df.loc["LNDb-0001_w001", "index"])])[0]
    from climb.io.volume import read_metaimage, resize_slices

    full = read_metaimage(raw / "data" / "LNDb-0001.mhd").array
    np.testing.assert_array_equal(x, full[12:36])  # 16 px: no resize
    assert resize_slices(full, (16, 16)).shape == full.shape
    # climb split over the 4 sorted scan ids: int(0.75 * 4) = 3 first train (1, 2, 3), 4 test
    assert set(df["split"]) == {"train"}
    climb = prepare("lndb", tmp_path, adapter=LndbAdapter(size=16), label_policy="climb")
    n2 = (open_store(climb.store).samples["scan_id"] == "2").sum()
    assert n2 == (60 - 24) // 12  # CLIMB's count drops the last fitting window
