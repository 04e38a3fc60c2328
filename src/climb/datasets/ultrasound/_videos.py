"""Adapters of the ultrasound video datasets: COVID-BLUES, EchoNet-Dynamic and COVID-US
(docs/volumes-video.md). Each video is one sample of the ragged ``video`` field
(:mod:`climb.datasets._video`).
"""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from climb.core.adapter import PrepareOptions, RecordError, RecordRef, Sample
from climb.core.errors import ClimbError
from climb.core.schema import RaggedFieldSpec
from climb.core.splits import describe, describe_rule
from climb.datasets._video import VIDEO_FIELD, VideoAdapter

# ----------------------------------------------------------------------------- COVID-BLUES

COVID_BLUES_VIDEO_RE = re.compile(r"^patient_(?P<pid>\d+)_(?P<zone>[LR][1-3])(?:_(?P<rep>\d+))?$")
SEVERITY4 = ("score_0", "score_1", "score_2", "score_3")


def _float(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def climb_first_75(patients: list[str]) -> dict[str, str]:
    """CLIMB: sorted patient ids (numerically), first 75% train, the rest test."""
    ps = sorted(patients, key=lambda p: (len(p), p))
    cut = int(0.75 * len(ps))
    return {p: ("train" if i < cut else "test") for i, p in enumerate(ps)}


class CovidBluesAdapter(VideoAdapter):
    """``lus_videos/patient_<id>_<zone>[_<n>].mp4`` + ``clinical_variables.csv`` (PCR ``cov_test``,
    ``pat_age``) + ``severity.csv`` (``Severity Score`` per video). Label = the patient's PCR
    result; severity 0-3 as a second task (missing -> -1); age as a regression target."""

    key = "covid_blues"
    size = 112
    channels = 1

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        return {
            "cov_test": {
                "type": "binary",
                "classes": ["no_covid", "covid"],
                "column": "label__cov_test",
                "label_space": None,
                "policy": options.label_policy,
                "description": "patient PCR result (clinical_variables.csv cov_test) per video",
            },
            "severity": {
                "type": "multiclass",
                "classes": list(SEVERITY4),
                "column": "label__severity",
                "label_space": None,
                "policy": options.label_policy,
                "description": "severity.csv 'Severity Score' 0-3 of the video (-1 = not scored)",
            },
            "age": {
                "type": "regression",
                "column": "label__age",
                "unit": "years",
                "label_space": None,
                "policy": options.label_policy,
                "description": "pat_age of the patient (NaN = unknown)",
            },
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["patient", "climb"]

    def describe_split(self, rule: str, seed: int) -> dict[str, Any]:
        if rule == "climb":
            return describe(
                rule,
                seed,
                "CLIMB: patient ids (of the videos present) sorted numerically, first 75% "
                "train, the rest test (patient-level, not random)",
            )
        return describe_rule(rule, seed)

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        vids = self.need_dir(raw_dir, "lus_videos", "run 'climb fetch covid_blues'")
        clin_path = raw_dir / "clinical_variables.csv"
        if not clin_path.is_file():
            found = sorted(raw_dir.rglob("clinical_variables.csv"))
            if not found:
                raise ClimbError(
                    "clinical_variables.csv not found",
                    where=str(raw_dir),
                    fix="run 'climb fetch covid_blues' (the repository holds it)",
                )
            clin_path = found[0]
        clinical: dict[str, dict[str, str]] = {}
        with clin_path.open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                pid = str(row.get("patient_id", "")).strip()
                if pid:
                    clinical[str(int(float(pid)))] = row
        severity: dict[str, float | None] = {}
        sev_path = clin_path.parent / "severity.csv"
        if sev_path.is_file():
            with sev_path.open(newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    severity[row["video_file"].strip()] = _float(row.get("Severity Score"))
        refs: list[RecordRef] = []
        files = sorted(p for p in vids.iterdir() if p.suffix.lower() in (".mp4", ".avi", ".mov"))
        for p in files:
            rel = p.relative_to(raw_dir).as_posix()
            m = COVID_BLUES_VIDEO_RE.match(p.stem)
            info: dict[str, Any] = {"stem": p.stem}
            if m is None:
                info["error"] = f"{rel}: file name is not patient_<id>_<L1..R3>[_n].mp4"
                refs.append(RecordRef(p.stem, rel, info))
                continue
            pid = str(int(m.group("pid")))
            info.update(patient=pid, zone=m.group("zone"), rep=int(m.group("rep") or 1))
            row = clinical.get(pid)
            cov = _float(row.get("cov_test")) if row else None
            if row is None:
                info["error"] = f"{rel}: patient {pid} is not in {clin_path.name} (labels missing)"
            elif cov not in (0.0, 1.0):
                info["error"] = (
                    f"{rel}: patient {pid} has no PCR result (cov_test) in {clin_path.name}"
                )
            else:
                info["cov_test"] = int(cov)  # type: ignore[arg-type]
                info["age"] = _float(row.get("pat_age"))
            sev = severity.get(p.stem)
            info["severity"] = int(sev) if sev is not None and sev in (0, 1, 2, 3) else -1
            refs.append(RecordRef(p.stem, rel, info))
        if not refs:
            raise ClimbError("no videos in lus_videos/", where=str(vids))
        patients = sorted({r.info["patient"] for r in refs if "patient" in r.info})
        split = climb_first_75(patients)
        for r in refs:
            if "patient" in r.info:
                r.info["climb"] = split[r.info["patient"]]
        return refs

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        if ref.info.get("error"):
            raise RecordError(ref.info["error"], stage="labels")
        frames, cols = self.decode_video(raw_dir / ref.source_path, ref.source_path)
        cols.update(zone=ref.info["zone"], repeat=ref.info["rep"])
        age = ref.info.get("age")
        return Sample(
            sample_id=ref.record_id,
            patient_id=ref.info["patient"],
            source_path=ref.source_path,
            arrays={VIDEO_FIELD: frames},
            labels={
                "cov_test": ref.info["cov_test"],
                "severity": ref.info["severity"],
                "age": float(age) if age is not None else float("nan"),
            },
            native_labels={
                "cov_test": ref.info["cov_test"],
                "severity_score": ref.info["severity"],
                "pat_age": age,
            },
            columns=cols,
            split_hint={"climb": ref.info["climb"]},
        )


# ----------------------------------------------------------------------------- EchoNet-Dynamic

ECHONET_SPLITS = {"TRAIN": "train", "VAL": "val", "TEST": "test"}
EF_LOW = 40.0
TRACING_FIELD = "lv_tracing"


def read_tracings(path: Path) -> dict[str, list[tuple[int, float, float, float, float]]]:
    """VolumeTracings.csv -> {file stem: [(frame, x1, y1, x2, y2), ...]} in file order."""
    out: dict[str, list[tuple[int, float, float, float, float]]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            stem = Path(row["FileName"].strip()).stem
            try:
                out[stem].append(
                    (
                        int(float(row["Frame"])),
                        float(row["X1"]),
                        float(row["Y1"]),
                        float(row["X2"]),
                        float(row["Y2"]),
                    )
                )
            except (KeyError, ValueError):
                out[stem].append((-1, 0.0, 0.0, 0.0, 0.0))
    return dict(out)


class EchoNetAdapter(VideoAdapter):
    """``FileList.csv`` (EF, ESV, EDV, FPS, NumberOfFrames, Split) + ``Videos/<FileName>.avi`` +
    ``VolumeTracings.csv``. Tasks: EF/ESV/EDV regression and ``ef_low`` (EF < 40%, binary).
    Official TRAIN/VAL/TEST split. Tracings are kept as the ragged field ``lv_tracing``
    ``(n, 5)`` = (frame, x1, y1, x2, y2) in native 112-px coordinates, and the ED/ES frames as
    columns (EchoNet's convention: the first traced frame of a video is ES, the last ED)."""

    key = "echonet_dynamic"
    size = 112
    channels = 3
    count_tolerance = None  # compared with FileList's NumberOfFrames instead

    def __init__(
        self,
        *,
        size: int | None = None,
        channels: int | None = None,
        fps: float | None = None,
        max_frames: int | None = None,
        tracings: bool = True,
    ) -> None:
        super().__init__(size=size, channels=channels, fps=fps, max_frames=max_frames)
        if not isinstance(tracings, bool):
            raise ValueError(f"tracings must be true or false, got {tracings!r}")
        self.tracings = tracings

    def fields(self) -> list[Any]:
        if not self.tracings:
            return [self.video_field()]
        return [
            self.video_field(),
            RaggedFieldSpec(
                TRACING_FIELD,
                "float32",
                (5,),
                axes=("point", "frame_x1_y1_x2_y2"),
                unit="native pixels",
                rows_per_chunk=65536,
            ),
        ]

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        def reg(name: str, unit: str, what: str) -> dict[str, Any]:
            return {
                "type": "regression",
                "column": f"label__{name}",
                "unit": unit,
                "label_space": None,
                "policy": options.label_policy,
                "description": what,
            }

        return {
            "ef": reg("ef", "%", "left-ventricular ejection fraction (FileList.csv EF)"),
            "esv": reg("esv", "mL", "end-systolic volume (FileList.csv ESV)"),
            "edv": reg("edv", "mL", "end-diastolic volume (FileList.csv EDV)"),
            "ef_low": {
                "type": "binary",
                "classes": ["ef_ge_40", "ef_lt_40"],
                "column": "label__ef_low",
                "label_space": None,
                "policy": options.label_policy,
                "description": "EF < 40% (reduced ejection fraction), from FileList.csv EF",
            },
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["official", "patient"]

    def describe_split(self, rule: str, seed: int) -> dict[str, Any]:
        if rule == "official":
            return describe(rule, seed, "FileList.csv Split column: TRAIN/VAL/TEST")
        return describe_rule(rule, seed)

    def _root(self, raw_dir: Path) -> Path:
        hits = sorted(raw_dir.rglob("FileList.csv"), key=lambda p: (len(p.parts), str(p)))
        if not hits:
            raise ClimbError(
                "FileList.csv not found",
                where=str(raw_dir),
                fix="download EchoNet-Dynamic from Stanford AIMI and extract it into the raw "
                "folder (EchoNet-Dynamic/FileList.csv, VolumeTracings.csv, Videos/)",
            )
        return hits[0].parent

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        root = self._root(raw_dir)
        tr_path = root / "VolumeTracings.csv"
        if self.tracings and not tr_path.is_file():
            raise ClimbError(
                "VolumeTracings.csv not found next to FileList.csv",
                where=str(root),
                fix="place it there (it comes with the release), or prepare without the "
                "lv_tracing field: climb prepare echonet_dynamic -O tracings=false",
            )
        tracings = read_tracings(tr_path) if tr_path.is_file() else {}
        refs = []
        with (root / "FileList.csv").open(newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                stem = Path(row["FileName"].strip()).stem
                rel = (root / "Videos" / f"{stem}.avi").relative_to(raw_dir).as_posix()
                info: dict[str, Any] = {
                    "ef": _float(row.get("EF")),
                    "esv": _float(row.get("ESV")),
                    "edv": _float(row.get("EDV")),
                    "fps": _float(row.get("FPS")),
                    "frames": _float(row.get("NumberOfFrames")),
                    "split": ECHONET_SPLITS.get(str(row.get("Split", "")).strip().upper()),
                    "tracings": tracings.get(stem, []),
                    "has_tracings_file": tr_path.is_file(),
                }
                refs.append(RecordRef(stem, rel, info))
        return refs

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        info = ref.info
        if info["ef"] is None:
            raise RecordError(
                f"{ref.source_path}: no EF in FileList.csv (labels missing)", "labels"
            )
        frames, cols = self.decode_video(raw_dir / ref.source_path, ref.source_path)
        n = cols["orig_frames"]
        listed = info["frames"]
        if listed is not None and int(listed) != n:
            raise RecordError(
                f"{ref.source_path}: decoded {n} frames but FileList.csv NumberOfFrames says "
                f"{int(listed)}"
            )
        tr = np.asarray(info["tracings"], dtype=np.float32).reshape(-1, 5)
        if tr.size and (tr[:, 0].min() < 0 or tr[:, 0].max() >= n):
            bad = int(tr[:, 0].max()) if tr[:, 0].max() >= n else int(tr[:, 0].min())
            raise RecordError(
                f"VolumeTracings.csv refers to frame {bad} of {ref.source_path}, which has "
                f"{n} frames"
            )
        traced = list(dict.fromkeys(int(f) for f in tr[:, 0])) if tr.size else []
        cols.update(
            es_frame=traced[0] if len(traced) >= 2 else -1,
            ed_frame=traced[-1] if len(traced) >= 2 else -1,
            tracing_issue=""
            if len(traced) == 2
            else (
                "no VolumeTracings.csv"
                if not info["has_tracings_file"]
                else f"{len(traced)} traced frame(s), expected 2"
            ),
        )
        ef = float(info["ef"])
        split = info["split"]
        return Sample(
            sample_id=ref.record_id,
            patient_id=ref.record_id,  # one video per patient (EchoNet-Dynamic)
            source_path=ref.source_path,
            arrays={VIDEO_FIELD: frames, **({TRACING_FIELD: tr} if self.tracings else {})},
            labels={
                "ef": ef,
                "esv": info["esv"] if info["esv"] is not None else float("nan"),
                "edv": info["edv"] if info["edv"] is not None else float("nan"),
                "ef_low": int(ef < EF_LOW),
            },
            native_labels={"EF": ef, "ESV": info["esv"], "EDV": info["edv"]},
            columns=cols,
            split_hint={"official": split} if split else {},
        )


# ----------------------------------------------------------------------------- COVID-US

COVID_US3 = ("covid", "pneumonia", "normal")
COVID_US_RE = re.compile(r"^(?P<id>[^_]+)_(?P<source>.+)_(?P<label>[A-Za-z]+)$")


class CovidUSAdapter(VideoAdapter):
    """``<id>_<source>_<label>.mp4`` (COVIDx-US naming): label from the name (covid, pneumonia,
    normal; ``other`` quarantined as outside the task). Each video is its own group (no
    patient ids): the split keeps every video (and so all its frames) in one split; the
    CLIMB split is ``train_test_split(test_size=0.25, random_state=42, stratify=source)``."""

    key = "covid_us"
    size = 112
    channels = 1
    task_names: ClassVar[tuple[str, ...]] = ("covid_us3",)

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        return {
            "covid_us3": {
                "type": "multiclass",
                "classes": list(COVID_US3),
                "column": "label__covid_us3",
                "label_space": None,
                "policy": options.label_policy,
                "description": "class from the file name <id>_<source>_<label>.mp4",
            }
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["patient", "climb"]

    def describe_split(self, rule: str, seed: int) -> dict[str, Any]:
        if rule == "climb":
            return describe(
                rule,
                seed,
                "CLIMB: sklearn train_test_split(test_size=0.25, random_state=42, "
                "stratify=source) over the videos (video-level; frames never split)",
            )
        return {
            **describe_rule(rule, seed),
            "note": "no patient ids: each video is its own group (video-level)",
        }

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        files = sorted(
            p
            for p in raw_dir.rglob("*")
            if p.suffix.lower() in (".mp4", ".avi", ".mov", ".gif") and not p.name.startswith(".")
        )
        if not files:
            raise ClimbError("no videos", where=str(raw_dir), fix="run 'climb fetch covid_us'")
        refs = []
        for p in files:
            rel = p.relative_to(raw_dir).as_posix()
            m = COVID_US_RE.match(p.stem)
            info: dict[str, Any] = {}
            if m is None:
                info["error"] = f"{rel}: file name is not <id>_<source>_<label>.mp4"
            else:
                lab = m.group("label").lower()
                info.update(source=m.group("source"), native=lab)
                if lab not in COVID_US3:
                    info["error"] = f"{rel}: class {lab!r} is not one of {', '.join(COVID_US3)}"
                else:
                    info["label"] = COVID_US3.index(lab)
            refs.append(RecordRef(p.stem, rel, info))
        ok = [r for r in refs if "label" in r.info]
        if len(ok) >= 4:
            from climb.datasets._imaging import sklearn_split

            srcs = [r.info["source"] for r in ok]
            counts = defaultdict(int)
            for s in srcs:
                counts[s] += 1
            strat = srcs if min(counts.values()) >= 2 else None
            try:
                split = sklearn_split([r.record_id for r in ok], 0.25, 42, stratify=strat)
            except ValueError:
                split = sklearn_split([r.record_id for r in ok], 0.25, 42)
            for r in ok:
                r.info["climb"] = split[r.record_id]
        return refs

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        if ref.info.get("error"):
            raise RecordError(ref.info["error"], stage="labels")
        frames, cols = self.decode_video(raw_dir / ref.source_path, ref.source_path)
        cols["source"] = ref.info["source"]
        return Sample(
            sample_id=ref.record_id,
            patient_id=ref.record_id,
            source_path=ref.source_path,
            arrays={VIDEO_FIELD: frames},
            labels={"covid_us3": ref.info["label"]},
            native_labels={"label": ref.info["native"], "source": ref.info["source"]},
            columns=cols,
            split_hint={"climb": ref.info["climb"]} if "climb" in ref.info else {},
        )


__all__ = [
    "COVID_US3",
    "ECHONET_SPLITS",
    "SEVERITY4",
    "CovidBluesAdapter",
    "CovidUSAdapter",
    "EchoNetAdapter",
    "climb_first_75",
    "read_tracings",
]
