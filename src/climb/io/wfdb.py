"""Read one WFDB record (``.hea`` + ``.dat`` or Challenge ``.mat``) with the wfdb package."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

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
    """The header as a ``wfdb.Record`` (what ``wfdb.rdheader`` returns), parsed once."""
    p = Path(path)
    base = p.with_suffix("") if p.suffix == ".hea" else p
    if not Path(str(base) + ".hea").is_file():
        raise WfdbReadError(f"missing header file {base.name}.hea")
    try:
        return _rdheader(base)
    except Exception as exc:
        raise WfdbReadError(f"bad header: {type(exc).__name__}: {exc}") from None


# ---------------------------------------------------------------- wfdb, without its overhead
#
# wfdb (4.x) types every header field with ``SIGNAL_SPECS.loc[field, column]`` on a pandas table:
# ~170 ``.loc`` lookups per 12-lead header, which is ~3/4 of ``wfdb.rdrecord``'s time (pandas 3).
# ``_rdheader`` is ``wfdb.rdheader`` for a local single-segment header with those lookups read
# once from the same tables (same regexes, defaults and casts: the same ``Record``), and
# ``_rdsignal`` is the single-segment path of ``wfdb.rdrecord`` (physical, float64) on that
# header, so a record's header is parsed once. Anything else (multi-segment records, another
# wfdb major version) goes through ``wfdb.rdheader``/``wfdb.rdrecord`` themselves.


# the groups of wfdb's rx_record / rx_signal, in order
_RECORD_FIELDS = ("record_name", "n_seg", "n_sig", "fs", "counter_freq", "base_counter", "sig_len",
                  "base_time", "base_date")  # fmt: skip
_SIGNAL_FIELDS = ("file_name", "fmt", "samps_per_frame", "skew", "byte_offset", "adc_gain",
                  "baseline", "units", "adc_res", "adc_zero", "init_value", "checksum",
                  "block_size", "sig_name")  # fmt: skip


@cache
def _specs() -> tuple[dict[str, tuple[Any, Any]], dict[str, tuple[Any, Any]]] | None:
    import wfdb
    from wfdb.io import _header

    if not str(getattr(wfdb, "__version__", "")).startswith("4."):
        return None
    try:
        return tuple(  # type: ignore[return-value]
            {f: (specs.loc[f, "read_default"], specs.loc[f, "allowed_types"]) for f in specs.index}
            for specs in (_header.RECORD_SPECS, _header.SIGNAL_SPECS)
        )
    except (AttributeError, KeyError):
        return None


def _parse_record_line(line: str, specs: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    import datetime

    from wfdb.io._header import (
        HeaderSyntaxError,
        float_types,
        int_types,
        rx_record,
        wfdb_strptime,
    )

    match = rx_record.match(line)
    if match is None:
        raise HeaderSyntaxError("invalid syntax in record line")
    out: dict[str, Any] = dict(zip(_RECORD_FIELDS, match.groups(), strict=True))
    for f, (default, types) in specs.items():
        if out[f] == "":
            out[f] = default
        elif types == int_types:
            out[f] = int(out[f])
        elif types == float_types:
            out[f] = float(out[f])
            if f == "fs":
                fs = float(out["fs"])
                if round(fs, 8) == float(int(fs)):
                    fs = int(fs)
                out["fs"] = fs
        elif f == "base_time":
            out["base_time"] = wfdb_strptime(out["base_time"])
        elif f == "base_date":
            out["base_date"] = datetime.datetime.strptime(out["base_date"], "%d/%m/%Y").date()
    if out["base_date"] and out["base_time"]:
        out["base_datetime"] = datetime.datetime.combine(out["base_date"], out["base_time"])
    return out


def _parse_signal_lines(lines: list[str], specs: dict[str, tuple[Any, Any]]) -> dict[str, list]:
    from wfdb.io._header import HeaderSyntaxError, float_types, int_types, rx_signal

    n_sig = len(lines)
    out: dict[str, list[Any]] = {f: n_sig * [None] for f in specs}
    for ch in range(n_sig):
        match = rx_signal.match(lines[ch])
        if match is None:
            raise HeaderSyntaxError("invalid syntax in signal line")
        for f, v in zip(_SIGNAL_FIELDS, match.groups(), strict=True):
            out[f][ch] = v
        for f, (default, types) in specs.items():
            if out[f][ch] == "":
                out[f][ch] = default
                if f == "baseline" and out["adc_zero"][ch] != "":
                    out["baseline"][ch] = int(out["adc_zero"][ch])
            elif types is int_types:
                out[f][ch] = int(out[f][ch])
            elif types is float_types:
                out[f][ch] = float(out[f][ch])
                if f == "adc_gain" and out["adc_gain"][ch] == 0:
                    out["adc_gain"][ch] = 200.0
    return out


def _rdheader(base: Path) -> Any:
    import wfdb

    specs = _specs()
    if specs is None:
        return wfdb.rdheader(str(base))
    from wfdb.io.header import parse_header_content

    path = Path(os.path.abspath(base.parent)) / f"{base.name}.hea"
    with open(path, encoding="ascii", errors="ignore") as fh:
        header_lines, comment_lines = parse_header_content(fh.read())
    record_fields = _parse_record_line(header_lines[0], specs[0])
    if record_fields["n_seg"] is not None:  # multi-segment: wfdb's own path
        return wfdb.rdheader(str(base))
    record = wfdb.Record()
    if len(header_lines) > 1:
        for f, v in _parse_signal_lines(header_lines[1:], specs[1]).items():
            setattr(record, f, v)
    for f, v in record_fields.items():
        if f != "n_seg":
            setattr(record, f, v)
    record.comments = [line.strip(" \t#") for line in comment_lines]
    return record


def _rdsignal(base: Path, record: Any) -> Any:
    """``wfdb.rdrecord(base, physical=True)`` given ``record = rdheader(base)``."""
    import wfdb

    if _specs() is None or not isinstance(record, wfdb.Record) or record.sig_len is None:
        return wfdb.rdrecord(str(base), physical=True)
    from wfdb.io import _signal

    channels = list(range(record.n_sig))
    sampto = record.sig_len
    record.check_read_inputs(0, sampto, channels, True, True, 64)
    record.e_d_signal = _signal._rd_segment(
        file_name=record.file_name,
        dir_name=os.path.abspath(base.parent),
        pn_dir=None,
        fmt=record.fmt,
        n_sig=record.n_sig,
        sig_len=record.sig_len,
        byte_offset=record.byte_offset,
        samps_per_frame=record.samps_per_frame,
        skew=record.skew,
        init_value=record.init_value,
        sampfrom=0,
        sampto=sampto,
        channels=channels,
        ignore_skew=False,
        no_file=False,
        sig_data=None,
        return_res=64,
    )
    record._arrange_fields(channels=channels, sampfrom=0, smooth_frames=True)
    record.dac(expanded=False, return_res=64, inplace=True)
    record.convert_dtype(True, 64, True)
    return record


def read_record(path: str | Path) -> WfdbRecord:
    """Read header and signals; physical units. Raises :class:`WfdbReadError` with a reason."""
    p = Path(path)
    base = p.with_suffix("") if p.suffix in (".hea", ".dat", ".mat") else p
    hdr: Any = read_header(base)
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
        rec = _rdsignal(base, hdr)
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
