"""climb.io.abide and climb.io.hugadb on the real fixture files, plus malformed inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from climb.io.abide import (
    ABIDE_BASE,
    AbideFormatError,
    correlation,
    read_phenotype,
    read_roi_timeseries,
    roi_urls,
)
from climb.io.hugadb import (
    HugadbFormatError,
    activity4_index,
    majority,
    read_recording,
    subject_of,
    window_starts,
)
from tests.conftest import shared_fixture


def test_real_phenotype_and_file_list() -> None:
    subs = read_phenotype(shared_fixture("abide") / "Phenotypic_V1_0b_preprocessed1.csv")
    assert len(subs) == 1112
    assert sum(s.has_file for s in subs) == 1035  # 77 'no_filename'
    assert {s.dx_group for s in subs} == {1, 2}
    urls = roi_urls(subs)
    assert len(urls) == 1035
    rel, url = urls[0]
    assert rel.startswith("Outputs/cpac/filt_noglobal/rois_cc200/") and rel.endswith(
        "_rois_cc200.1D"
    )
    assert url == f"{ABIDE_BASE}/{rel}"


def test_real_roi_timeseries_correlation() -> None:
    f = shared_fixture("abide") / "rois_cc200" / "NYU_0050952_rois_cc200.1D"
    ts = read_roi_timeseries(f)
    assert ts.shape == (176, 200)
    c = correlation(ts)
    assert c.shape == (200, 200) and c.dtype == np.float32
    np.testing.assert_allclose(c, np.corrcoef(ts.T), atol=1e-5)
    z = correlation(ts, fisher_z=True)
    np.testing.assert_allclose(np.diag(z), 0.0)
    np.testing.assert_allclose(z[0, 1], np.arctanh(c[0, 1]), rtol=1e-4)


def test_constant_roi_gives_nan_and_bad_rows(tmp_path: Path) -> None:
    ts = np.random.default_rng(0).normal(size=(20, 4))
    ts[:, 2] = 0.0
    c = correlation(ts)
    assert np.isnan(c[2]).all() and np.isfinite(c[0, 1])
    f = tmp_path / "X_rois_cc200.1D"
    f.write_text("#1\t#2\n1\t2\n3\tfoo\n")
    with pytest.raises(AbideFormatError, match=r"(?s)non-numeric row.*:3"):
        read_roi_timeseries(f)


def test_real_hugadb_recording() -> None:
    f = shared_fixture("hugadb") / "HuGaDB_v2_various_01_00.txt"
    rec = read_recording(f)
    assert rec.subject == "01" and rec.data.shape == (3142, 38)
    assert rec.columns[0] == "acc_rf_x" and rec.columns[-2:] == ["EMG_r", "EMG_l"]
    assert set(np.unique(rec.activity)) == {5, 6, 7, 8}
    assert rec.header["ActivityID"].split()[0] == "5"
    starts = window_starts(3142, 128, 64)
    assert starts[0] == 0 and starts[-1] + 128 <= 3142 and len(starts) == 48
    act, share = majority(rec.activity[:128])
    assert act == 5 and 0 < share <= 1
    assert [activity4_index(a) for a in (5, 8, 6, 7, 1)] == [0, 1, 2, 3, -1]


def test_hugadb_malformed(tmp_path: Path) -> None:
    cols = "\t".join([f"c{i}" for i in range(38)] + ["act"])
    row = "\t".join(["1"] * 38 + ["5"])
    f = tmp_path / "HuGaDB_v2_walking_03_00.txt"
    f.write_text(f"#Activity\twalking\n{cols}\n{row}\n" + row.replace("\t1\t", "\tx\t", 1) + "\n")
    with pytest.raises(HugadbFormatError, match=r"(?s)non-numeric row.*:4"):
        read_recording(f)
    f.write_text(f"{cols}\n" + row[:-1] + "13\n")
    with pytest.raises(HugadbFormatError, match=r"activity id 13 outside 1\.\.12"):
        read_recording(f)
    f.write_text("a\tb\n1\t2\n")
    with pytest.raises(HugadbFormatError, match="expected 38 sensor columns"):
        read_recording(f)
    with pytest.raises(HugadbFormatError, match="does not match"):
        subject_of(tmp_path / "walk.txt")
