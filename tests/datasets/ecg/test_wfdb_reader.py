"""climb.io.wfdb parses a header once, without wfdb's per-field pandas lookups: it must give
exactly what wfdb.rdheader / wfdb.rdrecord give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from climb.datasets.ecg._synthetic import BROKEN_KINDS, write_record
from climb.io import wfdb as cw

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "ptbxl"


def _records(tmp: Path) -> list[Path]:
    odd = [(500, 10, "mat"), (1000, 10, "mat"), (257, 12, "dat"), (500, 30, "mat"), (250, 6, "dat")]
    for i, (fs, sec, fmt) in enumerate(odd):
        write_record(tmp, f"B{i}", ["426783006", "164889003"], fs=fs, seconds=sec, fmt=fmt, seed=i)
    for i, kind in enumerate(BROKEN_KINDS):
        write_record(tmp, f"K{i}", broken=kind, seed=i)
    (tmp / "E0.hea").write_text("")
    hs = sorted(tmp.glob("*.hea"))
    if FIXTURES.is_dir():
        hs += sorted(FIXTURES.rglob("*.hea"))[:20]
    return hs


def test_header_and_signal_equal_wfdb(tmp_path: Path) -> None:
    wfdb = pytest.importorskip("wfdb")
    for h in _records(tmp_path):
        base = h.with_suffix("")
        try:
            want, want_err = wfdb.rdheader(str(base)), None
        except Exception as exc:
            want, want_err = None, f"{type(exc).__name__}: {exc}"
        try:
            got, got_err = cw._rdheader(base), None
        except Exception as exc:
            got, got_err = None, f"{type(exc).__name__}: {exc}"
        assert got_err == want_err, h
        if want is None:
            continue
        assert type(got) is type(want) and repr(vars(got)) == repr(vars(want)), h
        try:
            ref = wfdb.rdrecord(str(base))
        except Exception:
            continue
        rec = cw._rdsignal(base, cw._rdheader(base))
        assert rec.p_signal.dtype == ref.p_signal.dtype, h
        np.testing.assert_array_equal(rec.p_signal, ref.p_signal)
        for attr in ("sig_name", "units", "fs", "sig_len", "comments", "adc_gain", "baseline"):
            assert getattr(rec, attr) == getattr(ref, attr), (h, attr)
