"""End-to-end prepare on generated Challenge-layout records: quarantine, determinism, splits,
kill-and-resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from climb.datasets.ecg._synthetic import BROKEN_KINDS, write_record
from climb.prepare.pipeline import prepare
from climb.store import open_store
from climb.store.validate import validate

SPLITS_CSV = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "fixtures"
    / "climb_splits"
    / "CPSC_splits.csv"
)

GOOD = {  # record id -> SNOMED codes (ids A0001.. are in CLIMB's CPSC split file)
    "A0001": ["426783006"],
    "A0002": ["164889003"],
    "A0003": ["164909002"],
    "A0004": ["59118001", "284470004"],
    "A0005": ["429622005", "164931005"],
    "A0006": ["270492004", "164884008"],
    "A0007": ["99999999"],  # unknown code
    "A0008": ["164889003", "426783006"],
}
ODD = {  # record id -> (fs, seconds, fmt)
    "A0009": (1000, 10, "mat"),
    "A0010": (257, 12, "dat"),
    "A0011": (500, 30, "mat"),
    "A0012": (250, 6, "dat"),
}


def build_raw(raw: Path, extra: int = 0) -> None:
    recs = raw / "WFDB_CPSC2018"
    for i, (rid, dx) in enumerate(GOOD.items()):
        write_record(recs, rid, dx, seed=i)
    for i, (rid, (fs, sec, fmt)) in enumerate(ODD.items()):
        write_record(recs, rid, ["426783006"], fs=fs, seconds=sec, fmt=fmt, seed=20 + i)
    for i, kind in enumerate(BROKEN_KINDS):
        write_record(recs, f"A{100 + i:04d}", ["426783006"], broken=kind, seed=40 + i)
    write_record(recs, "Z0001", ["426783006"], seed=60)  # not in CLIMB's split file
    for i in range(extra):
        write_record(
            recs, f"A{1000 + i:04d}", ["426783006", "164889003"][: 1 + i % 2], seed=100 + i
        )
    if SPLITS_CSV.is_file():
        (raw / "splits").mkdir(exist_ok=True)
        os.symlink(SPLITS_CSV, raw / "splits" / "CPSC_splits.csv")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    r = tmp_path_factory.mktemp("root")
    build_raw(r / "raw" / "cpsc2018")
    return r


def test_prepare_quarantines_and_standardizes(root: Path) -> None:
    res = prepare("cpsc2018", root, workers=1, splits="patient", seed=3)
    s = open_store(root / "stores" / "cpsc2018")
    df = s.samples.set_index("sample_id")
    assert len(s) == len(GOOD) + len(ODD) + 1 == sum(res.counts.values())
    reasons = {q["record"]: q["reason"] for q in s.quarantine()}
    assert len(reasons) == len(BROKEN_KINDS)
    assert reasons["A0100"].startswith("bad header")
    assert reasons["A0101"].startswith("missing signal file")
    assert reasons["A0102"].startswith("wrong lead count: 8")
    assert reasons["A0103"].startswith("lead names")
    assert "truncated" in reasons["A0104"]
    assert reasons["A0105"] == "all samples are NaN"
    assert reasons["A0106"] == "all leads are flat"
    # standardization of odd rates/lengths
    assert df.loc["A0009", "orig_fs"] == 1000 and df.loc["A0009", "n_valid"] == 5000
    assert (
        df.loc["A0012", "n_valid"] == 3000
    )  # 6 s at 250 Hz -> 3000 samples at 500 Hz, zero-padded
    x = s.read("ecg", [int(df.loc["A0012", "index"])])[0]
    assert x.shape == (12, 5000) and not x[:, 3000:].any() and x[:, :3000].any()
    # corrected labels (normal, cd, mi, sttc, other, afib, hyp)
    lab = df["label__ecg7"].map(list)
    assert lab["A0001"] == [1, 0, 0, 0, 0, 0, 0]
    assert lab["A0002"] == [0, 0, 0, 0, 0, 1, 0]  # AF: afib only (CLIMB: cd too)
    assert lab["A0003"] == [0, 1, 0, 0, 0, 0, 0]  # LBBB: cd (CLIMB: dropped)
    assert lab["A0006"] == [0, 1, 0, 0, 1, 0, 0]  # 1AVB cd + PVC other
    assert lab["A0007"] == [-1] * 7  # nothing maps: missing, not negative
    assert json.loads(df.loc["A0007", "native_labels"]) == {
        "dx": ["99999999"],
        "unmapped": ["99999999"],
    }
    assert s.meta["splits"]["rule"] == "patient" and s.meta["splits"]["seed"] == 3
    assert s.meta["splits"]["leakage_check"] == "passed"
    rep = validate(root / "stores" / "cpsc2018")
    assert rep.ok and rep.stale is False, rep.errors


def test_deterministic_across_workers_and_stale_detection(root: Path, tmp_path: Path) -> None:
    a = prepare("cpsc2018", root, workers=1, splits="patient")
    b = prepare("cpsc2018", root, workers=2, splits="patient")
    assert a.content_hash == b.content_hash and a.fingerprint == b.fingerprint
    other = tmp_path / "r2"
    (other / "raw").mkdir(parents=True)
    os.symlink(root / "raw" / "cpsc2018", other / "raw" / "cpsc2018")
    c = prepare("cpsc2018", other, workers=1, splits="patient", unit_size=5)
    assert c.content_hash == a.content_hash  # unit size and root do not change content
    write_record(root / "raw" / "cpsc2018" / "WFDB_CPSC2018", "A0013", ["426783006"])
    rep = validate(root / "stores" / "cpsc2018")
    assert rep.stale is True and any("stale" in e for e in rep.errors)
    for p in (root / "raw" / "cpsc2018" / "WFDB_CPSC2018").glob("A0013.*"):
        p.unlink()
    assert validate(root / "stores" / "cpsc2018").stale is False


def test_climb_split_and_label_policy(root: Path) -> None:
    if not SPLITS_CSV.is_file():
        pytest.skip(f"CLIMB split fixture {SPLITS_CSV} is absent")
    import pandas as pd

    res = prepare("cpsc2018", root, splits="climb", label_policy="climb")
    s = open_store(root / "stores" / "cpsc2018")
    csv = pd.read_csv(SPLITS_CSV).set_index("patient")
    df = s.samples.set_index("sample_id")
    assert "Z0001" not in df.index
    q = {e["record"]: e for e in s.quarantine()}
    assert q["Z0001"]["stage"] == "split"
    assert any("not in the climb split" in n for n in res.notes)
    cls = ["normal", "cd", "mi", "sttc", "other", "afib", "hyp"]
    for rid in df.index:
        assert df.loc[rid, "split"] == csv.loc[rid, "split"]
        assert list(df.loc[rid, "label__ecg7"]) == csv.loc[rid, cls].astype(int).tolist()
        assert df.loc[rid, "label__ecg7_single"] == csv.loc[rid, "label"]
    assert s.meta["tasks"]["ecg7_single"]["type"] == "multiclass"
    assert s.meta["splits"]["rule"] == "climb"


def test_kill_and_resume_gives_same_hash(tmp_path: Path) -> None:
    base = tmp_path / "a"
    build_raw(base / "raw" / "cpsc2018", extra=60)
    ref = prepare("cpsc2018", base, splits="patient", unit_size=4)
    shutil_root = tmp_path / "b"
    (shutil_root / "raw").mkdir(parents=True)
    os.symlink(base / "raw" / "cpsc2018", shutil_root / "raw" / "cpsc2018")
    code = (
        "import sys; from climb.prepare.pipeline import prepare; "
        f"prepare('cpsc2018', {str(shutil_root)!r}, splits='patient', unit_size=4)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")},
    )
    units = shutil_root / "stores" / ".cpsc2018.work" / "units"
    deadline = time.time() + 60
    while time.time() < deadline and len(list(units.glob("*.json"))) < 3 and proc.poll() is None:
        time.sleep(0.01)
    assert proc.poll() is None, "prepare finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list(units.glob("*.json")))
    assert 3 <= done < 21 and not (shutil_root / "stores" / "cpsc2018").exists()
    res = prepare("cpsc2018", shutil_root, splits="patient", unit_size=4)
    assert res.resumed_units >= done - 1 and res.resumed_units >= 3
    assert res.content_hash == ref.content_hash
    a = open_store(base / "stores" / "cpsc2018")
    b = open_store(shutil_root / "stores" / "cpsc2018")
    np.testing.assert_array_equal(a.array("ecg")[:], b.array("ecg")[:])
    assert not (shutil_root / "stores" / ".cpsc2018.work").exists()
