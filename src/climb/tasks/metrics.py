"""Clinical metrics with bootstrap confidence intervals (patient-level when groups are given).

Every metric is computed as a *weighted* statistic over samples. The point estimate uses weight
1 for every sample; each bootstrap replicate uses the multiplicity of each sample in a resample
with replacement, of samples or, when ``groups`` is given, of whole groups (patients: a cluster
bootstrap). All replicates are computed at once with array operations (sorting once per class),
so 1,000 replicates of 5,000 samples x 7 classes take about a second.

Conventions (the same as :mod:`climb.models.heads`):

* ``binary``: ``y_true`` (N,) in {0, 1}, -1 = missing; ``y_score`` (N,) P(positive) (an (N, 2)
  probability matrix is accepted too).
* ``multiclass``: ``y_true`` (N,) class index, -1 = missing; ``y_score`` (N, K) probabilities.
* ``multilabel``: ``y_true`` (N, K) in {0, 1}, -1 or NaN = missing per entry; ``y_score`` (N, K).
* ``regression``: ``y_true`` (N,) or (N, K) float, NaN = missing; ``y_score`` the same shape.

Metric names (``class_name=None`` rows are the aggregate: the macro mean over classes for
multiclass / multilabel):

* classification: ``auroc``, ``auprc`` (average precision, as scikit-learn), ``f1``,
  ``sensitivity``, ``specificity``, ``accuracy``, ``balanced_accuracy``. Decisions use score >= 0.5
  (binary, multilabel) or the arg-max (multiclass). With ``threshold=`` (binary / multilabel,
  typically from :func:`choose_thresholds` on the validation split) the decision metrics are
  repeated as ``f1@thr``, ``sensitivity@thr``, ... Multilabel ``accuracy`` is 1 - Hamming loss
  over the observed entries.
* binary and multiclass also get ``cohen_kappa`` and ``f1_weighted`` (support-weighted F1)
  from :func:`agreement_metrics` (with ``@thr`` rows for a binary threshold): with
  ``balanced_accuracy`` these are what EEG papers report.
* regression: ``mae``, ``rmse``, ``r2``, ``pearson_r``.

A metric that is undefined on the data (a class without positives, a single-class ``y_true``, a
constant target) is NaN with a note saying why; a macro average runs over the classes where the
metric is defined and says which were left out. Bootstrap replicates in which a metric is
undefined are skipped and counted (``n_boot_ok`` = replicates used); when fewer than half of
them are defined there is no interval (NaN bounds and a note), since the few that drew every
class are not a sample of the test set's variability.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

from climb.core.errors import ClimbError
from climb.core.schema import SAMPLE_LABEL_KINDS

TASK_TYPES = SAMPLE_LABEL_KINDS  # one vocabulary: climb.core.schema
CLASSIFICATION_METRICS = (
    "auroc",
    "auprc",
    "f1",
    "sensitivity",
    "specificity",
    "accuracy",
    "balanced_accuracy",
)
REGRESSION_METRICS = ("mae", "rmse", "r2", "pearson_r")
THRESHOLD_RULES = ("youden", "f1")


@dataclass(frozen=True)
class MetricResult:
    """One metric value with its bootstrap interval.

    ``class_name`` is None for an aggregate (macro) row. ``n`` counts the samples with an
    observed label that entered the value. ``n_boot_ok`` counts the bootstrap replicates in
    which the metric was defined (those the interval is made of).
    """

    metric: str
    value: float
    ci_low: float
    ci_high: float
    n: int
    n_boot_ok: int
    class_name: str | None = None
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


# ---------------------------------------------------------------------------------------------
# Bootstrap weights


# Bound on replicates x samples held in memory at once (float64: 8 bytes each, a few copies).
_CHUNK_ELEMENTS = 4_000_000


def _weight_chunks(
    n: int, n_boot: int, seed: int, groups: np.ndarray | None, chunk_rows: int
) -> Iterator[np.ndarray]:
    rng = np.random.default_rng(seed)
    if n_boot <= 0 or n == 0:
        yield np.zeros((max(n_boot, 0), n))
        return
    if groups is None:
        codes, n_units = np.arange(n), n
    else:
        _, codes = np.unique(np.asarray(groups), return_inverse=True)
        codes = codes.reshape(-1)
        n_units = int(codes.max()) + 1
    for start in range(0, n_boot, chunk_rows):
        rows = min(chunk_rows, n_boot - start)
        draws = rng.integers(0, n_units, size=(rows, n_units))
        flat = (draws + np.arange(rows)[:, None] * n_units).ravel()
        counts = np.bincount(flat, minlength=rows * n_units).reshape(rows, n_units)
        weights = counts if groups is None else counts[:, codes]
        yield weights.astype(np.float64)


def bootstrap_weights(
    n: int, n_boot: int, seed: int = 0, groups: np.ndarray | None = None
) -> np.ndarray:
    """``(n_boot, n)`` multiplicities of each sample in each bootstrap resample.

    Without ``groups`` samples are drawn with replacement; with ``groups`` whole groups are
    drawn (as many as there are groups) and every sample counts as often as its group was drawn.
    These are the replicates :func:`compute_metrics` uses for the same ``seed`` and ``groups``.
    """
    return np.vstack(list(_weight_chunks(n, n_boot, seed, groups, max(n_boot, 1))))


# ---------------------------------------------------------------------------------------------
# Weighted statistics over all replicates at once; every function returns (R,) with NaN where
# the statistic is undefined in that replicate.


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _ranking_stats(
    w: np.ndarray, idx: np.ndarray, y: np.ndarray, s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted AUROC and average precision for one class: returns (auroc, ap, P, N) per replicate.

    ``idx`` are the observed samples, ``y`` (0/1) and ``s`` their labels and scores, ``w`` (R, N)
    the weights of all samples. Ties in ``s`` count one half (AUROC) and form one threshold (AP),
    as in scikit-learn.
    """
    order = np.argsort(s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order].astype(bool)
    ws = w[:, idx[order]]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    pos = np.add.reduceat(np.where(y_sorted, ws, 0.0), starts, axis=1)  # (R, G) ascending
    neg = np.add.reduceat(np.where(y_sorted, 0.0, ws), starts, axis=1)
    n_pos, n_neg = pos.sum(axis=1), neg.sum(axis=1)
    neg_below = np.cumsum(neg, axis=1) - neg
    auroc = _safe_div((pos * (neg_below + 0.5 * neg)).sum(axis=1), n_pos * n_neg)
    pos_d, neg_d = pos[:, ::-1], neg[:, ::-1]  # descending thresholds
    tp, fp = np.cumsum(pos_d, axis=1), np.cumsum(neg_d, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1e-300), 0.0)
    ap = _safe_div((pos_d * precision).sum(axis=1), n_pos)
    return auroc, ap, n_pos, n_neg


@dataclass
class _Stat:
    """Replicate values of one metric (index 0 = point estimate) and why it may be undefined."""

    values: np.ndarray
    n: int
    reason: str = ""  # non-empty when the point estimate is undefined
    note: str = ""


def _macro(per_class: list[_Stat], classes: Sequence[str], n: int, what: str = "classes") -> _Stat:
    defined = [i for i, st in enumerate(per_class) if not st.reason]
    if not defined:
        return _Stat(
            np.full_like(per_class[0].values, np.nan) if per_class else np.full(1, np.nan),
            n,
            reason=f"undefined for all {len(per_class)} {what}",
        )
    values = np.mean(np.stack([per_class[i].values for i in defined]), axis=0)
    note = ""
    if len(defined) < len(per_class):
        left = [classes[i] for i in range(len(per_class)) if i not in defined]
        note = f"macro over {len(defined)} of {len(per_class)} {what}; undefined for " + ", ".join(
            repr(c) for c in left
        )
    return _Stat(values, n, note=note)


def _confusion(
    w: np.ndarray, y: np.ndarray, pred: np.ndarray, valid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted TP, FP, FN, TN per replicate and class: each (R, K). Arrays y/pred/valid (N, K)."""
    y, pred = y.astype(bool), pred.astype(bool)
    indicators = np.concatenate(
        [valid & y & pred, valid & ~y & pred, valid & y & ~pred, valid & ~y & ~pred], axis=1
    ).astype(np.float64)
    counts = w @ indicators
    k = y.shape[1]
    return counts[:, :k], counts[:, k : 2 * k], counts[:, 2 * k : 3 * k], counts[:, 3 * k :]


def _decision_stats(
    w: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    valid: np.ndarray,
    classes: Sequence[str],
    *,
    binary: bool,
    multiclass: bool,
) -> dict[str, tuple[list[_Stat], _Stat]]:
    """f1 / sensitivity / specificity / accuracy / balanced accuracy from 0-1 decisions."""
    tp, fp, fn, tn = _confusion(w, y, pred, valid)
    k = y.shape[1]
    n_obs = valid.sum(axis=0)
    n_pos0, n_neg0 = (tp + fn)[0], (fp + tn)[0]
    sens = _safe_div(tp, tp + fn)
    spec = _safe_div(tn, tn + fp)
    f1 = np.where(tp + fn > 0, _safe_div(2 * tp, 2 * tp + fp + fn), np.nan)
    out: dict[str, tuple[list[_Stat], _Stat]] = {}
    n_any = int(valid.any(axis=1).sum())
    for name, arr, needs_pos, needs_neg in (
        ("f1", f1, True, False),
        ("sensitivity", sens, True, False),
        ("specificity", spec, False, True),
        ("balanced_accuracy", (sens + spec) / 2, True, not multiclass),
    ):
        stats = []
        for j in range(k):
            reason = _class_reason(
                classes[j], int(n_obs[j]), n_pos0[j], n_neg0[j], needs_pos, needs_neg
            )
            if multiclass and name == "balanced_accuracy":
                arr_j = sens[:, j]  # balanced accuracy = macro recall over classes present
            else:
                arr_j = arr[:, j]
            stats.append(_Stat(arr_j, int(n_obs[j]), reason=reason))
        if binary:
            out[name] = ([], stats[0])
        elif name == "balanced_accuracy":
            out[name] = ([], _macro(stats, classes, n_any))
        else:
            out[name] = (stats, _macro(stats, classes, n_any))
    if multiclass:
        # every observed sample is one TP for its class or not: accuracy = sum(TP) / n observed
        acc = _safe_div(tp.sum(axis=1), w @ valid[:, 0].astype(np.float64))
    else:
        acc = _safe_div((tp + tn).sum(axis=1), (tp + fp + fn + tn).sum(axis=1))
    out["accuracy"] = ([], _Stat(acc, n_any, reason="" if n_any else "no labeled samples"))
    return out


def _class_reason(
    name: str, n_obs: int, n_pos: float, n_neg: float, needs_pos: bool, needs_neg: bool
) -> str:
    if n_obs == 0:
        return f"class {name!r} has no labeled samples in this split"
    if needs_pos and n_pos <= 0:
        return f"class {name!r} has no positives in this split"
    if needs_neg and n_neg <= 0:
        return f"class {name!r} has no negatives in this split"
    return ""


# ---------------------------------------------------------------------------------------------
# Input checking


def _fail(what: str, fix: str) -> ClimbError:
    return ClimbError(what, where="climb.evaluate.compute_metrics", fix=fix)


def _prepare(
    task_type: str, y_true: np.ndarray, y_score: np.ndarray, classes: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Return (labels (N, K) float with NaN = missing, scores (N, K), class names)."""
    if task_type not in TASK_TYPES:
        raise _fail(f"unknown task type '{task_type}'", f"use one of {', '.join(TASK_TYPES)}")
    yt = np.asarray(y_true, dtype=np.float64)
    ys = np.asarray(y_score, dtype=np.float64)
    classes = [str(c) for c in classes]
    if task_type == "binary":
        if ys.ndim == 2 and ys.shape[1] == 2:
            ys = ys[:, 1]
        ys = ys.reshape(ys.shape[0], -1) if ys.ndim == 2 else ys
        if ys.ndim == 2 and ys.shape[1] == 1:
            ys = ys[:, 0]
        if yt.ndim != 1 or ys.ndim != 1 or len(yt) != len(ys):
            raise _fail(
                f"binary y_true {yt.shape} / y_score {ys.shape} are not two (N,) vectors",
                "pass labels in {0, 1, -1} and P(positive) per sample",
            )
        if len(classes) not in (1, 2):
            raise _fail(
                f"a binary task has 1 or 2 class names, got {classes}", "e.g. ['no', 'yes']"
            )
        labels, scores, names = yt[:, None], ys[:, None], [classes[-1]]
    elif task_type == "multiclass":
        if ys.ndim != 2 or yt.ndim != 1 or len(yt) != len(ys):
            raise _fail(
                f"multiclass y_true {yt.shape} / y_score {ys.shape} should be (N,) and (N, K)",
                "pass class indices and a probability matrix",
            )
        k = ys.shape[1]
        if len(classes) != k:
            raise _fail(f"{len(classes)} class names for {k} score columns", "one name per column")
        observed = yt[(yt >= 0) & ~np.isnan(yt)]
        if observed.size and (observed.max() >= k or np.any(observed != np.round(observed))):
            raise _fail(
                f"multiclass labels must be integers in [0, {k}) or -1, got max {observed.max()}",
                "check the label space",
            )
        labels = np.full((len(yt), k), np.nan)
        obs = (yt >= 0) & ~np.isnan(yt)
        labels[obs] = 0.0
        labels[np.flatnonzero(obs), yt[obs].astype(int)] = 1.0
        scores, names = ys, classes
    elif task_type == "multilabel":
        if yt.ndim != 2 or yt.shape != ys.shape:
            raise _fail(
                f"multilabel y_true {yt.shape} and y_score {ys.shape} must both be (N, K)",
                "pass a multi-hot matrix with -1 for missing entries",
            )
        if len(classes) != yt.shape[1]:
            raise _fail(f"{len(classes)} class names for {yt.shape[1]} labels", "one per column")
        labels, scores, names = yt.copy(), ys, classes
    else:
        if yt.shape != ys.shape or yt.ndim not in (1, 2):
            raise _fail(
                f"regression y_true {yt.shape} and y_score {ys.shape} must have the same shape",
                "(N,) for one target, (N, K) for K targets",
            )
        labels = yt.reshape(len(yt), -1)
        scores = ys.reshape(len(ys), -1)
        k = labels.shape[1]
        names = classes if len(classes) == k else (["target"] if k == 1 else [])
        if len(names) != k:
            raise _fail(f"{len(classes)} target names for {k} targets", "one name per target")
        return labels, scores, names
    labels = np.where(labels < 0, np.nan, labels)
    bad = ~np.isnan(labels) & (labels != 0) & (labels != 1)
    if bad.any():
        raise _fail(
            f"labels must be 0, 1 or missing (-1 / NaN); found {np.unique(labels[bad])[:5]}",
            "check the label encoding",
        )
    return labels, scores, names


# ---------------------------------------------------------------------------------------------
# Public API


def compute_metrics(
    task_type: str,
    y_true: np.ndarray,
    y_score: np.ndarray,
    *,
    classes: list[str],
    groups: np.ndarray | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    threshold: float | np.ndarray | None = None,
    ci: float = 0.95,
) -> list[MetricResult]:
    """All metrics for ``task_type`` with percentile bootstrap intervals (see module docs).

    ``groups`` (N,) (e.g. patient ids) makes the bootstrap resample groups (cluster bootstrap).
    ``threshold`` (binary: a float; multilabel: a float or one per class) adds ``...@thr`` rows.
    ``n_boot=0`` gives point estimates only (NaN intervals).
    """
    labels, scores, names = _prepare(task_type, y_true, y_score, classes)
    n = len(labels)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape[0] != n:
            raise _fail(
                f"groups has {groups.shape[0]} entries for {n} samples", "one group id per sample"
            )
    if not 0 < ci < 1:
        raise _fail(f"ci must be in (0, 1), got {ci}", "e.g. ci=0.95")
    observed = ~np.isnan(labels)
    if np.isnan(scores[observed.any(axis=1)]).any():
        raise _fail(
            "y_score contains NaN for labeled samples",
            "the model produced NaN outputs: check training (learning rate, inputs)",
        )
    # Replicates are processed in chunks to bound memory; every chunk starts with the all-ones
    # row (the point estimate), which decides definedness and notes; later chunks drop it.
    chunk_rows = max(1, min(n_boot, _CHUNK_ELEMENTS // max(n, 1)))
    stats: list[tuple[str, str | None, _Stat]] = []
    for i, boot in enumerate(_weight_chunks(n, n_boot, seed, groups, chunk_rows)):
        w = np.vstack([np.ones((1, n)), boot])
        if task_type == "regression":
            chunk = _regression_stats(w, labels, scores, names)
        else:
            chunk = _classification_stats(w, task_type, labels, scores, names, threshold)
        if i == 0:
            stats = chunk
        else:
            for (_, _, st), (_, _, more) in zip(stats, chunk, strict=True):
                st.values = np.concatenate([st.values, more.values[1:]])
    out = [_summarise(metric, cls, st, ci) for metric, cls, st in stats]
    if task_type in ("binary", "multiclass"):  # EEG papers' agreement metrics (same replicates)
        thr = threshold if task_type == "binary" and threshold is not None else None
        extra = agreement_metrics(
            task_type, y_true, y_score, classes=classes, groups=groups, n_boot=n_boot,
            seed=seed, ci=ci,
        )  # fmt: skip
        out += [r for r in extra if r.metric != "balanced_accuracy"]
        if thr is not None:
            extra = agreement_metrics(
                task_type, y_true, y_score, classes=classes, groups=groups, n_boot=n_boot,
                seed=seed, ci=ci, threshold=float(thr),
            )  # fmt: skip
            out += [
                MetricResult(**{**r.to_dict(), "metric": r.metric + "@thr"})  # type: ignore[arg-type]
                for r in extra
                if r.metric != "balanced_accuracy"
            ]
    return out


#: the share of bootstrap replicates in which a metric must be defined for an interval
MIN_DEFINED_FRACTION = 0.5


def _summarise(metric: str, class_name: str | None, st: _Stat, ci: float) -> MetricResult:
    value = float(st.values[0])
    if st.reason or not np.isfinite(value):
        reason = st.reason or "not finite on this data"
        return MetricResult(
            metric,
            float("nan"),
            float("nan"),
            float("nan"),
            st.n,
            0,
            class_name,
            _join(f"undefined: {reason}", st.note),
        )
    boot = st.values[1:]
    ok = boot[np.isfinite(boot)]
    notes = [st.note]
    if len(boot) and len(ok) < len(boot):
        notes.append(
            f"bootstrap: {len(boot) - len(ok)} of {len(boot)} replicates undefined and skipped"
        )
    if len(ok) >= max(2, MIN_DEFINED_FRACTION * len(boot)):
        alpha = (1 - ci) / 2
        low, high = np.quantile(ok, [alpha, 1 - alpha])
    else:
        # an interval from a few replicates (those that happened to draw every class) is
        # conditional on a rare resample: it can even miss the point estimate
        low = high = float("nan")
        if len(boot):
            notes.append(
                f"too few defined bootstrap replicates for an interval ({len(ok)} of "
                f"{len(boot)}; at least {MIN_DEFINED_FRACTION:.0%} needed)"
            )
    return MetricResult(
        metric, value, float(low), float(high), st.n, len(ok), class_name, _join(*notes)
    )


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _classification_stats(
    w: np.ndarray,
    task_type: str,
    labels: np.ndarray,
    scores: np.ndarray,
    names: list[str],
    threshold: float | np.ndarray | None,
) -> list[tuple[str, str | None, _Stat]]:
    binary, multiclass = task_type == "binary", task_type == "multiclass"
    valid = ~np.isnan(labels)
    y = np.nan_to_num(labels).astype(bool)
    k = labels.shape[1]
    n_any = int(valid.any(axis=1).sum())
    rows: list[tuple[str, str | None, _Stat]] = []

    # ranking metrics, one-vs-rest per class
    auroc_c, ap_c = [], []
    for j in range(k):
        m = valid[:, j]
        n_obs = int(m.sum())
        if n_obs:
            auc, ap, n_pos, n_neg = _ranking_stats(w, np.flatnonzero(m), y[m, j], scores[m, j])
        else:
            auc = ap = np.full(len(w), np.nan)
            n_pos = n_neg = np.zeros(len(w))
        auroc_c.append(
            _Stat(auc, n_obs, _class_reason(names[j], n_obs, n_pos[0], n_neg[0], True, True))
        )
        ap_c.append(
            _Stat(ap, n_obs, _class_reason(names[j], n_obs, n_pos[0], n_neg[0], True, False))
        )
    for metric, per_class in (("auroc", auroc_c), ("auprc", ap_c)):
        if binary:
            rows.append((metric, None, per_class[0]))
        else:
            rows.append((metric, None, _macro(per_class, names, n_any)))
            rows += [(metric, names[j], per_class[j]) for j in range(k)]

    def add_decisions(pred: np.ndarray, suffix: str, note: Sequence[str] | None) -> None:
        stats = _decision_stats(w, y, pred, valid, names, binary=binary, multiclass=multiclass)
        for metric in ("f1", "sensitivity", "specificity", "accuracy", "balanced_accuracy"):
            per_class, agg = stats[metric]
            if note and binary:
                agg.note = _join(agg.note, note[0])
            rows.append((metric + suffix, None, agg))
            for j, st in enumerate(per_class):
                if note:
                    st.note = _join(st.note, note[j])
                rows.append((metric + suffix, names[j], st))

    if multiclass:
        pred = np.zeros_like(y)
        pred[np.arange(len(y)), np.argmax(scores, axis=1)] = True
        add_decisions(pred, "", None)
        return rows
    add_decisions(scores >= 0.5, "", None)
    if threshold is not None:
        thr = np.broadcast_to(np.asarray(threshold, dtype=np.float64).reshape(-1), (k,))
        if np.asarray(threshold).size not in (1, k):
            raise _fail(
                f"{np.asarray(threshold).size} thresholds for {k} classes",
                "pass one threshold, or one per class (from choose_thresholds)",
            )
        add_decisions(scores >= thr[None, :], "@thr", [f"threshold {t:.4g}" for t in thr])
    return rows


def _regression_stats(
    w: np.ndarray, labels: np.ndarray, scores: np.ndarray, names: list[str]
) -> list[tuple[str, str | None, _Stat]]:
    valid = ~np.isnan(labels)
    k = labels.shape[1]
    per: dict[str, list[_Stat]] = {m: [] for m in REGRESSION_METRICS}
    for j in range(k):
        m = valid[:, j]
        n_obs = int(m.sum())
        y = labels[m, j]
        p = scores[m, j]
        e = p - y
        if n_obs:  # centre (after taking the errors) for stable sums of squares
            y, p = y - y.mean(), p - p.mean()
        feats = np.stack([np.ones_like(y), np.abs(e), e * e, y, y * y, p, p * p, y * p], axis=1)
        s1, sae, sse, sy, syy, sp, spp, syp = (w[:, m] @ feats).T
        sst = syy - _safe_div(sy * sy, s1)
        spv = spp - _safe_div(sp * sp, s1)
        const_y = sst <= 1e-12 * np.maximum(syy, 1e-300)
        const_p = spv <= 1e-12 * np.maximum(spp, 1e-300)
        mae = _safe_div(sae, s1)
        rmse = np.sqrt(_safe_div(sse, s1))
        r2 = np.where(const_y, np.nan, 1 - _safe_div(sse, np.where(const_y, 1.0, sst)))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (syp - _safe_div(sy * sp, s1)) / np.sqrt(np.maximum(sst, 0) * np.maximum(spv, 0))
        r = np.where(const_y | const_p, np.nan, np.clip(r, -1, 1))
        name = names[j]
        base = "" if n_obs else f"target {name!r} has no labeled samples in this split"
        per["mae"].append(_Stat(mae, n_obs, base))
        per["rmse"].append(_Stat(rmse, n_obs, base))
        r2_reason = base or (f"target {name!r} is constant in this split" if const_y[0] else "")
        per["r2"].append(_Stat(r2, n_obs, r2_reason))
        r_reason = r2_reason or (f"predictions for {name!r} are constant" if const_p[0] else "")
        per["pearson_r"].append(_Stat(r, n_obs, r_reason))
    rows: list[tuple[str, str | None, _Stat]] = []
    n_any = int(valid.any(axis=1).sum())
    for metric in REGRESSION_METRICS:
        if k == 1:
            rows.append((metric, None, per[metric][0]))
        else:
            rows.append((metric, None, _macro(per[metric], names, n_any, what="targets")))
            rows += [(metric, names[j], per[metric][j]) for j in range(k)]
    return rows


def choose_thresholds(
    task_type: str, y_true: np.ndarray, y_score: np.ndarray, rule: str = "youden"
) -> float | np.ndarray:
    """Decision thresholds chosen on (validation) data; a sample is positive if score >= threshold.

    ``rule="youden"`` maximises sensitivity + specificity - 1; ``rule="f1"`` maximises F1.
    Returns a float for ``binary`` and an array (K,) for ``multilabel``; classes where the rule is
    undefined (no positives or no negatives) get 0.5. Multiclass (arg-max) and regression have no
    thresholds and raise :class:`ClimbError`.
    """
    if task_type not in ("binary", "multilabel"):
        raise ClimbError(
            f"no decision thresholds for task type '{task_type}'",
            where="climb.evaluate.choose_thresholds",
            fix="thresholds apply to binary and multilabel tasks (multiclass uses the arg-max)",
        )
    if rule not in THRESHOLD_RULES:
        raise ClimbError(
            f"unknown threshold rule '{rule}'",
            where="climb.evaluate.choose_thresholds",
            fix=f"use one of {', '.join(THRESHOLD_RULES)}",
        )
    k = 1 if task_type == "binary" else np.asarray(y_true).shape[1]
    labels, scores, _ = _prepare(
        task_type, y_true, y_score, ["neg", "pos"] if k == 1 else [str(i) for i in range(k)]
    )
    out = np.full(labels.shape[1], 0.5)
    for j in range(labels.shape[1]):
        m = ~np.isnan(labels[:, j])
        y, s = labels[m, j], scores[m, j]
        if not (y == 1).any() or not (y == 0).any():
            continue
        if rule == "youden":
            fpr, tpr, thr = roc_curve(y, s)
            keep = np.isfinite(thr)
            best = np.argmax((tpr - fpr)[keep])
            out[j] = float(thr[keep][best])
        else:
            precision, recall, thr = precision_recall_curve(y, s)
            with np.errstate(divide="ignore", invalid="ignore"):
                f1 = np.where(
                    precision + recall > 0, 2 * precision * recall / (precision + recall), 0
                )
            out[j] = float(thr[np.argmax(f1[:-1])])
    return float(out[0]) if task_type == "binary" else out


# ---------------------------------------------------------------------------------------------
# Agreement metrics EEG papers report (BIOT, SPaRCNet): balanced accuracy, Cohen's kappa and
# support-weighted F1, from the confusion matrix of every bootstrap replicate at once.

#: metrics :func:`agreement_metrics` returns (also rows of :func:`compute_metrics` for binary and
#: multiclass tasks: ``cohen_kappa`` and ``f1_weighted``; balanced accuracy is already there)
AGREEMENT_METRICS = ("balanced_accuracy", "cohen_kappa", "f1_weighted")


def _confusion_matrices(w: np.ndarray, y: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """(R, K, K) weighted confusion matrices (rows = true class, columns = predicted)."""
    ind = np.zeros((len(y), k * k))
    ind[np.arange(len(y)), y * k + pred] = 1.0
    return (w @ ind).reshape(len(w), k, k)


def _agreement_stats(
    w: np.ndarray, y: np.ndarray, pred: np.ndarray, k: int, n: int
) -> dict[str, _Stat]:
    cm = _confusion_matrices(w, y, pred, k)
    total = cm.sum(axis=(1, 2))
    support, predicted = cm.sum(axis=2), cm.sum(axis=1)
    tp = np.einsum("rkk->rk", cm)
    recall = _safe_div(tp, support)  # NaN for classes absent from the replicate
    has = support > 0  # balanced accuracy: mean recall over the classes present (sklearn)
    bal = _safe_div(np.where(has, recall, 0.0).sum(axis=1), has.sum(axis=1).astype(np.float64))
    po = _safe_div(tp.sum(axis=1), total)
    pe = _safe_div((support * predicted).sum(axis=1), total**2)
    kappa = np.where(pe < 1, _safe_div(po - pe, 1 - pe), np.nan)
    f1 = np.where(support > 0, _safe_div(2 * tp, support + predicted), 0.0)
    f1w = _safe_div((support * f1).sum(axis=1), total)
    present = int((support[0] > 0).sum())
    reason = "" if n else "no labeled samples"
    kappa_reason = reason or (
        "" if pe[0] < 1 else "chance agreement is 1 (one class in both labels and predictions)"
    )
    return {
        "balanced_accuracy": _Stat(bal, n, reason=reason or ("" if present else "no classes")),
        "cohen_kappa": _Stat(kappa, n, reason=kappa_reason),
        "f1_weighted": _Stat(f1w, n, reason=reason),
    }


def _decisions(
    task_type: str, labels: np.ndarray, scores: np.ndarray, threshold: float | None
) -> tuple[np.ndarray, np.ndarray, int]:
    """(true class, predicted class, K) of the observed samples: the arg-max (multiclass) or
    score >= threshold (binary, 0.5 by default)."""
    if task_type == "multiclass":
        obs = ~np.isnan(labels).any(axis=1)
        return labels[obs].argmax(axis=1), scores[obs].argmax(axis=1), labels.shape[1]
    obs = ~np.isnan(labels[:, 0])
    thr = 0.5 if threshold is None else float(np.asarray(threshold).reshape(-1)[0])
    return (
        labels[obs, 0].astype(int),
        (scores[obs, 0] >= thr).astype(int),
        2,
    )


def agreement_metrics(
    task_type: str,
    y_true: np.ndarray,
    y_score: np.ndarray,
    *,
    classes: list[str],
    groups: np.ndarray | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    threshold: float | None = None,
    ci: float = 0.95,
) -> list[MetricResult]:
    """Balanced accuracy, Cohen's kappa and weighted F1 (support-weighted mean of per-class F1,
    scikit-learn's ``average="weighted"``) for a ``binary`` or ``multiclass`` task, with the
    same percentile bootstrap as :func:`compute_metrics` (the same replicates for the same
    ``seed`` and ``groups``). Decisions: arg-max (multiclass), score >= ``threshold`` (binary,
    0.5 by default). Missing labels (-1) are left out."""
    if task_type not in ("binary", "multiclass"):
        raise _fail(
            f"agreement metrics are for binary and multiclass tasks, not '{task_type}'",
            "use compute_metrics for multilabel and regression tasks",
        )
    labels, scores, _ = _prepare(task_type, y_true, y_score, classes)
    if not 0 < ci < 1:
        raise _fail(f"ci must be in (0, 1), got {ci}", "e.g. ci=0.95")
    obs = ~np.isnan(labels).any(axis=1)
    if np.isnan(scores[obs]).any():
        raise _fail("y_score contains NaN for labeled samples", "check the model outputs")
    y, pred, k = _decisions(task_type, labels, scores, threshold)
    n = len(labels)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.shape[0] != n:
            raise _fail(
                f"groups has {groups.shape[0]} entries for {n} samples", "one group id per sample"
            )
    chunk_rows = max(1, min(n_boot, _CHUNK_ELEMENTS // max(n, 1)))
    stats: dict[str, _Stat] = {}
    for i, boot in enumerate(_weight_chunks(n, n_boot, seed, groups, chunk_rows)):
        w = np.vstack([np.ones((1, n)), boot])[:, obs]
        chunk = _agreement_stats(w, y, pred, k, int(obs.sum()))
        if i == 0:
            stats = chunk
        else:
            for name, st in stats.items():
                st.values = np.concatenate([st.values, chunk[name].values[1:]])
    return [_summarise(m, None, stats[m], ci) for m in AGREEMENT_METRICS]
