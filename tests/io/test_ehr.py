"""climb.io.ehr: table checks, timestamps, the streaming event pass and the per-admission grid."""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from climb.core.errors import ClimbError
from climb.io import ehr


def _csv_gz(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as fh:
        fh.write(text)
    return path


def test_find_and_scan_table(tmp_path: Path) -> None:
    p = _csv_gz(tmp_path / "hosp" / "admissions.csv.gz",
                "subject_id,hadm_id,admittime\n1,10,2150-01-01 00:00:00\nx,11,bad\n")  # fmt: skip
    assert ehr.find_table(tmp_path, "hosp", "admissions") == p
    assert ehr.find_table(tmp_path, "hosp", "patients") is None
    assert ehr.header(p) == ["subject_id", "hadm_id", "admittime"]
    df = ehr.scan_table(p, "hosp/admissions", {"subject_id": "int", "hadm_id": "int"},
                        {"deathtime": "str"}).collect()  # fmt: skip
    assert df["subject_id"].to_list() == [1, None]  # an odd value becomes null, no crash
    assert df["deathtime"].to_list() == [None, None]  # optional column absent -> nulls
    with pytest.raises(ClimbError, match="table hosp/admissions has no column 'dischtime'"):
        ehr.scan_table(p, "hosp/admissions", {"dischtime": "str"})


def test_parse_time() -> None:
    df = pl.DataFrame({"t": ["2150-01-01 10:00:00", "2150-01-01 10:00:00.5", "2137-09-02",
                             "garbage", None]})  # fmt: skip
    got = df.select(ehr.parse_time("t"))["t"].to_list()
    assert got[0] == datetime(2150, 1, 1, 10)
    assert got[1] == datetime(2150, 1, 1, 10, 0, 0, 500000)
    assert got[2] == datetime(2137, 9, 2)
    assert got[3] is None and got[4] is None


def test_items_are_documented_and_unique() -> None:
    ids = [i for it in ehr.ITEMS for i in it.itemids]
    assert len(ids) == len(set(ids))
    assert len({it.name for it in ehr.ITEMS}) == len(ehr.ITEMS)
    idx = ehr.item_index(ehr.ITEMS, "chartevents")
    assert idx[220045] == [it.name for it in ehr.ITEMS].index("heart_rate")


def test_extract_events_statuses_and_bins(tmp_path: Path) -> None:
    rows = [
        # hadm, itemid, charttime, storetime, value
        (10, 220045, "2150-01-01 01:10:00", "2150-01-01 01:15:00", 80.0),  # ok, bin 1
        (10, 220045, "2150-01-01 01:40:00", "2150-01-01 01:45:00", 90.0),  # ok, bin 1
        (10, 220045, "2150-01-01 01:40:00", "2150-01-01 01:45:00", 90.0),  # exact duplicate
        (10, 223761, "2150-01-01 03:00:00", "", 98.6),  # Fahrenheit -> 37 C, bin 3
        (10, 220045, "2150-01-02 00:30:00", "2150-01-02 00:31:00", 70.0),  # after prediction
        (10, 220045, "2150-01-01 23:50:00", "2150-01-02 00:10:00", 60.0),  # stored after it
        (10, 220045, "2149-12-31 20:00:00", "2149-12-31 20:00:00", 50.0),  # before admission
        (10, 220045, "not a time", "", 40.0),  # bad time
        (10, 220045, "2150-01-01 05:00:00", "", None),  # no value
        (99, 220045, "2150-01-01 05:00:00", "", 1.0),  # not in the cohort
        (10, 999999, "2150-01-01 05:00:00", "", 1.0),  # not a documented item
    ]
    text = "hadm_id,itemid,charttime,storetime,valuenum,valueuom\n" + "".join(
        f"{h},{i},{c},{s},{'' if v is None else v},bpm\n" for h, i, c, s, v in rows
    )
    p = _csv_gz(tmp_path / "icu" / "chartevents.csv.gz", text)
    lf = ehr.scan_table(p, "icu/chartevents",
                        {"hadm_id": "int", "itemid": "int", "charttime": "str", "valuenum": "float"},
                        {"storetime": "str", "valueuom": "str"})  # fmt: skip
    t0 = datetime(2150, 1, 1)
    windows = pl.DataFrame(
        {
            "hadm_id": [10],
            "adm": [0],
            "start": [t0],
            "pred": [datetime(2150, 1, 2)],
            "admit": [t0],
            "disch": [datetime(2150, 1, 5)],
        },
        schema_overrides={c: pl.Datetime("us") for c in ("start", "pred", "admit", "disch")},
    )
    items = ehr.item_index(ehr.ITEMS, "chartevents")
    conv = {iid: (a, b) for it in ehr.ITEMS for iid, a, b in it.convert}
    out = ehr.extract_events(lf, windows, tmp_path / "ev", items=items, convert=conv, buckets=2)
    counts = ehr.status_counts(out)
    assert counts == {"ok": 4, "after_prediction": 2, "outside_admission": 1, "bad_time": 1,
                      "no_value": 1}  # fmt: skip
    assert ehr.duplicate_count(out, 2) == 1
    binned = pl.concat(list(ehr.bin_events([out], 2, 1.0, 24)))  # one frame per bucket
    got = {(r["item"], r["bin"]): r["value"] for r in binned.iter_rows(named=True)}
    hr, temp = items[220045], items[223761]
    assert got[(hr, 1)] == pytest.approx(85.0)  # mean of 80 and 90 (the duplicate once)
    assert got[(temp, 3)] == pytest.approx(37.0, abs=1e-4)
    assert len(got) == 2
    last = pl.concat(list(ehr.last_values([out], 2)))
    lv = {r["itemid"]: r["value"] for r in last.iter_rows(named=True)}
    assert lv[220045] == pytest.approx(90.0)  # the 70 and 60 came too late


def test_grid_locf_mask_delta() -> None:
    item = np.array([0, 0, 1])
    bins = np.array([1, 4, 0])
    vals = np.array([5.0, 7.0, 2.0], dtype=np.float32)
    v, m, d = ehr.grid(item, bins, vals, n_items=3, n_bins=6, bin_hours=2.0)
    np.testing.assert_array_equal(m[0], [0, 1, 0, 0, 1, 0])
    np.testing.assert_array_equal(v[0], [0, 5, 5, 5, 7, 7])  # carried forward, 0 before
    np.testing.assert_array_equal(d[0], [0, 0, 2, 4, 0, 2])  # hours since the last value
    np.testing.assert_array_equal(v[1], [2, 2, 2, 2, 2, 2])
    np.testing.assert_array_equal(d[1], [0, 2, 4, 6, 8, 10])
    assert not m[2].any() and not v[2].any()
    np.testing.assert_array_equal(d[2], [0, 2, 4, 6, 8, 10])
