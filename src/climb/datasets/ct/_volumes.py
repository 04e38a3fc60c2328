"""Adapters of the CT volume datasets: KiTS23, INSPECT, RSPECT and LNDb (docs/volumes-video.md).

Volumes are int16 HU in the LPS ``(slice, row, column)`` convention (:mod:`climb.datasets._volume`);
windows are applied at load time.
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.adapter import PrepareOptions, RecordError, RecordRef, Sample
from climb.core.errors import ClimbError
from climb.core.schema import FieldSpec, RaggedFieldSpec
from climb.core.splits import describe, describe_rule
from climb.datasets._volume import CT_CODEC, CT_FIELD, MASK_FIELD, MASK_UNKNOWN, VolumeAdapter
from climb.io.volume import VolumeReadError, read_nifti, window_starts


def _first_75(ids: list[str]) -> dict[str, str]:
    """CLIMB: ids in the given order, first 75% train, the rest test."""
    cut = int(0.75 * len(ids))
    return {i: ("train" if k < cut else "test") for k, i in enumerate(ids)}


def _int(v: Any) -> int | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return int(f) if math.isfinite(f) else None


def _climb_first_75_split(adapter: Any, rule: str, seed: int, what: str) -> dict[str, Any]:
    if rule == "climb":
        return describe(rule, seed, f"CLIMB: first 75% of {what} train, the rest test")
    return describe_rule(rule, seed)


# ----------------------------------------------------------------------------- KiTS23


class Kits23Adapter(VolumeAdapter):
    """``dataset/case_XXXXX/imaging.nii.gz`` (+ ``segmentation.nii.gz``) + ``kits23.json``.
    Task ``malignancy`` from ``malignant`` (False -> benign, True -> malignant; null ->
    quarantined: labels missing). The segmentation (0 background, 1 kidney, 2 tumor, 3 cyst) is
    the second field ``mask`` aligned with ``ct``; a case without one keeps its volume with the
    mask all 255 (unknown) and the reason in ``mask_issue``. CLIMB's ``NUM_CLASSES=4`` is a bug
    (the task is binary)."""

    key = "kits23"

    def fields(self) -> list[Any]:
        return [self.ct_field(), self.mask_field()]

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        return {
            "malignancy": {
                "type": "binary",
                "classes": ["benign", "malignant"],
                "column": "label__malignancy",
                "label_space": None,
                "policy": options.label_policy,
                "description": "kits23.json 'malignant' (CLIMB's NUM_CLASSES=4 is a bug: binary)",
            },
            "segmentation": {
                "type": "segmentation",
                "classes": ["background", "kidney", "tumor", "cyst"],
                "field": MASK_FIELD,
                "column": None,
                "ignore_index": MASK_UNKNOWN,
                "label_space": None,
                "policy": options.label_policy,
                "description": "segmentation.nii.gz labels 0-3, aligned with ct (255 = unknown)",
            },
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["patient", "climb"]

    def describe_split(self, rule: str, seed: int) -> dict[str, Any]:
        return _climb_first_75_split(self, rule, seed, "the cases in kits23.json order")

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        metas = sorted(raw_dir.rglob("kits23.json"), key=lambda p: (len(p.parts), str(p)))
        if not metas:
            raise ClimbError(
                "kits23.json not found",
                where=str(raw_dir),
                fix="clone neheller/kits23 and download the images (kits23/dataset/)",
            )
        cases = json.loads(metas[0].read_text())
        imgs = {p.parent.name: p for p in raw_dir.rglob("imaging.nii.gz")}
        labelled = [c["case_id"] for c in cases if c.get("malignant") is not None]
        split = _first_75(labelled)
        refs = []
        for c in cases:
            cid = c["case_id"]
            img = imgs.get(cid)
            if img is None:
                continue  # image not downloaded: not a record (kits23.json lists all cases)
            rel = img.relative_to(raw_dir).as_posix()
            info: dict[str, Any] = {
                "malignant": c.get("malignant"),
                "subtype": c.get("tumor_histologic_subtype"),
                "climb": split.get(cid),
                "seg": (img.parent / "segmentation.nii.gz").relative_to(raw_dir).as_posix(),
            }
            refs.append(RecordRef(cid, rel, info))
        known = {c["case_id"] for c in cases}
        for cid, img in sorted(imgs.items()):
            if cid not in known:
                refs.append(
                    RecordRef(cid, img.relative_to(raw_dir).as_posix(), {"malignant": None})
                )
        if not refs:
            raise ClimbError(
                "no case_XXXXX/imaging.nii.gz under the raw folder",
                where=str(raw_dir),
                fix="download the images (kits23_download_data) into dataset/",
            )
        return refs

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        mal = ref.info.get("malignant")
        if mal is None:
            raise RecordError(
                f"{ref.source_path}: no 'malignant' value for {ref.record_id} in kits23.json "
                "(labels missing)",
                stage="labels",
            )
        v = self.load(raw_dir / ref.source_path, ref.source_path)
        ct, cols = self.standardize(v)
        seg_rel = ref.info["seg"]
        issue = ""
        mask = np.full(ct.shape, MASK_UNKNOWN, dtype=np.uint8)
        if (raw_dir / seg_rel).is_file():
            try:
                m = read_nifti(raw_dir / seg_rel)
                if m.shape != v.shape:
                    issue = f"{seg_rel}: mask shape {m.shape} differs from the image {v.shape}"
                elif int(m.array.max()) > 3 or int(m.array.min()) < 0:
                    issue = f"{seg_rel}: labels outside 0-3"
                else:
                    mask = self.standardize_mask(m.array)
            except VolumeReadError as exc:
                issue = f"{seg_rel}: {exc.reason}"
        else:
            issue = f"no segmentation.nii.gz next to {ref.source_path}"
        cols["mask_issue"] = issue
        cols["histologic_subtype"] = str(ref.info.get("subtype") or "")
        return Sample(
            sample_id=ref.record_id,
            patient_id=ref.record_id,  # one case per patient
            source_path=ref.source_path,
            arrays={CT_FIELD: ct, MASK_FIELD: mask},
            labels={"malignancy": int(bool(mal))},
            native_labels={"malignant": mal, "tumor_histologic_subtype": ref.info.get("subtype")},
            columns=cols,
            split_hint={"climb": ref.info["climb"]} if ref.info.get("climb") else {},
        )


# ----------------------------------------------------------------------------- INSPECT

INSPECT_PE5 = (
    "no_pe",
    "acute_subsegmental_only_pe",
    "acute_pe",
    "subsegmental_only_pe",
    "chronic_pe",
)


def inspect_pe_type(pe_positive: int, pe_acute: int, pe_subsegmentalonly: int) -> int:
    """CLIMB's rule (climb-facts.md section 2.6) as an index into :data:`INSPECT_PE5`."""
    if pe_positive == 0:
        return 0
    if pe_acute == 1 and pe_subsegmentalonly == 1:
        return 1
    if pe_acute == 1:
        return 2
    if pe_subsegmentalonly == 1:
        return 3
    return 4


class InspectAdapter(VolumeAdapter):
    """``CTPA/<impression_id>.nii.gz`` + ``Final_Impressions_labels.csv``: 5-class PE type
    (CLIMB's rule) and native binary ``pe``; an ``impressions``/``impression`` text column of
    the CSV is kept as the ``impression`` column. Patient = the ``person_id``/``patient_id``
    column when the CSV has one, else the impression id (one study per sample)."""

    key = "inspect"

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        return {
            "pe_type": {
                "type": "multiclass",
                "classes": list(INSPECT_PE5),
                "column": "label__pe_type",
                "label_space": None,
                "policy": options.label_policy,
                "description": "CLIMB's 5-class rule on pe_positive, pe_acute, pe_subsegmentalonly",
            },
            "pe": {
                "type": "binary",
                "classes": ["no_pe", "pe"],
                "column": "label__pe",
                "label_space": None,
                "policy": options.label_policy,
                "description": "native pe_positive",
            },
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["patient", "climb"]

    def describe_split(self, rule: str, seed: int) -> dict[str, Any]:
        return _climb_first_75_split(self, rule, seed, "Final_Impressions_labels.csv rows")

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        tables = sorted(raw_dir.rglob("Final_Impressions_labels.csv"))
        if not tables:
            raise ClimbError(
                "Final_Impressions_labels.csv not found",
                where=str(raw_dir),
                fix="download INSPECT from Stanford AIMI into the raw folder",
            )
        vols = {p.name[: -len(".nii.gz")]: p for p in raw_dir.rglob("*.nii.gz")}
        with tables[0].open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        ids = [str(r.get("impression_id", "")).strip() for r in rows]
        split = _first_75(ids)
        refs = []
        seen = set()
        for r, iid in zip(rows, ids, strict=True):
            if not iid or iid in seen:
                continue
            seen.add(iid)
            p = vols.get(iid)
            rel = p.relative_to(raw_dir).as_posix() if p else f"CTPA/{iid}.nii.gz"
            vals = {k: _int(r.get(k)) for k in ("pe_positive", "pe_acute", "pe_subsegmentalonly")}
            text = r.get("impressions", r.get("impression", "")) or ""
            pid = str(r.get("person_id") or r.get("patient_id") or iid)
            refs.append(
                RecordRef(iid, rel, {**vals, "text": text, "patient": pid, "climb": split[iid]})
            )
        for iid, p in sorted(vols.items()):
            if iid not in seen:
                refs.append(RecordRef(iid, p.relative_to(raw_dir).as_posix(), {"unlisted": True}))
        return refs

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        i = ref.info
        if i.get("unlisted"):
            raise RecordError(
                f"{ref.source_path}: not in Final_Impressions_labels.csv (labels missing)", "labels"
            )
        if i.get("pe_positive") is None:
            raise RecordError(
                f"{ref.source_path}: pe_positive missing in Final_Impressions_labels.csv",
                "labels",
            )
        pe_type = inspect_pe_type(
            i["pe_positive"], i["pe_acute"] or 0, i["pe_subsegmentalonly"] or 0
        )
        v = self.load(raw_dir / ref.source_path, ref.source_path)
        ct, cols = self.standardize(v)
        cols["impression"] = i["text"]
        return Sample(
            sample_id=ref.record_id,
            patient_id=i["patient"],
            source_path=ref.source_path,
            arrays={CT_FIELD: ct},
            labels={"pe_type": pe_type, "pe": int(i["pe_positive"] == 1)},
            native_labels={k: i[k] for k in ("pe_positive", "pe_acute", "pe_subsegmentalonly")},
            columns=cols,
            split_hint={"climb": i["climb"]},
        )


# ----------------------------------------------------------------------------- RSPECT

RSPECT3 = ("no_pe", "chronic_pe", "acute_pe")
RSPECT_EXAM = (
    "negative_exam_for_pe",
    "indeterminate",
    "chronic_pe",
    "acute_and_chronic_pe",
    "central_pe",
    "leftsided_pe",
    "rightsided_pe",
    "rv_lv_ratio_gte_1",
    "rv_lv_ratio_lt_1",
)
SLICE_FIELD = "pe_slice"


def rspect_slice_label(pe_present: int, chronic: int) -> int:
    """CLIMB's per-slice rule: not present -> no PE; else chronic -> chronic; else acute."""
    if pe_present == 0:
        return 0
    return 1 if chronic == 1 else 2


class RspectAdapter(VolumeAdapter):
    """``train.csv`` + ``train/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``.

    One sample per **study** (its CTPA series; volume ordered by ImagePositionPatient, HU), with
    the per-slice CLIMB labels kept as the ragged field ``pe_slice`` aligned with the slices
    (-1 = slice not in train.csv). Study tasks: ``pe_study`` (no PE when no slice shows PE, else
    chronic when the exam is ``chronic_pe``, else acute: the slice rule lifted to the study) and
    the native exam labels (multilabel). Splits are study-level (RSPECT has no patient ids: the
    study is the group), never by slice as CLIMB's unseeded permutation did; prepare's leakage
    check confirms no StudyInstanceUID is in two splits. ``label_policy='climb'`` has no slice
    samples: the slice labels are the field ``pe_slice``."""

    key = "rspect"

    def fields(self) -> list[Any]:
        return [
            self.ct_field(),
            RaggedFieldSpec(SLICE_FIELD, "int8", (), axes=("slice",), rows_per_chunk=65536),
        ]

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        return {
            "pe_study": {
                "type": "multiclass",
                "classes": list(RSPECT3),
                "column": "label__pe_study",
                "label_space": None,
                "policy": options.label_policy,
                "description": "study-level: no slice with PE -> no_pe; else chronic_pe exam "
                "flag -> chronic_pe; else acute_pe",
            },
            "exam_labels": {
                "type": "multilabel",
                "classes": list(RSPECT_EXAM),
                "column": "label__exam_labels",
                "label_space": None,
                "policy": options.label_policy,
                "description": "native exam-level labels of train.csv",
            },
            "pe_slice": {
                "type": "multiclass",
                "level": "slice",
                "classes": list(RSPECT3),
                "field": SLICE_FIELD,
                "column": None,
                "ignore_index": -1,
                "label_space": None,
                "policy": options.label_policy,
                "description": "CLIMB's per-slice rule, one label per stored slice (-1 unknown)",
            },
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["patient"]

    def describe_split(self, rule: str, seed: int) -> dict[str, Any]:
        return {
            **describe_rule(rule, seed),
            "note": "study-level: the group is the StudyInstanceUID (no patient ids in RSPECT); "
            "CLIMB's unseeded slice-level 75/25 permutation leaks studies and is not offered",
        }

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        tables = sorted(raw_dir.rglob("train.csv"), key=lambda p: (len(p.parts), str(p)))
        if not tables:
            raise ClimbError(
                "train.csv not found",
                where=str(raw_dir),
                fix="climb fetch rspect (Kaggle competition rsna-str-pulmonary-embolism-detection)",
            )
        by_study: dict[str, dict[str, Any]] = {}
        with tables[0].open(newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                st = r["StudyInstanceUID"].strip()
                d = by_study.setdefault(
                    st,
                    {
                        "series": set(),
                        "slices": {},
                        "exam": {k: _int(r.get(k)) for k in RSPECT_EXAM},
                    },
                )
                d["series"].add(r["SeriesInstanceUID"].strip())
                d["slices"][r["SOPInstanceUID"].strip()] = (
                    _int(r.get("pe_present_on_image")) or 0,
                    _int(r.get("chronic_pe")) or 0,
                )
        img_root = tables[0].parent / "train"
        refs = []
        study_dirs = (
            sorted(p for p in img_root.iterdir() if p.is_dir()) if img_root.is_dir() else []
        )
        for sd in study_dirs:
            series = sorted(p for p in sd.iterdir() if p.is_dir())
            rel = sd.relative_to(raw_dir).as_posix()
            info: dict[str, Any] = {"study": sd.name}
            if sd.name not in by_study:
                info["error"] = f"{rel}: study not in train.csv (labels missing)"
            elif len(series) != 1:
                info["error"] = f"{rel}: {len(series)} series folders, expected one CTPA series"
            else:
                info.update(
                    series_dir=series[0].relative_to(raw_dir).as_posix(), **by_study[sd.name]
                )
                info["series"] = sorted(info["series"])
            refs.append(RecordRef(sd.name, rel, info))
        if not refs:
            raise ClimbError("no study folders under train/", where=str(img_root))
        return refs

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        i = ref.info
        if i.get("error"):
            raise RecordError(i["error"], stage="labels")
        v = self.load(raw_dir / i["series_dir"], i["series_dir"])
        if v.info.get("series_uid") and v.info["series_uid"] not in i["series"]:
            raise RecordError(
                f"{i['series_dir']}: SeriesInstanceUID {v.info['series_uid']} is not the "
                f"series train.csv lists for this study"
            )
        ct, cols = self.standardize(v)
        slice_labels = [
            rspect_slice_label(*i["slices"][s]) if s in i["slices"] else -1
            for s in (Path(n).stem for n in v.info["slices"])
        ]
        known = [x for x in slice_labels if x >= 0]
        if not known:
            raise RecordError(f"{i['series_dir']}: no slice of the series is in train.csv")
        exam = i["exam"]
        study = 0 if max(known) == 0 else (1 if exam.get("chronic_pe") == 1 else 2)
        cols.update(
            series_uid=str(v.info.get("series_uid", "")),
            slices_unlabelled=int(sum(x < 0 for x in slice_labels)),
            slices_pe=int(sum(x > 0 for x in slice_labels)),
        )
        return Sample(
            sample_id=ref.record_id,
            patient_id=ref.record_id,  # the study is the group: study-level split
            source_path=ref.source_path,
            arrays={CT_FIELD: ct, SLICE_FIELD: np.asarray(slice_labels, dtype=np.int8)},
            labels={
                "pe_study": study,
                "exam_labels": [int(exam.get(k) or 0) for k in RSPECT_EXAM],
            },
            native_labels={**exam},
            columns=cols,
        )


# ----------------------------------------------------------------------------- LNDb

LNDB_WINDOW = 24
LNDB_STRIDE = 12
LNDB_MIN_SLICES = 2
SMALL_MM = 3.0


def mhd_header(path: Path) -> dict[str, str]:
    """``key -> value`` of a MetaImage header (text lines before the data)."""
    out = {}
    for line in path.read_bytes()[:8192].decode("latin-1").splitlines():
        k, sep, v = line.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out


def nodule_slices(z_index: float, diameter_mm: float, dz: float) -> tuple[int, int]:
    """Slice range (inclusive) a nodule covers: small (<= 3 mm) centre +-2 slices (CLIMB);
    bigger: centre +- ceil(radius / slice spacing)."""
    c = round(z_index)
    half = 2 if diameter_mm <= SMALL_MM else max(1, math.ceil(diameter_mm / 2 / max(dz, 1e-6)))
    return c - half, c + half


def window_label(start: int, window: int, nodules: list[tuple[int, int, bool]]) -> list[int]:
    """[small, big]: 1 when >= 2 slices of ``[start, start + window)`` overlap such a nodule."""
    out = [0, 0]
    for lo, hi, big in nodules:
        overlap = min(hi, start + window - 1) - max(lo, start) + 1
        if overlap >= LNDB_MIN_SLICES:
            out[int(big)] = 1
    return out


class LndbAdapter(VolumeAdapter):
    """``data/LNDb-XXXX.mhd/.raw`` + ``trainNodules_gt.csv`` (or ``trainNodules.csv``): windows of
    24 slices every 12 slices, each a sample of the dense field ``ct`` ``(24, size, size)``
    int16 HU; label [small, big] (CLIMB, climb-facts.md 2.6): a finding with ``Nodule == 1``
    (and ``AgrLevel >= 1`` when given) counts when at least 2 window slices overlap its slice
    range; equivalent diameter ``(6 V / pi)^(1/3)`` from ``Volume`` (mm^3; missing -> small).
    World ``z`` (mm) -> slice by the header's Offset/ElementSpacing in the reader's LPS order.
    ``label_policy='climb'`` keeps CLIMB's window count ``(n - 24) // 12`` (drops the last
    fitting window); ``corrected`` takes every window that fits."""

    key = "lndb"
    window = LNDB_WINDOW
    stride = LNDB_STRIDE

    def fields(self) -> list[Any]:
        return [
            FieldSpec(
                CT_FIELD,
                "int16",
                (self.window, self.size, self.size),
                axes=("slice", "row", "column"),
                unit="HU",
                chunks=2,
                codec=dict(CT_CODEC),
            )
        ]

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        return {
            "nodule_size": {
                "type": "multilabel",
                "classes": ["small_nodule", "big_nodule"],
                "column": "label__nodule_size",
                "label_space": None,
                "policy": options.label_policy,
                "description": "[small <= 3 mm, big > 3 mm]: >= 2 window slices overlap a nodule",
            },
            "has_nodule": {
                "type": "binary",
                "classes": ["no_nodule", "nodule"],
                "column": "label__has_nodule",
                "label_space": None,
                "policy": options.label_policy,
                "description": "CLIMB's QA view: nodule iff big_nodule == 1",
            },
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["patient", "climb"]

    def describe_split(self, rule: str, seed: int) -> dict[str, Any]:
        return _climb_first_75_split(self, rule, seed, "the sorted LNDbIDs (scan-level)")

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        scans = sorted(
            p
            for p in raw_dir.rglob("LNDb-*.mhd")
            if "_rad" not in p.stem and "masks" not in p.parts
        )
        if not scans:
            raise ClimbError("no LNDb-XXXX.mhd scans", where=str(raw_dir), fix="see the LNDb card")
        table = None
        for n in ("trainNodules_gt.csv", "trainNodules.csv"):
            hits = sorted(raw_dir.rglob(n))
            if hits:
                table = hits[0]
                break
        if table is None:
            raise ClimbError(
                "trainNodules_gt.csv / trainNodules.csv not found (labels missing)",
                where=str(raw_dir),
            )
        findings: dict[int, list[tuple[float, float]]] = defaultdict(list)
        with table.open(newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if _int(r.get("Nodule")) != 1:
                    continue
                if "AgrLevel" in r and (_int(r["AgrLevel"]) or 0) < 1:
                    continue
                vol = r.get("Volume")
                try:
                    d = (6 * float(vol) / math.pi) ** (1 / 3) if vol not in (None, "") else 0.0
                except ValueError:
                    d = 0.0
                findings[int(float(r["LNDbID"]))].append((float(r["z"]), d))
        ids = sorted(int(p.stem.split("-")[1]) for p in scans)
        split = _first_75([str(i) for i in ids])
        rule = "climb" if options.label_policy == "climb" else "all"
        refs = []
        for p in scans:
            sid = int(p.stem.split("-")[1])
            rel = p.relative_to(raw_dir).as_posix()
            h = mhd_header(p)
            try:
                dims = [int(x) for x in h["DimSize"].split()]
                sp = [float(x) for x in h.get("ElementSpacing", "1 1 1").split()]
                off = [float(x) for x in h.get("Offset", h.get("Origin", "0 0 0")).split()]
                tm = [float(x) for x in h.get("TransformMatrix", "1 0 0 0 1 0 0 0 1").split()]
            except (KeyError, ValueError):
                refs.append(
                    RecordRef(p.stem, rel, {"error": f"{rel}: unreadable MetaImage header"})
                )
                continue
            nz = dims[2]
            flip = tm[8] < 0
            nods = []
            for zw, d in findings.get(sid, []):
                k = (zw - off[2]) / (sp[2] * (tm[8] or 1.0))
                k = (nz - 1 - k) if flip else k
                nods.append((*nodule_slices(k, d, sp[2]), d > SMALL_MM))
            starts = window_starts(nz, self.window, self.stride, rule=rule)
            if not starts:
                refs.append(
                    RecordRef(
                        p.stem,
                        rel,
                        {"error": f"{rel}: {nz} slices, fewer than one window of {self.window}"},
                    )
                )
            for s in starts:
                refs.append(
                    RecordRef(
                        f"{p.stem}_w{s // self.stride:03d}",
                        rel,
                        {
                            "scan": str(sid),
                            "start": s,
                            "label": window_label(s, self.window, nods),
                            "climb": split[str(sid)],
                            "n_findings": len(nods),
                        },
                    )
                )
        return refs

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        i = ref.info
        if i.get("error"):
            raise RecordError(i["error"])
        v = _cached_volume(self, raw_dir / ref.source_path, ref.source_path)
        s = int(i["start"])
        full, cols = v
        if s + self.window > full.shape[0]:
            raise RecordError(f"{ref.source_path}: window {s}+{self.window} past the last slice")
        x = full[s : s + self.window]
        cols = {**cols, "start_slice": s, "scan_id": i["scan"], "n_findings": i["n_findings"]}
        lab = i["label"]
        return Sample(
            sample_id=ref.record_id,
            patient_id=i["scan"],
            source_path=ref.source_path,
            arrays={CT_FIELD: np.ascontiguousarray(x)},
            labels={"nodule_size": lab, "has_nodule": int(lab[1] == 1)},
            native_labels={"window_start": s},
            columns=cols,
            split_hint={"climb": i["climb"]},
        )


_VOL_CACHE: dict[str, tuple[np.ndarray, dict[str, Any]]] = {}


def _cached_volume(
    adapter: VolumeAdapter, path: Path, rel: str
) -> tuple[np.ndarray, dict[str, Any]]:
    """The standardized volume of ``path``, cached for the windows of one scan (one entry)."""
    key = f"{path}:{adapter.size}"
    if key not in _VOL_CACHE:
        _VOL_CACHE.clear()
        _VOL_CACHE[key] = adapter.standardize(adapter.load(path, rel))
    return _VOL_CACHE[key]


__all__ = [
    "INSPECT_PE5",
    "RSPECT3",
    "RSPECT_EXAM",
    "InspectAdapter",
    "Kits23Adapter",
    "LndbAdapter",
    "RspectAdapter",
    "inspect_pe_type",
    "nodule_slices",
    "rspect_slice_label",
    "window_label",
]
