"""Generated tables in MIMIC-IV's layout (hosp/, icu/, MIMIC-IV-ECG, MIMIC-CXR-JPG) for tests
and the prepare benchmark. Random values, the real column names, time formats and file layout;
ECGs written with wfdb, CXRs with Pillow, all joined by subject_id / hadm_id / time."""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from climb.io.ehr import CHART_ITEMS, LAB_ITEMS

_T0 = datetime(2150, 1, 1)
_FMT = "%Y-%m-%d %H:%M:%S"


def _write(df: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb", compresslevel=1) as fh:
            df.write_csv(fh, datetime_format=_FMT)
    else:
        df.write_csv(path, datetime_format=_FMT)


def write_mimic(
    root: Path,
    *,
    patients: int = 12,
    admissions_per_patient: int = 2,
    lab_rows_per_admission: int = 60,
    chart_rows_per_admission: int = 120,
    ecg: bool = True,
    cxr: bool = True,
    seed: int = 0,
    stay_hours: tuple[float, float] = (20.0, 240.0),
) -> dict[str, Any]:
    """Write a MIMIC-shaped raw folder under ``root``; returns the admissions as a dict of lists.

    Admission lengths are uniform in ``stay_hours`` (some shorter than 48 h, so the window
    exclusion is exercised); about one admission in six ends in death.
    """
    import polars as pl

    rng = np.random.default_rng(seed)
    n_adm = patients * admissions_per_patient
    subj = np.repeat(np.arange(10_000_000, 10_000_000 + patients), admissions_per_patient)
    hadm = np.arange(20_000_000, 20_000_000 + n_adm)
    start_h = rng.uniform(0, 24 * 365 * 3, n_adm)
    stay = rng.uniform(*stay_hours, n_adm)
    admit = [_T0 + timedelta(hours=float(h)) for h in start_h]
    admit = [a.replace(microsecond=0, second=0) for a in admit]
    disch = [a + timedelta(hours=float(s)) for a, s in zip(admit, stay, strict=True)]
    disch = [d.replace(microsecond=0, second=0) for d in disch]
    died = rng.random(n_adm) < 0.17
    death = [d if x else None for d, x in zip(disch, died, strict=True)]
    types = ["EW EMER.", "URGENT", "ELECTIVE", "OBSERVATION ADMIT"]
    adm = pl.DataFrame(
        {
            "subject_id": subj,
            "hadm_id": hadm,
            "admittime": admit,
            "dischtime": disch,
            "deathtime": death,
            "admission_type": [types[i] for i in rng.integers(0, len(types), n_adm)],
            "admit_provider_id": ["P00000"] * n_adm,
            "admission_location": ["EMERGENCY ROOM"] * n_adm,
            "discharge_location": ["DIED" if x else "HOME" for x in died],
            "insurance": ["Other"] * n_adm,
            "language": ["ENGLISH"] * n_adm,
            "marital_status": ["SINGLE"] * n_adm,
            "race": ["UNKNOWN"] * n_adm,
            "edregtime": [None] * n_adm,
            "edouttime": [None] * n_adm,
            "hospital_expire_flag": died.astype(int),
        },
        schema_overrides={"edregtime": pl.String, "edouttime": pl.String},
    )
    hosp = root / "hosp"
    icu = root / "icu"
    _write(adm, hosp / "admissions.csv.gz")
    ps = np.arange(10_000_000, 10_000_000 + patients)
    _write(
        pl.DataFrame(
            {
                "subject_id": ps,
                "gender": ["F" if g else "M" for g in rng.random(patients) < 0.5],
                "anchor_age": rng.integers(20, 90, patients),
                "anchor_year": np.full(patients, 2150),
                "anchor_year_group": ["2011 - 2013"] * patients,
                "dod": [None] * patients,
            },
            schema_overrides={"dod": pl.String},
        ),
        hosp / "patients.csv.gz",
    )
    codes = [("4019", 9), ("2724", 9), ("I10", 10), ("E785", 10), ("4280", 9), ("N179", 10)]
    dx_rows: dict[str, list[Any]] = {"subject_id": [], "hadm_id": [], "seq_num": [],
                                     "icd_code": [], "icd_version": []}  # fmt: skip
    for i in range(n_adm):
        k = rng.integers(1, 4)
        for j, c in enumerate(rng.choice(len(codes), k, replace=False)):
            dx_rows["subject_id"].append(int(subj[i]))
            dx_rows["hadm_id"].append(int(hadm[i]))
            dx_rows["seq_num"].append(j + 1)
            dx_rows["icd_code"].append(codes[c][0])
            dx_rows["icd_version"].append(codes[c][1])
    _write(pl.DataFrame(dx_rows), hosp / "diagnoses_icd.csv.gz")
    _write(
        pl.DataFrame(
            {
                "itemid": [it.itemids[0] for it in LAB_ITEMS],
                "label": [it.name for it in LAB_ITEMS],
                "fluid": ["Blood"] * len(LAB_ITEMS),
                "category": ["Chemistry"] * len(LAB_ITEMS),
            }
        ),
        hosp / "d_labitems.csv.gz",
    )
    _write(
        pl.DataFrame(
            {
                "itemid": [iid for it in CHART_ITEMS for iid in it.itemids],
                "label": [f"{it.name}" for it in CHART_ITEMS for _ in it.itemids],
                "abbreviation": ["x"] * sum(len(it.itemids) for it in CHART_ITEMS),
                "linksto": ["chartevents"] * sum(len(it.itemids) for it in CHART_ITEMS),
                "category": ["Routine Vital Signs"] * sum(len(it.itemids) for it in CHART_ITEMS),
                "unitname": [it.unit for it in CHART_ITEMS for _ in it.itemids],
                "param_type": ["Numeric"] * sum(len(it.itemids) for it in CHART_ITEMS),
                "lownormalvalue": [None] * sum(len(it.itemids) for it in CHART_ITEMS),
                "highnormalvalue": [None] * sum(len(it.itemids) for it in CHART_ITEMS),
            },
            schema_overrides={"lownormalvalue": pl.String, "highnormalvalue": pl.String},
        ),
        icu / "d_items.csv.gz",
    )
    admit_s = np.array([(a - _T0).total_seconds() for a in admit])
    stay_s = stay * 3600.0
    lab_ids = np.array([it.itemids[0] for it in LAB_ITEMS])
    chart_ids = np.array([iid for it in CHART_ITEMS for iid in it.itemids])
    write_events(
        hosp / "labevents.csv.gz", rng, subj, hadm, admit_s, stay_s, lab_rows_per_admission,
        lab_ids, lab=True,
    )  # fmt: skip
    _write(
        pl.DataFrame(
            {
                "subject_id": subj,
                "hadm_id": hadm,
                "stay_id": hadm + 10_000_000,
                "first_careunit": ["MICU"] * n_adm,
                "last_careunit": ["MICU"] * n_adm,
                "intime": [a + timedelta(hours=2) for a in admit],
                "outtime": disch,
                "los": stay / 24.0,
            }
        ),
        icu / "icustays.csv.gz",
    )
    write_events(
        icu / "chartevents.csv.gz", rng, subj, hadm, admit_s, stay_s, chart_rows_per_admission,
        chart_ids, lab=False,
    )  # fmt: skip
    out: dict[str, Any] = {
        "subject_id": subj.tolist(),
        "hadm_id": hadm.tolist(),
        "admit": admit,
        "disch": disch,
        "died": died.tolist(),
    }
    if ecg:
        out["ecg"] = _write_ecgs(root / "mimic-iv-ecg", rng, subj, admit, stay)
    if cxr:
        out["cxr"] = _write_cxrs(root / "mimic-cxr-jpg", rng, subj, admit, stay)
    return out


def write_events(
    path: Path,
    rng: np.random.Generator,
    subj: np.ndarray,
    hadm: np.ndarray,
    admit_s: np.ndarray,
    stay_s: np.ndarray,
    rows_per_admission: int,
    itemids: np.ndarray,
    *,
    lab: bool,
    chunk_rows: int = 2_000_000,
) -> int:
    """Event rows spread over each admission (plus a few before admittime); written in chunks
    so generating tens of millions of rows stays bounded in memory. Returns the row count."""
    import polars as pl

    n_adm = len(hadm)
    total = n_adm * rows_per_admission
    path.parent.mkdir(parents=True, exist_ok=True)
    adm_per_chunk = max(1, chunk_rows // max(rows_per_admission, 1))
    first = True
    with gzip.open(path, "wb", compresslevel=1) as fh:
        for a0 in range(0, n_adm, adm_per_chunk):
            idx = np.repeat(np.arange(a0, min(n_adm, a0 + adm_per_chunk)), rows_per_admission)
            n = len(idx)
            frac = rng.uniform(-0.02, 1.0, n)
            t = admit_s[idx] + frac * stay_s[idx]
            t = np.floor(t / 60.0) * 60.0
            store = t + rng.uniform(0, 3600 if lab else 600, n)
            item = itemids[rng.integers(0, len(itemids), n)]
            val = np.round(rng.normal(100.0, 15.0, n), 1)
            ct = pl.from_epoch(pl.Series(t + _EPOCH_OFFSET).cast(pl.Int64), time_unit="s")
            st = pl.from_epoch(pl.Series(store + _EPOCH_OFFSET).cast(pl.Int64), time_unit="s")
            cols: dict[str, Any] = {
                "subject_id": subj[idx],
                "hadm_id": hadm[idx],
            }
            if lab:
                cols = {
                    "labevent_id": np.arange(n) + a0 * rows_per_admission,
                    **cols,
                    "specimen_id": np.arange(n),
                    "itemid": item,
                    "order_provider_id": [None] * n,
                    "charttime": ct,
                    "storetime": st,
                    "value": val.astype(str),
                    "valuenum": val,
                    "valueuom": ["mg/dL"] * n,
                    "ref_range_lower": [None] * n,
                    "ref_range_upper": [None] * n,
                    "flag": [None] * n,
                    "priority": ["ROUTINE"] * n,
                    "comments": [None] * n,
                }
            else:
                cols = {
                    **cols,
                    "stay_id": hadm[idx] + 10_000_000,
                    "caregiver_id": np.zeros(n, dtype=np.int64),
                    "charttime": ct,
                    "storetime": st,
                    "itemid": item,
                    "value": val.astype(str),
                    "valuenum": val,
                    "valueuom": ["bpm"] * n,
                    "warning": np.zeros(n, dtype=np.int64),
                }
            df = pl.DataFrame(cols, strict=False)
            df.write_csv(fh, include_header=first, datetime_format=_FMT)
            first = False
    return total


_EPOCH_OFFSET = (_T0 - datetime(1970, 1, 1)).total_seconds()


def _write_ecgs(
    root: Path, rng: np.random.Generator, subj: np.ndarray, admit: list[datetime], stay: np.ndarray
) -> list[dict[str, Any]]:
    import polars as pl
    import wfdb

    rows = []
    for i, (s, a, h) in enumerate(zip(subj, admit, stay, strict=True)):
        if i % 3 == 2:  # every third admission has no ECG
            continue
        t = a + timedelta(hours=float(rng.uniform(0.5, max(1.0, min(h, 60.0)))))
        t = t.replace(microsecond=0)
        study = 40_000_000 + i
        rel = f"files/p{str(s)[:4]}/p{s}/s{study}/{study}"
        d = root / rel
        d.parent.mkdir(parents=True, exist_ok=True)
        sig = rng.normal(0, 0.2, (5000, 12)) + np.sin(np.linspace(0, 60, 5000))[:, None]
        wfdb.wrsamp(
            d.name,
            fs=500,
            units=["mV"] * 12,
            sig_name=["I", "II", "III", "aVR", "aVF", "aVL", "V1", "V2", "V3", "V4", "V5", "V6"],
            p_signal=sig,
            fmt=["16"] * 12,
            adc_gain=[1000.0] * 12,
            baseline=[0] * 12,
            write_dir=str(d.parent),
        )
        rows.append(
            {"subject_id": int(s), "study_id": study, "file_name": str(study),
             "ecg_time": t.strftime(_FMT), "path": rel}
        )  # fmt: skip
    pl.DataFrame(rows).write_csv(root / "record_list.csv")
    return rows


def _write_cxrs(
    root: Path, rng: np.random.Generator, subj: np.ndarray, admit: list[datetime], stay: np.ndarray
) -> list[dict[str, Any]]:
    import polars as pl
    from PIL import Image

    rows = []
    for i, (s, a, h) in enumerate(zip(subj, admit, stay, strict=True)):
        if i % 4 == 3:  # every fourth admission has no CXR
            continue
        t = a + timedelta(hours=float(rng.uniform(0.5, max(1.0, min(h, 60.0)))))
        study = 50_000_000 + i
        for view in ("PA", "LATERAL"):
            dicom = f"{study:08d}-{view.lower()}"
            rel = f"files/p{str(s)[:2]}/p{s}/s{study}/{dicom}.jpg"
            p = root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            img = (rng.random((64, 48)) * 255).astype(np.uint8)
            Image.fromarray(img).save(p, quality=90)
            rows.append(
                {
                    "dicom_id": dicom,
                    "subject_id": int(s),
                    "study_id": study,
                    "PerformedProcedureStepDescription": "CHEST (PA AND LAT)",
                    "ViewPosition": view,
                    "Rows": 64,
                    "Columns": 48,
                    "StudyDate": t.strftime("%Y%m%d"),
                    "StudyTime": t.strftime("%H%M%S") + ".000",
                    "ProcedureCodeSequence_CodeMeaning": "CHEST (PA AND LAT)",
                    "ViewCodeSequence_CodeMeaning": "postero-anterior",
                    "PatientOrientationCodeSequence_CodeMeaning": "Erect",
                }
            )
    df = pl.DataFrame(rows)
    with gzip.open(root / "mimic-cxr-2.0.0-metadata.csv.gz", "wb") as fh:
        df.write_csv(fh)
    return rows
