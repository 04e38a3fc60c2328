from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from climb.datasets.dermoscopy._adapters import DERM5, derm5_index
from climb.prepare.pipeline import prepare
from tests.conftest import shared_fixture
from tests.io.imaging_layouts import gradient, write_csv, write_image, write_truncated_jpeg


def test_ham10000_real_metadata_label_counts() -> None:
    meta = pd.read_csv(shared_fixture("ham10000") / "HAM10000_metadata.csv")
    assert len(meta) == 10015
    c = Counter(DERM5[derm5_index("ham10000", dx)] for dx in meta["dx"])  # type: ignore[index]
    # HAM10000: mel 1113, nv 6705, bcc 514, akiec 327, bkl 1099 + df 115 + vasc 142
    assert c == {"MEL": 1113, "NV": 6705, "BCC": 514, "AKIEC": 327, "OTHER": 1356}


def test_ham10000_prepare_lesion_level(tmp_path: Path) -> None:
    real = pd.read_csv(shared_fixture("ham10000") / "HAM10000_metadata.csv")
    sub = real[real["lesion_id"].isin(real["lesion_id"].drop_duplicates().iloc[:12])]
    raw = tmp_path / "raw" / "ham10000"
    raw.mkdir(parents=True)
    sub.to_csv(raw / "HAM10000_metadata.csv", index=False)
    for i, iid in enumerate(sub["image_id"]):
        folder = "HAM10000_images_part_1" if i % 2 else "HAM10000_images_part_2"
        write_image(raw / folder / f"{iid}.jpg", gradient(45, 60, 3, seed=i), quality=90)
    res = prepare("ham10000", tmp_path, seed=3)
    df = pd.read_parquet(res.store / "samples.parquet")
    assert len(df) == len(sub) and not res.quarantined
    assert df.groupby("patient_id")["split"].nunique().max() == 1  # lesion-level
    assert set(df["patient_id"]) == set(sub["lesion_id"])
    m = sub.set_index("image_id")["dx"]
    for _, r in df.iterrows():
        assert DERM5[r["label__derm5"]] == {"bkl": "OTHER", "df": "OTHER", "vasc": "OTHER"}.get(
            m[r["sample_id"]], m[r["sample_id"]].upper()
        )
    assert len(df["pixel_mean"].iloc[0]) == 3


def test_isic2020_and_pad_ufes(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "isic2020"
    h = [
        "image_name",
        "patient_id",
        "sex",
        "age_approx",
        "anatom_site_general_challenge",
        "diagnosis",
        "benign_malignant",
        "target",
    ]
    rows = [
        [
            f"ISIC_{i:07d}",
            f"IP_{i // 2}",
            "male",
            "45",
            "torso",
            "nevus",
            "malignant" if i == 0 else "benign",
            "1" if i == 0 else "0",
        ]
        for i in range(6)
    ]
    write_csv(raw / "ISIC_2020_Training_GroundTruth.csv", h, rows)
    for r in rows[:5]:
        write_image(raw / "train" / f"{r[0]}.jpg", gradient(30, 30, 3))
    write_truncated_jpeg(raw / "train" / f"{rows[5][0]}.jpg")
    res = prepare("isic2020", tmp_path)
    assert sum(res.counts.values()) == 5 and "truncated" in res.quarantined[0]["reason"]
    df = pd.read_parquet(res.store / "samples.parquet").set_index("sample_id")
    assert (
        df.loc["ISIC_0000000", "label__malignant"] == 1
        and df.loc["ISIC_0000000", "patient_id"] == "IP_0"
    )
    assert df.groupby("patient_id")["split"].nunique().max() == 1

    raw = tmp_path / "raw" / "pad_ufes_20"
    h = ["patient_id", "lesion_id", "diagnostic", "region", "age", "img_id"]
    dx = ["ACK", "BCC", "MEL", "NEV", "SCC", "SEK"]
    rows = [[f"PAT_{i}", str(i), d, "ARM", "50", f"PAT_{i}_{i}_1.png"] for i, d in enumerate(dx)]
    write_csv(raw / "metadata.csv", h, rows)
    for r in rows:
        write_image(raw / "images" / "imgs_part_1" / r[5], gradient(30, 40, 3))
    res = prepare("pad_ufes_20", tmp_path)
    df = pd.read_parquet(res.store / "samples.parquet").set_index("sample_id")
    got = {
        df.loc[r[5][:-4], "label__diagnostic6"]: DERM5[df.loc[r[5][:-4], "label__derm5"]]
        for r in rows
    }
    assert got == {0: "AKIEC", 1: "BCC", 2: "MEL", 3: "NV", 4: "AKIEC", 5: "OTHER"}
