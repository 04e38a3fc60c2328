from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from climb.prepare.pipeline import prepare
from tests.io.imaging_layouts import write_csv, write_image

HEADER = [
    "PatientNumber",
    "SliceNumber",
    "Intraventricular",
    "Intraparenchymal",
    "Subarachnoid",
    "Epidural",
    "Subdural",
    "No_Hemorrhage",
    "Fracture_Yes_No",
]


def test_hemorrhage_two_windows_patient_split(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "brain_ct_hemorrhage"
    rows = []
    for pid in (49, 50, 51, 52, 53):
        for sl in (1, 2):
            pos = pid == 50 and sl == 2
            rows.append([pid, sl, 0, int(pos), 0, 0, 0, int(not pos), int(pos)])
            d = raw / "Patients_CT" / f"{pid:03d}"
            write_image(d / "brain" / f"{sl}.jpg", np.full((40, 40), 100, dtype=np.uint8))
            if pos:  # hemorrhage slices need their mask (brain/<slice>_HGE_Seg.jpg)
                write_image(d / "brain" / f"{sl}_HGE_Seg.jpg", np.zeros((40, 40), np.uint8))
            if not (pid == 53 and sl == 2):
                write_image(d / "bone" / f"{sl}.jpg", np.full((40, 40), 200, dtype=np.uint8))
    write_csv(raw / "hemorrhage_diagnosis.csv", HEADER, rows)
    res = prepare("brain_ct_hemorrhage", tmp_path, seed=1)
    assert sum(res.counts.values()) == 9 and "missing file" in res.quarantined[0]["reason"]
    meta = json.loads((res.store / "dataset.json").read_text())
    assert meta["fields"]["image"]["shape"] == [2, 256, 256]
    assert meta["splits"]["leakage_check"] == "passed"
    df = pd.read_parquet(res.store / "samples.parquet").set_index("sample_id")
    r = df.loc["050_002"]
    assert r["label__hemorrhage"] == 1 and list(r["label__hemorrhage_type"]) == [0, 1, 0, 0, 0]
    assert r["label__fracture"] == 1 and df.loc["050_001", "label__hemorrhage"] == 0
    m = r["pixel_mean"]
    assert 0.2 < m[0] < m[1]  # brain window plane darker than bone plane here
    res2 = prepare("brain_ct_hemorrhage", tmp_path, splits="climb")
    df2 = pd.read_parquet(res2.store / "samples.parquet")
    assert df2.groupby("patient_id")["split"].nunique().max() == 1
