"""Balanced accuracy, Cohen's kappa and weighted F1 with bootstrap CIs, against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, cohen_kappa_score, f1_score

from climb.core.errors import ClimbError
from climb.tasks.metrics import agreement_metrics, bootstrap_weights, compute_metrics


def _data(n: int = 300, k: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.2  # better than chance, far from perfect
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return y, p


def test_multiclass_point_values_and_ci() -> None:
    y, p = _data()
    y_m = y.copy()
    y_m[:10] = -1  # missing labels are left out
    res = {
        r.metric: r
        for r in agreement_metrics("multiclass", y_m, p, classes=list("abcdef"), n_boot=200)
    }
    keep = y_m >= 0
    pred = p.argmax(1)
    assert res["balanced_accuracy"].value == pytest.approx(
        balanced_accuracy_score(y[keep], pred[keep])
    )
    assert res["cohen_kappa"].value == pytest.approx(cohen_kappa_score(y[keep], pred[keep]))
    assert res["f1_weighted"].value == pytest.approx(
        f1_score(y[keep], pred[keep], average="weighted")
    )
    for r in res.values():
        assert r.n == 290 and r.n_boot_ok == 200 and r.ci_low < r.value < r.ci_high


def test_bootstrap_replicates_are_compute_metrics_replicates() -> None:
    y, p = _data(n=120, k=3, seed=1)
    groups = np.repeat(np.arange(40), 3)
    res = agreement_metrics(
        "multiclass", y, p, classes=["a", "b", "c"], groups=groups, n_boot=50, seed=3
    )
    w = bootstrap_weights(len(y), 50, seed=3, groups=groups)
    kappas = [cohen_kappa_score(y, p.argmax(1), sample_weight=wi) for wi in w]
    lo, hi = np.quantile(kappas, [0.025, 0.975])
    kappa = next(r for r in res if r.metric == "cohen_kappa")
    assert kappa.ci_low == pytest.approx(lo) and kappa.ci_high == pytest.approx(hi)
    f1s = [f1_score(y, p.argmax(1), average="weighted", sample_weight=wi) for wi in w]
    f1 = next(r for r in res if r.metric == "f1_weighted")
    assert f1.ci_low == pytest.approx(np.quantile(f1s, 0.025))


def test_binary_and_compute_metrics_rows() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 200)
    s = np.clip(0.35 * y + rng.uniform(0, 0.65, 200), 0, 1)
    rows = compute_metrics(
        "binary", y, s, classes=["Normal", "Abnormal"], n_boot=100, threshold=0.4
    )
    by = {r.metric: r for r in rows}
    assert by["cohen_kappa"].value == pytest.approx(cohen_kappa_score(y, s >= 0.5))
    assert by["f1_weighted"].value == pytest.approx(f1_score(y, s >= 0.5, average="weighted"))
    assert by["cohen_kappa@thr"].value == pytest.approx(cohen_kappa_score(y, s >= 0.4))
    assert by["balanced_accuracy"].value == pytest.approx(balanced_accuracy_score(y, s >= 0.5))
    y6, p6 = _data(n=100)
    mc = {
        r.metric for r in compute_metrics("multiclass", y6, p6, classes=list("abcdef"), n_boot=10)
    }
    assert {"cohen_kappa", "f1_weighted", "balanced_accuracy", "auroc", "auprc"} <= mc
    ml = compute_metrics(
        "multilabel",
        np.eye(3)[[0, 1, 2, 0]],
        np.eye(3)[[0, 1, 2, 1]],
        classes=list("abc"),
        n_boot=0,
    )
    assert "cohen_kappa" not in {r.metric for r in ml}


def test_undefined_and_bad_inputs() -> None:
    y = np.zeros(20, dtype=int)
    p = np.tile([0.9, 0.1], (20, 1))
    res = {
        r.metric: r for r in agreement_metrics("multiclass", y, p, classes=["a", "b"], n_boot=20)
    }
    assert np.isnan(res["cohen_kappa"].value) and "chance agreement is 1" in res["cohen_kappa"].note
    assert res["balanced_accuracy"].value == 1.0 and res["f1_weighted"].value == 1.0
    with pytest.raises(ClimbError, match="binary and multiclass"):
        agreement_metrics("multilabel", np.eye(2), np.eye(2), classes=["a", "b"])
    with pytest.raises(ClimbError, match="groups has 3 entries"):
        agreement_metrics("multiclass", y, p, classes=["a", "b"], groups=np.arange(3))
