"""Synthetic clinical EEG in TUH's native layouts (the demo corpus' and the tests' EEG recipe).

Recordings are EDF files written with pyedflib, with TUH's channel labels (``EEG FP1-REF`` ...,
old 10-20 names T3/T4/T5/T6, plus ``EEG EKG1-REF``, ``PHOTIC-REF`` and 1-Hz ``IBI``/``BURSTS``
channels), 250 or 256 Hz, a physical range of ±5000 µV on 16 bits as in TUH.

Signal per electrode: background 1/f noise (~20 µV) + a posterior 10 Hz alpha rhythm + 60 Hz
mains hum (5 µV); the class changes it the way clinical EEG differs:

* TUAB ``abnormal``: strong 1-3 Hz polymorphic delta slowing (x4 power) over one hemisphere
  and reduced alpha; ``normal``: the background as above.
* TUEV events (1-s spans written to ``.rec``): ``SPSW`` a 70-ms 150 µV spike on the annotated
  side, ``GPED`` generalised periodic sharp waves, ``PLED`` lateralised periodic ones, ``EYEM``
  a slow frontal (FP1/FP2) 200 µV deflection, ``ARTF`` a broadband burst, ``BCKG`` nothing.

:func:`write_tuab_tree` / :func:`write_tuev_tree` write the trees, with ``broken=True`` one file
for every bad input the adapters must quarantine (``BROKEN_TUAB`` / ``BROKEN_TUEV`` name them).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: TUH referential electrodes (old names, as in TUH files) and auxiliary channels
TUH_ELECTRODES = (
    "FP1", "FP2", "F3", "F4", "C3", "C4", "P3", "P4", "O1", "O2",
    "F7", "F8", "T3", "T4", "T5", "T6", "A1", "A2", "FZ", "CZ", "PZ",
)  # fmt: skip
_LEFT = {"FP1", "F3", "C3", "P3", "O1", "F7", "T3", "T5", "A1"}
_POSTERIOR = {"O1", "O2", "P3", "P4", "T5", "T6", "PZ"}
TUEV_CODES = {"SPSW": 1, "GPED": 2, "PLED": 3, "EYEM": 4, "ARTF": 5, "BCKG": 6}
#: bad inputs written by ``broken=True``: file stem -> what is wrong (the quarantine must say it)
BROKEN_TUAB = {
    "zzbroken_s001_t000": "broken EDF header",
    "zzmissing_s001_t000": "missing",  # no T3/T7 and no F8
    "zzshort_s001_t000": "shorter than one window",
    "zzflat_s001_t000": "flat channels",
    "zzlowfs_s001_t000": "below the target",  # 100 Hz
    "zzdiscont_s001_t000": "EDF+D",
}
BROKEN_TUEV = {
    "zzbadrec_00000001": "is not 'channel,start,stop,class'",
    "zzlate_00000001": "end after the recording",
    "zznorec_00000001": "no annotation file",
    "zzbroken_00000001": "broken EDF header",
    "zzmissing_00000001": "missing",
}


def _pink(rng: np.random.Generator, n: int, fs: float) -> np.ndarray:
    f = np.fft.rfftfreq(n, 1 / fs)
    spec = rng.normal(size=len(f)) + 1j * rng.normal(size=len(f))
    spec /= np.maximum(f, 0.5) ** 0.5
    x = np.fft.irfft(spec, n)
    return x / (x.std() + 1e-12)


def eeg_signals(
    rng: np.random.Generator,
    fs: float,
    seconds: float,
    *,
    abnormal: bool = False,
    events: Sequence[tuple[str, float, str]] = (),
    electrodes: Sequence[str] = TUH_ELECTRODES,
) -> np.ndarray:
    """(len(electrodes), seconds * fs) float64 µV. ``events``: (class, start s, side L/R)."""
    n = round(seconds * fs)
    t = np.arange(n) / fs
    side_left = bool(rng.integers(0, 2))
    out = np.empty((len(electrodes), n))
    for i, e in enumerate(electrodes):
        x = 20 * _pink(rng, n, fs)
        alpha = 15.0 if e in _POSTERIOR else 4.0
        if abnormal:
            alpha *= 0.4
            if (e in _LEFT) == side_left:
                f = rng.uniform(1.0, 3.0)
                x += (
                    60
                    * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
                    * (1 + 0.3 * np.sin(2 * np.pi * 0.1 * t))
                )
        x += alpha * np.sin(2 * np.pi * rng.uniform(9, 11) * t + rng.uniform(0, 6.3))
        x += 5 * np.sin(2 * np.pi * 60 * t)
        out[i] = x
    for cls, start, side in events:
        i0, i1 = round(start * fs), min(n, round((start + 1) * fs))
        tt = t[i0:i1] - start
        for i, e in enumerate(electrodes):
            lat = (e in _LEFT) == (side == "L")
            if cls == "SPSW" and lat:
                out[i, i0:i1] += 150 * np.exp(-(((tt - 0.5) / 0.035) ** 2))
            elif cls in ("GPED", "PLED") and (cls == "GPED" or lat):
                for c in (0.1, 0.4, 0.7):
                    out[i, i0:i1] += 100 * np.exp(-(((tt - c) / 0.05) ** 2))
            elif cls == "EYEM" and e in ("FP1", "FP2", "F7", "F8"):
                out[i, i0:i1] += 200 * np.sin(np.pi * tt)
            elif cls == "ARTF":
                out[i, i0:i1] += 80 * rng.normal(size=i1 - i0)
    return out


def write_tuh_edf(
    path: Path,
    signals: np.ndarray,
    fs: float,
    *,
    electrodes: Sequence[str] = TUH_ELECTRODES,
    reference: str = "REF",
    aux: bool = True,
) -> None:
    """An EDF file as TUH writes them: ``EEG <E>-<REF>`` labels, ±5000 µV on 16 bits, 1-s data
    records, plus EKG/PHOTIC channels at ``fs`` and IBI/BURSTS at 1 Hz when ``aux``."""
    import pyedflib

    labels = [f"EEG {e}-{reference}" for e in electrodes]
    sigs = [np.clip(s, -4999, 4999) for s in signals]
    rates = [fs] * len(labels)
    n_s = signals.shape[1] / fs
    if aux:
        labels += [f"EEG EKG1-{reference}", f"PHOTIC-{reference}", "IBI", "BURSTS"]
        sigs += [np.zeros(signals.shape[1]), np.zeros(signals.shape[1])]
        sigs += [np.zeros(round(n_s)), np.zeros(round(n_s))]
        rates += [fs, fs, 1.0, 1.0]
    headers = [
        {
            "label": lab,
            "dimension": "uV",
            "sample_frequency": r,
            "physical_min": -5000.0,
            "physical_max": 5000.0,
            "digital_min": -32767,
            "digital_max": 32767,
            "transducer": "",
            "prefilter": "",
        }
        for lab, r in zip(labels, rates, strict=True)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    from datetime import datetime

    header = {"startdate": datetime(2013, 2, 28, 16, 3, 12)}  # fixed: byte-identical files
    pyedflib.highlevel.write_edf(
        str(path), sigs, headers, header=header, file_type=pyedflib.FILETYPE_EDF
    )


def _rng(seed: int, salt: str) -> np.random.Generator:
    import hashlib

    return np.random.default_rng(
        int.from_bytes(hashlib.sha256(f"{seed}:{salt}".encode()).digest()[:8])
    )


def write_tuab_tree(
    root: Path,
    *,
    subjects: int = 8,
    seconds: float = 24.0,
    seed: int = 0,
    broken: bool = True,
) -> dict[str, str]:
    """TUAB v3 layout under ``root``: ``edf/{train,eval}/{normal,abnormal}/01_tcp_ar/
    <subject>_s001_t000.edf``; subjects alternate normal/abnormal and 250/256 Hz, the last
    quarter go to eval. Returns {relative path: label or the expected problem}."""
    out: dict[str, str] = {}
    for k in range(subjects):
        sub = f"aaaaa{k:03d}"
        label = "abnormal" if k % 2 else "normal"
        split = "eval" if k >= subjects - max(1, subjects // 4) else "train"
        fs = 250.0 if k % 3 else 256.0
        rng = _rng(seed, sub)
        rel = f"edf/{split}/{label}/01_tcp_ar/{sub}_s001_t000.edf"
        write_tuh_edf(
            root / rel, eeg_signals(rng, fs, seconds, abnormal=label == "abnormal"), fs,
            reference="REF" if k % 4 else "LE",
        )  # fmt: skip
        out[rel] = label
    if broken:
        d = root / "edf/train/normal/01_tcp_ar"
        rng = _rng(seed, "broken")
        for stem, what in BROKEN_TUAB.items():
            p = d / f"{stem}.edf"
            _write_broken(p, stem.split("_")[0][2:], what, rng, seconds)
            out[p.relative_to(root).as_posix()] = what
    return out


def broken_tuab_records(seconds: float = 24.0, window_s: float = 10.0) -> list[str]:
    """The quarantine record ids the broken files of :func:`write_tuab_tree` give: one per file
    for problems seen while listing, one per window for the flat file (seen while reading)."""
    out = []
    for stem in BROKEN_TUAB:
        if stem.startswith("zzflat"):
            out += [f"{stem}_w{w:05d}" for w in range(int(seconds // window_s))]
        else:
            out.append(stem)
    return out


def _write_broken(p: Path, kind: str, what: str, rng: np.random.Generator, seconds: float) -> None:
    fs = 250.0
    if kind == "broken":
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"0       this is not an EDF header" + bytes(100))
    elif kind == "missing":
        el = [e for e in TUH_ELECTRODES if e not in ("T3", "F8")]
        write_tuh_edf(p, eeg_signals(rng, fs, seconds, electrodes=el), fs, electrodes=el)
    elif kind == "short":
        write_tuh_edf(p, eeg_signals(rng, fs, 6.0), fs)
    elif kind == "flat":
        x = eeg_signals(rng, fs, seconds)
        x[TUH_ELECTRODES.index("C3")] = 0.0
        write_tuh_edf(p, x, fs)
    elif kind == "lowfs":
        write_tuh_edf(p, eeg_signals(rng, 100.0, seconds), 100.0)
    elif kind == "discont":
        write_tuh_edf(p, eeg_signals(rng, fs, seconds), fs)
        data = bytearray(p.read_bytes())
        data[192:197] = b"EDF+D"
        p.write_bytes(bytes(data))
    else:
        raise ValueError(kind)


def write_tuev_tree(
    root: Path,
    *,
    subjects: int = 6,
    seconds: float = 30.0,
    seed: int = 0,
    broken: bool = True,
) -> dict[str, list[tuple[int, float, float, int]]]:
    """TUEV v2 layout: ``edf/{train,eval}/<subject>/<subject>_00000001.edf`` + ``.rec``
    (``channel,start,stop,class``), every class once per recording (one event near the start so
    its 5-s window is zero-padded). Returns {relative edf path: events}."""
    from climb.datasets.eeg._adapters import TUEV_REC_CHANNELS

    out: dict[str, list[tuple[int, float, float, int]]] = {}
    classes = list(TUEV_CODES)
    for k in range(subjects):
        sub = f"bbbbb{k:03d}"
        split = "eval" if k >= subjects - max(1, subjects // 3) else "train"
        fs = 256.0 if k % 2 else 250.0
        rng = _rng(seed, sub)
        starts = [1.0 + 4.0 * j for j in range(len(classes))]
        starts[0] = 0.5
        ev = [
            (c, s, "L" if j % 2 else "R")
            for j, (c, s) in enumerate(zip(classes, starts, strict=True))
        ]
        rel = f"edf/{split}/{sub}/{sub}_00000001.edf"
        write_tuh_edf(root / rel, eeg_signals(rng, fs, seconds, events=ev), fs)
        events = []
        for c, s, side in ev:
            ch = 0 if side == "L" else 4  # FP1-F7 / FP2-F8
            events.append((ch + int(rng.integers(0, 4)), s, s + 1.0, TUEV_CODES[c]))
        (root / rel).with_suffix(".rec").write_text(
            "".join(f"{c},{a:.4f},{b:.4f},{k}\n" for c, a, b, k in events)
        )
        out[rel] = events
    assert len(TUEV_REC_CHANNELS) == 22
    if broken:
        d = root / "edf/train"
        rng = _rng(seed, "broken-tuev")
        for stem in BROKEN_TUEV:
            kind = stem.split("_")[0][2:]
            p = d / f"zz{kind}" / f"{stem}.edf"
            if kind in ("broken", "missing"):
                _write_broken(p, kind, "", rng, seconds)
            else:
                write_tuh_edf(p, eeg_signals(rng, 250.0, seconds), 250.0)
            rec = p.with_suffix(".rec")
            if kind == "badrec":
                rec.write_text("0,1.0,2.0,6\nthis line is wrong\n")
            elif kind == "late":
                rec.write_text(f"0,1.0,2.0,6\n3,{seconds + 5:.1f},{seconds + 6:.1f},1\n")
            elif kind != "norec":
                rec.write_text("0,1.0,2.0,6\n")
            out[p.relative_to(root).as_posix()] = []
    return out
