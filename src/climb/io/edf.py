"""EDF/EDF+ recordings read with pyedflib (mne as the fallback for headers pyedflib refuses), and
the channel-name normalisation used for TUH EEG.

What TUH files really contain, and what this module does with it:

- channel labels such as ``EEG FP1-REF``, ``EEG FP1-LE``, ``EEG T3-REF``, ``POL Fp1``:
  :func:`normalize_channel` strips the ``EEG``/``POL`` prefix and the reference suffix
  (``-REF``, ``-LE``, ``-AR``, ``-AVG``, ...), upper-cases, and maps the old 10-20 names to the
  new ones (T3 -> T7, T4 -> T8, T5 -> P7, T6 -> P8; the table is :data:`OLD_TO_NEW`);
- invalid start dates (``meas_date``): ``start`` is ``None`` and nothing else changes;
- per-channel sampling rates (``samples per data record / record duration``): kept per channel
  (``fs``); the montage code resamples each channel from its own rate;
- annotation channels (``EDF Annotations``): pyedflib keeps them out of the signals; they are
  read into ``annotations`` (onset s, duration s, text);
- EDF+D (discontinuous) files: :class:`EdfReadError` (pyedflib and mne both close the gaps
  between data records silently, so windows would span them);
- physical units ``uV``/``µV``/``mV``/``V``/``nV``: signals are returned in µV.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from climb.core.errors import ClimbError

#: old 10-20 names -> the 10-10 names used in the montages (case-insensitive input)
OLD_TO_NEW: dict[str, str] = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}
#: the 10-20 electrodes of the standard montages, upper case, new names
STANDARD_1020: tuple[str, ...] = (
    "FP1", "FP2", "F7", "F3", "FZ", "F4", "F8", "T7", "C3", "CZ",
    "C4", "T8", "P7", "P3", "PZ", "P4", "P8", "O1", "O2",
)  # fmt: skip
_PREFIX = re.compile(r"^(EEG|POL|ECG|EKG|EMG|EOG)\s+", re.IGNORECASE)
#: reference suffixes seen in TUH and other clinical EDFs (``EEG FP1-REF``, ``EEG C3-LE``)
_REF_SUFFIX = re.compile(r"[-_ ](REF|LE|AR|AVG|AV|CAR|LINKED)$", re.IGNORECASE)
_UNIT_TO_UV = {"uv": 1.0, "µv": 1.0, "μv": 1.0, "mv": 1e3, "v": 1e6, "nv": 1e-3}


class EdfReadError(ClimbError, ValueError):
    """A file that cannot be read as a continuous EDF/EDF+ recording; ``reason`` says why."""

    def __init__(self, reason: str, where: str | None = None) -> None:
        super().__init__(reason, where=where)
        self.reason = reason


def normalize_channel(label: str) -> str:
    """``EEG FP1-REF`` -> ``FP1``; ``EEG T3-LE`` -> ``T7``; ``Fp2`` -> ``FP2``; other labels are
    returned stripped and upper-cased (``PHOTIC-REF`` -> ``PHOTIC``, ``IBI`` -> ``IBI``)."""
    s = _PREFIX.sub("", label.strip()).strip()
    s = _REF_SUFFIX.sub("", s).strip().upper()
    return OLD_TO_NEW.get(s, s)


def reference_of(labels: Sequence[str]) -> str | None:
    """The reference named by the labels' suffix (``REF``, ``LE``, ...), the most common one;
    ``None`` when the labels carry none."""
    refs: dict[str, int] = {}
    for lab in labels:
        m = _REF_SUFFIX.search(_PREFIX.sub("", lab.strip()))
        if m:
            refs[m.group(1).upper()] = refs.get(m.group(1).upper(), 0) + 1
    return max(refs, key=lambda k: refs[k]) if refs else None


@dataclass
class EdfHeader:
    path: str
    labels: list[str]  # as in the file
    fs: list[float]  # per channel, Hz
    n_samples: list[int]  # per channel
    units: list[str]
    duration_s: float
    filetype: str  # EDF, EDF+C, EDF+D, BDF, BDF+
    start: datetime | None = None
    reader: str = "pyedflib"

    @property
    def names(self) -> list[str]:
        """Normalised channel names (:func:`normalize_channel`), one per label."""
        return [normalize_channel(lab) for lab in self.labels]


@dataclass
class EdfRecording:
    header: EdfHeader
    channels: list[int]  # indices into header.labels of the signals read
    signals: list[np.ndarray]  # float64 µV, one per channel read (lengths may differ)
    annotations: list[tuple[float, float, str]] = field(default_factory=list)


def _reserved_field(path: Path) -> str:
    """The 44-byte reserved field of the EDF header (``EDF+C``/``EDF+D`` for EDF+)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(256)
    except OSError as exc:
        raise EdfReadError(f"cannot open: {exc.strerror or exc}", str(path)) from None
    if len(head) < 256:
        raise EdfReadError(
            f"broken EDF header: file has {len(head)} bytes, an EDF header has at least 256",
            str(path),
        )
    return head[192:236].decode("ascii", errors="replace").strip()


def _filetype(code: int, reserved: str) -> str:
    if reserved.startswith("EDF+D"):
        return "EDF+D"
    if reserved.startswith("EDF+C"):
        return "EDF+C"
    return {0: "EDF", 1: "EDF+C", 2: "BDF", 3: "BDF+"}.get(code, f"type{code}")


def _open_pyedflib(path: Path):  # type: ignore[no-untyped-def]
    import pyedflib

    return pyedflib.EdfReader(str(path))


def read_edf_header(path: str | Path) -> EdfHeader:
    """The header of ``path`` (no signal data is read). :class:`EdfReadError` for a broken
    header or an EDF+D file."""
    path = Path(path)
    reserved = _reserved_field(path)
    if reserved.startswith("EDF+D"):
        raise EdfReadError(
            "EDF+D (discontinuous) file: its data records have gaps that readers close "
            "silently, so windows would span the gaps; convert it to continuous EDF(+C)",
            str(path),
        )
    try:
        r = _open_pyedflib(path)
    except OSError as exc:
        return _mne_header(path, f"{exc}")
    try:
        try:
            start: datetime | None = r.getStartdatetime()
        except Exception:  # invalid meas_date: keep the recording, drop the date
            start = None
        return EdfHeader(
            path=str(path),
            labels=list(r.getSignalLabels()),
            fs=[float(f) for f in r.getSampleFrequencies()],
            n_samples=[int(n) for n in r.getNSamples()],
            units=[r.getPhysicalDimension(i).strip() for i in range(r.signals_in_file)],
            duration_s=float(r.file_duration),
            filetype=_filetype(int(r.filetype), reserved),
            start=start,
        )
    finally:
        r.close()


def _mne_header(path: Path, pyedflib_error: str) -> EdfHeader:
    """Header through mne, for files pyedflib refuses (non-compliant header fields)."""
    import mne

    try:
        raw = mne.io.read_raw_edf(str(path), preload=False, verbose="error")
    except Exception as exc:
        raise EdfReadError(
            f"broken EDF header: pyedflib: {pyedflib_error.strip()}; mne: {exc}", str(path)
        ) from None
    n = int(raw.n_times)
    fs = float(raw.info["sfreq"])
    units = ["uV"] * len(raw.ch_names)  # mne returns volts; read_edf converts
    md = raw.info.get("meas_date")
    return EdfHeader(
        path=str(path),
        labels=list(raw.ch_names),
        fs=[fs] * len(raw.ch_names),
        n_samples=[n] * len(raw.ch_names),
        units=units,
        duration_s=n / fs,
        filetype="EDF",
        start=md if isinstance(md, datetime) else None,
        reader="mne",
    )


def read_edf(path: str | Path, channels: Sequence[int] | None = None) -> EdfRecording:
    """Signals of ``channels`` (indices into the header's labels; default all) in µV, plus the
    EDF+ annotations. :class:`EdfReadError` for a broken header, EDF+D, an unknown physical
    unit on a channel read, or a truncated file."""
    path = Path(path)
    header = read_edf_header(path)
    chans = list(range(len(header.labels))) if channels is None else list(channels)
    for i in chans:
        unit = header.units[i].lower()
        if unit not in _UNIT_TO_UV:
            raise EdfReadError(
                f"unknown physical unit: channel {header.labels[i]!r} has {header.units[i]!r} "
                "(expected uV, mV, V or nV)",
                str(path),
            )
    if header.reader == "mne":
        import mne

        raw = mne.io.read_raw_edf(str(path), preload=False, verbose="error")
        data = raw.get_data(picks=chans, units="uV")
        return EdfRecording(header, chans, [np.asarray(d, dtype=np.float64) for d in data])
    r = _open_pyedflib(path)
    try:
        signals = []
        for i in chans:
            try:
                x = r.readSignal(i, digital=False)
            except Exception as exc:
                raise EdfReadError(
                    f"unreadable signal: channel {header.labels[i]!r}: {exc}", str(path)
                ) from None
            if len(x) < header.n_samples[i]:
                raise EdfReadError(
                    f"truncated: channel {header.labels[i]!r} has {len(x)} of "
                    f"{header.n_samples[i]} samples",
                    str(path),
                )
            signals.append(np.asarray(x, dtype=np.float64) * _UNIT_TO_UV[header.units[i].lower()])
        try:
            on, dur, txt = r.readAnnotations()
            ann = [(float(a), float(b), str(c)) for a, b, c in zip(on, dur, txt, strict=True)]
        except Exception:
            ann = []
    finally:
        r.close()
    return EdfRecording(header, chans, signals, ann)
