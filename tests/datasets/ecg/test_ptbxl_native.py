"""PTB-XL native layout on the real fixture records (read in place)."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from climb.datasets.ecg._ptbxl_native import SUPERDIAGNOSTIC, official_split
from climb.prepare.pipeline import prepare
from climb.store import open_store
from climb.store.validate import validate

FIX = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures"
CLS = ["normal", "cd", "mi", "sttc", "other", "afib", "hyp"]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (FIX / "ptbxl" / "ptbxl_database.csv").is_file():
        pytest.skip(f"PTB-XL fixture {FIX / 'ptbxl'} is absent")
    r = tmp_path_factory.mktemp("ptbxl")
    raw = r / "raw" / "ptbxl"
    raw.mkdir(parents=True)
    for p in (FIX / "ptbxl").iterdir():  # read in place: symlinks, no copies
        os.symlink(p, raw / p.name)
    if (FIX / "climb_splits" / "ptbxl_splits.csv").is_file():
        os.symlink(FIX / "climb_splits" / "ptbxl_splits.csv", raw / "ptbxl_splits.csv")
    return r


def test_native_official(root: Path) -> None:
    import wfdb

    res = prepare("ptbxl", root)
    s = open_store(root / "stores" / "ptbxl")
    db = pd.read_csv(FIX / "ptbxl" / "ptbxl_database.csv").set_index("ecg_id")
    df = s.samples.set_index("sample_id")
    assert len(s) == 60 and res.quarantined == []
    expected = db["strat_fold"].map(official_split)
    assert res.counts == expected.value_counts().sort_index().to_dict()
    for ecg_id, row in db.iterrows():
        rid = f"HR{ecg_id:05d}"
        assert df.loc[rid, "split"] == official_split(row.strat_fold)
        assert df.loc[rid, "patient_id"] == str(int(row.patient_id))
    # signals equal wfdb's physical values in standard lead order
    rec = wfdb.rdrecord(str(FIX / "ptbxl" / "records500" / "00000" / "00007_hr"))
    x = s.read("ecg", [int(df.loc["HR00007", "index"])])[0]
    np.testing.assert_allclose(x, rec.p_signal.T.astype("float32"), atol=1e-6)
    # superdiagnostic = diagnostic_class of the listed diagnostic statements
    st = pd.read_csv(FIX / "ptbxl" / "scp_statements.csv", index_col=0)
    diag = st[st.diagnostic == 1]["diagnostic_class"]
    for ecg_id, row in db.iterrows():
        codes = ast.literal_eval(row.scp_codes)
        want = {diag[c] for c in codes if c in diag.index}
        got = list(df.loc[f"HR{ecg_id:05d}", "label__superdiagnostic"])
        assert got == ([1 if c in want else 0 for c in SUPERDIAGNOSTIC] if want else [-1] * 5)
    # ecg7: AFIB records are afib; NORM records are normal
    for ecg_id, row in db.iterrows():
        codes = ast.literal_eval(row.scp_codes)
        lab = list(df.loc[f"HR{ecg_id:05d}", "label__ecg7"])
        assert lab[CLS.index("afib")] == int("AFIB" in codes or "AFLT" in codes)
        if "NORM" in codes:
            assert lab[0] == 1
    rep = validate(root / "stores" / "ptbxl")
    assert rep.ok and rep.stale is False, rep.errors


def test_native_climb_policy_reproduces_csv(root: Path) -> None:
    csv_path = FIX / "climb_splits" / "ptbxl_splits.csv"
    if not csv_path.is_file():
        pytest.skip("CLIMB split fixture is absent")
    prepare("ptbxl", root, splits="climb", label_policy="climb")
    s = open_store(root / "stores" / "ptbxl")
    csv = pd.read_csv(csv_path).set_index("patient")
    df = s.samples.set_index("sample_id")
    assert len(df) == 60
    for rid in df.index:
        assert df.loc[rid, "split"] == csv.loc[rid, "split"]
        assert list(df.loc[rid, "label__ecg7"]) == csv.loc[rid, CLS].astype(int).tolist()
        assert df.loc[rid, "label__ecg7_single"] == csv.loc[rid, "label"]
    assert s.meta["splits"]["rule"] == "climb"
    # CLIMB's split is record-level: the leakage check reports, validate warns (not an error)
    rep = validate(root / "stores" / "ptbxl")
    assert rep.ok, rep.errors
