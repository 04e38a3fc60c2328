"""The ECG store codec (int16 µV, uncompressed): quantization in the adapters, the fingerprint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from climb.core.schema import quantize
from climb.datasets.ecg import _ecg
from climb.datasets.ecg._ecg import ECG_CODEC, LENGTH, EcgAdapter, quantize_ecg
from climb.io.signal import STANDARD_LEADS, resample
from climb.io.wfdb import WfdbRecord
from climb.store import StoreWriter, open_store


def record(signal_tc: np.ndarray, fs: float) -> WfdbRecord:
    return WfdbRecord(
        name="r",
        fs=fs,
        sig_names=list(STANDARD_LEADS),
        units=["mV"] * 12,
        comments=[],
        sig_len=signal_tc.shape[0],
        signal=signal_tc,
    )


def test_ecg_field_is_int16_uv_uncompressed() -> None:
    (spec,) = EcgAdapter().fields()
    assert spec.dtype == "float32" and spec.unit == "mV"
    assert spec.codec == ECG_CODEC == {"name": "none", "scale": 1000, "astype": "int16"}
    assert spec.to_meta()["codec"]["scale"] == 1000  # the gain is recorded in dataset.json


def test_standardize_is_lossless_for_gain_1000_at_500_hz() -> None:
    rng = np.random.default_rng(0)
    digital = rng.integers(-5000, 5000, (LENGTH, 12))
    rec = record(digital / 1000.0, 500.0)  # what the WFDB reader gives: (d - baseline) / gain
    x, cols = EcgAdapter().standardize(rec)
    assert x.dtype == np.float32 and cols["clipped_samples"] == 0
    assert x.tobytes() == (digital.T / 1000.0).astype(np.float32).tobytes()


def test_standardize_resampled_error_below_half_uv() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(2500) / 250.0
    sig = np.sin(2 * np.pi * 1.3 * t)[:, None] * rng.uniform(0.2, 3.0, 12) + rng.normal(
        0, 0.05, (2500, 12)
    )
    x, _ = EcgAdapter().standardize(record(sig, 250.0))
    exact = resample(np.ascontiguousarray(sig.T), 250.0, 500.0, axis=1)
    err = np.abs(x.astype(np.float64) - exact).max()
    assert 0 < err <= 0.5e-3 + 4e-6  # ≤ 0.5 µV of rounding (+ float32 rounding of ≤ 3 mV)
    assert quantize_ecg(x).tobytes() == x.tobytes()  # whole µV already: stored as is


def test_standardize_counts_clipped_samples() -> None:
    sig = np.zeros((LENGTH, 12))
    sig[:, 0] = np.linspace(-1, 1, LENGTH)
    sig[:10, 1] = 40.0  # beyond ±32.767 mV
    sig[10:13, 2] = -33.0
    x, cols = EcgAdapter().standardize(record(sig, 500.0))
    assert cols["clipped_samples"] == 13
    assert np.all(x[1, :10] == np.float32(32.767)) and np.all(x[2, 10:13] == np.float32(-32.768))


def test_quantized_ecg_round_trips_through_the_store_bit_for_bit(tmp_path: Path) -> None:
    """What prepare digests in-pass (the adapter's output) is what the store decodes."""
    rng = np.random.default_rng(2)
    x = quantize_ecg(rng.normal(0, 1.0, (40, 12, 50)) * rng.uniform(0, 1, (40, 1, 1)))
    x[0, 0, 0] = quantize_ecg(np.array([-1e-5]))[0]  # -0.0 before rounding: +0.0 after
    assert np.signbit(x).sum() == (x < 0).sum()
    spec = EcgAdapter().fields()[0]
    spec = type(spec)(**{**spec.__dict__, "shape": (12, 50), "chunks": 16})
    w = StoreWriter(tmp_path / "s", key="t", fields=[spec], num_samples=40)
    w.write("ecg", 0, x)
    n = 40
    w.finalize(
        pd.DataFrame(
            {
                "sample_id": [f"s{i}" for i in range(n)],
                "patient_id": [f"p{i}" for i in range(n)],
                "split": ["train"] * n,
                "index": range(n),
                "source_path": [""] * n,
                "native_labels": ["{}"] * n,
            }
        ),
        tasks={},
        splits={"rule": "patient", "seed": 0, "counts": {"train": n}},
    )
    st = open_store(tmp_path / "s")
    assert st.direct_reader("ecg") is not None
    assert st.read("ecg", np.arange(n)).tobytes() == x.tobytes()
    assert st.array("ecg")[:].tobytes() == x.tobytes()
    assert quantize(ECG_CODEC, x).tobytes() == x.tobytes()  # idempotent


def test_fingerprint_changes_with_the_codec(monkeypatch: pytest.MonkeyPatch) -> None:
    from climb.core.adapter import PrepareOptions
    from climb.prepare.pipeline import fingerprint, resolve_adapter

    adapter = resolve_adapter("cpsc2018")
    inputs = {"digest": "x"}
    before = fingerprint(adapter, PrepareOptions(), inputs)
    assert fingerprint(adapter, PrepareOptions(), inputs) == before
    monkeypatch.setattr(_ecg, "ECG_CODEC", {"name": "blosc", "cname": "zstd", "clevel": 3})
    assert fingerprint(adapter, PrepareOptions(), inputs) != before
