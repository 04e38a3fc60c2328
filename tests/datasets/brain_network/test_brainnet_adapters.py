"""ABIDE (real PCP excerpt: phenotype + 42 subjects' CC200 time series; generated BrainGB
ABIDE.npy), ABCD and PPMI (generated BrainGB files) through climb prepare."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from climb.datasets.brain_network._adapters import AbcdAdapter, AbideAdapter, PpmiAdapter
from climb.io.abide import correlation, read_roi_timeseries
from climb.prepare.pipeline import prepare
from climb.store import open_store
from climb.store.validate import validate
from tests.conftest import shared_fixture


def test_abide_pcp_real_excerpt(tmp_path: Path) -> None:
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "abide").symlink_to(shared_fixture("abide"), target_is_directory=True)
    res = prepare("abide", tmp_path)
    st = open_store(res.store)
    df = st.samples
    assert len(df) == 42
    assert Counter(df["site"]) == {"NYU": 14, "UM_1": 14, "USM": 14}
    assert Counter(df["label__asd"]) == {0: 21, 1: 21}
    # site-aware split: every site in every split, 70/10/20 overall
    assert set(df.groupby("site")["split"].nunique()) == {3}
    assert st.meta["splits"]["rule"] == "site" and st.meta["splits"]["leakage_check"] == "passed"
    reasons = [q["reason"] for q in res.quarantined]
    assert sum(r.startswith("no derivatives") for r in reasons) == 77  # FILE_ID no_filename
    assert sum("not found (run 'climb fetch abide')" in r for r in reasons) == 1112 - 42 - 77
    assert len(reasons) == 1112 - 42  # every subject without a matrix is reported
    # stored matrix == Pearson correlation of the file
    row = df[df["file_id"] == "NYU_0050952"].iloc[0]
    c = st.read("connectivity", [int(row["index"])])[0]
    ts = read_roi_timeseries(shared_fixture("abide") / "rois_cc200" / "NYU_0050952_rois_cc200.1D")
    np.testing.assert_allclose(c, correlation(ts), atol=1e-6)
    assert validate(res.store, deep=False).ok


def _braingb_abide(folder: Path, n: int = 40, r: int = 10, nan_at: int | None = None) -> None:
    rng = np.random.default_rng(0)
    corr = np.stack([np.corrcoef(rng.normal(size=(30, r)).T) for _ in range(n)]).astype(np.float32)
    if nan_at is not None:
        corr[nan_at, 3, :] = np.nan
    folder.mkdir(parents=True)
    np.save(folder / "ABIDE.npy", {"corr": corr, "label": np.arange(n) % 2,
                                    "site": np.array(["A", "B"])[(np.arange(n) // 2) % 2]})  # fmt: skip


def test_abide_braingb_layout_and_nan_quarantine(tmp_path: Path) -> None:
    _braingb_abide(tmp_path / "raw" / "abide", nan_at=5)
    res = prepare("abide", tmp_path, adapter=AbideAdapter(n_rois=10))
    assert [q["record"] for q in res.quarantined] == ["abide_05"]
    assert "NaN/inf entries (1 ROI(s)" in res.quarantined[0]["reason"]
    df = open_store(res.store).samples
    # BrainGB stores DX_GROUP - 1 (0 autism): label 0 -> asd 1
    nat = df["native_labels"].map(lambda s: int(s.split(":")[1].strip(" }")))
    assert ((1 - nat) == df["label__asd"]).all()
    assert any("BrainGB ABIDE.npy" in n for n in res.notes)
    # nan_policy='zero' keeps the subject, as CLIMB does
    res2 = prepare("abide", tmp_path, adapter=AbideAdapter(n_rois=10, nan_policy="zero"))
    assert not res2.quarantined
    assert int(open_store(res2.store).samples["nan_rois"].max()) >= 1


def test_ppmi_mat(tmp_path: Path) -> None:
    from scipy.io import savemat

    n = 30
    X = np.empty((n, 1), dtype=object)
    rng = np.random.default_rng(1)
    for i in range(n):
        X[i, 0] = rng.random((84, 84, 3))
    labels = np.where(np.arange(n) % 3 == 0, -1, 1).reshape(-1, 1)
    (tmp_path / "raw" / "ppmi").mkdir(parents=True)
    savemat(tmp_path / "raw" / "ppmi" / "PPMI.mat", {"X": X, "label": labels})
    res = prepare("ppmi", tmp_path)
    st = open_store(res.store)
    df = st.samples
    assert Counter(df["label__parkinsons"]) == {0: 10, 1: 20}
    assert dict(Counter(df["split"])) == {"train": 21, "val": 3, "test": 6}
    np.testing.assert_allclose(st.read("connectivity", [4])[0], X[4, 0][:, :, 0], rtol=1e-6)
    # stratified: both classes in every split
    assert set(df.groupby("split")["label__parkinsons"].nunique()) == {2}


def test_abcd_sex_label(tmp_path: Path) -> None:
    d = tmp_path / "raw" / "abcd"
    d.mkdir(parents=True)
    rng = np.random.default_rng(2)
    np.save(d / "abcd_rest-pearson-HCP2016.npy", rng.random((12, 360, 360)).astype(np.float32))
    ids = [f"NDAR{i:03d}" for i in range(12)]
    (d / "ids_HCP2016.txt").write_text("\n".join(ids) + "\n")
    (d / "id2sex.txt").write_text("\n".join(f"{s} {'MF'[i % 2]}" for i, s in enumerate(ids[:-1])))
    res = prepare("abcd", tmp_path)
    st = open_store(res.store)
    df = st.samples.set_index("patient_id")
    assert df.loc["NDAR000", "label__sex"] == 0 and df.loc["NDAR001", "label__sex"] == 1
    assert df.loc["NDAR011", "label__sex"] == -1  # no id2sex entry: missing, kept
    assert st.tasks["sex"]["classes"] == ["male", "female"]
    assert any("sex" in n for n in res.notes)


def test_adapters_reject_wrong_roi_count(tmp_path: Path) -> None:
    _braingb_abide(tmp_path / "raw" / "abide", n=6, r=8)
    res = prepare("abide", tmp_path, adapter=AbideAdapter(n_rois=10))
    assert len(res.quarantined) == 6
    assert all("expected (10, 10)" in q["reason"] for q in res.quarantined)
    with pytest.raises(Exception, match="unknown nan_policy"):
        PpmiAdapter(nan_policy="drop")  # type: ignore[arg-type]
    assert AbcdAdapter().fields()[0].shape == (360, 360)
