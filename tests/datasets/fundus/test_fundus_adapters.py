from __future__ import annotations

from pathlib import Path

import pandas as pd

from climb.core.adapter import PrepareOptions
from climb.datasets.fundus._adapters import davis_to_dr5, dr5_index
from climb.prepare.pipeline import prepare, resolve_adapter
from tests.io.imaging_layouts import gradient, write_csv, write_image


def test_grade_tables() -> None:
    assert [dr5_index("aptos2019", g) for g in ("0", "1", "2", "3", "4", "5")] == [
        0,
        1,
        2,
        3,
        4,
        None,
    ]
    assert dr5_index("messidor2", "3.0") == 3
    assert davis_to_dr5("sdr") == ("Mild", "Moderate") and davis_to_dr5("PDR") == ("Proliferative",)


def test_messidor2_prepare(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "messidor2"
    rows = [[f"img{i}.png", str(i % 5), str(i % 2), "1"] for i in range(10)] + [
        ["bad.jpg", "", "", "0"]
    ]
    write_csv(
        raw / "messidor_data.csv",
        ["image_id", "adjudicated_dr_grade", "adjudicated_dme", "adjudicated_gradable"],
        rows,
    )
    for r in rows[:10]:
        write_image(raw / "IMAGES" / r[0], gradient(40, 60, 3))
    write_image(raw / "IMAGES" / "bad.JPG", gradient(40, 60, 3), fmt="JPEG")
    res = prepare("messidor2", tmp_path, splits="climb")
    assert res.counts == {"test": 5, "train": 5}  # int(0.8 * 2) = 1 of 2 per grade
    assert "ungradable" in res.quarantined[0]["reason"]
    df = pd.read_parquet(res.store / "samples.parquet").set_index("sample_id")
    assert df.loc["img7", "label__dr5"] == 2 and df.loc["img7", "label__dme"] == 1


def test_aptos_and_jichi_records(tmp_path: Path) -> None:
    raw = tmp_path / "aptos"
    write_csv(raw / "train.csv", ["id_code", "diagnosis"], [["a1", "0"], ["a2", "4"]])
    for n in ("a1", "a2"):
        write_image(raw / "train_images" / f"{n}.png", gradient(30, 30, 3))
    a = resolve_adapter("aptos2019")
    refs = a.list_records(raw, PrepareOptions())
    s = a.read_record(raw, refs[1], PrepareOptions())
    assert s.labels == {"dr5": 4} and s.arrays["image"].shape == (3, 256, 256)

    raw = tmp_path / "jichi"
    write_csv(
        raw / "list.csv",
        ["Image", "Davis_grading_of_one_figure", "Davis_grading_of_concatenated_figures"],
        [["1.jpg", "ndr", "ndr"], ["2.jpg", "ppdr", "pdr"], ["3.jpg", "xdr", "xdr"]],
    )
    for n in ("1", "2", "3"):
        write_image(raw / "dmr" / f"{n}.jpg", gradient(30, 30, 3))
    a = resolve_adapter("jichi")
    refs = {r.record_id: r for r in a.list_records(raw, PrepareOptions())}
    assert refs["2"].info["labels"] == {"davis4": 2} and refs["2"].info["native"]["dr5"] == [
        "Severe"
    ]
    assert "unknown Davis grade" in refs["3"].info["error"]
