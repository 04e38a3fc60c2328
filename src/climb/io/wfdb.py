"""Read one WFDB record (``.hea`` + ``.dat`` or Challenge ``.mat``) with the wfdb package."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


class WfdbReadError(Exception):
    """A record that cannot be read; ``reason`` is a short, stable description."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_UNIT_TO_MV = {"mv": 1.0, "uv": 1e-3, "μv": 1e-3, "µv": 1e-3, "v": 1e3, "nu": 1e-3}


@dataclass
class WfdbRecord:
    name: str
    fs: float
    sig_names: list[str]
    units: list[str]
    comments: list[str]
    sig_len: int
    signal: np.ndarray = field(repr=False)  # (time, channels), float64, physical units


def read_header(path: str | Path) -> object:
    import wfdb

    p = Path(path)
    base = p.with_suffix("") if p.suffix == ".hea" else p
    if not Path(str(base) + ".hea").is_file():
        raise WfdbReadError(f"missing header file {base.name}.hea")
    try:
        return wfdb.rdheader(str(base))
    except Exception as exc:
        raise WfdbReadError(f"bad header: {type(exc).__name__}: {exc}") from None


def read_record(path: str | Path) -> WfdbRecord:
    """Read header and signals; physical units. Raises :class:`WfdbReadError` with a reason."""
    import wfdb

    p = Path(path)
    base = p.with_suffix("") if p.suffix in (".hea", ".dat", ".mat") else p
    hdr = read_header(base)
    fs = float(getattr(hdr, "fs", 0) or 0)
    n_sig = int(getattr(hdr, "n_sig", 0) or 0)
    sig_len = int(getattr(hdr, "sig_len", 0) or 0)
    if fs <= 0 or n_sig <= 0 or sig_len <= 0:
        raise WfdbReadError(f"bad header: fs={fs}, n_sig={n_sig}, sig_len={sig_len}")
    files = sorted(set(getattr(hdr, "file_name", None) or []))
    for f in files:
        if not (base.parent / f).is_file():
            raise WfdbReadError(f"missing signal file {f}")
    try:
        rec = wfdb.rdrecord(str(base), physical=True)
    except Exception as exc:
        raise WfdbReadError(
            f"unreadable or truncated signal: {type(exc).__name__}: {exc}"
        ) from None
    sig = rec.p_signal
    if sig is None or sig.ndim != 2 or sig.shape[0] < sig_len:
        got = 0 if sig is None else sig.shape[0]
        raise WfdbReadError(f"truncated signal: {got} of {sig_len} samples")
    sig = np.asarray(sig, dtype=np.float64)
    units = [str(u) for u in (rec.units or ["mV"] * n_sig)]
    for j, u in enumerate(units):
        scale = _UNIT_TO_MV.get(u.strip().lower())
        if scale is None:
            raise WfdbReadError(f"unknown physical unit {u!r} for signal {j}")
        if scale != 1.0:
            sig[:, j] *= scale
    return WfdbRecord(
        name=str(rec.record_name),
        fs=fs,
        sig_names=[str(s) for s in (rec.sig_name or [])],
        units=["mV"] * n_sig,
        comments=[str(c) for c in (rec.comments or [])],
        sig_len=sig_len,
        signal=sig,
    )


_KV = re.compile(r"^\s*#?\s*([A-Za-z][A-Za-z _]*?)\s*:\s*(.*?)\s*$")


def parse_comments(comments: list[str]) -> dict[str, str]:
    """``['Age: 56', 'Sex: Male', 'Dx: 1,2']`` -> ``{'age': '56', 'sex': 'Male', 'dx': '1,2'}``."""
    out: dict[str, str] = {}
    for c in comments:
        m = _KV.match(c)
        if m:
            out.setdefault(m.group(1).strip().lower(), m.group(2))
    return out
