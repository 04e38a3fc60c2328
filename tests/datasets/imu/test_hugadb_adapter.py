"""HuGaDB v2 (the real recording + generated multi-participant files) through climb prepare."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from climb.datasets.imu._adapters import HugadbAdapter
from climb.io.hugadb import read_recording
from climb.prepare.pipeline import prepare
from climb.store import open_store
from tests.conftest import shared_fixture


def test_real_recording_windows(tmp_path: Path) -> None:
    src = shared_fixture("hugadb")
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "hugadb").symlink_to(src, target_is_directory=True)
    res = prepare("hugadb", tmp_path)
    st = open_store(res.store)
    df = st.samples
    assert len(df) == 48 and not res.quarantined
    assert st.fields["imu"]["shape"] == [38, 128]
    assert set(df["patient_id"]) == {"01"} and set(df["split"]) == {df["split"].iloc[0]}
    rec = read_recording(src / "HuGaDB_v2_various_01_00.txt")
    row = df.iloc[3]
    x = st.read("imu", [int(row["index"])])[0]
    s = int(row["start"])
    np.testing.assert_array_equal(x, rec.data[s : s + 128].T)
    acts = rec.activity[s : s + 128]
    assert row["label__activity12"] == np.bincount(acts).argmax() - 1
    # only sitting/standing/sitting down/standing up in this file: activity4 always set
    assert (df["label__activity4"] >= 0).all()
    assert ((df["purity"] > 0) & (df["purity"] <= 1)).all()


def _fake(folder: Path, subject: str, n: int, act: int) -> None:
    cols = "\t".join([f"c{i}" for i in range(38)] + ["act"])
    rng = np.random.default_rng(int(subject))
    rows = "\n".join(
        "\t".join(map(str, [*rng.integers(-100, 100, 38).tolist(), act])) for _ in range(n)
    )
    (folder / f"HuGaDB_v2_walking_{subject}_00.txt").write_text(
        f"#Activity\twalking\n#ActivityID\t{act}\n#Date\tx\n{cols}\n{rows}\n"
    )


def test_subject_split_and_short_file(tmp_path: Path) -> None:
    d = tmp_path / "raw" / "hugadb"
    d.mkdir(parents=True)
    for i in range(1, 11):
        _fake(d, f"{i:02d}", 100, act=1 if i % 2 else 9)
    _fake(d, "11", 20, act=1)  # shorter than one window
    res = prepare("hugadb", tmp_path, adapter=HugadbAdapter(window=32, stride=32))
    df = open_store(res.store).samples
    assert len(df) == 10 * 3
    assert [q["reason"].split(",")[0] for q in res.quarantined] == ["recording has 20 frames"]
    per_subject = df.groupby("patient_id")["split"].nunique()
    assert (per_subject == 1).all()  # subject-level
    assert Counter(df.groupby("patient_id")["split"].first()) == {"train": 7, "val": 2, "test": 1}
    assert set(df["label__activity12"]) == {0, 8} and set(df["label__activity4"]) == {-1}
    st = open_store(res.store)
    assert st.meta["splits"]["rule"] == "subject" and st.meta["splits"]["window"] == 32
