"""Adapters for TUAB, TUEV (TUH EDF corpora) and IIIC (BDSP ``.mat`` segments). Rules and
options: docs/eeg.md; shared machinery: :mod:`climb.datasets.eeg._eeg`.

Every problem of a file becomes a quarantine entry whose reason names the file and what is
wrong; problems visible in the EDF header or the annotation file (broken header, missing
montage channels, unsupported sampling rate, recording shorter than one window, ``.rec`` lines
that do not parse or point past the end) are found while listing and give one entry per file;
problems only visible in the signal (NaN, flat channels) give one entry per window/event.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.adapter import PrepareOptions, RecordError, RecordRef, Sample
from climb.core.splits import describe, stratified_group_split
from climb.datasets.eeg._eeg import (
    FS,
    EegAdapter,
    bad_ref_error,
    official_split,
    require_dir,
)
from climb.io.edf import normalize_channel
from climb.io.montage import EegSignalError, montage_electrodes, pick_electrodes, standardize

TUAB_CLASSES = ("Normal", "Abnormal")
TUEV_CLASSES = ("SPSW", "GPED", "PLED", "EYEM", "ARTF", "BCKG")
IIIC_CLASSES = ("SZ", "LPD", "GPD", "LRDA", "GRDA", "Other")
#: channel numbering of TUEV's .rec files: TUH's 22-channel TCP montage (old 10-20 names)
TUEV_REC_CHANNELS = (
    "FP1-F7", "F7-T3", "T3-T5", "T5-O1", "FP2-F8", "F8-T4", "T4-T6", "T6-O2",
    "A1-T3", "T3-C3", "C3-CZ", "CZ-C4", "C4-T4", "T4-A2",
    "FP1-F3", "F3-C3", "C3-P3", "P3-O1", "FP2-F4", "F4-C4", "C4-P4", "P4-O2",
)  # fmt: skip
#: row order of the 20 channels of IIIC's ``seg`` (SPaRCNet's fcn_bipolar.m indexes them so)
IIIC_CHANNELS = (
    "Fp1", "F3", "C3", "P3", "F7", "T3", "T5", "O1", "Fz", "Cz", "Pz",
    "Fp2", "F4", "C4", "P4", "F8", "T4", "T6", "O2", "EKG",
)  # fmt: skip
_SUBJECT = re.compile(r"^([A-Za-z0-9]+)_s(\d+)_t(\d+)")


def _positive(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of seconds, got {value!r}") from None
    if not (v > 0 and math.isfinite(v)) or abs(v * FS - round(v * FS)) > 1e-9:
        raise ValueError(f"{name} must be a positive multiple of 1/{FS:g} s, got {value!r}")
    return v


def _tuh_parts(rel: Path, second: tuple[str, ...] | None) -> tuple[str, str] | None:
    """``(train|eval, the folder below it)`` from a TUH path ``.../<train|eval>/<x>/...``;
    with ``second``, the folder below must be one of them (TUAB's normal/abnormal)."""
    folders = rel.parts[:-1]
    for i, p in enumerate(folders):
        if p.lower() in ("train", "eval"):
            nxt = folders[i + 1] if i + 1 < len(folders) else ""
            if second is None or nxt.lower() in second:
                return p.lower(), nxt
    return None


def _subject(stem: str) -> tuple[str, str]:
    """TUH file name ``aaaaaaav_s004_t000`` -> (subject, session); other names -> (stem, '')."""
    m = _SUBJECT.match(stem)
    return (m.group(1), f"s{m.group(2)}") if m else (stem.split("_")[0], "")


# --------------------------------------------------------------------------------------- TUAB


class TuabAdapter(EegAdapter):
    """TUAB v3.x: ``edf/{train,eval}/{normal,abnormal}/01_tcp_ar/**.edf``; one sample per window
    of ``window_s`` every ``stride_s``; label from the folder; patient = TUH subject id."""

    key = "tuab"
    version = "1"

    def __init__(
        self,
        montage: str = "tcp_bipolar",
        bandpass: str = "0.1-75",
        notch: float | str = 60.0,
        window_s: float = 10.0,
        stride_s: float = 10.0,
    ) -> None:
        self._set_protocol(montage, bandpass, notch)
        self.window_s = _positive("window_s", window_s)
        self.stride_s = _positive("stride_s", stride_s)

    @property
    def window_samples(self) -> int:
        return round(self.window_s * FS)

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        return {
            "abnormal": {
                "type": "binary",
                "classes": list(TUAB_CLASSES),
                "label_space": None,
                "column": "label__abnormal",
                "policy": options.label_policy,
                "description": "session label from the folder (normal/abnormal), every window",
            }
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["official", "patient"]

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        files = require_dir(raw_dir, "*.edf", self.key)
        infos: list[tuple[Path, str, str, int, str, str]] = []
        subjects: dict[str, tuple[str, Any]] = {}
        refs: list[RecordRef] = []
        for p in files:
            rel = p.relative_to(raw_dir)
            sub, ses = _subject(p.stem)
            tp = _tuh_parts(rel, ("normal", "abnormal"))
            if tp is None:
                refs.append(
                    RecordRef(
                        p.stem,
                        rel.as_posix(),
                        {
                            "error": f"unexpected path: {rel.as_posix()} is not under "
                            f"edf/{{train,eval}}/{{normal,abnormal}}/ [{p.name}]",
                            "stage": "list",
                        },
                    )
                )
                continue
            folder, cls = tp[0], tp[1].lower()
            label = TUAB_CLASSES.index(cls.capitalize())
            if sub not in subjects or (folder == "train" and subjects[sub][0] != "train"):
                subjects[sub] = (folder, label)  # a subject with any train file is carved
            infos.append((p, rel.as_posix(), sub, label, folder, ses))
        split = official_split(subjects, options.seed) if options.splits == "official" else {}
        for p, rel, sub, label, folder, ses in infos:
            # an eval file is test even if its subject also has train files (then the leakage
            # check reports the subject)
            sp = ("test" if folder == "eval" else split.get(sub)) if split else None
            base = {"subject": sub, "session": ses, "label": label, "split": sp}
            duration, problem = self.check_header(p)
            if problem is None and duration < self.window_s:
                problem = (
                    f"too short: recording is {duration:g} s, shorter than one window of "
                    f"{self.window_s:g} s"
                )
            if problem is not None:
                refs.append(
                    RecordRef(
                        p.stem, rel, {**base, "error": f"{problem} [{p.name}]", "stage": "list"}
                    )
                )
                continue
            n = math.floor((duration - self.window_s) / self.stride_s + 1e-9) + 1
            for w in range(n):
                refs.append(
                    RecordRef(f"{p.stem}_w{w:05d}", rel, {**base, "start_s": w * self.stride_s})
                )
        return sorted(refs, key=lambda r: r.record_id)

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        bad_ref_error(ref.info)
        path = raw_dir / ref.source_path
        x, info = self.edf_recording(path)
        s = round(float(ref.info["start_s"]) * FS)
        if s + self.window_samples > x.shape[1]:
            raise RecordError(
                f"window past the end: the window at {ref.info['start_s']:g} s ends after the "
                f"recording ({x.shape[1] / FS:g} s at {FS:g} Hz) [{path.name}]",
                stage="window",
            )
        w, clipped = self.quantized(x[:, s : s + self.window_samples])
        split = ref.info.get("split")
        return Sample(
            sample_id=ref.record_id,
            patient_id=str(ref.info["subject"]),
            source_path=ref.source_path,
            arrays={"eeg": w},
            labels={"abnormal": int(ref.info["label"])},
            native_labels={"folder": TUAB_CLASSES[int(ref.info["label"])].lower()},
            columns={
                "subject": str(ref.info["subject"]),
                "session": ref.info["session"],
                "recording": Path(ref.source_path).stem,
                "start_s": float(ref.info["start_s"]),
                "orig_fs": info["orig_fs"],
                "reference": info["reference"],
                "clipped_samples": clipped,
            },
            split_hint={"official": split} if split else {},
        )


# --------------------------------------------------------------------------------------- TUEV


def parse_rec(path: Path) -> list[tuple[int, float, float, int]]:
    """TUEV ``.rec``: lines ``channel,start,stop,class`` (channel 0-21 of
    :data:`TUEV_REC_CHANNELS`, seconds, class 1-6). :class:`ValueError` naming the line."""
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"unreadable annotation file: {exc}") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(",")]
        try:
            if len(cells) != 4:
                raise ValueError
            ch_f, start, stop, cls_f = (float(c) for c in cells)  # numpy.genfromtxt-style
            if ch_f != int(ch_f) or cls_f != int(cls_f):
                raise ValueError
            ch, cls = int(ch_f), int(cls_f)
        except (ValueError, OverflowError):
            raise ValueError(
                f"annotation file does not parse: line {n}: {line.strip()[:60]!r} is not "
                "'channel,start,stop,class'"
            ) from None
        if not 0 <= ch < len(TUEV_REC_CHANNELS):
            raise ValueError(
                f"annotation file does not parse: line {n}: channel {ch} is not in 0-21"
            )
        if not 1 <= cls <= 6:
            raise ValueError(f"annotation file does not parse: line {n}: class {cls} is not in 1-6")
        if not (0 <= start < stop and math.isfinite(stop)):
            raise ValueError(
                f"annotation file does not parse: line {n}: start {start:g} / stop {stop:g} s "
                "are not a span"
            )
        out.append((ch, start, stop, cls))
    if not out:
        raise ValueError("annotation file does not parse: no events")
    return out


class TuevAdapter(EegAdapter):
    """TUEV v2.x: ``edf/{train,eval}/<subject>/*.edf`` + ``.rec``; one sample per annotated
    event: a ``window_s`` window centred on the event (5 s around the 1-s event, as BIOT),
    zero-padded where it runs past the recording (``padded_samples``)."""

    key = "tuev"
    version = "1"

    def __init__(
        self,
        montage: str = "tcp_bipolar",
        bandpass: str = "0.1-75",
        notch: float | str = 60.0,
        window_s: float = 5.0,
    ) -> None:
        self._set_protocol(montage, bandpass, notch)
        self.window_s = _positive("window_s", window_s)

    @property
    def window_samples(self) -> int:
        return round(self.window_s * FS)

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        return {
            "events6": {
                "type": "multiclass",
                "classes": list(TUEV_CLASSES),
                "label_space": None,
                "column": "label__events6",
                "policy": options.label_policy,
                "description": ".rec class code 1-6 -> index 0-5, one sample per event",
            }
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["official", "patient"]

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        files = require_dir(raw_dir, "*.edf", self.key)
        refs: list[RecordRef] = []
        subjects: dict[str, tuple[str, Any]] = {}
        todo: list[tuple[Path, str, str, str]] = []
        for p in files:
            rel = p.relative_to(raw_dir)
            tp = _tuh_parts(rel, None)
            if tp is None:
                refs.append(
                    RecordRef(
                        p.stem,
                        rel.as_posix(),
                        {
                            "error": f"unexpected path: not under edf/{{train,eval}}/ [{p.name}]",
                            "stage": "list",
                        },
                    )
                )
                continue
            sub = tp[1] or _subject(p.stem)[0]
            if sub not in subjects or tp[0] == "train":
                subjects[sub] = (tp[0], 0)
            todo.append((p, rel.as_posix(), sub, tp[0]))
        split = official_split(subjects, options.seed) if options.splits == "official" else {}
        for p, rel, sub, folder in todo:
            sp = ("test" if folder == "eval" else split.get(sub)) if split else None
            base = {"subject": sub, "split": sp}

            def bad(reason: str, p: Path = p, rel: str = rel, base: dict = base) -> None:
                refs.append(
                    RecordRef(
                        p.stem, rel, {**base, "error": f"{reason} [{p.name}]", "stage": "list"}
                    )
                )

            rec = p.with_suffix(".rec")
            if not rec.is_file():
                bad(f"no annotation file: {rec.name} is not beside the EDF")
                continue
            try:
                events = parse_rec(rec)
            except ValueError as exc:
                refs.append(
                    RecordRef(
                        p.stem, rel, {**base, "error": f"{exc} [{rec.name}]", "stage": "list"}
                    )
                )
                continue
            duration, problem = self.check_header(p)
            if problem is not None:
                bad(problem)
                continue
            late = [e for e in events if e[2] > duration + 1e-6]
            if late:
                ch, s0, s1, _ = late[0]
                refs.append(
                    RecordRef(
                        p.stem,
                        rel,
                        {
                            **base,
                            "error": f"events past the end: {len(late)} event(s) end after the "
                            f"recording ({duration:g} s), first {s0:g}-{s1:g} s on channel {ch} "
                            f"[{rec.name}]",
                            "stage": "list",
                        },
                    )
                )
                continue
            for k, (ch, s0, s1, cls) in enumerate(events):
                refs.append(
                    RecordRef(
                        f"{p.stem}_e{k:05d}",
                        rel,
                        {**base, "channel": ch, "start": s0, "stop": s1, "cls": cls},
                    )
                )
        return sorted(refs, key=lambda r: r.record_id)

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        bad_ref_error(ref.info)
        path = raw_dir / ref.source_path
        x, info = self.edf_recording(path)
        centre = (float(ref.info["start"]) + float(ref.info["stop"])) / 2
        n = self.window_samples
        s = round(centre * FS) - n // 2
        w = np.zeros((x.shape[0], n))
        lo, hi = max(s, 0), min(s + n, x.shape[1])
        w[:, lo - s : hi - s] = x[:, lo:hi]
        padded = n - (hi - lo)
        q, clipped = self.quantized(w)
        ch = int(ref.info["channel"])
        cls = int(ref.info["cls"])
        split = ref.info.get("split")
        return Sample(
            sample_id=ref.record_id,
            patient_id=str(ref.info["subject"]),
            source_path=ref.source_path,
            arrays={"eeg": q},
            labels={"events6": cls - 1},
            native_labels={"class": cls, "channel": ch},
            columns={
                "subject": str(ref.info["subject"]),
                "recording": Path(ref.source_path).stem,
                "event_start_s": float(ref.info["start"]),
                "event_stop_s": float(ref.info["stop"]),
                "window_start_s": s / FS,
                "channel": ch,
                "channel_name": TUEV_REC_CHANNELS[ch],
                "padded_samples": int(padded),
                "orig_fs": info["orig_fs"],
                "reference": info["reference"],
                "clipped_samples": clipped,
            },
            split_hint={"official": split} if split else {},
        )


# --------------------------------------------------------------------------------------- IIIC

_IIIC_NAME = re.compile(r"^(?P<cls>SZ|LPD|GPD|LRDA|GRDA|Other)_", re.IGNORECASE)


def _vote_table(raw_dir: Path) -> dict[str, dict[str, Any]]:
    """Optional ``*.csv`` tables with a segment column (``file``/``segment``/``key``) and vote
    counts per class (columns named as :data:`IIIC_CLASSES`), plus ``patient`` if present."""
    out: dict[str, dict[str, Any]] = {}
    for t in sorted(raw_dir.rglob("*.csv")):
        with t.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            cols = {c.lower(): c for c in reader.fieldnames or []}
            key = next((cols[c] for c in ("file", "segment", "key", "mat") if c in cols), None)
            votes = [cols.get(c.lower()) for c in IIIC_CLASSES]
            if key is None or any(v is None for v in votes):
                continue
            pcol = next((cols[c] for c in ("patient", "patient_id", "subject") if c in cols), None)
            for row in reader:
                try:
                    counts = [int(float(row[v])) for v in votes]  # type: ignore[index]
                except (TypeError, ValueError):
                    counts = []
                out[Path(row[key]).stem] = {
                    "votes": counts,
                    "patient": row[pcol].strip() if pcol and row.get(pcol) else None,
                    "table": t.name,
                }
    return out


class IiicAdapter(EegAdapter):
    """IIIC (BDSP): ``*.mat`` with ``seg`` (20 channels x 10,000 samples, 50 s at 200 Hz).
    ``segment=central`` (default): the central 10 s, the part the experts labelled;
    ``full``: all 50 s. Class = majority of the vote counts when a vote table is present (kept
    as columns ``votes_<class>``), else the class in the file name (public sample layout)."""

    key = "iiic"
    version = "1"
    extra_split_rules = ("group",)
    fractions = (0.6, 0.2, 0.2)

    def __init__(
        self,
        montage: str = "tcp_bipolar",
        bandpass: str = "0.1-75",
        notch: float | str = 60.0,
        segment: str = "central",
    ) -> None:
        self._set_protocol(montage, bandpass, notch)
        if segment not in ("central", "full"):
            raise ValueError(f"segment must be central or full, got {segment!r}")
        self.segment = segment

    @property
    def window_samples(self) -> int:
        return round((10.0 if self.segment == "central" else 50.0) * FS)

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        return {
            "iiic6": {
                "type": "multiclass",
                "classes": list(IIIC_CLASSES),
                "label_space": None,
                "column": "label__iiic6",
                "policy": options.label_policy,
                "description": "majority expert vote (vote counts in votes_<class> columns when "
                "the source has them), else the class in the file name",
            }
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["group", "patient"]

    def default_split_rule(self, raw_dir: Path) -> str:
        return "group"

    def describe_split(self, rule: str, seed: int) -> dict[str, Any]:
        return describe(
            rule,
            seed,
            "seeded patient-level split stratified by class: train 60% / val 20% / test 20% "
            "of the patients (segments without a patient id count as their own patient)",
        )

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        files = require_dir(raw_dir, "*.mat", self.key)
        table = _vote_table(raw_dir)
        rows = []
        for p in files:
            rel = p.relative_to(raw_dir).as_posix()
            t = table.get(p.stem)
            info: dict[str, Any] = {}
            if t and t["votes"] and sum(t["votes"]) > 0:
                info["votes"] = t["votes"]
                info["label"] = int(np.argmax(t["votes"]))
                info["label_source"] = f"votes ({t['table']})"
            else:
                m = _IIIC_NAME.match(p.name)
                if m:
                    cls = next(c for c in IIIC_CLASSES if c.lower() == m.group("cls").lower())
                    info["label"] = IIIC_CLASSES.index(cls)
                    info["label_source"] = "file name"
                else:
                    info["error"] = (
                        f"no class: not in a vote table and the file name does not start with "
                        f"one of {', '.join(IIIC_CLASSES)}_ [{p.name}]"
                    )
                    info["stage"] = "list"
            info["patient"] = (t or {}).get("patient") or p.stem
            rows.append(RecordRef(p.stem, rel, info))
        if options.splits == "group":
            strata = {r.info["patient"]: r.info.get("label", -1) for r in rows}
            split = stratified_group_split(strata, options.seed, self.fractions)
            for r in rows:
                r.info["split"] = split[r.info["patient"]]
        return sorted(rows, key=lambda r: r.record_id)

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        bad_ref_error(ref.info)
        path = raw_dir / ref.source_path
        x = self._read_mat(path)
        names = [normalize_channel(c) for c in IIIC_CHANNELS]
        try:
            idx = pick_electrodes(names, self.montage)
            sig, _ = standardize(
                [x[i] for i in idx],
                [FS] * len(idx),
                montage_electrodes(self.montage),
                self.protocol,
            )
        except EegSignalError as exc:
            raise RecordError(f"{exc.reason} [{path.name}]") from None
        n = self.window_samples
        if sig.shape[1] < n:
            raise RecordError(
                f"too short: {sig.shape[1] / FS:g} s, shorter than {n / FS:g} s [{path.name}]"
            )
        s = (sig.shape[1] - n) // 2
        q, clipped = self.quantized(sig[:, s : s + n])
        cols: dict[str, Any] = {
            "label_source": ref.info["label_source"],
            "clipped_samples": clipped,
            "segment_start_s": s / FS,
        }
        votes = ref.info.get("votes")
        for c, v in zip(IIIC_CLASSES, votes or [None] * 6, strict=True):
            cols[f"votes_{c}"] = v
        split = ref.info.get("split")
        return Sample(
            sample_id=ref.record_id,
            patient_id=str(ref.info["patient"]),
            source_path=ref.source_path,
            arrays={"eeg": q},
            labels={"iiic6": int(ref.info["label"])},
            native_labels={"class": IIIC_CLASSES[int(ref.info["label"])], "votes": votes},
            columns=cols,
            split_hint={"group": split} if split else {},
        )

    @staticmethod
    def _read_mat(path: Path) -> np.ndarray:
        import scipy.io

        try:
            m = scipy.io.loadmat(str(path))
        except NotImplementedError:  # MATLAB v7.3 (HDF5)
            import h5py

            try:
                with h5py.File(path, "r") as fh:
                    if "seg" not in fh:
                        raise RecordError(f"no 'seg' variable [{path.name}]") from None
                    m = {"seg": np.asarray(fh["seg"]).T}
            except OSError as exc:
                raise RecordError(f"unreadable MATLAB file: {exc} [{path.name}]") from None
        except Exception as exc:
            raise RecordError(f"unreadable MATLAB file: {exc} [{path.name}]") from None
        if "seg" not in m:
            keys = [k for k in m if not k.startswith("__")]
            raise RecordError(
                f"no 'seg' variable: the file has {', '.join(keys) or 'none'} [{path.name}]"
            )
        x = np.asarray(m["seg"], dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != len(IIIC_CHANNELS) or x.shape[1] < 10 * FS:
            raise RecordError(
                f"wrong shape: seg has shape {x.shape}, expected ({len(IIIC_CHANNELS)}, 10000) "
                f"(20 channels x 50 s at 200 Hz) [{path.name}]"
            )
        return x
