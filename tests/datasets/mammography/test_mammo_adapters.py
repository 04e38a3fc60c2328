from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydicom.dataset import Dataset

from climb.prepare.pipeline import prepare
from tests.io.imaging_layouts import write_csv, write_dicom


def mammo(seed: int, bits: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2**bits, size=(80, 60), dtype=np.uint16)


def test_vindr_mammo(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "vindr_mammo"
    header = [
        "study_id",
        "series_id",
        "image_id",
        "laterality",
        "view_position",
        "height",
        "width",
        "breast_birads",
        "breast_density",
        "split",
    ]
    rows = [
        ["s1", "x", "i1", "L", "CC", "80", "60", "BI-RADS 1", "DENSITY C", "training"],
        ["s1", "x", "i2", "L", "MLO", "80", "60", "BI-RADS 1", "DENSITY C", "training"],
        ["s2", "x", "i3", "R", "CC", "80", "60", "BI-RADS 5", "DENSITY A", "test"],
        ["s2", "x", "i4", "R", "MLO", "80", "60", "BI-RADS 7", "DENSITY A", "test"],
    ]
    write_csv(raw / "breast-level_annotations.csv", header, rows)
    for i, (st, _, iid, *_r) in enumerate(rows):
        write_dicom(
            raw / "images" / st / f"{iid}.dicom",
            mammo(i),
            bits_stored=12,
            photometric="MONOCHROME1" if i == 1 else "MONOCHROME2",
        )
    res = prepare("vindr_mammo", tmp_path)
    assert res.counts == {"test": 1, "train": 2}
    assert "unknown breast_birads" in res.quarantined[0]["reason"]
    df = pd.read_parquet(res.store / "samples.parquet").set_index("sample_id")
    assert df.loc["i3", "label__birads"] == 4 and df.loc["i1", "label__density"] == 2
    assert df.loc["i1", "patient_id"] == "s1"


def test_cbis_max_assessment_and_bi_rads0_dropped(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "cbis_ddsm"
    h = [
        "patient_id",
        "breast density",
        "left or right breast",
        "image view",
        "abnormality id",
        "abnormality type",
        "assessment",
        "pathology",
        "image file path",
    ]
    write_csv(
        raw / "mass_case_description_train_set.csv",
        h,
        [
            [
                "P_00001",
                "3",
                "LEFT",
                "CC",
                "1",
                "mass",
                "3",
                "BENIGN",
                "Mass-Training_P_00001_LEFT_CC/1.2/1.3/000000.dcm",
            ],
            [
                "P_00001",
                "3",
                "LEFT",
                "CC",
                "2",
                "mass",
                "5",
                "MALIGNANT",
                "Mass-Training_P_00001_LEFT_CC/1.2/1.3/000000.dcm",
            ],
            [
                "P_00002",
                "2",
                "RIGHT",
                "MLO",
                "1",
                "mass",
                "0",
                "BENIGN",
                "Mass-Training_P_00002_RIGHT_MLO/1.2/1.4/000000.dcm",
            ],
        ],
    )
    write_csv(
        raw / "calc_case_description_test_set.csv",
        h,
        [
            [
                "P_00003",
                "2",
                "LEFT",
                "MLO",
                "1",
                "calcification",
                "4",
                "BENIGN_WITHOUT_CALLBACK",
                "Calc-Test_P_00003_LEFT_MLO/1.2/1.5/000000.dcm",
            ],
        ],
    )
    for i, s in enumerate(
        [
            "Mass-Training_P_00001_LEFT_CC",
            "Mass-Training_P_00002_RIGHT_MLO",
            "Calc-Test_P_00003_LEFT_MLO",
        ]
    ):
        write_dicom(
            raw
            / "CBIS-DDSM"
            / s
            / "08-07-2016-DDSM-74994"
            / "1.000000-full mammogram images-24515"
            / "1-1.dcm",
            mammo(i, 16),
        )
    res = prepare("cbis_ddsm", tmp_path)
    assert res.counts == {"test": 1, "train": 1}
    assert "BI-RADS 0" in res.quarantined[0]["reason"]
    df = pd.read_parquet(res.store / "samples.parquet").set_index("sample_id")
    r = df.loc["Mass-Training_P_00001_LEFT_CC"]
    assert r["label__birads"] == 4 and r["label__pathology"] == 2 and r["patient_id"] == "P_00001"


def _cmmd_dicom(path: Path, side: str, view: str, seed: int) -> None:
    code = Dataset()
    code.CodeMeaning = "cranio-caudal" if view == "CC" else "medio-lateral oblique"
    write_dicom(
        path,
        mammo(seed, 8).astype(np.uint8),
        tags={"ImageLaterality": side, "ViewCodeSequence": [code]},
    )


@pytest.mark.parametrize("table", ["csv", "xlsx"])
def test_cmmd_views_axis(tmp_path: Path, table: str) -> None:
    raw = tmp_path / "raw" / "cmmd"
    header = ["ID1", "LeftRight", "Age", "number", "abnormality", "classification", "subtype"]
    rows = [
        ["D1-0001", "L", "44", "2", "calcification", "Benign", ""],
        ["D1-0001", "R", "44", "2", "mass", "Malignant", "Luminal A"],
        ["D1-0002", "R", "60", "1", "mass", "Malignant", ""],
        ["D1-0003", "L", "50", "1", "mass", "Benign", ""],
    ]
    if table == "csv":
        write_csv(raw / "CMMD_clinicaldata_revision.csv", header, rows)
    else:  # the file TCIA distributes (read with openpyxl)
        raw.mkdir(parents=True)
        frame = pd.DataFrame(rows, columns=header).replace("", None)
        frame["Age"] = frame["Age"].astype(int)
        frame.to_excel(raw / "CMMD_clinicaldata_revision.xlsx", index=False)
    base = raw / "CMMD"
    _cmmd_dicom(base / "D1-0001/07-18-2010-NA/1.000000-NA/1-1.dcm", "L", "CC", 1)
    _cmmd_dicom(base / "D1-0001/07-18-2010-NA/1.000000-NA/1-2.dcm", "L", "MLO", 2)
    _cmmd_dicom(base / "D1-0001/07-18-2010-NA/1.000000-NA/1-3.dcm", "R", "CC", 3)
    _cmmd_dicom(base / "D1-0001/07-18-2010-NA/1.000000-NA/1-4.dcm", "R", "MLO", 4)
    _cmmd_dicom(base / "D1-0002/07-18-2010-NA/1.000000-NA/1-1.dcm", "R", "MLO", 5)
    res = prepare("cmmd", tmp_path, splits="climb")
    assert sum(res.counts.values()) == 3 and "no DICOM" in res.quarantined[0]["reason"]
    meta = json.loads((res.store / "dataset.json").read_text())
    assert meta["fields"]["image"]["shape"] == [2, 256, 256]
    assert meta["fields"]["image"]["axes"] == ["view", "height", "width"]
    df = pd.read_parquet(res.store / "samples.parquet").set_index("sample_id")
    assert list(df.loc["D1-0002_R", "views_present"]) == ["MLO"]
    assert (
        df.loc["D1-0001_R", "label__malignancy"] == 1
        and df.loc["D1-0001_L", "label__malignancy"] == 0
    )
    import zarr

    arr = zarr.open_array(str(res.store / "arrays/image.zarr"), mode="r")
    i = int(df.loc["D1-0002_R", "index"])
    assert arr[i, 0].max() == 0 and arr[i, 1].max() > 0  # CC missing -> zeros; MLO present
    assert df.loc["D1-0001_L", "split"] == "train" and df.loc["D1-0002_R", "split"] == "train"
    # per-view train statistics of the uint8 images, in stored units (0..255)
    train = np.sort(df.loc[df["split"] == "train", "index"].to_numpy())
    block = arr[:][train].astype(np.float64)
    st = meta["stats"]["image"]
    assert st["axis"] == "view" and st["split"] == "train"
    np.testing.assert_allclose(st["mean"], block.mean(axis=(0, 2, 3)), atol=1e-5)
    np.testing.assert_allclose(st["std"], block.std(axis=(0, 2, 3)), atol=1e-5)
