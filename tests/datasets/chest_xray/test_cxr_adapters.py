from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from climb.core.adapter import PrepareOptions
from climb.datasets.chest_xray._adapters import CHEXPERT14, VINDR28, apply_uncertainty
from climb.prepare.pipeline import prepare, resolve_adapter
from tests.io.imaging_layouts import (
    gradient,
    write_csv,
    write_dicom,
    write_image,
    write_truncated_jpeg,
)

# CheXpert order vs MIMIC's alphabetical order: a label must land in the right class by NAME
MIMIC_ORDER = sorted(CHEXPERT14)


def _chexpert_layout(raw: Path) -> None:
    base = raw / "CheXpert-v1.0-small"
    header = ["Path", "Sex", "Age", "Frontal/Lateral", "AP/PA", *CHEXPERT14]
    rows = []
    # patient1: No Finding=1 (blank elsewhere); patient2: Atelectasis=-1, Edema=1, blank others
    vals = {
        "train/patient00001/study1/view1_frontal.jpg": {"No Finding": "1.0"},
        "train/patient00002/study1/view1_frontal.jpg": {
            "Atelectasis": "-1.0",
            "Edema": "1.0",
            "Cardiomegaly": "0.0",
        },
        "train/patient00002/study2/view1_frontal.jpg": {"Support Devices": "1.0"},
    }
    for rel, v in vals.items():
        write_image(base / rel, gradient(48, 40), quality=95)
        rows.append(
            [
                f"CheXpert-v1.0-small/{rel}",
                "Male",
                "50",
                "Frontal",
                "PA",
                *[v.get(c, "") for c in CHEXPERT14],
            ]
        )
    write_csv(base / "train.csv", header, rows)
    write_truncated_jpeg(base / "valid/patient64541/study1/view1_frontal.jpg")
    write_csv(
        base / "valid.csv",
        header,
        [
            [
                "CheXpert-v1.0-small/valid/patient64541/study1/view1_frontal.jpg",
                "Female",
                "70",
                "Frontal",
                "AP",
                *(["0.0"] * 14),
            ]
        ],
    )


def test_uncertainty_policies() -> None:
    v = [1, 0, -1, None]
    assert apply_uncertainty(v, "uzeros") == [1, 0, 0, 0]
    assert apply_uncertainty(v, "uones") == [1, 0, 1, 0]
    assert apply_uncertainty(v, "uignore") == [1, 0, -1, 0]


def test_chexpert_prepare_policies(tmp_path: Path) -> None:
    _chexpert_layout(tmp_path / "raw" / "chexpert")
    res = prepare("chexpert", tmp_path)
    assert res.counts == {"train": 3}
    assert len(res.quarantined) == 1 and "truncated" in res.quarantined[0]["reason"]
    df = pd.read_parquet(res.store / "samples.parquet").set_index("sample_id")
    p2 = df.loc["train/patient00002/study1/view1_frontal.jpg"]
    ai, ei = CHEXPERT14.index("Atelectasis"), CHEXPERT14.index("Edema")
    assert p2["label__chexpert14"][ai] == 0 and p2["label__chexpert14_uones"][ai] == 1
    assert p2["label__chexpert14_uignore"][ai] == -1 and p2["label__chexpert14"][ei] == 1
    assert p2["patient_id"] == "patient00002"
    p1 = df.loc["train/patient00001/study1/view1_frontal.jpg"]
    assert list(p1["label__chexpert14"]) == [1] + [0] * 13  # No Finding kept (bug NOT reproduced)
    # climb policy reproduces CHEXPERT_LABELS_IDX: slot 0 holds Atelectasis
    res = prepare("chexpert", tmp_path, label_policy="climb")
    df = pd.read_parquet(res.store / "samples.parquet").set_index("sample_id")
    assert df.loc["train/patient00001/study1/view1_frontal.jpg"]["label__chexpert14"][0] == 0
    meta = json.loads((res.store / "dataset.json").read_text())
    assert meta["fields"]["image"]["shape"] == [1, 256, 256]


def test_mimic_columns_by_name_and_splits(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "mimic_cxr"
    base = raw / "physionet.org/files/mimic-cxr-jpg/2.0.0"
    lab_rows = [["10000032", "50414267", *["" for _ in MIMIC_ORDER]]]
    lab_rows[0][2 + MIMIC_ORDER.index("Pneumothorax")] = "1.0"
    lab_rows[0][2 + MIMIC_ORDER.index("Edema")] = "-1.0"
    write_csv(
        base / "mimic-cxr-2.0.0-chexpert.csv", ["subject_id", "study_id", *MIMIC_ORDER], lab_rows
    )
    split_rows = [
        ["d1", "50414267", "10000032", "train"],
        ["d2", "50414267", "10000032", "train"],
        ["d3", "59999999", "10000099", "validate"],
    ]
    write_csv(
        base / "mimic-cxr-2.0.0-split.csv",
        ["dicom_id", "study_id", "subject_id", "split"],
        split_rows,
    )
    for d, st, sub, _ in split_rows:
        write_image(base / f"files/p{sub[:2]}/p{sub}/s{st}/{d}.jpg", gradient(40, 40), quality=90)
    a = resolve_adapter("mimic_cxr")
    refs = a.list_records(raw, PrepareOptions(splits="official"))
    r1 = next(r for r in refs if r.record_id == "d1")
    lab = r1.info["labels"]
    assert lab["chexpert14"][CHEXPERT14.index("Pneumothorax")] == 1
    assert lab["chexpert14_uignore"][CHEXPERT14.index("Edema")] == -1
    assert lab["chexpert14_csv_order"][MIMIC_ORDER.index("Pneumothorax")] == 1
    r3 = next(r for r in refs if r.record_id == "d3")
    assert r3.info["split"] == {"official": "val", "climb": "test"}
    assert r3.info["labels"]["chexpert14"] == [-1] * 14  # unlabelled study: masked
    res = prepare("mimic_cxr", tmp_path, splits="climb", label_policy="climb")
    assert res.counts == {"train": 2} and "no CheXpert labels" in res.quarantined[0]["reason"]


def test_vindr_cxr_dicom_and_mapping(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "vindr_cxr"
    cols = [c if c != "Other diseases" else "Other disease" for c in VINDR28]
    rows = []
    for rad, on in (("R1", ["Aortic enlargement"]), ("R2", ["Emphysema"]), ("R3", [])):
        rows.append(["img1", rad, *[1 if c in on else 0 for c in VINDR28]])
    write_csv(raw / "annotations/image_labels_train.csv", ["image_id", "rad_id", *VINDR28], rows)
    write_csv(
        raw / "annotations/image_labels_test.csv",
        ["image_id", "rad_id", *cols],
        [["img2", "R8", *[1 if c == "No finding" else 0 for c in VINDR28]]],
    )
    a16 = (np.arange(64 * 64).reshape(64, 64) * 3 % 4096).astype(np.uint16)
    write_dicom(
        raw / "train/img1.dicom",
        a16,
        bits_stored=12,
        window=(2048, 4096),
        photometric="MONOCHROME1",
    )
    write_dicom(raw / "test/img2.dicom", a16, bits_stored=12)
    res = prepare("vindr_cxr", tmp_path)
    assert res.counts == {"test": 1, "train": 1} and not res.quarantined
    df = pd.read_parquet(res.store / "samples.parquet").set_index("sample_id")
    f = df.loc["img1", "label__findings28"]
    assert f[VINDR28.index("Aortic enlargement")] == 1 and f[VINDR28.index("Emphysema")] == 1
    cx = df.loc["img1", "label__chexpert14"]
    assert cx[CHEXPERT14.index("Enlarged Cardiomediastinum")] == 1
    assert cx[CHEXPERT14.index("Support Devices")] == -1 and sum(v == 1 for v in cx) == 1
    assert json.loads(df.loc["img1", "native_labels"])["unmapped_to_chexpert14"] == ["Emphysema"]
    assert df.loc["img2", "label__chexpert14"][0] == 1  # No finding
    assert "window" in df.loc["img1", "intensity_rule"]


def test_covid19_and_coronahack(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "covid19_cxr"
    for split in ("TrainData", "ValData"):
        for cls in ("Normal", "BacterialPneumonia", "ViralPneumonia", "COVID-19"):
            write_image(raw / split / cls / "a.png", gradient(30, 40, 3))
    res = prepare("covid19_cxr", tmp_path)
    assert res.counts == {"test": 4, "train": 4}
    df = pd.read_parquet(res.store / "samples.parquet")
    assert sorted(df["label__covid4"]) == [0, 0, 1, 1, 2, 2, 3, 3]

    raw = tmp_path / "raw" / "coronahack"
    header = [
        "",
        "X_ray_image_name",
        "Label",
        "Dataset_type",
        "Label_2_Virus_category",
        "Label_1_Virus_category",
    ]
    rows = [
        ["0", "n.jpeg", "Normal", "TRAIN", "", ""],
        ["1", "b.jpeg", "Pnemonia", "TRAIN", "", "bacteria"],
        ["2", "v.jpeg", "Pnemonia", "TEST", "COVID-19", "Virus"],
        ["3", "s.jpeg", "Pnemonia", "TRAIN", "", "Stress-Smoking"],
    ]
    write_csv(raw / "Chest_xray_Corona_Metadata.csv", header, rows)
    d = raw / "Coronahack-Chest-XRay-Dataset/Coronahack-Chest-XRay-Dataset"
    for name, split in (
        ("n.jpeg", "train"),
        ("b.jpeg", "train"),
        ("v.jpeg", "test"),
        ("s.jpeg", "train"),
    ):
        write_image(d / split / name, gradient(), fmt="JPEG")
    res = prepare("coronahack", tmp_path)
    assert res.counts == {"test": 1, "train": 2}
    assert "Stress-Smoking" in res.quarantined[0]["reason"]
    df = pd.read_parquet(res.store / "samples.parquet").set_index("sample_id")
    assert (
        df.loc["test/v.jpeg", "label__pneumonia3"] == 2
        and df.loc["train/b.jpeg", "label__pneumonia3"] == 1
    )


@pytest.mark.parametrize("key", ["mimic_cxr", "chexpert", "vindr_cxr", "covid19_cxr", "coronahack"])
def test_missing_layout_is_a_clear_error(tmp_path: Path, key: str) -> None:
    from climb.core.errors import ClimbError

    (tmp_path / "raw" / key).mkdir(parents=True)
    (tmp_path / "raw" / key / "readme.txt").write_text("x")
    with pytest.raises(ClimbError) as e:
        prepare(key, tmp_path)
    assert e.value.fix
