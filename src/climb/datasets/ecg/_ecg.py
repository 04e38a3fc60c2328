"""Shared ECG adapter machinery: standardization to 12 x 5000 (500 Hz, 10 s, mV) and the ecg7
label tables (``climb/labels/maps/ecg7_snomed.csv``, ``ecg7_scp.csv``).

Standardization rules (docs/prepare.md):

- exactly 12 signals whose names are the standard leads (case-insensitive: ``AVR`` = ``aVR``),
  reordered to I, II, III, aVR, aVL, aVF, V1-V6; otherwise the record is quarantined;
- physical units converted to mV (uV and V headers are scaled);
- NaN samples (WFDB missing values) are counted (``nan_samples``) and set to 0; a record that is
  entirely NaN is quarantined; flat leads (peak-to-peak <= 1e-6 mV) are listed in
  ``flat_leads``; a record whose 12 leads are all flat is quarantined;
- other sampling rates are resampled to 500 Hz with ``scipy.signal.resample_poly``;
- longer than 10 s: the first 10 s are kept (as CLIMB does); shorter: zero-padded at the end,
  with the number of real samples in ``n_valid``; shorter than 1 s: quarantined;
- values are rounded to whole µV and clipped to ±32.768 mV (int16 µV, ``ECG_CODEC``): exact for
  sources stored as integers at a gain of 1000/mV (or a divisor of it) and kept at 500 Hz;
  otherwise at most 0.5 µV off. Clipped samples are counted in ``clipped_samples``.
"""

from __future__ import annotations

import csv
import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.adapter import BaseAdapter, PrepareOptions, RecordError
from climb.core.schema import FieldSpec, quantize
from climb.io.signal import STANDARD_LEADS, fit_length, flat_leads, lead_order, resample
from climb.io.wfdb import WfdbReadError, WfdbRecord, read_record
from climb.labels import get_label_space

ECG7: tuple[str, ...] = get_label_space("ecg7").names
FS = 500
SECONDS = 10
LENGTH = FS * SECONDS
MIN_SECONDS = 1.0
# on-disk layout: see docs/benchmarks.md "## Store" (benchmarks/store_layout.py)
ECG_CHUNK = 32
# int16 µV (scale 1000 per mV), uncompressed: half the bytes of float32 and read straight from
# the chunk files (climb.store.reader.ChunkRows); read back as float32 mV. Why: docs/store-format.md
# "Codecs" and docs/benchmarks.md "## ECG loader". Before: blosc-zstd 3 + shuffle on float32.
ECG_CODEC = {"name": "none", "scale": 1000, "astype": "int16"}
CHALLENGE_CSV = {
    "ptbxl": "ptbxl_splits.csv",
    "cpsc2018": "CPSC_splits.csv",
    "georgia": "Ga_splits.csv",
    "chapman_shaoxing": "ChapmanShaoxing_splits.csv",
}


def _maps_file(name: str) -> Path:
    return Path(str(resources.files("climb.labels").joinpath("maps", name)))


def _read_map(name: str) -> list[dict[str, str]]:
    with _maps_file(name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def _classes(cell: str) -> tuple[str, ...] | None:
    cell = cell.strip()
    if cell == "NA":
        return None
    return tuple(c for c in cell.split("|") if c)


@cache
def snomed_map(policy: str, dataset: str) -> dict[str, tuple[str, ...] | None]:
    """SNOMED code -> ecg7 classes. ``None``: the code is unknown to CLIMB's dictionary of
    ``dataset`` (climb policy only). Codes absent from the table are absent from the dict."""
    col = "corrected" if policy == "corrected" else f"climb_{dataset}"
    return {r["snomed"]: _classes(r[col]) for r in _read_map("ecg7_snomed.csv")}


@cache
def scp_map(policy: str) -> dict[str, tuple[str, ...]]:
    col = "corrected" if policy == "corrected" else "climb"
    return {r["scp"]: _classes(r[col]) or () for r in _read_map("ecg7_scp.csv")}


def multi_hot(groups: list[tuple[str, ...]]) -> list[int]:
    """Multi-hot over ECG7 from the class tuples of a record's codes; all ``-1`` (missing) when
    no code maps to any class."""
    hit = {c for g in groups for c in g}
    if not hit:
        return [-1] * len(ECG7)
    return [1 if c in hit else 0 for c in ECG7]


def climb_single_label(mh: list[int], i: int) -> int:
    """CLIMB's rule: ``np.random.seed(i); np.random.choice(np.flatnonzero(b == b.max()))``,
    with ``b`` the 0/1 multi-hot (an empty row draws among all 7 classes)."""
    b = np.array([max(v, 0) for v in mh])
    rs = np.random.RandomState(i)
    return int(rs.choice(np.flatnonzero(b == b.max())))


def snomed_labels(codes: list[str], policy: str, dataset: str) -> tuple[list[int], list[str]]:
    """(multi-hot, codes that map to nothing) for SNOMED ``codes``.

    corrected: codes not in the table or mapped to no class are reported as unmapped and the
    vector is all -1 when nothing maps. climb: exactly CLIMB's rule (a row with no mapped code
    is all 0, as in CLIMB's CSVs)."""
    table = snomed_map(policy, dataset)
    groups: list[tuple[str, ...]] = []
    unmapped: list[str] = []
    for code in codes:
        g = table.get(code)
        if not g:
            unmapped.append(code)
        else:
            groups.append(g)
    if policy == "climb":
        hit = {c for g in groups for c in g}
        return [1 if c in hit else 0 for c in ECG7], unmapped
    return multi_hot(groups), unmapped


def find_file(raw_dir: Path, name: str) -> Path | None:
    """The shallowest file called ``name`` anywhere under ``raw_dir`` (None if absent)."""
    hits = sorted(raw_dir.rglob(name), key=lambda p: (len(p.parts), str(p)))
    return hits[0] if hits else None


@cache
def _load_climb_csv(path: str) -> dict[str, dict[str, Any]]:
    import pandas as pd

    df = pd.read_csv(path)
    need = {"patient", "split", "label", *ECG7}
    if not need <= set(df.columns):
        from climb.core.errors import ClimbError

        raise ClimbError(
            f"CLIMB split file lacks columns {sorted(need - set(df.columns))}",
            where=path,
            fix="fetch the file from DDVD233/CLIMB@0f767b1 (climb fetch KEY)",
        )
    out: dict[str, dict[str, Any]] = {}
    mh = df[list(ECG7)].to_numpy(dtype=int)
    for i, (rid, split, label) in enumerate(
        zip(df["patient"], df["split"], df["label"], strict=True)
    ):
        out[str(rid).upper()] = {
            "row": i,
            "split": str(split),
            "label": int(label),
            "mh": mh[i].tolist(),
        }
    return out


def climb_table(raw_dir: Path, key: str) -> tuple[Path | None, dict[str, dict[str, Any]]]:
    p = find_file(raw_dir, CHALLENGE_CSV[key])
    return (p, _load_climb_csv(str(p))) if p else (None, {})


class EcgAdapter(BaseAdapter):
    """Base of the four ECG adapters: one dense field ``ecg`` (12, 5000) float32 mV."""

    extra_code_files = (str(_maps_file("ecg7_snomed.csv")), str(_maps_file("ecg7_scp.csv")))

    def code_digest(self) -> str:
        """The code digest plus the field specs (dtype, chunks, codec): a store layout change
        changes the prepare fingerprint, so old work directories are discarded."""
        h = hashlib.sha256(super().code_digest().encode())
        h.update(json.dumps([f.to_meta() for f in self.fields()], sort_keys=True).encode())
        return h.hexdigest()

    def fields(self) -> list[FieldSpec]:
        return [
            FieldSpec(
                name="ecg",
                dtype="float32",
                shape=(12, LENGTH),
                axes=("lead", "time"),
                unit="mV",
                sampling_rate_hz=float(FS),
                chunks=ECG_CHUNK,
                codec=dict(ECG_CODEC),
            )
        ]

    def ecg7_tasks(self, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        tasks: dict[str, dict[str, Any]] = {
            "ecg7": {
                "type": "multilabel",
                "classes": list(ECG7),
                "label_space": "ecg7",
                "column": "label__ecg7",
                "policy": options.label_policy,
            }
        }
        if options.label_policy == "climb":
            tasks["ecg7_single"] = {
                "type": "multiclass",
                "classes": list(ECG7),
                "label_space": "ecg7",
                "column": "label__ecg7_single",
                "policy": "climb",
                "description": "CLIMB's single label: np.random.seed(i); np.random.choice(positives)",
            }
        return tasks

    def read_ecg(self, path: Path) -> WfdbRecord:
        try:
            return read_record(path)
        except WfdbReadError as exc:
            raise RecordError(exc.reason) from None

    def standardize(self, rec: WfdbRecord) -> tuple[np.ndarray, dict[str, Any]]:
        n = rec.signal.shape[1]
        if n != 12:
            raise RecordError(f"wrong lead count: {n} signals (expected 12)")
        order = lead_order(rec.sig_names)
        if order is None:
            raise RecordError(f"lead names {rec.sig_names} are not the 12 standard leads")
        x = np.ascontiguousarray(rec.signal[:, order].T)  # (12, T)
        if x.shape[1] < MIN_SECONDS * rec.fs:
            raise RecordError(
                f"too short: {x.shape[1]} samples at {rec.fs:g} Hz (< {MIN_SECONDS:g} s)"
            )
        nan = np.isnan(x)
        n_nan = int(nan.sum())
        if n_nan == x.size:
            raise RecordError("all samples are NaN")
        if n_nan:
            x[nan] = 0.0
        flat = flat_leads(x)
        if flat.all():
            raise RecordError("all leads are flat")
        orig_len = x.shape[1]
        x = resample(x, rec.fs, FS, axis=1)
        x, n_valid = fit_length(x, LENGTH, axis=1)
        lim = np.iinfo(np.int16)
        clipped = int(np.count_nonzero((x > lim.max / 1000.0) | (x < lim.min / 1000.0)))
        cols = {
            "orig_fs": float(rec.fs),
            "orig_samples": int(orig_len),
            "n_valid": int(n_valid),
            "nan_samples": n_nan,
            "flat_leads": ",".join(STANDARD_LEADS[i] for i in np.flatnonzero(flat)),
            "clipped_samples": clipped,
        }
        return quantize_ecg(x), cols


def quantize_ecg(x: np.ndarray) -> np.ndarray:
    """float32 mV exactly as the ECG store holds it (``ECG_CODEC``: whole µV, int16 range), so
    the statistics and digests prepare takes in-pass equal those of the decoded store."""
    return quantize(ECG_CODEC, np.asarray(x, dtype=np.float64)).astype(np.float32)
