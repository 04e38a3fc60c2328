"""Adapter for HuGaDB v2: each recording is cut into windows of ``window`` frames every
``stride`` frames; a window is one sample, (38 channels, window) float32 (36 IMU raw int16 values
+ 2 EMG), labelled with its majority activity (12 native classes) and, when that activity is one
of CLIMB's documented four (sitting, standing, sitting down, standing up), the 4-class label
(else -1, masked). ``purity`` = share of the window's frames with the majority activity.

Subject id = the participant number in the file name. Split rules: ``subject`` (default; seeded
subject-level split, 70/15/15 of the participants, rounded) and ``patient`` (hash of subject).
Recordings shorter than one window are quarantined (reported), not dropped silently.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.adapter import BaseAdapter, PrepareOptions, RecordError, RecordRef, Sample
from climb.core.errors import ClimbError
from climb.core.schema import FieldSpec
from climb.core.splits import describe, stratified_group_split
from climb.io.hugadb import (
    ACTIVITIES,
    ACTIVITY4,
    FILE_RE,
    N_CHANNELS,
    HugadbFormatError,
    Recording,
    activity4_index,
    count_frames,
    majority,
    read_recording,
    subject_of,
    window_starts,
)

_CACHE: OrderedDict[str, Recording | HugadbFormatError] = OrderedDict()


def _recording(path: Path) -> Recording:
    key = str(path)
    if key not in _CACHE:
        try:
            _CACHE[key] = read_recording(path)
        except HugadbFormatError as exc:
            _CACHE[key] = exc
        while len(_CACHE) > 4:
            _CACHE.popitem(last=False)
    got = _CACHE[key]
    if isinstance(got, HugadbFormatError):
        raise RecordError(got.what + (f" ({got.where})" if got.where else ""))
    return got


class HugadbAdapter(BaseAdapter):
    key = "hugadb"
    extra_split_rules = ("subject",)
    fractions = (0.7, 0.15, 0.15)

    def __init__(self, window: int = 128, stride: int = 64) -> None:
        if window <= 0 or stride <= 0:
            raise ClimbError(f"window and stride must be positive ({window}, {stride})")
        self.window = int(window)
        self.stride = int(stride)
        self.version = f"1-w{self.window}-s{self.stride}"

    def fields(self) -> list[Any]:
        return [
            FieldSpec(
                "imu",
                "float32",
                (N_CHANNELS, self.window),
                axes=("channel", "time"),
                unit="raw sensor units (acc/gyro int16, EMG 0-255)",
                chunks=256,
            )
        ]

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        return {
            "activity12": {
                "type": "multiclass",
                "classes": list(ACTIVITIES),
                "label_space": None,
                "column": "label__activity12",
                "policy": options.label_policy,
                "description": "majority native activity id of the window (1-12 -> 0-11)",
            },
            "activity4": {
                "type": "multiclass",
                "classes": [name for _, name in ACTIVITY4],
                "label_space": None,
                "column": "label__activity4",
                "policy": options.label_policy,
                "description": "CLIMB's documented 4 classes (sitting, standing, sitting down, "
                "standing up) from the majority activity; other activities -1 (masked)",
            },
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["subject", "patient"]

    def default_split_rule(self, raw_dir: Path) -> str:
        return "subject"

    def describe_split(self, rule: str, seed: int) -> dict[str, Any]:
        return describe(
            rule,
            seed,
            "seeded subject-level split (participant id from the file name): train 70% / val "
            "15% / test 15% of the participants",
            window=self.window,
            stride=self.stride,
        )

    def files(self, raw_dir: Path) -> list[Path]:
        return sorted(p for p in raw_dir.rglob("HuGaDB*.txt") if FILE_RE.search(p.name))

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        files = self.files(raw_dir)
        if not files:
            raise ClimbError(
                "no HuGaDB_v2_*.txt files",
                where=str(raw_dir),
                fix="run 'climb fetch hugadb' (the archive is extracted in place)",
            )
        subjects = sorted({subject_of(p) for p in files})
        split = (
            stratified_group_split({s: 0 for s in subjects}, options.seed, self.fractions)
            if options.splits == "subject"
            else {}
        )
        refs = []
        for p in files:
            rel = p.relative_to(raw_dir).as_posix()
            sub = subject_of(p)
            starts = window_starts(count_frames(p), self.window, self.stride) or [-1]
            for s in starts:
                refs.append(
                    RecordRef(
                        f"{p.stem}_w{max(s, 0):06d}" if s >= 0 else f"{p.stem}_short",
                        rel,
                        {"start": s, "subject": sub, "split": split.get(sub)},
                    )
                )
        return sorted(refs, key=lambda r: r.record_id)

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        rec = _recording(raw_dir / ref.source_path)
        s = int(ref.info["start"])
        if s < 0 or s + self.window > rec.data.shape[0]:
            raise RecordError(
                f"recording has {rec.data.shape[0]} frames, shorter than one window of "
                f"{self.window}",
                stage="window",
            )
        x = rec.data[s : s + self.window].T
        act, purity = majority(rec.activity[s : s + self.window])
        split = ref.info.get("split")
        return Sample(
            sample_id=ref.record_id,
            patient_id=str(ref.info["subject"]),
            source_path=ref.source_path,
            arrays={"imu": np.ascontiguousarray(x, dtype=np.float32)},
            labels={"activity12": act - 1, "activity4": activity4_index(act)},
            native_labels={"act": act},
            columns={
                "subject": str(ref.info["subject"]),
                "start": s,
                "purity": round(purity, 4),
            },
            split_hint={"subject": split} if split else {},
        )
