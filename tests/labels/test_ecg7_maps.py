"""Every row of the ecg7 mapping tables (labels/maps/ecg7_snomed.csv, ecg7_scp.csv)."""

from __future__ import annotations

import pytest

from climb.datasets.ecg._ecg import ECG7, climb_single_label, snomed_labels
from climb.labels import load_mapping

SNOMED = load_mapping("ecg7_snomed")
SCP = load_mapping("ecg7_scp")
DATASETS = ("ptbxl", "georgia", "cpsc2018", "chapman_shaoxing")
# independent oracle: a term containing the key must map (corrected) to the class
KEYWORDS = {
    "atrial fibrillation": "afib",
    "atrial flutter": "afib",
    "bundle branch block": "cd",
    "av block": "cd",
    "myocardial infarction": "mi",
    "sinus rhythm": "normal",
    "st depression": "sttc",
    "ventricular hypertrophy": "hyp",
    "premature atrial": "other",
}


def _cls(cell: str) -> list[str]:
    return [c for c in cell.split("|") if c]


def test_tables_complete() -> None:
    assert len(SNOMED) == 132 and len({r["snomed"] for r in SNOMED}) == 132
    assert len(SCP) == 71


@pytest.mark.parametrize("row", SNOMED, ids=[r["snomed"] for r in SNOMED])
def test_snomed_row(row: dict[str, str]) -> None:
    code = row["snomed"]
    assert code.isdigit()
    corr = _cls(row["corrected"])
    assert set(corr) <= set(ECG7)
    mh, unmapped = snomed_labels([code], "corrected", "ptbxl")
    assert mh == ([1 if c in corr else 0 for c in ECG7] if corr else [-1] * 7)
    assert unmapped == ([] if corr else [code])
    present = [d for d in DATASETS if row[f"climb_{d}"] != "NA"]
    assert present, "every code comes from at least one CLIMB dictionary"
    for d in present:
        climb = _cls(row[f"climb_{d}"])
        assert set(climb) <= set(ECG7)
        mh, _ = snomed_labels([code], "climb", d)
        assert mh == [1 if c in climb else 0 for c in ECG7]
        if climb != corr:  # every difference is documented in the row
            assert row["note"], f"{code}: {d} differs from corrected without a note"
    term = row["term"].lower()
    for key, cls in KEYWORDS.items():
        if key in term and "paroxysmal" not in term:
            assert cls in corr, f"{code} {term!r} should map to {cls}"


@pytest.mark.parametrize("row", SCP, ids=[r["scp"] for r in SCP])
def test_scp_row(row: dict[str, str]) -> None:
    corr = _cls(row["corrected"])
    assert len(corr) == 1 and corr[0] in ECG7, "every SCP statement maps to one class"
    assert set(_cls(row["climb"])) <= set(ECG7)
    if _cls(row["climb"]) != corr:
        assert row["note"]
    if row["scp"] in ("AFIB", "AFLT"):
        assert corr == ["afib"]


def test_documented_climb_bugs() -> None:
    row = {r["snomed"]: r for r in SNOMED}
    assert (
        row["164889003"]["climb_cpsc2018"] == "cd|afib" and row["164889003"]["corrected"] == "afib"
    )
    assert row["164889003"]["climb_georgia"] == ""  # case mismatch: Georgia afib never set
    assert row["164909002"]["climb_cpsc2018"] == ""  # LBBB dropped in CPSC
    assert row["233917008"]["climb_ptbxl"] == "" and row["233917008"]["corrected"] == "cd"


def test_single_label_rule_matches_numpy_global_seed() -> None:
    import numpy as np

    for i, mh in enumerate([[1, 0, 1, 0, 0, 0, 1], [0] * 7, [0, 0, 0, 0, 0, 1, 0]] * 5):
        np.random.seed(i)
        b = np.array(mh)
        assert climb_single_label(mh, i) == np.random.choice(np.flatnonzero(b == b.max()))
