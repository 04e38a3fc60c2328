"""compute_metrics against scikit-learn, bootstrap behaviour, undefined cases, thresholds."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    mean_absolute_error,
    r2_score,
    recall_score,
    roc_auc_score,
)

from climb.core.errors import ClimbError
from climb.evaluate import MetricResult, bootstrap_weights, choose_thresholds, compute_metrics


def _get(results: list[MetricResult], metric: str, cls: str | None = None) -> MetricResult:
    found = [r for r in results if r.metric == metric and r.class_name == cls]
    assert len(found) == 1, (metric, cls, [(r.metric, r.class_name) for r in results])
    return found[0]


def _multilabel(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random((n, k)) < 0.3).astype(float)
    s = np.clip(0.35 * y + 0.65 * rng.random((n, k)), 0, 1).round(2)  # rounding makes ties
    return y, s


def test_multilabel_matches_sklearn() -> None:
    y, s = _multilabel(400, 4)
    names = ["a", "b", "c", "d"]
    res = compute_metrics("multilabel", y, s, classes=names, n_boot=50)
    assert _get(res, "auroc").value == pytest.approx(
        roc_auc_score(y, s, average="macro"), abs=1e-12
    )
    assert _get(res, "auprc").value == pytest.approx(
        average_precision_score(y, s, average="macro"), abs=1e-12
    )
    for j, c in enumerate(names):
        assert _get(res, "auroc", c).value == pytest.approx(roc_auc_score(y[:, j], s[:, j]))
        assert _get(res, "auprc", c).value == pytest.approx(
            average_precision_score(y[:, j], s[:, j])
        )
        pred = s[:, j] >= 0.5
        assert _get(res, "sensitivity", c).value == pytest.approx(recall_score(y[:, j], pred))
        assert _get(res, "specificity", c).value == pytest.approx(recall_score(1 - y[:, j], ~pred))
    pred = (s >= 0.5).astype(int)
    assert _get(res, "f1").value == pytest.approx(f1_score(y, pred, average="macro"))
    assert _get(res, "accuracy").value == pytest.approx((pred == y).mean())


def test_multiclass_matches_sklearn() -> None:
    rng = np.random.default_rng(1)
    n, k = 600, 3
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.2 * np.eye(k)[y]
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    res = compute_metrics("multiclass", y, p, classes=["x", "y", "z"], n_boot=20)
    assert _get(res, "auroc").value == pytest.approx(roc_auc_score(y, p, multi_class="ovr"))
    pred = p.argmax(1)
    assert _get(res, "f1").value == pytest.approx(f1_score(y, pred, average="macro"))
    assert _get(res, "accuracy").value == pytest.approx(accuracy_score(y, pred))
    assert _get(res, "balanced_accuracy").value == pytest.approx(balanced_accuracy_score(y, pred))
    onehot = np.eye(k)[y]
    assert _get(res, "auprc", "y").value == pytest.approx(
        average_precision_score(onehot[:, 1], p[:, 1])
    )


def test_binary_matches_sklearn_and_thresholds() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 500)
    s = 1 / (1 + np.exp(-(rng.normal(size=500) + 1.5 * y - 1.0)))
    res = compute_metrics("binary", y, s, classes=["neg", "pos"], n_boot=20, threshold=0.3)
    assert _get(res, "auroc").value == pytest.approx(roc_auc_score(y, s))
    assert _get(res, "auprc").value == pytest.approx(average_precision_score(y, s))
    assert _get(res, "f1").value == pytest.approx(f1_score(y, s >= 0.5))
    assert _get(res, "f1@thr").value == pytest.approx(f1_score(y, s >= 0.3))
    assert _get(res, "balanced_accuracy@thr").value == pytest.approx(
        balanced_accuracy_score(y, s >= 0.3)
    )
    assert "threshold 0.3" in _get(res, "sensitivity@thr").note
    assert all(r.class_name is None for r in res)
    # (N, 2) probabilities are accepted too
    res2 = compute_metrics("binary", y, np.stack([1 - s, s], 1), classes=["neg", "pos"], n_boot=0)
    assert _get(res2, "auroc").value == pytest.approx(roc_auc_score(y, s))


def test_missing_labels_are_excluded_per_class() -> None:
    y, s = _multilabel(300, 2, seed=3)
    y_missing = y.copy()
    y_missing[:50, 0] = -1
    y_missing[100:120, 1] = np.nan
    res = compute_metrics("multilabel", y_missing, s, classes=["a", "b"], n_boot=0)
    assert _get(res, "auroc", "a").value == pytest.approx(roc_auc_score(y[50:, 0], s[50:, 0]))
    keep = np.ones(300, bool)
    keep[100:120] = False
    assert _get(res, "auroc", "b").value == pytest.approx(roc_auc_score(y[keep, 1], s[keep, 1]))
    assert _get(res, "auroc", "a").n == 250 and _get(res, "auroc", "b").n == 280
    yc = np.array([0, 1, -1, 2, 1, 0, -1, 2])
    pc = np.eye(3)[[0, 1, 2, 2, 1, 1, 0, 2]] * 0.8 + 0.1
    resc = compute_metrics("multiclass", yc, pc, classes=["x", "y", "z"], n_boot=0)
    keep = yc >= 0
    assert _get(resc, "accuracy").value == pytest.approx(
        accuracy_score(yc[keep], pc[keep].argmax(1))
    )
    assert _get(resc, "accuracy").n == 6


def test_regression_matches_sklearn_and_scipy() -> None:
    from scipy.stats import pearsonr

    rng = np.random.default_rng(4)
    y = rng.normal(5, 2, 300)
    p = y + rng.normal(0, 1, 300)
    y_missing = y.copy()
    y_missing[:10] = np.nan
    res = compute_metrics("regression", y_missing, p, classes=["los"], n_boot=50)
    yy, pp = y[10:], p[10:]
    assert _get(res, "mae").value == pytest.approx(mean_absolute_error(yy, pp))
    assert _get(res, "rmse").value == pytest.approx(np.sqrt(np.mean((yy - pp) ** 2)))
    assert _get(res, "r2").value == pytest.approx(r2_score(yy, pp))
    assert _get(res, "pearson_r").value == pytest.approx(pearsonr(yy, pp)[0])
    assert _get(res, "mae").n == 290
    const = compute_metrics("regression", np.ones(20), rng.normal(size=20), classes=[], n_boot=10)
    assert np.isnan(_get(const, "r2").value) and "constant" in _get(const, "r2").note
    assert np.isfinite(_get(const, "mae").value)


def test_ci_contains_estimate_and_shrinks_with_n() -> None:
    widths = []
    for n in (200, 3200):
        y, s = _multilabel(n, 3, seed=5)
        res = compute_metrics("multilabel", y, s, classes=["a", "b", "c"], n_boot=300, seed=1)
        for r in res:
            if np.isfinite(r.value):
                assert r.ci_low <= r.value <= r.ci_high, r
                assert r.n_boot_ok == 300
        auc = _get(res, "auroc")
        widths.append(auc.ci_high - auc.ci_low)
    assert widths[1] < widths[0] / 2.5  # ~ 1/sqrt(16) = 1/4 in theory


def test_cluster_bootstrap_is_wider_on_clustered_data() -> None:
    rng = np.random.default_rng(6)
    n_patients, per = 60, 20
    groups = np.repeat(np.arange(n_patients), per)
    # the patient's label and a patient-level score shift: samples of a patient are not
    # independent, so resampling samples underestimates the uncertainty
    y_patient = rng.integers(0, 2, n_patients)
    shift = rng.normal(0, 1.0, n_patients)
    y = y_patient[groups]
    s = 1 / (1 + np.exp(-(0.8 * y + shift[groups] + 0.3 * rng.normal(size=len(y)))))
    plain = _get(compute_metrics("binary", y, s, classes=["n", "p"], n_boot=400), "auroc")
    clustered = _get(
        compute_metrics("binary", y, s, classes=["n", "p"], n_boot=400, groups=groups), "auroc"
    )
    assert plain.value == clustered.value
    assert (clustered.ci_high - clustered.ci_low) > 2 * (plain.ci_high - plain.ci_low)


def test_bootstrap_weights() -> None:
    w = bootstrap_weights(50, 7, seed=0)
    assert w.shape == (7, 50) and np.all(w.sum(1) == 50)
    groups = np.repeat(["p1", "p2", "p3", "p4", "p5"], [1, 2, 3, 4, 10])
    wg = bootstrap_weights(20, 30, seed=0, groups=groups)
    for start, size in ((0, 1), (1, 2), (3, 3), (6, 4), (10, 10)):  # a group moves as a whole
        block = wg[:, start : start + size]
        assert np.all(block == block[:, :1])
    assert np.array_equal(w, bootstrap_weights(50, 7, seed=0))


def test_undefined_class_gives_nan_and_note() -> None:
    y, s = _multilabel(200, 3, seed=7)
    y[:, 1] = 0  # class 'mi' has no positives
    res = compute_metrics("multilabel", y, s, classes=["norm", "mi", "sttc"], n_boot=50)
    auc_mi = _get(res, "auroc", "mi")
    assert np.isnan(auc_mi.value) and np.isnan(auc_mi.ci_low) and auc_mi.n_boot_ok == 0
    assert auc_mi.note == "undefined: class 'mi' has no positives in this split"
    assert np.isnan(_get(res, "sensitivity", "mi").value)
    assert np.isfinite(_get(res, "specificity", "mi").value)
    macro = _get(res, "auroc")
    expected = np.mean([roc_auc_score(y[:, j], s[:, j]) for j in (0, 2)])
    assert macro.value == pytest.approx(expected)
    assert "macro over 2 of 3 classes" in macro.note and "'mi'" in macro.note


def test_single_class_binary_and_rare_class_bootstrap() -> None:
    res = compute_metrics(
        "binary", np.zeros(30, int), np.linspace(0, 1, 30), classes=["n", "p"], n_boot=20
    )
    auc = _get(res, "auroc")
    assert np.isnan(auc.value) and "no positives" in auc.note
    assert np.isfinite(_get(res, "specificity").value)
    assert np.isfinite(_get(res, "accuracy").value)
    # one positive among 40: many replicates lose it; they are skipped and counted
    y = np.zeros(40, int)
    y[3] = 1
    s = np.linspace(0, 1, 40)
    rare = _get(compute_metrics("binary", y, s, classes=["n", "p"], n_boot=200), "auroc")
    assert np.isfinite(rare.value)
    assert 0 < rare.n_boot_ok < 200
    assert f"{200 - rare.n_boot_ok} of 200 replicates undefined" in rare.note


def test_multiclass_absent_class() -> None:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 100)  # class 2 never occurs
    p = rng.dirichlet(np.ones(3), 100)
    res = compute_metrics("multiclass", y, p, classes=["a", "b", "c"], n_boot=10)
    assert np.isnan(_get(res, "auroc", "c").value)
    assert "class 'c' has no positives" in _get(res, "auroc", "c").note
    assert np.isfinite(_get(res, "auroc").value)
    with pytest.warns(UserWarning, match="y_pred contains classes not in y_true"):
        expected = balanced_accuracy_score(y, p.argmax(1))
    assert _get(res, "balanced_accuracy").value == pytest.approx(expected)


def test_no_labels_at_all() -> None:
    res = compute_metrics(
        "multilabel", -np.ones((10, 2)), np.full((10, 2), 0.5), classes=["a", "b"], n_boot=10
    )
    assert all(np.isnan(r.value) and r.note.startswith("undefined") for r in res)


def test_bad_inputs_are_clear_errors() -> None:
    with pytest.raises(ClimbError, match="unknown task type"):
        compute_metrics("ranking", np.zeros(3), np.zeros(3), classes=["a"])
    with pytest.raises(ClimbError, match="class names"):
        compute_metrics("multilabel", np.zeros((3, 2)), np.zeros((3, 2)), classes=["a"])
    with pytest.raises(ClimbError, match="NaN"):
        compute_metrics("binary", np.array([0, 1]), np.array([0.1, np.nan]), classes=["n", "p"])
    with pytest.raises(ClimbError, match="groups"):
        compute_metrics(
            "binary",
            np.array([0, 1]),
            np.array([0.1, 0.2]),
            classes=["n", "p"],
            groups=np.array([1]),
        )
    with pytest.raises(ClimbError, match="labels must be"):
        compute_metrics("multilabel", np.full((2, 1), 2.0), np.zeros((2, 1)), classes=["a"])


def test_choose_thresholds() -> None:
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, (400, 2))
    s = np.clip(0.2 + 0.3 * y + 0.3 * rng.random((400, 2)), 0, 1)
    thr = choose_thresholds("multilabel", y, s)
    assert thr.shape == (2,)
    for j in range(2):  # Youden's J at the chosen threshold is the best over all thresholds

        def j_at(t: float, j: int = j) -> float:
            pred = s[:, j] >= t
            return pred[y[:, j] == 1].mean() - pred[y[:, j] == 0].mean()

        assert j_at(thr[j]) >= max(j_at(t) for t in np.unique(s[:, j])) - 1e-12
    f1_thr = choose_thresholds("binary", y[:, 0], s[:, 0], rule="f1")
    assert isinstance(f1_thr, float)

    def f1_at(t: float) -> float:
        pred, truth = s[:, 0] >= t, y[:, 0] == 1
        return 2 * (pred & truth).sum() / (pred.sum() + truth.sum())

    assert f1_at(f1_thr) == pytest.approx(max(f1_at(t) for t in np.unique(s[:, 0])))
    assert f1_at(f1_thr) == pytest.approx(f1_score(y[:, 0], s[:, 0] >= f1_thr))
    y_bad = y.copy()
    y_bad[:, 1] = 0
    assert choose_thresholds("multilabel", y_bad, s)[1] == 0.5
    with pytest.raises(ClimbError, match="no decision thresholds"):
        choose_thresholds("multiclass", y[:, 0], s)
    with pytest.raises(ClimbError, match="unknown threshold rule"):
        choose_thresholds("binary", y[:, 0], s[:, 0], rule="magic")


def test_bootstrap_is_fast() -> None:
    y, s = _multilabel(5000, 7, seed=10)
    groups = np.random.default_rng(0).integers(0, 1500, 5000)
    start = time.perf_counter()
    res = compute_metrics(
        "multilabel",
        y,
        s,
        classes=[f"c{i}" for i in range(7)],
        n_boot=1000,
        groups=groups,
        threshold=np.full(7, 0.4),
    )
    elapsed = time.perf_counter() - start
    assert all(r.n_boot_ok == 1000 for r in res)
    assert elapsed < 10.0, f"{elapsed:.1f} s"  # ~1-2 s on one core; slack for shared CI


def test_chunked_bootstrap_equals_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    import climb.tasks.metrics as metrics

    y, s = _multilabel(300, 3, seed=11)
    y[:5, 2] = -1
    groups = np.arange(300) // 3
    args = ("multilabel", y, s)
    kw = {"classes": ["a", "b", "c"], "n_boot": 100, "groups": groups, "threshold": 0.4}
    one = compute_metrics(*args, **kw)
    monkeypatch.setattr(metrics, "_CHUNK_ELEMENTS", 300 * 7)  # chunks of 7 replicates
    chunked = compute_metrics(*args, **kw)
    assert one == chunked
    # the replicates are those of bootstrap_weights (same seed and groups)
    w = bootstrap_weights(300, 100, seed=0, groups=groups)
    m = y[:, 0] >= 0
    reps = [roc_auc_score(y[m, 0], s[m, 0], sample_weight=w[b, m]) for b in range(100)]
    auc_a = _get(one, "auroc", "a")
    assert auc_a.ci_low == pytest.approx(np.quantile(reps, 0.025))
    assert auc_a.ci_high == pytest.approx(np.quantile(reps, 0.975))


def test_empty_input() -> None:
    res = compute_metrics("binary", np.zeros(0), np.zeros(0), classes=["n", "p"], n_boot=10)
    assert res and all(np.isnan(r.value) for r in res)


def test_no_interval_from_a_minority_of_defined_replicates() -> None:
    """Three classes with one sample each: a replicate draws all three about 1/4 of the time, so
    the macro AUROC's replicates are mostly undefined and it gets no interval (before, a
    percentile interval of those few could even exclude the point estimate); a single rare class
    (defined in ~63 % of replicates) keeps its interval."""
    rng = np.random.default_rng(3)
    y = np.zeros(60, int)
    y[[5, 17, 40]] = [1, 2, 3]
    p = rng.dirichlet(np.ones(4), 60)
    res = compute_metrics("multiclass", y, p, classes=["a", "b", "c", "d"], n_boot=400)
    macro = _get(res, "auroc")
    assert np.isfinite(macro.value)
    assert macro.n_boot_ok < 200
    assert np.isnan(macro.ci_low) and np.isnan(macro.ci_high)
    assert f"({macro.n_boot_ok} of 400; at least 50% needed)" in macro.note
    one = _get(res, "auroc", "b")
    assert 200 <= one.n_boot_ok < 400
    assert one.ci_low <= one.value <= one.ci_high
