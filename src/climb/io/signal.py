"""Signal transforms adapters apply at prepare time (done once, not per sample at train time):
standard 12-lead names and order, polyphase resampling, length fitting, flat-lead detection."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

STANDARD_LEADS: tuple[str, ...] = (
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
)  # fmt: skip
_LEAD_ALIASES = {name.upper(): name for name in STANDARD_LEADS}


def canonical_lead(name: str) -> str | None:
    """``'AVR'``/``'avr'``/``' aVR '`` -> ``'aVR'``; ``None`` for a non-standard lead name."""
    return _LEAD_ALIASES.get(name.strip().upper())


def lead_order(names: list[str]) -> list[int] | None:
    """Column of each standard lead in ``names`` (standard order), or ``None`` if the names are
    not exactly the 12 standard leads (each once)."""
    canon = [canonical_lead(n) for n in names]
    if None in canon or len(set(canon)) != len(canon) or set(canon) != set(STANDARD_LEADS):
        return None
    return [canon.index(lead) for lead in STANDARD_LEADS]


def resample_ratio(fs_in: float, fs_out: float) -> tuple[int, int]:
    """(up, down) with ``fs_in * up / down == fs_out`` (exact for rational rates)."""
    frac = Fraction(fs_out / fs_in).limit_denominator(1000)
    return frac.numerator, frac.denominator


def resample(x: np.ndarray, fs_in: float, fs_out: float, axis: int = -1) -> np.ndarray:
    """Polyphase resampling (``scipy.signal.resample_poly``, Kaiser window) to ``fs_out``."""
    if abs(fs_in - fs_out) < 1e-9:
        return x
    from scipy.signal import resample_poly

    up, down = resample_ratio(fs_in, fs_out)
    return resample_poly(x, up, down, axis=axis)


def fit_length(x: np.ndarray, n: int, axis: int = -1) -> tuple[np.ndarray, int]:
    """Crop to the first ``n`` samples, or zero-pad at the end; returns (array, valid samples)."""
    length = x.shape[axis]
    if length >= n:
        sl = [slice(None)] * x.ndim
        sl[axis] = slice(0, n)
        return x[tuple(sl)], n
    pad = [(0, 0)] * x.ndim
    pad[axis] = (0, n - length)
    return np.pad(x, pad), length


def flat_leads(x: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Boolean per lead (axis 0): peak-to-peak amplitude <= ``tol`` (a disconnected lead)."""
    with np.errstate(invalid="ignore"):
        ptp = np.nanmax(x, axis=1) - np.nanmin(x, axis=1)
    return ~(ptp > tol)
