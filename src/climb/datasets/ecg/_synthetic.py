"""Generate Challenge-layout ECG records (``.hea`` + ``.mat``, or ``.dat``) for tests and
benchmarks, including each kind of broken record the pipeline must quarantine."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from climb.io.signal import STANDARD_LEADS

BROKEN_KINDS = (
    "bad_header",
    "missing_signal",
    "wrong_leads",
    "bad_lead_names",
    "truncated",
    "all_nan",
    "flat",
)


def synth_signal(n: int, fs: float, n_leads: int = 12, seed: int = 0) -> np.ndarray:
    """(n, leads) float64 mV: a 1 Hz spiky 'beat' train plus lead-specific noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    beat = np.exp(-(((t % 1.0) - 0.3) ** 2) / 0.0005)
    gains = rng.uniform(0.3, 1.5, n_leads)
    return beat[:, None] * gains[None, :] + rng.normal(0, 0.02, (n, n_leads))


def write_record(
    directory: str | Path,
    record_id: str,
    dx: list[str] | tuple[str, ...] = ("426783006",),
    *,
    fs: float = 500,
    seconds: float = 10,
    fmt: str = "mat",
    leads: tuple[str, ...] = STANDARD_LEADS,
    age: str = "50",
    sex: str = "Male",
    seed: int = 0,
    broken: str | None = None,
    signal: np.ndarray | None = None,
) -> Path:
    """Write one record; returns the header path. ``broken`` is one of :data:`BROKEN_KINDS`."""
    import scipy.io
    import wfdb

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    n = round(fs * seconds)
    if broken == "wrong_leads":
        leads = leads[:8]
    if broken == "bad_lead_names":
        leads = (*leads[:11], "X9")
    sig = signal if signal is not None else synth_signal(n, fs, len(leads), seed)
    if broken == "all_nan":
        sig = np.full_like(sig, np.nan)
    if broken == "flat":
        sig = np.zeros_like(sig)
    comments = [
        f"Age: {age}",
        f"Sex: {sex}",
        f"Dx: {','.join(dx)}",
        "Rx: Unknown",
        "Hx: Unknown",
        "Sx: Unknown",
    ]
    wfdb.wrsamp(
        record_id,
        fs=fs,
        units=["mV"] * len(leads),
        sig_name=list(leads),
        p_signal=sig,
        fmt=["16"] * len(leads),
        adc_gain=[1000.0] * len(leads),
        baseline=[0] * len(leads),
        comments=comments,
        write_dir=str(d),
    )
    hea = d / f"{record_id}.hea"
    dat = d / f"{record_id}.dat"
    if fmt == "mat":
        rec = wfdb.rdrecord(str(d / record_id), physical=False)
        scipy.io.savemat(
            str(d / f"{record_id}.mat"), {"val": rec.d_signal.T.astype(np.int16)}, format="4"
        )
        os.remove(dat)
        hea.write_text(hea.read_text().replace(f"{record_id}.dat 16", f"{record_id}.mat 16+24"))
        sigfile = d / f"{record_id}.mat"
    else:
        sigfile = dat
    if broken == "bad_header":
        hea.write_text(f"{record_id} twelve leads at some rate\nnot a header\n")
    elif broken == "missing_signal":
        os.remove(sigfile)
    elif broken == "truncated":
        data = sigfile.read_bytes()
        sigfile.write_bytes(data[: len(data) // 3])
    return hea
