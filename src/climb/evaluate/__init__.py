"""climb.evaluate: metrics with bootstrap confidence intervals, and the results records.

    from climb.evaluate import compute_metrics, choose_thresholds, append_results
    thr = choose_thresholds("multilabel", y_val, s_val)
    rows = compute_metrics("multilabel", y_test, s_test, classes=names, groups=patient_ids,
                           threshold=thr)

See docs/models.md.
"""

from __future__ import annotations

import importlib
from typing import Any

# Attributes load lazily (PEP 562) so that `climb --help` does not import scikit-learn.
_LAZY = {
    "MetricResult": "climb.tasks.metrics",
    "bootstrap_weights": "climb.tasks.metrics",
    "choose_thresholds": "climb.tasks.metrics",
    "compute_metrics": "climb.tasks.metrics",
    "RESULT_COLUMNS": "climb.evaluate.results",
    "append_results": "climb.evaluate.results",
    "metric_rows": "climb.evaluate.results",
    "read_results": "climb.evaluate.results",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'climb.evaluate' has no attribute {name!r}")


__all__ = [
    "RESULT_COLUMNS",
    "MetricResult",
    "append_results",
    "bootstrap_weights",
    "choose_thresholds",
    "compute_metrics",
    "metric_rows",
    "read_results",
]
