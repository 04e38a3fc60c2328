"""Synthetic 12-lead ECGs with class-dependent structure (the demo corpus' ECG recipe).

Each record is a train of beats; every beat is a sum of Gaussian waves (P, Q, R, S, T) projected
onto the 12 standard leads with lead-specific gains. The class changes the morphology or rhythm
the way the textbook describes it, so a model can learn it:

* ``normal``: regular RR (55-95 bpm, 2 % jitter), a P wave before every QRS, narrow QRS (~40 ms).
* ``afib``: irregular RR (each interval drawn independently, +-40 %), no P wave, fibrillatory
  waves (4-8 Hz, ~0.05 mV).
* ``mi``: ST elevation (+0.2-0.35 mV plateau from the J point to the T wave) in the leads of
  one territory (inferior II, III, aVF or anterior V1-V4) and a deep Q wave there.
* ``cd`` (conduction disturbance): wide QRS (~120-160 ms) with a notched (RSR') R wave.
* ``sttc``: ST depression (-0.1 mV) and inverted T waves.
* ``hyp``: tall R and deep S waves (x2.2 amplitude, left-ventricular hypertrophy voltage).

Nuisances on every record: per-patient amplitude and heart-rate baseline, Gaussian noise
(0.01-0.05 mV), baseline wander (0.05-0.5 Hz, up to 0.3 mV), sometimes 50/60 Hz mains hum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ECG_CLASSES = ("normal", "cd", "mi", "sttc", "afib", "hyp")

# canonical lead gains of the R wave (I, II, III, aVR, aVL, aVF, V1-V6) and of P/T waves
_R_GAIN = np.array([0.9, 1.2, 0.5, -0.9, 0.4, 0.8, -0.5, 0.3, 0.8, 1.3, 1.3, 1.0])
_PT_GAIN = np.array([0.5, 0.7, 0.3, -0.5, 0.2, 0.5, 0.2, 0.4, 0.6, 0.7, 0.7, 0.6])
_TERRITORY = {"inferior": (1, 2, 5), "anterior": (6, 7, 8, 9)}


@dataclass(frozen=True)
class Patient:
    """Per-patient constants: amplitude scale, lead gain jitter, resting heart rate."""

    scale: float
    gains: np.ndarray
    hr: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Patient:
        return cls(
            scale=float(rng.uniform(0.7, 1.3)),
            gains=rng.normal(1.0, 0.12, 12),
            hr=float(rng.uniform(55, 95)),
        )


def _gauss(t: np.ndarray, centres: np.ndarray, width: float) -> np.ndarray:
    """Sum over ``centres`` of exp(-(t - c)^2 / (2 w^2)), evaluated near each centre only."""
    out = np.zeros_like(t)
    fs = 1.0 / (t[1] - t[0]) if len(t) > 1 else 1.0
    half = int(6 * width * fs) + 1
    for c in centres:
        i = round((c - t[0]) * fs)
        lo, hi = max(0, i - half), min(len(t), i + half + 1)
        if lo < hi:
            out[lo:hi] += np.exp(-((t[lo:hi] - c) ** 2) / (2 * width**2))
    return out


def synth_ecg(
    labels: set[str] | frozenset[str],
    fs: float,
    seconds: float,
    rng: np.random.Generator,
    patient: Patient | None = None,
) -> np.ndarray:
    """One record, ``(n, 12)`` float64 in mV, for the set of classes ``labels``."""
    p = patient or Patient.draw(rng)
    n = round(fs * seconds)
    t = np.arange(n) / fs
    afib = "afib" in labels
    hr = p.hr * (1.15 if afib else 1.0)
    rr0 = 60.0 / hr
    beats: list[float] = []
    tb = float(rng.uniform(0.1, 0.6))
    while tb < seconds + 0.5:
        beats.append(tb)
        jitter = rng.uniform(0.6, 1.4) if afib else rng.normal(1.0, 0.02)
        tb += rr0 * float(jitter)
    b = np.asarray(beats)
    gains = p.gains * p.scale
    r_amp = 2.2 if "hyp" in labels else 1.0
    qrs_w = float(rng.uniform(0.025, 0.035)) if "cd" in labels else 0.010
    sig = np.zeros((n, 12))
    r = _gauss(t, b, qrs_w)
    if "cd" in labels:  # notched, wide QRS (RSR')
        r = r + 0.6 * _gauss(t, b + 2.2 * qrs_w, qrs_w)
    s_wave = _gauss(t, b + 0.03 + qrs_w, 0.010)
    sig += np.outer(r * r_amp, _R_GAIN * gains)
    sig += np.outer(-0.25 * r_amp * s_wave, np.abs(_R_GAIN) * gains)
    q = _gauss(t, b - 0.025, 0.008)
    sig += np.outer(-0.08 * q, np.abs(_R_GAIN) * gains)
    if not afib:
        sig += np.outer(0.12 * _gauss(t, b - 0.16, 0.025), _PT_GAIN * gains)
    else:
        f = rng.uniform(4, 8)
        fw = 0.05 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
        fw += 0.02 * np.sin(2 * np.pi * 1.7 * f * t + rng.uniform(0, 6.3))
        sig += np.outer(fw, np.abs(_PT_GAIN))
    t_amp = -0.25 if "sttc" in labels else 0.3
    sig += np.outer(t_amp * _gauss(t, b + 0.30, 0.05), _PT_GAIN * gains)
    if "sttc" in labels:  # ST depression between J point and T wave
        st = _gauss(t, b + 0.15, 0.05)
        sig += np.outer(-0.1 * st, np.abs(_PT_GAIN) * gains)
    if "mi" in labels:
        leads = _TERRITORY["inferior" if rng.random() < 0.5 else "anterior"]
        elev = float(rng.uniform(0.2, 0.35))
        # a plateau from the J point (~60 ms after R) into the T wave: sum of narrow bumps
        st = sum(_gauss(t, b + d, 0.03) for d in (0.08, 0.13, 0.18, 0.23)) / 1.6
        deep_q = _gauss(t, b - 0.02, 0.012)
        for li in leads:
            sig[:, li] += elev * st * gains[li] - 0.3 * deep_q * abs(gains[li])
    # nuisances
    sig += rng.normal(0, rng.uniform(0.01, 0.05), sig.shape)
    wander = rng.uniform(0.05, 0.3) * np.sin(
        2 * np.pi * rng.uniform(0.05, 0.5) * t + rng.uniform(0, 6.3)
    )
    sig += wander[:, None] * rng.uniform(0.5, 1.0, 12)[None, :]
    if rng.random() < 0.25:
        sig += 0.02 * np.sin(2 * np.pi * (50 if rng.random() < 0.5 else 60) * t)[:, None]
    return sig


def draw_labels(rng: np.random.Generator, weights: dict[str, float]) -> frozenset[str]:
    """One class by ``weights``; an abnormal record gets a second abnormal class 15 % of the time."""
    names = list(weights)
    pr = np.asarray([weights[k] for k in names], dtype=float)
    first = names[int(rng.choice(len(names), p=pr / pr.sum()))]
    out = {first}
    if first != "normal" and rng.random() < 0.15:
        others = [k for k in names if k not in ("normal", first)]
        out.add(others[int(rng.integers(len(others)))])
    return frozenset(out)


# SNOMED-CT codes written in Challenge headers (#Dx) and SCP-ECG statements of PTB-XL, per class
SNOMED = {
    "normal": ("426783006",),
    "afib": ("164889003",),
    "mi": ("164865005",),
    "cd": ("164909002", "713427006", "270492004"),
    "sttc": ("164934002", "429622005"),
    "hyp": ("164873001",),
}
SCP = {
    "normal": ("NORM",),
    "afib": ("AFIB",),
    "mi": ("IMI", "ASMI"),
    "cd": ("CLBBB", "CRBBB", "IVCD"),
    "sttc": ("NDT", "ISC_"),
    "hyp": ("LVH",),
}

__all__ = ["ECG_CLASSES", "SCP", "SNOMED", "Patient", "draw_labels", "synth_ecg"]
