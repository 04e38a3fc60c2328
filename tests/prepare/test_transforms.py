from __future__ import annotations

import numpy as np
import pytest

from climb.core.splits import leakage, patient_split
from climb.io.signal import (
    STANDARD_LEADS,
    fit_length,
    lead_order,
    resample,
    resample_ratio,
)


def test_lead_order_accepts_case_and_permutation() -> None:
    names = ["V6", "AVR", "I", "II", "III", "avl", "aVF", "V1", "V2", "V3", "V4", "V5"]
    order = lead_order(names)
    assert order is not None
    assert [names[i].upper() for i in order] == [n.upper() for n in STANDARD_LEADS]
    assert lead_order(names[:11]) is None
    assert lead_order([*names[:11], "I"]) is None  # duplicate lead
    assert lead_order([*names[:11], "X"]) is None


@pytest.mark.parametrize(
    ("fs", "up", "down"), [(1000, 1, 2), (257, 500, 257), (250, 2, 1), (500, 1, 1)]
)
def test_resample_ratio_and_sine(fs: int, up: int, down: int) -> None:
    assert resample_ratio(fs, 500) == (up, down)
    t = np.arange(fs * 10) / fs
    y = resample(np.sin(2 * np.pi * 5 * t)[None], fs, 500, axis=1)
    assert y.shape == (1, 5000)
    t2 = np.arange(5000) / 500
    # away from the edges the 5 Hz sine is preserved
    assert np.max(np.abs(y[0, 200:-200] - np.sin(2 * np.pi * 5 * t2[200:-200]))) < 0.02


def test_fit_length_crops_first_and_pads_end() -> None:
    x = np.arange(12 * 7).reshape(12, 7).astype(float)
    y, n = fit_length(x, 5, axis=1)
    assert n == 5 and np.array_equal(y, x[:, :5])
    y, n = fit_length(x, 10, axis=1)
    assert n == 7 and np.array_equal(y[:, :7], x) and not y[:, 7:].any()


def test_patient_split_is_seeded_and_order_free() -> None:
    ids = [f"p{i}" for i in range(2000)]
    a = [patient_split(p, 0) for p in ids]
    assert a == [patient_split(p, 0) for p in ids]
    assert a != [patient_split(p, 1) for p in ids]
    frac = {s: a.count(s) / len(a) for s in ("train", "val", "test")}
    assert 0.77 < frac["train"] < 0.83 and 0.08 < frac["val"] < 0.12
    assert leakage(["a", "a", "b"], ["train", "val", "train"]) == {"a": ["train", "val"]}
