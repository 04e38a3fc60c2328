"""Georgia and Chapman-Shaoxing: CLIMB's dictionary bugs vs the corrected policy, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from climb.datasets.ecg._synthetic import write_record
from climb.prepare.pipeline import prepare
from climb.store import open_store

CASES = {
    # key: {record: (codes, corrected multi-hot, climb multi-hot)}
    "georgia": {
        "E00001": (["164889003"], [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 0]),  # AF: case bug
        "E00002": (["426627000", "6374002"], [1, 1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]),
        "E00003": (["164934002", "39732003"], [0, 0, 0, 1, 0, 0, 1], [0, 0, 0, 1, 0, 0, 1]),
    },
    "chapman_shaoxing": {
        "JS00001": (
            ["59118001"],
            [0, 1, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
        ),  # 'nonspecific BBB'
        "JS00002": (["426177001", "164865005"], [1, 0, 1, 0, 0, 0, 0], [1, 0, 1, 0, 0, 0, 0]),
        "JS00003": (["251146004"], [0, 0, 0, 0, 1, 0, 0], [0, 1, 0, 0, 0, 0, 0]),  # 'PRWP'
    },
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_labels_both_policies(key: str, tmp_path: Path) -> None:
    raw = tmp_path / "raw" / key / "training"
    for i, (rid, (codes, _, _)) in enumerate(CASES[key].items()):
        write_record(raw, rid, codes, seed=i, fs=[500, 500, 1000][i])
    for policy, col in (("corrected", 1), ("climb", 2)):
        prepare(key, tmp_path, label_policy=policy)
        df = open_store(tmp_path / "stores" / key).samples.set_index("sample_id")
        for rid, case in CASES[key].items():
            assert list(df.loc[rid, "label__ecg7"]) == case[col], (policy, rid)
        if policy == "climb":
            assert df["label__ecg7_single"].between(0, 6).all()
