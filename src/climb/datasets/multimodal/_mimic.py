"""Adapter of MIMIC-IV (+ MIMIC-IV-ECG + MIMIC-CXR-JPG): one sample per admission, inputs
charted before the prediction time only (docs/mimic.md has every rule).

Listing (main process) builds the cohort from ``hosp/admissions`` and ``hosp/patients`` and
the event features with polars (:mod:`climb.io.ehr`): one streaming pass per event table into
bucketed parquet, hourly bins and most recent values one bucket at a time, written as
memory-mapped arrays to a feature cache (``<root>/stores/.mimic_iv.features/<digest>/``,
reused while the inputs and options are unchanged). Reading a record (workers) slices that cache
and reads the admission's ECG (wfdb) and chest X-ray (Pillow).

Excluded admissions are records that raise :class:`RecordError`, so ``quarantine.jsonl`` counts
each one with its reason.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.adapter import BaseAdapter, PrepareOptions, RecordError, RecordRef, Sample
from climb.core.errors import ClimbError
from climb.core.schema import FieldSpec
from climb.core.splits import describe, stratified_group_split
from climb.io import ehr

SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
#: version of the feature cache layout (part of its digest: a new layout never reads an old one)
CACHE_FORMAT = "2"

ADMISSION_TYPES: tuple[str, ...] = (
    "AMBULATORY OBSERVATION",
    "DIRECT EMER.",
    "DIRECT OBSERVATION",
    "ELECTIVE",
    "EU OBSERVATION",
    "EW EMER.",
    "OBSERVATION ADMIT",
    "SURGICAL SAME DAY ADMISSION",
    "URGENT",
)
#: the static feature vector, in order
STATIC_FEATURES: tuple[str, ...] = (
    "age",
    "gender_female",
    "gender_male",
    *(f"admission_type={t}" for t in ADMISSION_TYPES),
    "admission_type=other",
    "icu_before_prediction",
)
ECG_LEADS = 12
ECG_FS = 500.0
ECG_SAMPLES = 5000
VIEW_ORDER = {"PA": 0, "AP": 1, "LATERAL": 3, "LL": 3}
_SKIP_DIRS = {"files", "hosp", "icu", "note"}


def _find_dir(raw: Path, test: Any, max_depth: int = 4) -> Path | None:
    """Breadth-first search (not into files/, hosp/, icu/) for the first folder passing ``test``."""
    level = [raw]
    for _ in range(max_depth + 1):
        nxt: list[Path] = []
        for d in level:
            if test(d):
                return d
            try:
                subs = sorted(p for p in d.iterdir() if p.is_dir())
            except OSError:
                continue
            nxt += [p for p in subs if p.name not in _SKIP_DIRS and not p.name.startswith(".")]
        level = nxt
    return None


def _table_file(d: Path, *names: str) -> Path | None:
    for n in names:
        for suffix in (".csv.gz", ".csv"):
            if (d / f"{n}{suffix}").is_file():
                return d / f"{n}{suffix}"
    return None


def find_layout(raw: Path) -> dict[str, Path | None]:
    """Where the EHR (folder with ``hosp/``), MIMIC-IV-ECG and MIMIC-CXR-JPG files are."""
    ehr_root = _find_dir(raw, lambda d: ehr.find_table(d, "hosp", "admissions") is not None)
    ecg_root = _find_dir(raw, lambda d: _table_file(d, "record_list") is not None)
    cxr_root = _find_dir(raw, lambda d: _table_file(d, "mimic-cxr-2.0.0-metadata") is not None)
    return {"ehr": ehr_root, "ecg": ecg_root, "cxr": cxr_root}


def _pl() -> Any:
    import polars as pl

    return pl


def _iso(t: Any) -> str:
    return t.isoformat(sep=" ") if isinstance(t, datetime) else ""


def _slice(path: Path, dtype: Any, lo: int, hi: int) -> np.ndarray:
    """Elements ``lo:hi`` of a raw binary array file (read with one seek, not the whole file)."""
    if hi <= lo:
        return np.zeros(0, dtype=dtype)
    size = np.dtype(dtype).itemsize
    with open(path, "rb") as fh:
        fh.seek(lo * size)
        return np.frombuffer(fh.read((hi - lo) * size), dtype=dtype).copy()


class MimicIVAdapter(BaseAdapter):
    key = "mimic_iv"
    extra_split_rules = ("subject",)

    def __init__(
        self,
        prediction_hours: float = 48.0,
        bin_hours: float = 1.0,
        icd_top_k: int = 50,
        cxr_size: int = 224,
        buckets: int = 16,
        ecg: bool = True,
        cxr: bool = True,
    ) -> None:
        if prediction_hours <= 0 or bin_hours <= 0:
            raise ValueError("prediction_hours and bin_hours must be positive")
        n = prediction_hours / bin_hours
        if abs(n - round(n)) > 1e-9:
            raise ValueError(f"prediction_hours {prediction_hours} is not a multiple of bin_hours")
        if icd_top_k <= 0 or cxr_size <= 0 or buckets <= 0:
            raise ValueError("icd_top_k, cxr_size and buckets must be positive")
        self.prediction_hours = float(prediction_hours)
        self.bin_hours = float(bin_hours)
        self.icd_top_k = int(icd_top_k)
        self.cxr_size = int(cxr_size)
        self.buckets = int(buckets)
        self.ecg = bool(ecg)
        self.cxr = bool(cxr)
        self.n_bins = round(n)
        self.version = "1"
        self._memo: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:  # workers need no cohort, only the cache paths
        state = dict(self.__dict__)
        state["_memo"] = {}
        return state

    # ------------------------------------------------------------------ description
    def fields(self) -> list[Any]:
        n_items = len(ehr.ITEMS)
        out = [
            FieldSpec(
                "ehr",
                "float32",
                (3 * n_items, self.n_bins),
                axes=("channel", "time"),
                unit="item units (values) | 0/1 (mask) | hours (delta); docs/mimic.md",
                sampling_rate_hz=1.0 / (3600.0 * self.bin_hours),
                chunks=256,
            ),
            FieldSpec("static", "float32", (len(STATIC_FEATURES),), axes=("feature",), chunks=4096),
        ]
        if self.ecg:
            out.append(
                FieldSpec(
                    "ecg",
                    "float32",
                    (ECG_LEADS, ECG_SAMPLES),
                    axes=("lead", "time"),
                    unit="mV",
                    sampling_rate_hz=ECG_FS,
                    chunks=32,
                )
            )
        if self.cxr:
            out.append(
                FieldSpec(
                    "cxr",
                    "uint8",
                    (1, self.cxr_size, self.cxr_size),
                    axes=("channel", "height", "width"),
                    chunks=64,
                )
            )
        return out

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        built = self._build(raw_dir, options)
        climb = options.label_policy == "climb"
        when = (
            "the whole admission (CLIMB's definition)"
            if climb
            else f"{self.prediction_hours:g} h after admittime"
        )
        return {
            "in_hospital_mortality": {
                "type": "binary",
                "classes": ["died", "survived"] if climb else ["survived", "died"],
                "label_space": None,
                "column": "label__in_hospital_mortality",
                "policy": options.label_policy,
                "description": (
                    "CLIMB's 'survived' target: 1 = survived (deathtime is null)"
                    if climb
                    else "1 = died in hospital (deathtime set or hospital_expire_flag = 1), "
                    f"predicted at {when}; admissions that end before it are excluded"
                ),
                "prediction_time": when,
            },
            "length_of_stay": {
                "type": "regression",
                "unit": "days",
                "label_space": None,
                "column": "label__length_of_stay",
                "policy": options.label_policy,
                "description": f"(dischtime - admittime) in days, predicted at {when}",
                "prediction_time": when,
            },
            "los_gt7d": {
                "type": "binary",
                "classes": ["le_7d", "gt_7d"],
                "label_space": None,
                "column": "label__los_gt7d",
                "policy": options.label_policy,
                "description": f"length of stay > 7 days, predicted at {when}",
                "prediction_time": when,
            },
            "diagnosis": {
                "type": "multilabel",
                "classes": list(built["vocab"]),
                "label_space": None,
                "column": "label__diagnosis",
                "policy": options.label_policy,
                "description": (
                    f"ICD codes of the admission (hosp/diagnoses_icd), the {self.icd_top_k} most "
                    "frequent codes among the training split's admissions, ICD-9 and ICD-10 kept "
                    "apart ('icd9:4019', 'icd10:I10'); ties broken by code; admissions without "
                    "any code are missing (-1)"
                ),
                "prediction_time": when,
            },
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["subject", "climb"]

    def default_split_rule(self, raw_dir: Path) -> str:
        return "subject"

    def describe_split(self, rule: str, seed: int) -> dict[str, Any]:
        return describe(
            rule,
            seed,
            "seeded subject-level split (subject_id): train 80% / val 10% / test 10% of the "
            "patients, stratified by in-hospital death; the ICD vocabulary is counted on train",
            prediction_hours=self.prediction_hours,
        )

    def summary_notes(self, raw_dir: Path, options: PrepareOptions) -> list[str]:
        return list(self._build(raw_dir, options)["notes"])

    # ------------------------------------------------------------------ records
    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        return list(self._build(raw_dir, options)["refs"])

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        info = ref.info
        if "excluded" in info:
            raise RecordError(info["excluded"], stage="cohort")
        cache = Path(info["cache"])
        adm = int(info["adm"])
        lo, hi = (int(v) for v in np.load(cache / "bins_range.npy", mmap_mode="r")[adm])
        items = _slice(cache / "bins_item.bin", np.int16, lo, hi).astype(np.int64)
        bins = _slice(cache / "bins_bin.bin", np.int16, lo, hi).astype(np.int64)
        vals = _slice(cache / "bins_val.bin", np.float32, lo, hi)
        v, m, d = ehr.grid(items, bins, vals, len(ehr.ITEMS), self.n_bins, self.bin_hours)
        t_lo, t_hi = (int(v) for v in np.load(cache / "text_range.npy", mmap_mode="r")[adm])
        text_tail = _slice(cache / "text.bin", np.uint8, t_lo, t_hi).tobytes().decode("utf-8")
        text = " | ".join(p for p in (info["text_head"], text_tail) if p)
        columns: dict[str, Any] = {
            "hadm_id": int(info["hadm_id"]),
            "subject_id": int(info["subject_id"]),
            "admittime": info["admittime"],
            "prediction_time": info["prediction_time"],
            "ehr_text": text,
            "n_events": int(hi - lo),
        }
        arrays: dict[str, np.ndarray] = {
            "ehr": np.concatenate([v, m, d], axis=0),
            "static": np.asarray(info["static"], dtype=np.float32),
        }
        if self.ecg:
            ecg, ecg_issue = self._ecg(info.get("ecg_path"))
            arrays["ecg"] = (
                ecg if ecg is not None else np.zeros((ECG_LEADS, ECG_SAMPLES), np.float32)
            )
            columns.update(
                present__ecg=ecg is not None,
                ecg_path=info.get("ecg_path") or "",
                ecg_time=info.get("ecg_time") or "",
                ecg_issue=ecg_issue,
            )
        if self.cxr:
            cxr, cxr_issue = self._cxr(info.get("cxr_path"))
            arrays["cxr"] = (
                cxr if cxr is not None else np.zeros((1, self.cxr_size, self.cxr_size), np.uint8)
            )
            columns.update(
                present__cxr=cxr is not None,
                cxr_path=info.get("cxr_path") or "",
                cxr_time=info.get("cxr_time") or "",
                cxr_issue=cxr_issue,
            )
        return Sample(
            sample_id=str(info["hadm_id"]),
            patient_id=str(info["subject_id"]),
            source_path=ref.source_path,
            arrays=arrays,
            labels=dict(info["labels"]),
            native_labels=dict(info["native"]),
            columns=columns,
            split_hint={options.splits or "subject": info["split"]},
        )

    def _ecg(self, path: str | None) -> tuple[np.ndarray | None, str]:
        if not path:
            return None, ""
        from climb.io.wfdb import WfdbReadError, read_record

        base = Path(path)
        if not base.with_suffix(".hea").is_file():
            return None, f"ECG listed in record_list but its file is absent: {base.name}.hea"
        try:
            rec = read_record(base)
        except WfdbReadError as exc:
            return None, f"ECG unreadable: {exc}"
        sig = np.asarray(rec.signal, dtype=np.float64)
        if sig.shape[1] != ECG_LEADS:
            return None, f"ECG has {sig.shape[1]} leads, expected {ECG_LEADS}"
        issue = ""
        if rec.fs != ECG_FS:
            from scipy.signal import resample_poly

            up, down = int(ECG_FS), round(rec.fs)
            g = math.gcd(up, down)
            sig = resample_poly(sig, up // g, down // g, axis=0)
            issue = f"resampled from {rec.fs:g} Hz"
        x = np.zeros((ECG_SAMPLES, ECG_LEADS), dtype=np.float32)
        n = min(ECG_SAMPLES, sig.shape[0])
        x[:n] = sig[:n]
        bad = ~np.isfinite(x)
        if bad.any():
            x[bad] = 0.0
            issue = (
                issue + "; " if issue else ""
            ) + f"{int(bad.sum())} non-finite samples set to 0"
        return np.ascontiguousarray(x.T), issue

    def _cxr(self, path: str | None) -> tuple[np.ndarray | None, str]:
        if not path:
            return None, ""
        from climb.io.image import ImageReadError, read_image, standardize

        p = Path(path)
        if not p.is_file():
            return None, f"CXR listed in the metadata but its file is absent: {p.name}"
        try:
            img = read_image(p, channels=1)
        except ImageReadError as exc:
            return None, f"CXR unreadable: {exc}"
        return standardize(img.array, self.cxr_size, channels=1, mode="pad"), ""

    # ------------------------------------------------------------------ cohort + features
    def _build(self, raw: Path, options: PrepareOptions) -> dict[str, Any]:
        key = json.dumps([str(raw), options.to_dict()])
        if key not in self._memo:
            self._memo = {key: _Builder(self, raw, options).run()}
        return self._memo[key]


class _Builder:
    """Builds the cohort, labels, vocabulary and the feature cache for one prepare run."""

    def __init__(self, adapter: MimicIVAdapter, raw: Path, options: PrepareOptions) -> None:
        self.a = adapter
        self.raw = raw
        self.options = options
        self.climb = options.label_policy == "climb"
        self.notes: list[str] = []
        layout = find_layout(raw)
        if layout["ehr"] is None:
            raise ClimbError(
                "no MIMIC-IV tables: no folder with hosp/admissions.csv.gz",
                where=str(raw),
                fix="run 'climb fetch mimic_iv' (credentialed) or 'climb fetch mimic_iv --source "
                "mimic-iv-demo' (open, 100 patients), or put the PhysioNet layout there",
            )
        self.root: Path = layout["ehr"]
        self.ecg_root = layout["ecg"]
        self.cxr_root = layout["cxr"]

    def _table(self, module: str, name: str, required: bool = True) -> Path | None:
        p = ehr.find_table(self.root, module, name)
        if p is None and required:
            raise ClimbError(
                f"MIMIC-IV table {module}/{name} is missing",
                where=str(self.root / module),
                fix=f"{module}/{name}.csv.gz is part of the PhysioNet layout; re-fetch it",
            )
        return p

    def _digest(self, files: list[Path]) -> str:
        h = hashlib.sha256()
        h.update(json.dumps([self.a.params(), self.options.to_dict(), CACHE_FORMAT]).encode())
        for f in files:
            st = f.stat()
            h.update(f"{f}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
        return h.hexdigest()[:24]

    # -- cohort
    def run(self) -> dict[str, Any]:
        pl = _pl()
        t_adm = self._table("hosp", "admissions")
        t_pat = self._table("hosp", "patients")
        t_dx = self._table("hosp", "diagnoses_icd")
        assert t_adm and t_pat and t_dx
        adm = ehr.scan_table(
            t_adm,
            "hosp/admissions",
            {"subject_id": "int", "hadm_id": "int", "admittime": "str", "dischtime": "str"},
            {
                "deathtime": "str",
                "hospital_expire_flag": "int",
                "admission_type": "str",
                "admission_location": "str",
            },
        ).collect()
        if (
            adm["deathtime"].null_count() == adm.height
            and adm["hospital_expire_flag"].null_count() == adm.height
        ):
            raise ClimbError(
                "table hosp/admissions has neither 'deathtime' nor 'hospital_expire_flag' values",
                where=str(t_adm),
                fix="mortality needs one of them; check that this is the PhysioNet table",
            )
        pat = ehr.scan_table(
            t_pat,
            "hosp/patients",
            {"subject_id": "int", "gender": "str", "anchor_age": "int", "anchor_year": "int"},
        ).collect()
        dx = ehr.scan_table(
            t_dx,
            "hosp/diagnoses_icd",
            {"hadm_id": "int", "icd_code": "str", "icd_version": "int"},
        ).collect()
        adm = adm.with_columns(
            admit=ehr.parse_time("admittime"),
            disch=ehr.parse_time("dischtime"),
            death=ehr.parse_time("deathtime"),
        )
        pat = pat.unique(subset="subject_id", keep="first")
        adm = adm.join(pat, on="subject_id", how="left")
        adm = adm.with_columns(
            _dup=pl.col("hadm_id").is_duplicated() & ~pl.col("hadm_id").is_first_distinct()
        )
        icu_path = self._table("icu", "icustays", required=False)
        icu = (
            ehr.scan_table(icu_path, "icu/icustays", {"hadm_id": "int", "intime": "str"})
            .with_columns(intime=ehr.parse_time("intime"))
            .group_by("hadm_id")
            .agg(pl.col("intime").min())
            .collect()
            if icu_path
            else pl.DataFrame(
                {"hadm_id": [], "intime": []},
                schema={"hadm_id": pl.Int64, "intime": pl.Datetime("us")},
            )
        )
        adm = adm.join(icu, on="hadm_id", how="left")
        codes = self._codes(dx)
        rows = adm.sort("hadm_id").to_dicts()
        pred_delta = timedelta(hours=self.a.prediction_hours)

        kept: list[dict[str, Any]] = []
        excluded: list[tuple[dict[str, Any], str]] = []
        self._ecg, self._cxr = self._modalities()
        for r in rows:
            reason = self._exclusion(r, codes, self._ecg, self._cxr, pred_delta)
            if reason:
                excluded.append((r, reason))
            else:
                r["pred"] = (
                    r["disch"] + timedelta(seconds=1) if self.climb else r["admit"] + pred_delta
                )
                r["start"] = r["admit"]
                kept.append(r)
        if not kept:
            reasons = Counter(x[1].split(":")[0] for x in excluded)
            raise ClimbError(
                "no admission passes the cohort rules",
                where=str(t_adm),
                fix=f"excluded: {dict(reasons)}; a shorter -O prediction_hours=... keeps more",
            )
        for i, r in enumerate(kept):
            r["adm"] = i
        split = self._splits(kept)
        vocab = self._vocab(kept, codes, split)
        cache = self._features(kept)
        refs = [self._ref(r, codes, vocab, split, cache) for r in kept]
        dup_n: Counter[int] = Counter()
        for r, reason in excluded:
            rid = f"{r['hadm_id']}"
            if r["_dup"]:
                dup_n[r["hadm_id"]] += 1
                rid = f"{r['hadm_id']}_dup{dup_n[r['hadm_id']]}"
            refs.append(
                RecordRef(rid, t_adm.relative_to(self.raw).as_posix(), {"excluded": reason})
            )
        counts = Counter(reason.split(":")[0] for _, reason in excluded)
        if counts:
            self.notes.append(
                "excluded admissions by reason: "
                + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            )
        refs.sort(key=lambda x: x.record_id)
        return {"refs": refs, "vocab": vocab, "notes": self.notes}

    def _codes(self, dx: Any) -> dict[int, list[str]]:
        pl = _pl()
        dx = dx.filter(pl.col("hadm_id").is_not_null() & pl.col("icd_code").is_not_null())
        dx = dx.with_columns(
            key=pl.format("icd{}:{}", pl.col("icd_version"), pl.col("icd_code").str.strip_chars())
        ).unique(subset=["hadm_id", "key"], maintain_order=True)
        out: dict[int, list[str]] = {}
        for h, k in dx.select("hadm_id", "key").iter_rows():
            out.setdefault(int(h), []).append(k)
        return out

    def _exclusion(
        self,
        r: dict[str, Any],
        codes: dict[int, list[str]],
        ecg: dict[int, list[tuple[datetime, str]]],
        cxr: dict[int, list[tuple[datetime, str, str]]],
        pred_delta: timedelta,
    ) -> str:
        if r["_dup"]:
            return f"duplicate admission row: hadm_id {r['hadm_id']} appears more than once"
        if r["hadm_id"] is None or r["subject_id"] is None:
            return "admission without hadm_id or subject_id"
        if r["admit"] is None or r["disch"] is None:
            return (
                "unparseable admittime/dischtime: "
                f"{r['admittime']!r} / {r['dischtime']!r} in hosp/admissions"
            )
        if r["disch"] < r["admit"]:
            return "dischtime before admittime"
        if r["gender"] is None and r["anchor_age"] is None:
            return f"patient not in hosp/patients: subject_id {r['subject_id']}"
        if self.climb:
            if not codes.get(int(r["hadm_id"])):
                return "no ICD diagnosis (CLIMB's cohort rule)"
            if self.ecg_root and self.cxr_root:
                s = int(r["subject_id"])
                if not ecg.get(s) or not cxr.get(s):
                    return "patient without both a CXR and an ECG (CLIMB's cohort rule)"
            return ""
        end = r["disch"]
        if r["death"] is not None and r["death"] < end:
            end = r["death"]
        if end < r["admit"] + pred_delta:
            hours = (end - r["admit"]).total_seconds() / 3600
            what = "died" if r["death"] is not None or r["hospital_expire_flag"] == 1 else "ended"
            return (
                f"admission shorter than the observation window: {what} {hours:.1f} h after "
                f"admission, before the prediction time at {self.a.prediction_hours:g} h"
            )
        return ""

    def _splits(self, kept: list[dict[str, Any]]) -> dict[int, str]:
        """hadm_id -> split. ``subject``: seeded subject-level 80/10/10, stratified by whether
        the patient died in hospital in any cohort admission; ``climb``: CLIMB's rule (sorted
        hadm_id, first 80% train, the rest val; not patient-level)."""
        if self.options.splits == "climb":
            order = sorted(int(r["hadm_id"]) for r in kept)
            n_train = int(0.8 * len(order))
            return {h: ("train" if i < n_train else "val") for i, h in enumerate(order)}
        stratum: dict[str, int] = {}
        for r in kept:
            died = int(r["death"] is not None or r["hospital_expire_flag"] == 1)
            s = str(r["subject_id"])
            stratum[s] = max(stratum.get(s, 0), died)
        by_subject = stratified_group_split(stratum, self.options.seed, SPLIT_FRACTIONS)
        return {int(r["hadm_id"]): by_subject[str(r["subject_id"])] for r in kept}

    def _vocab(
        self, kept: list[dict[str, Any]], codes: dict[int, list[str]], split: dict[int, str]
    ) -> list[str]:
        c: Counter[str] = Counter()
        for r in kept:
            h = int(r["hadm_id"])
            if split.get(h) == "train":
                c.update(codes.get(h, []))
        ranked = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
        vocab = [k for k, _ in ranked[: self.a.icd_top_k]]
        if len(vocab) < self.a.icd_top_k:
            self.notes.append(
                f"ICD vocabulary has {len(vocab)} codes (fewer than icd_top_k="
                f"{self.a.icd_top_k} distinct codes in the training split)"
            )
        return vocab

    # -- ECG and CXR listings
    def _modalities(
        self,
    ) -> tuple[dict[int, list[tuple[datetime, str]]], dict[int, list[tuple[datetime, str, str]]]]:
        pl = _pl()
        ecg: dict[int, list[tuple[datetime, str]]] = {}
        cxr: dict[int, list[tuple[datetime, str, str]]] = {}
        if self.ecg_root is not None:
            f = _table_file(self.ecg_root, "record_list")
            assert f is not None
            df = (
                ehr.scan_table(
                    f,
                    "mimic-iv-ecg/record_list",
                    {"subject_id": "int", "ecg_time": "str", "path": "str"},
                )
                .with_columns(t=ehr.parse_time("ecg_time"))
                .collect()
            )
            bad = df.filter(pl.col("t").is_null() | pl.col("subject_id").is_null()).height
            if bad:
                self.notes.append(f"{bad} ECG record(s) with an unparseable ecg_time ignored")
            for s, t, p in (
                df.drop_nulls(["t", "subject_id"]).select("subject_id", "t", "path").iter_rows()
            ):
                ecg.setdefault(int(s), []).append((t, str(self.ecg_root / p)))
        else:
            self.notes.append(
                "no MIMIC-IV-ECG record_list.csv found: ecg absent for every admission"
            )
        if self.cxr_root is not None:
            f = _table_file(self.cxr_root, "mimic-cxr-2.0.0-metadata")
            assert f is not None
            df = (
                ehr.scan_table(
                    f,
                    "mimic-cxr-jpg/mimic-cxr-2.0.0-metadata",
                    {
                        "dicom_id": "str",
                        "subject_id": "int",
                        "study_id": "int",
                        "StudyDate": "str",
                        "StudyTime": "str",
                    },
                    {"ViewPosition": "str"},
                )
                .with_columns(
                    t=pl.concat_str(
                        pl.col("StudyDate").str.strip_chars(),
                        pl.col("StudyTime")
                        .str.strip_chars()
                        .str.split(".")
                        .list.first()
                        .str.zfill(6),
                    ).str.to_datetime("%Y%m%d%H%M%S", strict=False)
                )
                .collect()
            )
            bad = df.filter(pl.col("t").is_null()).height
            if bad:
                self.notes.append(
                    f"{bad} CXR image(s) with an unparseable StudyDate/StudyTime ignored"
                )
            for s, st, d, t, v in (
                df.drop_nulls(["t", "subject_id", "study_id"])
                .select("subject_id", "study_id", "dicom_id", "t", "ViewPosition")
                .iter_rows()
            ):
                sub = str(int(s))
                rel = f"files/p{sub[:2]}/p{sub}/s{int(st)}/{d}.jpg"
                cxr.setdefault(int(s), []).append((t, str(self.cxr_root / rel), str(v or "")))
        else:
            self.notes.append(
                "no MIMIC-CXR-JPG mimic-cxr-2.0.0-metadata.csv found: cxr absent for every admission"
            )
        return ecg, cxr

    @staticmethod
    def _last_before(
        entries: list[Any], start: datetime, pred: datetime, view: bool = False
    ) -> Any:
        inside = [e for e in entries if start <= e[0] < pred]
        if not inside:
            return None
        if view:  # latest study; inside it the preferred view (PA, AP, others, lateral)
            t_last = max(e[0] for e in inside)
            same = [e for e in inside if e[0] == t_last]
            return min(same, key=lambda e: (VIEW_ORDER.get(e[2].upper(), 2), e[1]))
        return max(inside, key=lambda e: (e[0], e[1]))

    # -- events -> feature cache
    def _features(self, kept: list[dict[str, Any]]) -> Path:
        pl = _pl()
        t_lab = self._table("hosp", "labevents", required=False)
        t_chart = self._table("icu", "chartevents", required=False)
        inputs = [p for p in (t_lab, t_chart) if p is not None]
        for name in ("d_labitems",):
            p = self._table("hosp", name, required=False)
            if p:
                inputs.append(p)
        p = self._table("icu", "d_items", required=False)
        if p:
            inputs.append(p)
        stores = self.raw.parent.parent / "stores"
        base = stores / f".{self.a.key}.features"
        cache = base / self._digest([*inputs, self._table("hosp", "admissions")])  # type: ignore[list-item]
        if (cache / "done.json").is_file():
            done = json.loads((cache / "done.json").read_text(encoding="utf-8"))
            self.notes.extend(done.get("notes", []))
            return cache
        if base.is_dir():  # older caches of other inputs/options
            shutil.rmtree(base, ignore_errors=True)
        work = cache / "events"
        work.mkdir(parents=True, exist_ok=True)
        windows = pl.DataFrame(
            {
                "hadm_id": [int(r["hadm_id"]) for r in kept],
                "adm": [int(r["adm"]) for r in kept],
                "start": [r["start"] for r in kept],
                "pred": [r["pred"] for r in kept],
                "admit": [r["admit"] for r in kept],
                "disch": [r["disch"] for r in kept],
            },
            schema={
                "hadm_id": pl.Int64,
                "adm": pl.Int64,
                "start": pl.Datetime("us"),
                "pred": pl.Datetime("us"),
                "admit": pl.Datetime("us"),
                "disch": pl.Datetime("us"),
            },
        )
        dirs: list[Path] = []
        labels: dict[int, str] = {}
        ev_cols = {"hadm_id": "int", "itemid": "int", "charttime": "str", "valuenum": "float"}
        ev_opt = {"storetime": "str", "valueuom": "str"}
        notes: list[str] = []
        convert = {iid: (a, b) for it in ehr.ITEMS for iid, a, b in it.convert}
        for path, table, keep_all in (
            (t_lab, "hosp/labevents", True),  # every lab item: the text lists them all
            (t_chart, "icu/chartevents", False),
        ):
            if path is None:
                notes.append(f"no {table} table: its channels are empty for every admission")
                continue
            # CSVs stream through pyarrow in blocks (bounded memory); parquet through polars
            events: Any = (
                ehr.scan_table(path, table, ev_cols, ev_opt)
                if path.name.endswith(".parquet")
                else ehr.iter_table(path, table, ev_cols, ev_opt)
            )
            out = ehr.extract_events(
                events,
                windows,
                work / table.split("/")[1],
                items=ehr.item_index(ehr.ITEMS, table.split("/")[1]),
                keep_all=keep_all,
                convert=convert,
                buckets=self.a.buckets,
                has_storetime="storetime" in ehr.header(path),
            )
            dirs.append(out)
            counts = ehr.status_counts(out)
            dups = ehr.duplicate_count(out, self.a.buckets)
            bad = {k: v for k, v in counts.items() if k != "ok" and v}
            notes.append(
                f"{table}: {counts.get('ok', 0)} rows used"
                + "".join(f", {v} {k.replace('_', ' ')}" for k, v in sorted(bad.items()))
                + (f", {dups} exact duplicate rows counted once" if dups else "")
            )
        labels.update(self._item_labels())
        n = len(kept)
        self._write_bins(cache, dirs, n)
        self._write_text(cache, dirs, n, labels)
        shutil.rmtree(work, ignore_errors=True)
        (cache / "done.json").write_text(json.dumps({"notes": notes, "admissions": n}), "utf-8")
        self.notes.extend(notes)
        return cache

    def _item_labels(self) -> dict[int, str]:
        out: dict[int, str] = {}
        for module, name in (("hosp", "d_labitems"), ("icu", "d_items")):
            p = self._table(module, name, required=False)
            if p is None:
                continue
            df = ehr.scan_table(p, f"{module}/{name}", {"itemid": "int", "label": "str"}).collect()
            for i, lab in df.drop_nulls().iter_rows():
                out[int(i)] = str(lab)
        for it in ehr.ITEMS:
            for iid in it.itemids:
                out.setdefault(iid, it.name)
        return out

    def _write_bins(self, cache: Path, dirs: list[Path], n: int) -> None:
        """Bucket by bucket (bounded memory): append each bucket's rows sorted by admission to
        ``bins_{item,bin,val}.bin`` and record every admission's row range in ``bins_range.npy``."""
        rng = np.zeros((n, 2), dtype=np.int64)
        pos = 0
        with (
            open(cache / "bins_item.bin", "wb") as f_item,
            open(cache / "bins_bin.bin", "wb") as f_bin,
            open(cache / "bins_val.bin", "wb") as f_val,
        ):
            for df in ehr.bin_events(dirs, self.a.buckets, self.a.bin_hours, self.a.n_bins):
                if df.height == 0:
                    continue
                df = df.sort("adm", "item", "bin")
                adm = df["adm"].to_numpy().astype(np.int64)
                f_item.write(df["item"].to_numpy().astype(np.int16).tobytes())
                f_bin.write(df["bin"].to_numpy().astype(np.int16).tobytes())
                f_val.write(df["value"].to_numpy().astype(np.float32).tobytes())
                ids, first, counts = np.unique(adm, return_index=True, return_counts=True)
                rng[ids, 0] = pos + first
                rng[ids, 1] = pos + first + counts
                pos += len(adm)
        np.save(cache / "bins_range.npy", rng)

    def _write_text(self, cache: Path, dirs: list[Path], n: int, labels: dict[int, str]) -> None:
        """CLIMB's format_patient_history items after the demographics/admission head: the
        most recent value of every lab item, then of every documented chart item; built in
        polars bucket by bucket and appended to ``text.bin`` (ranges in ``text_range.npy``)."""
        pl = _pl()
        rng = np.zeros((n, 2), dtype=np.int64)
        pos = 0
        chart_ids = list(ehr.item_index(ehr.ITEMS, "chartevents"))
        names = pl.DataFrame(
            {"itemid": list(labels), "_label": list(labels.values())},
            schema={"itemid": pl.Int32, "_label": pl.String},
        )
        with open(cache / "text.bin", "wb") as fh:
            for df in ehr.last_values(dirs, self.a.buckets):
                if df.height == 0:
                    continue
                value = pl.col("value").cast(pl.String).str.strip_suffix(".0")
                unit = pl.col("unit").fill_null("")
                texts = (
                    df.join(names, on="itemid", how="left")
                    .with_columns(
                        _chart=pl.col("itemid").is_in(chart_ids),
                        _s=pl.format(
                            "{}: {}{}",
                            pl.coalesce("_label", pl.format("item {}", "itemid")),
                            value,
                            pl.when(unit != "").then(pl.format(" {}", unit)).otherwise(pl.lit("")),
                        ),
                    )
                    .sort("adm", "_chart", "itemid")
                    .group_by("adm", maintain_order=True)
                    .agg(pl.col("_s").str.join(" | "))
                )
                for a, t in texts.iter_rows():
                    data = t.encode("utf-8")
                    fh.write(data)
                    rng[a] = (pos, pos + len(data))
                    pos += len(data)
        np.save(cache / "text_range.npy", rng)

    # -- one admission's reference
    def _ref(
        self,
        r: dict[str, Any],
        codes: dict[int, list[str]],
        vocab: list[str],
        split: dict[int, str],
        cache: Path,
    ) -> RecordRef:
        h = int(r["hadm_id"])
        died = r["death"] is not None or r["hospital_expire_flag"] == 1
        los = (r["disch"] - r["admit"]).total_seconds() / 86400.0
        adm_codes = codes.get(h, [])
        if adm_codes:
            have = set(adm_codes)
            diag: list[int] = [1 if c in have else 0 for c in vocab]
        else:
            diag = [-1] * len(vocab)
        labels = {
            "in_hospital_mortality": int(not died) if self.climb else int(died),
            "length_of_stay": float(los),
            "los_gt7d": int(los > 7.0),
            "diagnosis": diag,
        }
        age = None
        if r["anchor_age"] is not None and r["anchor_year"] is not None:
            age = float(r["anchor_age"] + (r["admit"].year - r["anchor_year"]))
        atype = (r["admission_type"] or "").strip().upper()
        static = [
            age if age is not None else float("nan"),
            float(r["gender"] == "F"),
            float(r["gender"] == "M"),
            *(float(atype == t) for t in ADMISSION_TYPES),
            float(atype not in ADMISSION_TYPES),
            float(r["intime"] is not None and r["intime"] < r["pred"]),
        ]
        if age is None:
            static[0] = 0.0
        info: dict[str, Any] = {
            "hadm_id": h,
            "subject_id": int(r["subject_id"]),
            "adm": int(r["adm"]),
            "cache": str(cache),
            "admittime": _iso(r["admit"]),
            "prediction_time": _iso(r["pred"]),
            "labels": labels,
            "native": {
                "hospital_expire_flag": r["hospital_expire_flag"],
                "deathtime": r["deathtime"],
                "admittime": r["admittime"],
                "dischtime": r["dischtime"],
                "icd": adm_codes,
            },
            "static": static,
            "text_head": (
                f"Patient demographics: {r['gender']} age {r['anchor_age']} | "
                f"Admission: {r['admission_type']} at {r['admission_location']}"
            ),
        }
        info["split"] = split[h]
        s = int(r["subject_id"])
        ecg = self._last_before(self._ecg.get(s, []), r["start"], r["pred"])
        if ecg is not None:
            info["ecg_path"], info["ecg_time"] = ecg[1], _iso(ecg[0])
        cxr = self._last_before(self._cxr.get(s, []), r["start"], r["pred"], view=True)
        if cxr is not None:
            info["cxr_path"], info["cxr_time"] = cxr[1], _iso(cxr[0])
        return RecordRef(str(h), f"hadm/{h}", info)
