"""climb.io.edf (EDF reading, channel names) and climb.io.montage (montages, resampling,
filters), checked against hand-computed values and the real TUH EDFs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from climb.demo.eeg import TUH_ELECTRODES, eeg_signals, write_tuh_edf
from climb.io.edf import EdfReadError, normalize_channel, read_edf, read_edf_header, reference_of
from climb.io.montage import (
    EegProtocol,
    EegSignalError,
    apply_montage,
    filter_signals,
    montage_channels,
    montage_electrodes,
    pick_electrodes,
    resample,
    resample_ratio,
    standardize,
    window_starts,
)
from tests.conftest import shared_fixture


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("EEG FP1-REF", "FP1"),
        ("EEG FP1-LE", "FP1"),
        ("EEG T3-REF", "T7"),
        ("EEG T4-LE", "T8"),
        ("EEG T5-REF", "P7"),
        ("EEG T6-REF", "P8"),
        ("Fp2", "FP2"),
        ("POL Cz", "CZ"),
        ("EEG EKG1-REF", "EKG1"),
        ("PHOTIC-REF", "PHOTIC"),
        ("IBI", "IBI"),
        (" eeg o1-avg ", "O1"),
    ],
)
def test_normalize_channel(label: str, name: str) -> None:
    assert normalize_channel(label) == name


def test_reference_of() -> None:
    assert reference_of(["EEG FP1-LE", "EEG C3-LE", "IBI"]) == "LE"
    assert reference_of(["Fp1", "C3"]) is None


def test_real_tuh_edfs() -> None:
    root = shared_fixture("tuh_edf")
    files = sorted(root.rglob("*.edf"))
    assert len(files) == 2
    rates = set()
    for f in files:
        h = read_edf_header(f)
        rates.add(h.fs[0])
        assert h.filetype == "EDF" and h.start is not None and h.reader == "pyedflib"
        assert h.labels[0] == "EEG FP1-REF" and "T7" in h.names and "T3" not in h.names
        idx = pick_electrodes(h.names, "tcp_bipolar")
        rec = read_edf(f, idx)
        import pyedflib

        with pyedflib.EdfReader(str(f)) as r:
            raw = r.readSignal(idx[0])
        np.testing.assert_array_equal(rec.signals[0], raw)  # unit uV: no scaling
        assert len(rec.signals[0]) == round(h.duration_s * h.fs[idx[0]])
    assert rates == {250.0, 256.0}


def test_units_and_bad_files(tmp_path: Path) -> None:
    import pyedflib

    x = np.sin(np.arange(500) / 10.0)  # mV
    hdr = pyedflib.highlevel.make_signal_headers(
        ["EEG C3-REF"], dimension="mV", sample_frequency=250, physical_min=-2, physical_max=2
    )
    p = tmp_path / "mv.edf"
    pyedflib.highlevel.write_edf(str(p), [x], hdr)
    got = read_edf(p).signals[0]
    assert np.max(np.abs(got - 1000 * x)) < 1000 * 4 / 65535  # µV, within one digital step

    bad = tmp_path / "bad.edf"
    bad.write_bytes(b"not an edf")
    with pytest.raises(EdfReadError, match="broken EDF header"):
        read_edf_header(bad)
    garbage = tmp_path / "garbage.edf"
    garbage.write_bytes(b"0       " + b"x" * 400)
    with pytest.raises(EdfReadError, match="broken EDF header: pyedflib"):
        read_edf_header(garbage)

    d = tmp_path / "d.edf"
    write_tuh_edf(d, eeg_signals(np.random.default_rng(0), 250.0, 4.0), 250.0)
    data = bytearray(d.read_bytes())
    data[192:197] = b"EDF+D"
    d.write_bytes(bytes(data))
    with pytest.raises(EdfReadError, match="EDF\\+D"):
        read_edf(d)

    # an invalid start date keeps the recording
    bd = tmp_path / "date.edf"
    write_tuh_edf(bd, eeg_signals(np.random.default_rng(0), 250.0, 4.0), 250.0)
    data = bytearray(bd.read_bytes())
    data[168:176] = b"31.02.13"
    bd.write_bytes(bytes(data))
    h = read_edf_header(bd)
    assert h.start is None and h.duration_s == 4.0


def test_montage_hand_computed() -> None:
    assert montage_channels("tcp_bipolar")[:4] == ["FP1-F7", "F7-T7", "T7-P7", "P7-O1"]
    assert len(montage_channels("tcp_bipolar")) == 16
    assert len(montage_channels("referential")) == 19
    el = montage_electrodes("tcp_bipolar")
    # electrode k carries the constant k + 1: each bipolar channel is a difference of two
    x = np.array([[k + 1.0] * 3 for k in range(len(el))])
    y = apply_montage(x, "tcp_bipolar")
    pos = {e: k + 1.0 for k, e in enumerate(el)}
    for row, name in zip(y, montage_channels("tcp_bipolar"), strict=True):
        a, b = name.split("-")
        assert np.all(row == pos[a] - pos[b])
    r = np.arange(19 * 2.0).reshape(19, 2)
    np.testing.assert_array_equal(apply_montage(r, "referential"), r)  # referential: as is

    names = [normalize_channel(f"EEG {e}-REF") for e in TUH_ELECTRODES]
    idx = pick_electrodes(names, "tcp_bipolar")
    assert [names[i] for i in idx] == el
    with pytest.raises(EegSignalError, match=r"montage: T7 \(or T3\), O2"):
        pick_electrodes([n for n in names if n not in ("T7", "O2")], "tcp_bipolar")


def test_resample_ratios_and_values() -> None:
    assert resample_ratio(250, 200) == (4, 5)
    assert resample_ratio(256, 200) == (25, 32)
    assert resample_ratio(512, 200) == (25, 64)
    assert resample_ratio(400, 200) == (1, 2)
    assert resample_ratio(200, 200) == (1, 1)
    with pytest.raises(EegSignalError, match="below the target"):
        resample_ratio(100, 200)
    with pytest.raises(EegSignalError, match="denominator above"):
        resample_ratio(257.3, 200)
    with pytest.raises(EegSignalError, match="cannot be resampled"):
        resample_ratio(float("nan"), 200)
    for fs in (250.0, 256.0, 512.0):
        t = np.arange(round(8 * fs)) / fs
        y = resample(np.sin(2 * np.pi * 5 * t), fs, 200.0)
        assert y.shape == (1600,)
        ref = np.sin(2 * np.pi * 5 * np.arange(1600) / 200.0)
        assert np.max(np.abs(y[100:-100] - ref[100:-100])) < 1e-3


def test_filters() -> None:
    fs = 250.0
    t = np.arange(round(20 * fs)) / fs
    x = np.stack([10 * np.sin(2 * np.pi * 10 * t) + 10 * np.sin(2 * np.pi * 60 * t)])
    y = filter_signals(x, fs, (0.1, 75.0), 60.0)[0, 500:-500]
    spec = np.abs(np.fft.rfft(y)) / len(y) * 2
    f = np.fft.rfftfreq(len(y), 1 / fs)
    a10 = spec[np.argmin(np.abs(f - 10))]
    a60 = spec[np.argmin(np.abs(f - 60))]
    assert abs(a10 - 10) < 0.3 and a60 < 0.5
    assert filter_signals(x, fs, None, None) is x


def test_standardize_rates_and_bad_signals() -> None:
    el = montage_electrodes("tcp_bipolar")
    rng = np.random.default_rng(0)
    # mixed per-channel rates: every channel at its own rate, all at 200 Hz after
    sig = [rng.normal(size=2500) if k % 2 else rng.normal(size=5120) for k in range(len(el))]
    fs = [250.0 if k % 2 else 512.0 for k in range(len(el))]
    x, info = standardize(sig, fs, el, EegProtocol(bandpass=None, notch=None))
    assert x.shape == (16, 2000) and info["mixed_rates"]
    # without filters, channel FP1-F7 equals resample(FP1) - resample(F7)
    i1, i7 = el.index("FP1"), el.index("F7")
    want = resample(sig[i1], fs[i1], 200) - resample(sig[i7], fs[i7], 200)
    np.testing.assert_allclose(x[0], want[:2000], atol=1e-9)

    flat = [s.copy() for s in sig]
    flat[el.index("C3")][:] = 3.0
    with pytest.raises(EegSignalError, match=r"flat channels: C3 \(constant"):
        standardize(flat, fs, el, EegProtocol())
    nan = [s.copy() for s in sig]
    nan[0][5] = np.nan
    with pytest.raises(EegSignalError, match=r"NaN/infinite samples: channels FP1 \(1\)"):
        standardize(nan, fs, el, EegProtocol())


def test_window_starts() -> None:
    assert window_starts(5000, 2000, 2000) == [0, 2000]
    assert window_starts(5000, 2000, 1000) == [0, 1000, 2000, 3000]
    assert window_starts(1999, 2000, 2000) == []
    with pytest.raises(ValueError):
        window_starts(10, 0, 1)


def test_mne_fallback_for_headers_pyedflib_refuses(tmp_path: Path) -> None:
    """A start date written as 28-02-13 (not dd.mm.yy): pyedflib refuses the file, mne reads
    it; the signals are the same as pyedflib's of the intact file (µV)."""
    good = tmp_path / "good.edf"
    write_tuh_edf(good, eeg_signals(np.random.default_rng(1), 256.0, 6.0), 256.0, aux=False)
    bad = tmp_path / "bad_date.edf"
    data = bytearray(good.read_bytes())
    data[168:176] = b"28-02-13"
    bad.write_bytes(bytes(data))
    h = read_edf_header(bad)
    assert h.reader == "mne" and h.fs[0] == 256.0 and h.duration_s == 6.0
    assert h.names[:3] == ["FP1", "FP2", "F3"]
    want = read_edf(good, [0, 12]).signals
    got = read_edf(bad, [0, 12]).signals
    for w, g in zip(want, got, strict=True):
        np.testing.assert_allclose(g, w, atol=1e-6)
