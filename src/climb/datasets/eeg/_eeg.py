"""Shared EEG adapter machinery (TUAB, TUEV, IIIC): options, the stored field, the per-process
cache of standardised recordings, and the official-split helper. Rules: docs/eeg.md.

Stored field ``eeg``: float32 µV, shape (channels of the montage, window samples) at 200 Hz,
saved as int16 at 0.1 µV (``EEG_CODEC``, uncompressed like the ECG stores): every value is
within 0.05 µV of the standardised signal, the range is ±3276.7 µV and samples beyond it are
clipped and counted in the ``clipped_samples`` column. (TUH EDFs store 16-bit integers over
about ±5000 µV, a resolution of about 0.15 µV, coarser than this step.)
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.adapter import BaseAdapter, RecordError
from climb.core.errors import ClimbError
from climb.core.schema import FieldSpec, quantize
from climb.io.edf import EdfReadError, read_edf, read_edf_header
from climb.io.montage import (
    MONTAGES,
    EegProtocol,
    EegSignalError,
    montage_channels,
    montage_electrodes,
    pick_electrodes,
    resample_ratio,
    standardize,
)

FS = 200.0
EEG_CHUNK = 32
#: int16 at 0.1 µV (scale 10 per µV), uncompressed; read back as float32 µV
EEG_CODEC: dict[str, Any] = {"name": "none", "scale": 10, "astype": "int16"}
EEG_STEP_UV = 0.1
CLIP_UV = np.iinfo(np.int16).max / 10.0

_CACHE: OrderedDict[tuple[str, EegProtocol], tuple[np.ndarray, dict[str, Any]] | str] = (
    OrderedDict()
)


def parse_bandpass(value: Any) -> str:
    """``"0.1-75"`` (Hz, low-high) or ``"off"``; YAML's ``off``/``false``/``null`` mean off."""
    if value in (None, False, "", "off", "none", "None", "false"):
        return "off"
    lo, sep, hi = str(value).partition("-")
    try:
        lo_f, hi_f = float(lo), float(hi)
    except ValueError:
        raise ValueError(
            f"bandpass must be LOW-HIGH in Hz (e.g. 0.1-75) or off, got {value!r}"
        ) from None
    if not sep or not 0 <= lo_f < hi_f:
        raise ValueError(f"bandpass must be LOW-HIGH with 0 <= LOW < HIGH, got {value!r}")
    if hi_f >= FS / 2:
        raise ValueError(f"bandpass high edge {hi_f:g} Hz must be below {FS / 2:g} Hz")
    return f"{lo_f:g}-{hi_f:g}"


def parse_notch(value: Any) -> float | str:
    if value in (None, False, "", "off", "none", "None", "false"):
        return "off"
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"notch must be a frequency in Hz (50 or 60) or off, got {value!r}"
        ) from None
    if not 0 < f < FS / 2:
        raise ValueError(f"notch must be in (0, {FS / 2:g}) Hz, got {value!r}")
    return f


def parse_montage(value: Any) -> str:
    if value not in MONTAGES:
        raise ValueError(f"montage must be one of {', '.join(MONTAGES)}, got {value!r}")
    return str(value)


class EegAdapter(BaseAdapter):
    """Base of the EEG adapters: one dense field ``eeg`` (montage channels, window samples)."""

    montage: str = "tcp_bipolar"
    bandpass: str = "0.1-75"
    notch: float | str = 60.0

    def _set_protocol(self, montage: Any, bandpass: Any, notch: Any) -> None:
        self.montage = parse_montage(montage)
        self.bandpass = parse_bandpass(bandpass)
        self.notch = parse_notch(notch)

    @property
    def protocol(self) -> EegProtocol:
        bp = None
        if self.bandpass != "off":
            lo, _, hi = self.bandpass.partition("-")
            bp = (float(lo), float(hi))
        return EegProtocol(
            montage=self.montage,
            fs=FS,
            bandpass=bp,
            notch=None if self.notch == "off" else float(self.notch),
        )

    @property
    def window_samples(self) -> int:
        raise NotImplementedError

    def code_digest(self) -> str:
        h = hashlib.sha256(super().code_digest().encode())
        h.update(json.dumps([f.to_meta() for f in self.fields()], sort_keys=True).encode())
        return h.hexdigest()

    def fields(self) -> list[FieldSpec]:
        return [
            FieldSpec(
                name="eeg",
                dtype="float32",
                shape=(len(montage_channels(self.montage)), self.window_samples),
                axes=("channel", "time"),
                unit="uV",
                sampling_rate_hz=FS,
                chunks=EEG_CHUNK,
                codec=dict(EEG_CODEC),
            )
        ]

    def summary_notes(self, raw_dir: Path, options: Any) -> list[str]:
        d = self.protocol.describe()
        split = []
        if getattr(options, "splits", None) == "official":
            split = [
                "official split: eval -> test; val = 20% of the train subjects (seeded with "
                f"seed {options.seed}, stratified by label), the rest train"
            ]
        return [
            *split,
            f"EEG protocol: montage {d['montage']} ({', '.join(d['channels'])}); resampled to "
            f"{FS:g} Hz (scipy.signal.resample_poly); band-pass "
            f"{self.bandpass + ' Hz' if self.bandpass != 'off' else 'off'}; notch "
            f"{str(self.notch) + ' Hz' if self.notch != 'off' else 'off'}; unit µV; stored as "
            f"int16 at {EEG_STEP_UV:g} µV (error <= {EEG_STEP_UV / 2:g} µV, clipped beyond "
            f"±{CLIP_UV:g} µV, counted in clipped_samples)",
        ]

    # ---------------------------------------------------------------- recordings

    def check_header(self, path: Path) -> tuple[float, str | None]:
        """``(duration s, problem)`` from the EDF header alone: a broken header, missing
        montage channels or a rate the resampler refuses is the problem (None when fine)."""
        try:
            h = read_edf_header(path)
        except EdfReadError as exc:
            return 0.0, exc.reason
        try:
            idx = pick_electrodes(h.names, self.montage)
            for i in idx:
                resample_ratio(h.fs[i], FS)
        except EegSignalError as exc:
            return h.duration_s, exc.reason
        return h.duration_s, None

    def edf_recording(self, path: Path) -> tuple[np.ndarray, dict[str, Any]]:
        """The whole recording standardised (M, T) float64 µV at 200 Hz and its info; a small
        per-process cache keeps the last recordings, since every window of a file asks."""
        key = (str(path), self.protocol)
        if key not in _CACHE:
            try:
                _CACHE[key] = self._standardize_edf(path)
            except (EdfReadError, EegSignalError) as exc:
                _CACHE[key] = exc.reason
            while len(_CACHE) > 3:
                _CACHE.popitem(last=False)
        got = _CACHE[key]
        if isinstance(got, str):
            raise RecordError(f"{got} [{path.name}]")
        return got

    def _standardize_edf(self, path: Path) -> tuple[np.ndarray, dict[str, Any]]:
        h = read_edf_header(path)
        idx = pick_electrodes(h.names, self.montage)
        rec = read_edf(path, idx)
        x, info = standardize(
            rec.signals, [h.fs[i] for i in idx], montage_electrodes(self.montage), self.protocol
        )
        from climb.io.edf import reference_of

        info["reference"] = reference_of([h.labels[i] for i in idx])
        info["reader"] = h.reader
        info["recording_s"] = round(h.duration_s, 3)
        return x, info

    def quantized(self, x: np.ndarray) -> tuple[np.ndarray, int]:
        """``x`` exactly as the store holds it (float32 µV on the 0.1 µV grid) and the number of
        clipped samples."""
        clipped = int(np.count_nonzero(np.abs(x) > CLIP_UV))
        return quantize(EEG_CODEC, np.asarray(x, dtype=np.float64)).astype(np.float32), clipped


def official_split(
    subjects: dict[str, tuple[str, Any]], seed: int, val_fraction: float = 0.2
) -> dict[str, str]:
    """Subject -> split for TUH's official folders: ``eval`` -> test; ``train`` subjects split
    into train / val (``val_fraction``, seeded, stratified by the subject's label) as BIOT does
    (80/20). ``subjects``: subject -> (official folder, stratum)."""
    from climb.core.splits import stratified_group_split

    train = {s: st for s, (folder, st) in subjects.items() if folder == "train"}
    out = stratified_group_split(
        train, seed, (1 - val_fraction, val_fraction), names=("train", "val")
    )
    for s, (folder, _) in subjects.items():
        if folder == "eval":
            out[s] = "test"
    return out


def bad_ref_error(ref_info: dict[str, Any]) -> None:
    """Raise the RecordError a listing problem recorded in ``ref.info['error']``."""
    err = ref_info.get("error")
    if err:
        raise RecordError(err, stage=ref_info.get("stage", "read"))


def require_dir(raw_dir: Path, pattern: str, key: str) -> list[Path]:
    files = sorted(
        p
        for p in raw_dir.rglob(pattern)
        if not any(part.startswith(".") for part in p.relative_to(raw_dir).parts)
    )
    if not files:
        raise ClimbError(
            f"no {pattern} files for {key}",
            where=str(raw_dir),
            fix=f"put the corpus there as 'climb fetch {key}' explains (docs/eeg.md)",
        )
    return files
