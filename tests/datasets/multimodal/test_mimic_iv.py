"""mimic_iv adapter: real demo rows, generated multimodal tables, leakage, bad input."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import zarr

from climb.core.errors import ClimbError
from climb.datasets.multimodal._mimic import STATIC_FEATURES, MimicIVAdapter
from climb.datasets.multimodal._mimic_synthetic import write_mimic
from climb.io.ehr import ITEMS
from climb.prepare.pipeline import prepare
from tests.conftest import shared_fixture

N_ITEMS = len(ITEMS)


def _link_raw(tmp: Path, src: Path) -> Path:
    raw = tmp / "raw"
    raw.mkdir(parents=True)
    os.symlink(src, raw / "mimic_iv")
    return tmp


def _store(root: Path) -> tuple[pd.DataFrame, dict, Path]:
    store = root / "stores" / "mimic_iv"
    df = pd.read_parquet(store / "samples.parquet")
    meta = json.loads((store / "dataset.json").read_text())
    return df, meta, store


def _quarantine(store: Path) -> list[dict]:
    p = store / "quarantine.jsonl"
    return [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []


def test_real_demo(tmp_path: Path) -> None:
    src = shared_fixture("mimic_iv_demo")
    root = _link_raw(tmp_path, src)
    res = prepare("mimic_iv", root)
    df, meta, store = _store(root)
    adm = pd.read_csv(src / "hosp" / "admissions.csv.gz", parse_dates=["admittime", "dischtime"])
    q = _quarantine(store)
    # every admission is a sample or a quarantine entry with its reason
    assert len(df) + len(q) == len(adm) == 275
    short = [x for x in q if x["reason"].startswith("admission shorter than")]
    assert len(short) == len(q) and res.reasons == {
        "admission shorter than the observation window": len(q)
    }
    end = adm.dischtime.copy()
    dt = pd.to_datetime(adm.deathtime)
    end[dt.notna()] = np.minimum(end[dt.notna()], dt[dt.notna()])
    n_short = int(((end - adm.admittime) < pd.Timedelta(hours=48)).sum())
    assert len(q) == n_short
    # labels from the admissions table, the correct sign
    a = adm.set_index(adm.hadm_id.astype(str))
    kept = a.loc[df.sample_id]
    assert (
        df.label__in_hospital_mortality.to_numpy() == kept.hospital_expire_flag.to_numpy()
    ).all()
    los = (kept.dischtime - kept.admittime).dt.total_seconds().to_numpy() / 86400
    np.testing.assert_allclose(df.label__length_of_stay.to_numpy(), los, rtol=1e-9)
    assert (df.label__los_gt7d.to_numpy() == (los > 7)).all()
    # subject-level split, ICD vocabulary from train only, ICD-9 and ICD-10 apart
    assert meta["splits"]["leakage_check"] == "passed"
    assert df.groupby("patient_id").split.nunique().max() == 1
    vocab = meta["tasks"]["diagnosis"]["classes"]
    assert len(vocab) == 50 and all(v.startswith(("icd9:", "icd10:")) for v in vocab)
    dx = pd.read_csv(src / "hosp" / "diagnoses_icd.csv.gz", dtype={"icd_code": str})
    dx["key"] = "icd" + dx.icd_version.astype(str) + ":" + dx.icd_code.str.strip()
    train = set(df.sample_id[df.split == "train"].astype(int))
    top = dx[dx.hadm_id.isin(train)].drop_duplicates(["hadm_id", "key"]).key.value_counts()
    ranked = sorted(top.items(), key=lambda kv: (-kv[1], kv[0]))[:50]
    assert vocab == [k for k, _ in ranked]
    # arrays: (3 x items, 48 hourly bins) and the static vector
    ehr = zarr.open(str(store / "arrays" / "ehr.zarr"))[:]
    assert ehr.shape == (len(df), 3 * N_ITEMS, 48)
    mask = ehr[:, N_ITEMS : 2 * N_ITEMS]
    assert set(np.unique(mask)) <= {0.0, 1.0} and mask.sum() > 1000
    static = zarr.open(str(store / "arrays" / "static.zarr"))[:]
    assert static.shape == (len(df), len(STATIC_FEATURES))
    assert (static[:, 1] + static[:, 2] == 1).all()  # gender one-hot
    assert df.ehr_text.str.startswith("Patient demographics: ").all()
    assert not df.present__ecg.any() and not df.present__cxr.any()
    assert any("no icu/chartevents table" in n for n in res.notes)


def test_real_demo_creatinine_bins_match_pandas(tmp_path: Path) -> None:
    """One admission's creatinine channel equals an independent pandas computation."""
    src = shared_fixture("mimic_iv_demo")
    root = _link_raw(tmp_path, src)
    prepare("mimic_iv", root)
    df, _, store = _store(root)
    ehr = zarr.open(str(store / "arrays" / "ehr.zarr"))[:]
    lab = pd.read_csv(src / "hosp" / "labevents.csv.gz", usecols=[
        "hadm_id", "itemid", "charttime", "storetime", "valuenum"], parse_dates=["charttime", "storetime"])  # fmt: skip
    ch = [it.name for it in ITEMS].index("creatinine")
    checked = 0
    for i, row in df.iterrows():
        start = pd.Timestamp(row.admittime)
        pred = pd.Timestamp(row.prediction_time)
        e = lab[(lab.hadm_id == int(row.sample_id)) & (lab.itemid == 50912)]
        e = e[e.valuenum.notna() & (e.charttime >= start) & (e.charttime < pred)]
        e = e[e.storetime.fillna(e.charttime) < pred].drop_duplicates()
        obs = np.zeros(48)
        vals = np.zeros(48)
        for b, g in e.groupby(((e.charttime - start).dt.total_seconds() // 3600).astype(int)):
            obs[b] = 1
            vals[b] = g.valuenum.mean()
        np.testing.assert_array_equal(ehr[row["index"], N_ITEMS + ch], obs)
        observed = obs > 0
        np.testing.assert_allclose(ehr[row["index"], ch][observed], vals[observed], rtol=1e-6)
        checked += int(observed.sum())
        if i > 60:
            break
    assert checked > 20


def test_pyhealth_demo_rows(tmp_path: Path) -> None:
    """PyHealth's MIMIC-IV demo excerpt: plain .csv, no deathtime column."""
    src = shared_fixture("mimic4demo")
    root = _link_raw(tmp_path, src)
    res = prepare("mimic_iv", root, adapter=MimicIVAdapter(prediction_hours=24))
    df, _meta, store = _store(root)
    adm = pd.read_csv(src / "hosp" / "admissions.csv")
    assert len(df) + len(_quarantine(store)) == len(adm)
    kept = adm.set_index(adm.hadm_id.astype(str)).loc[df.sample_id]
    assert (
        df.label__in_hospital_mortality.to_numpy() == kept.hospital_expire_flag.to_numpy()
    ).all()
    assert res.counts


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    base = tmp_path_factory.mktemp("mimic_gen")
    info = write_mimic(base / "raw" / "mimic_iv", patients=10, admissions_per_patient=2, seed=3)
    prepare("mimic_iv", base)
    return base, info


def test_generated_multimodal(generated: tuple[Path, dict]) -> None:
    import wfdb

    root, info = generated
    df, _meta, store = _store(root)
    ecg = zarr.open(str(store / "arrays" / "ecg.zarr"))
    cxr = zarr.open(str(store / "arrays" / "cxr.zarr"))
    assert ecg.shape[1:] == (12, 5000) and cxr.shape[1:] == (1, 224, 224)
    listed = {r["subject_id"]: r for r in info["ecg"]}
    n_ecg = 0
    for _, row in df.iterrows():
        if row.present__ecg:
            n_ecg += 1
            t = datetime.fromisoformat(row.ecg_time)
            assert (
                datetime.fromisoformat(row.admittime)
                <= t
                < datetime.fromisoformat(row.prediction_time)
            )
            rec = wfdb.rdrecord(str(Path(row.ecg_path)))
            np.testing.assert_allclose(ecg[row["index"]], rec.p_signal.T, atol=1e-3)
        else:
            assert not ecg[row["index"]].any()
        if row.present__cxr:
            assert row.cxr_path.endswith("-pa.jpg")  # PA preferred over the lateral view
            assert cxr[row["index"]].any()
    assert n_ecg > 0 and df.present__cxr.sum() > 0
    assert (~df.present__ecg).sum() > 0  # some admissions have none in the window
    assert listed
    # chart items reach the series: heart rate channel observed somewhere
    ehr = zarr.open(str(store / "arrays" / "ehr.zarr"))[:]
    hr = [it.name for it in ITEMS].index("heart_rate")
    assert ehr[:, N_ITEMS + hr].sum() > 0
    # presence columns are what a fusion model's `present` masks come from
    assert df.present__ecg.dtype == bool and df.present__cxr.dtype == bool


def _append_rows(path: Path, rows: list[str]) -> None:
    with gzip.open(path, "rt") as fh:
        text = fh.read()
    with gzip.open(path, "wt") as fh:
        fh.write(text + "".join(r + "\n" for r in rows))


def _inputs(root: Path) -> dict[str, np.ndarray]:
    df, _, store = _store(root)
    out = {
        f: zarr.open(str(store / "arrays" / f"{f}.zarr"))[:]
        for f in ("ehr", "static", "ecg", "cxr")
    }
    out["text"] = df.ehr_text.to_numpy()
    out["ids"] = df.sample_id.to_numpy()
    return out


def test_leakage_after_prediction_time_changes_nothing(tmp_path: Path) -> None:
    raw = tmp_path / "a" / "raw" / "mimic_iv"
    info = write_mimic(raw, patients=8, admissions_per_patient=2, seed=5, stay_hours=(60, 200))
    prepare("mimic_iv", tmp_path / "a")
    ref = _inputs(tmp_path / "a")
    shutil.copytree(raw, tmp_path / "b" / "raw" / "mimic_iv")
    raw_b = tmp_path / "b" / "raw" / "mimic_iv"
    fmt = "%Y-%m-%d %H:%M:%S"
    rows_chart, rows_lab = [], []
    for s, h, a in zip(info["subject_id"], info["hadm_id"], info["admit"], strict=True):
        late = (a + timedelta(hours=49)).strftime(fmt)  # inside the stay (>= 60 h), after 48 h
        early = (a + timedelta(hours=47, minutes=30)).strftime(fmt)
        rows_chart.append(f"{s},{h},{h + 10_000_000},0,{late},{late},220045,99999,99999.0,bpm,0")
        # drawn before the prediction time but resulted after it: not available at 48 h
        rows_lab.append(f"1,{s},{h},1,50912,,{early},{late},99999,99999.0,mg/dL,,,,ROUTINE,")
        rows_lab.append(f"2,{s},{h},1,50971,,{late},{late},99999,99999.0,mEq/L,,,,ROUTINE,")
    _append_rows(raw_b / "icu" / "chartevents.csv.gz", rows_chart)
    _append_rows(raw_b / "hosp" / "labevents.csv.gz", rows_lab)
    # an ECG and a CXR after the prediction time, for the first admission's patient
    prepare("mimic_iv", tmp_path / "b")
    got = _inputs(tmp_path / "b")
    for k in ref:
        assert np.array_equal(ref[k], got[k]), k
    assert not any("99999" in t for t in got["text"])

    # positive control: the same extreme value before the prediction time does reach the input
    shutil.copytree(raw, tmp_path / "c" / "raw" / "mimic_iv")
    raw_c = tmp_path / "c" / "raw" / "mimic_iv"
    s, h, a = info["subject_id"][0], info["hadm_id"][0], info["admit"][0]
    t = (a + timedelta(hours=10)).strftime(fmt)
    _append_rows(raw_c / "icu" / "chartevents.csv.gz",
                 [f"{s},{h},{h + 10_000_000},0,{t},{t},220045,99999,99999.0,bpm,0"])  # fmt: skip
    prepare("mimic_iv", tmp_path / "c")
    got_c = _inputs(tmp_path / "c")
    assert not np.array_equal(ref["ehr"], got_c["ehr"])
    i = list(got_c["ids"]).index(str(h))
    hr = [it.name for it in ITEMS].index("heart_rate")
    assert got_c["ehr"][i, hr].max() >= 99999 / 2  # the mean of its bin includes it


def test_climb_policy(generated: tuple[Path, dict], tmp_path: Path) -> None:
    root, info = generated
    df_c, _meta_c, store = _store(root)
    os.makedirs(tmp_path / "raw")
    os.symlink(root / "raw" / "mimic_iv", tmp_path / "raw" / "mimic_iv")
    prepare("mimic_iv", tmp_path, label_policy="climb", splits="climb")
    df, meta, store = _store(tmp_path)
    died = dict(zip(map(str, info["hadm_id"]), info["died"], strict=True))
    # CLIMB's target is 'survived' (1 = survived): the same fact, inverted coding
    assert meta["tasks"]["in_hospital_mortality"]["classes"] == ["died", "survived"]
    for sid, y in zip(df.sample_id, df.label__in_hospital_mortality, strict=True):
        assert y == int(not died[sid])
    # whole admission observed, no 48 h exclusion; CLIMB's cohort rule (CXR and ECG) applies
    assert len(df) >= len(df_c)
    assert not any(x["reason"].startswith("admission shorter") for x in _quarantine(store))
    # CLIMB's split: sorted hadm_id, first 80% train
    order = sorted(df.sample_id.astype(int))
    n_train = int(0.8 * len(order))
    assert set(df.sample_id[df.split == "train"].astype(int)) == set(order[:n_train])


def test_bad_inputs(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "mimic_iv"
    write_mimic(raw, patients=6, admissions_per_patient=2, seed=1, ecg=True, cxr=False)
    adm_path = raw / "hosp" / "admissions.csv.gz"
    adm = pd.read_csv(adm_path)
    # unparseable timestamp, duplicate row
    adm.loc[0, "admittime"] = "not a time"
    adm = pd.concat([adm, adm.iloc[[3]]], ignore_index=True)
    adm.to_csv(adm_path, index=False, compression="gzip")
    # ECGs listed whose files are absent (the first half of the list)
    rl = pd.read_csv(raw / "mimic-iv-ecg" / "record_list.csv")
    gone = set(rl.path.iloc[: len(rl) // 2])
    for rel in gone:
        for ext in (".hea", ".dat"):
            (raw / "mimic-iv-ecg" / (rel + ext)).unlink()
    res = prepare("mimic_iv", tmp_path)
    df, _, store = _store(tmp_path)
    reasons = {x["record"]: x["reason"] for x in _quarantine(store)}
    assert reasons[str(adm.hadm_id[0])].startswith("unparseable admittime/dischtime")
    assert any(r.startswith("duplicate admission row") for r in reasons.values())
    assert "duplicate admission row" in res.reasons
    # the admission keeps its sample; the ECG is absent and the reason is recorded
    listed = df[df.ecg_path != ""]
    missing = listed.ecg_path.map(lambda p: any(p.endswith(g) for g in gone))
    assert missing.any() and (~missing).any()
    assert listed.ecg_issue[missing].str.contains("file is absent").all()
    assert not listed.present__ecg[missing].any() and listed.present__ecg[~missing].all()

    # a table without a required column: the error names table and column
    adm.drop(columns=["dischtime"]).to_csv(adm_path, index=False, compression="gzip")
    with pytest.raises(ClimbError, match=r"table hosp/admissions has no column 'dischtime'"):
        prepare("mimic_iv", tmp_path)
    shutil.rmtree(raw / "hosp")
    with pytest.raises(ClimbError, match="no MIMIC-IV tables"):
        prepare("mimic_iv", tmp_path)


def test_options_change_the_window(generated: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = generated
    os.makedirs(tmp_path / "raw")
    os.symlink(root / "raw" / "mimic_iv", tmp_path / "raw" / "mimic_iv")
    prepare(
        "mimic_iv", tmp_path, adapter=MimicIVAdapter(prediction_hours=24, bin_hours=2, ecg=False)
    )
    df, _meta, store = _store(tmp_path)
    assert not (store / "arrays" / "ecg.zarr").exists() and "present__ecg" not in df.columns
    assert (store / "arrays" / "cxr.zarr").exists() and "present__cxr" in df.columns
    ehr = zarr.open(str(store / "arrays" / "ehr.zarr"))
    assert ehr.shape[1:] == (3 * N_ITEMS, 12)
    df48, _, _ = _store(root)
    assert len(df) >= len(df48)  # a shorter window excludes fewer admissions
    for a, p in zip(df.admittime, df.prediction_time, strict=True):
        assert datetime.fromisoformat(p) - datetime.fromisoformat(a) == timedelta(hours=24)
    with pytest.raises(ValueError, match="multiple of bin_hours"):
        MimicIVAdapter(prediction_hours=5, bin_hours=2)
