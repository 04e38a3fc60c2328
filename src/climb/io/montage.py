"""EEG standardisation: montages, filtering, resampling and windows (docs/eeg.md).

- Montages (:data:`MONTAGES`): ``tcp_bipolar`` (default), the 16-channel TCP longitudinal
  bipolar "double banana" montage used by BIOT (Yang et al. 2023) and SPaRCNet (FP1-F7, F7-T7,
  T7-P7, P7-O1, FP2-F8, F8-T8, T8-P8, P8-O2, FP1-F3, F3-C3, C3-P3, P3-O1, FP2-F4, F4-C4,
  C4-P4, P4-O2), and ``referential``, the 19 10-20 electrodes against the recording's own
  reference. Electrode names are those of :func:`climb.io.edf.normalize_channel` (new 10-10
  names: T7/T8/P7/P8 for the old T3/T4/T5/T6).
- Filters (mne.filter, zero-phase FIR, applied at each channel's original rate before
  resampling, as BIOT does): band-pass ``(low, high)`` Hz and a notch at ``notch`` Hz.
- Resampling: ``scipy.signal.resample_poly`` with the exact rational ratio (250 -> 200 Hz: 4/5,
  256 -> 200: 25/32, 512 -> 200: 25/64), each channel from its own rate.
- Signals are in µV throughout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from climb.core.errors import ClimbError
from climb.io.edf import OLD_TO_NEW, STANDARD_1020

TCP_BIPOLAR: tuple[tuple[str, str], ...] = (
    ("FP1", "F7"), ("F7", "T7"), ("T7", "P7"), ("P7", "O1"),
    ("FP2", "F8"), ("F8", "T8"), ("T8", "P8"), ("P8", "O2"),
    ("FP1", "F3"), ("F3", "C3"), ("C3", "P3"), ("P3", "O1"),
    ("FP2", "F4"), ("F4", "C4"), ("C4", "P4"), ("P4", "O2"),
)  # fmt: skip
REFERENTIAL: tuple[tuple[str, None], ...] = tuple((e, None) for e in STANDARD_1020)
MONTAGES: dict[str, tuple[tuple[str, str | None], ...]] = {
    "tcp_bipolar": TCP_BIPOLAR,
    "referential": REFERENTIAL,
}
#: the largest resampling denominator accepted (e.g. 256 -> 200 Hz needs 32; 257 -> 200 needs 257)
MAX_RESAMPLE_DENOMINATOR = 1000
#: a channel whose peak-to-peak over the whole recording is at most this (µV) is flat
FLAT_UV = 0.01
_NEW_TO_OLD = {v: k for k, v in OLD_TO_NEW.items()}


class EegSignalError(ClimbError, ValueError):
    """A recording that cannot be standardised; ``reason`` says why (goes to quarantine)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _montage(name: str) -> tuple[tuple[str, str | None], ...]:
    if name not in MONTAGES:
        raise ClimbError(
            f"unknown montage {name!r}",
            fix=f"use one of {', '.join(MONTAGES)}",
        )
    return MONTAGES[name]


def montage_channels(name: str) -> list[str]:
    """Output channel names of montage ``name`` (``FP1-F7`` ... or ``FP1`` ...)."""
    return [a if b is None else f"{a}-{b}" for a, b in _montage(name)]


def montage_electrodes(name: str) -> list[str]:
    """The electrodes montage ``name`` needs, in first-use order."""
    out: list[str] = []
    for a, b in _montage(name):
        for e in (a, b):
            if e is not None and e not in out:
                out.append(e)
    return out


def pick_electrodes(names: Sequence[str], montage: str) -> list[int]:
    """Index into ``names`` (normalised channel names) of each electrode of ``montage``, in
    :func:`montage_electrodes` order. :class:`EegSignalError` naming the missing channels."""
    need = montage_electrodes(montage)
    pos: dict[str, int] = {}
    for i, n in enumerate(names):
        pos.setdefault(n, i)
    missing = [e for e in need if e not in pos]
    if missing:
        shown = ", ".join(f"{e} (or {_NEW_TO_OLD[e]})" if e in _NEW_TO_OLD else e for e in missing)
        raise EegSignalError(
            f"missing channels for the {montage} montage: {shown}; "
            f"the file has {', '.join(names) or 'no channels'}"
        )
    return [pos[e] for e in need]


def apply_montage(x: np.ndarray, montage: str) -> np.ndarray:
    """``x`` (E, T): the electrodes of :func:`montage_electrodes` in that order -> (M, T)."""
    idx = {e: i for i, e in enumerate(montage_electrodes(montage))}
    rows = [x[idx[a]] if b is None else x[idx[a]] - x[idx[b]] for a, b in _montage(montage)]
    return np.stack(rows)


def resample_ratio(fs_in: float, fs_out: float) -> tuple[int, int]:
    """``(up, down)`` with ``fs_in * up / down == fs_out`` exactly. :class:`EegSignalError`
    when the rate is not positive and finite, below ``fs_out`` (upsampling would invent the band
    the montage is filtered to), or needs a denominator above :data:`MAX_RESAMPLE_DENOMINATOR`."""
    if not np.isfinite(fs_in) or fs_in <= 0:
        raise EegSignalError(f"unsupported sampling rate: {fs_in!r} Hz cannot be resampled")
    if fs_in < fs_out:
        raise EegSignalError(
            f"unsupported sampling rate: {fs_in:g} Hz is below the target {fs_out:g} Hz "
            "(upsampling is refused)"
        )
    r = Fraction(str(fs_out)) / Fraction(str(float(fs_in)))
    if r.denominator > MAX_RESAMPLE_DENOMINATOR:
        raise EegSignalError(
            f"unsupported sampling rate: {fs_in:g} Hz -> {fs_out:g} Hz needs a resampling ratio "
            f"{r.numerator}/{r.denominator} (denominator above {MAX_RESAMPLE_DENOMINATOR})"
        )
    return r.numerator, r.denominator


def resample(x: np.ndarray, fs_in: float, fs_out: float) -> np.ndarray:
    """``x`` (..., T) from ``fs_in`` to ``fs_out`` with ``scipy.signal.resample_poly``."""
    up, down = resample_ratio(fs_in, fs_out)
    if up == down:
        return np.asarray(x, dtype=np.float64)
    from scipy.signal import resample_poly

    return resample_poly(np.asarray(x, dtype=np.float64), up, down, axis=-1)


def filter_signals(
    x: np.ndarray, fs: float, bandpass: tuple[float, float] | None, notch: float | None
) -> np.ndarray:
    """Zero-phase FIR band-pass then notch (``mne.filter.filter_data`` / ``notch_filter``) of
    ``x`` (C, T) at ``fs``; each step is skipped when off (``None``). A notch at or above the
    Nyquist frequency is skipped (it has nothing to remove)."""
    if bandpass is None and notch is None:
        return x
    import mne

    y = np.asarray(x, dtype=np.float64)
    if bandpass is not None:
        lo, hi = bandpass
        hi_eff = hi if hi < fs / 2 else None
        y = mne.filter.filter_data(y, fs, lo, hi_eff, verbose="error")
    if notch is not None and notch < fs / 2:
        y = mne.filter.notch_filter(y, fs, notch, verbose="error")
    return y


@dataclass(frozen=True)
class EegProtocol:
    """How a recording is standardised (the adapters' ``-O`` options)."""

    montage: str = "tcp_bipolar"
    fs: float = 200.0
    bandpass: tuple[float, float] | None = (0.1, 75.0)
    notch: float | None = 60.0

    def describe(self) -> dict[str, Any]:
        return {
            "montage": self.montage,
            "channels": montage_channels(self.montage),
            "sampling_rate_hz": self.fs,
            "bandpass_hz": list(self.bandpass) if self.bandpass else None,
            "notch_hz": self.notch,
            "unit": "uV",
        }


def standardize(
    signals: Sequence[np.ndarray], fs: Sequence[float], names: Sequence[str], p: EegProtocol
) -> tuple[np.ndarray, dict[str, Any]]:
    """The montage electrodes ``signals`` (µV, each at its own rate ``fs``, named ``names`` in
    :func:`montage_electrodes` order) -> ``(x (M, T) float64 µV at p.fs, info)``.

    :class:`EegSignalError` for NaN/infinite samples, a flat electrode (peak-to-peak <=
    :data:`FLAT_UV` over the whole recording) or a rate :func:`resample_ratio` refuses."""
    bad = [n for n, s in zip(names, signals, strict=True) if not np.all(np.isfinite(s))]
    if bad:
        counts = [
            int((~np.isfinite(s)).sum()) for n, s in zip(names, signals, strict=True) if n in bad
        ]
        raise EegSignalError(
            "NaN/infinite samples: channels "
            + ", ".join(f"{n} ({c})" for n, c in zip(bad, counts, strict=True))
        )
    flat = [n for n, s in zip(names, signals, strict=True) if np.ptp(s) <= FLAT_UV]
    if flat:
        raise EegSignalError(
            f"flat channels: {', '.join(flat)} (constant over the whole recording)"
        )
    for r in sorted(set(fs)):
        resample_ratio(r, p.fs)  # refuse before any filtering work
    out: list[np.ndarray | None] = [None] * len(signals)
    for r in sorted(set(fs)):
        idx = [i for i, f in enumerate(fs) if f == r]
        n = min(len(signals[i]) for i in idx)
        block = np.stack([np.asarray(signals[i][:n], dtype=np.float64) for i in idx])
        block = resample(filter_signals(block, r, p.bandpass, p.notch), r, p.fs)
        for j, i in enumerate(idx):
            out[i] = block[j]
    n_out = min(len(o) for o in out if o is not None)
    x = apply_montage(np.stack([o[:n_out] for o in out if o is not None]), p.montage)
    info = {"orig_fs": float(max(fs)), "mixed_rates": len(set(fs)) > 1, "n_samples": n_out}
    return x, info


def window_starts(n: int, length: int, stride: int) -> list[int]:
    """Start indices of every full window of ``length`` samples every ``stride`` in ``n``."""
    if length <= 0 or stride <= 0:
        raise ValueError(f"window length and stride must be positive ({length}, {stride})")
    return list(range(0, n - length + 1, stride)) if n >= length else []
