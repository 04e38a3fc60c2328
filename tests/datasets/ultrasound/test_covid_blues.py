"""COVID-BLUES: the 47 real videos of 8 patients through climb prepare (ragged uint8 video)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np

from climb.datasets.ultrasound._videos import CovidBluesAdapter
from climb.io.video import read_video
from climb.prepare.pipeline import prepare
from climb.store import open_store
from tests.conftest import shared_fixture


def _raw(tmp_path: Path) -> Path:
    src = shared_fixture("covid_blues")
    raw = tmp_path / "raw" / "covid_blues"
    raw.parent.mkdir(parents=True)
    raw.symlink_to(src, target_is_directory=True)
    return src


def test_real_videos_patient_level(tmp_path: Path) -> None:
    src = _raw(tmp_path)
    res = prepare("covid_blues", tmp_path, adapter=CovidBluesAdapter(size=64), workers=1)
    st = open_store(res.store)
    df = st.samples
    assert len(df) == 47 and not res.quarantined
    assert st.fields["video"]["ragged"] and st.fields["video"]["shape"] == [None, 64, 64, 1]
    assert df["patient_id"].nunique() == 8
    assert (df.groupby("patient_id")["split"].nunique() == 1).all()
    assert st.meta["splits"]["leakage_check"] == "passed"
    pcr = {}
    with (src / "clinical_variables.csv").open() as f:
        for row in csv.DictReader(f):
            pcr[row["patient_id"]] = int(float(row["cov_test"]))
    for _, r in df.iterrows():
        assert r["label__cov_test"] == pcr[r["patient_id"]]
    assert df.groupby("label__cov_test")["patient_id"].nunique().to_dict() == {0: 4, 1: 4}
    # frames equal a direct PyAV decode of the same file at the same size
    row = df[df["sample_id"] == "patient_12_L1"].iloc[0]
    v = st.read("video", [int(row["index"])])[0]
    ref = read_video(src / "lus_videos" / "patient_12_L1.mp4", size=(64, 64), gray=True)
    np.testing.assert_array_equal(v, ref.frames)
    assert row["n_frames"] == v.shape[0] == row["orig_frames"] == row["header_frames"]
    assert row["fps"] == 25 and row["orig_height"] == 350 and row["frame_index"] == ""
    assert (df["label__severity"].between(-1, 3)).all() and (df["label__severity"] >= 0).any()
    assert df["label__age"].notna().all()


def test_climb_split_and_bad_inputs(tmp_path: Path) -> None:
    src = shared_fixture("covid_blues")
    raw = tmp_path / "raw" / "covid_blues"
    (raw / "lus_videos").mkdir(parents=True)
    for name in ("clinical_variables.csv", "severity.csv"):
        (raw / name).symlink_to(src / name)
    for p in sorted((src / "lus_videos").glob("patient_*_L1.mp4")):
        (raw / "lus_videos" / p.name).symlink_to(p)
    (raw / "lus_videos" / "patient_12_R9.mp4").write_bytes(b"nope")  # bad name
    (raw / "lus_videos" / "patient_999_L1.mp4").symlink_to(src / "lus_videos/patient_12_L1.mp4")
    (raw / "lus_videos" / "patient_12_L1_2.mp4").write_bytes(b"\x00" * 512)  # corrupt
    res = prepare("covid_blues", tmp_path, adapter=CovidBluesAdapter(size=32), splits="climb")
    reasons = sorted(q["reason"] for q in res.quarantined)
    assert len(reasons) == 3
    assert "lus_videos/patient_12_L1_2.mp4: cannot open as a video" in reasons[0]
    assert "patient_12_R9.mp4: file name is not" in reasons[1]
    assert "patient 999 is not in clinical_variables.csv (labels missing)" in reasons[2]
    df = open_store(res.store).samples
    pids = sorted(df["patient_id"].unique(), key=int)
    cut = int(0.75 * len(pids))
    assert df.set_index("patient_id")["split"].to_dict() == {
        p: ("train" if i < cut else "test") for i, p in enumerate(pids)
    }
    shutil.rmtree(tmp_path / "stores")
