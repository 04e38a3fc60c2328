"""``node``: node-level multilabel classification on graphs (PPI: 121 labels per protein node).

Targets: the graph batch's per-node ``y`` (N_nodes, K) in {0, 1} (``-1`` = missing). Features:
per-node embeddings from the graph encoder (no readout). Loss: BCE per label over observed
entries. Metric: micro F1 at threshold 0.5 over all nodes, with a percentile bootstrap over
nodes (the usual PPI protocol reports micro F1). Selection: ``val_f1``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from torch import Tensor

from climb.tasks.base import TaskSpec
from climb.tasks.classification import Multilabel, micro_f1
from climb.tasks.registry import register_kind


@register_kind
class Node(Multilabel):
    name = "node"
    features = "nodes"
    default_select = "val_f1"
    select_metrics: ClassVar[tuple[str, ...]] = ("val_loss", "val_f1")
    thresholds = False

    def target(self, batch: dict[str, Any], spec: TaskSpec) -> Tensor:
        return batch["targets"][spec.name]

    def selection_score(self, metric: str, c: dict[str, np.ndarray], loss: float) -> float:
        if metric in ("val_f1", "val_auroc", "val_acc"):
            return micro_f1(c["y"], self.scores(c["out"])) if len(c["y"]) else math.nan
        return super().selection_score(metric, c, loss)

    def metrics(
        self,
        c: dict[str, np.ndarray],
        spec: TaskSpec,
        *,
        groups: np.ndarray | None,
        n_boot: int,
        seed: int,
        ci: float,
        threshold: Any = None,
    ) -> list[Any]:
        from climb.tasks.metrics import MetricResult

        y, s = c["y"], self.scores(c["out"])
        value = micro_f1(y, s)
        rng = np.random.default_rng(seed)
        boots = []
        for _ in range(min(n_boot, 200)):
            j = rng.integers(0, len(y), len(y))
            boots.append(micro_f1(y[j], s[j]))
        a = (1 - ci) / 2
        lo, hi = (float(v) for v in np.quantile(boots, [a, 1 - a])) if boots else (math.nan,) * 2
        note = "node-level, threshold 0.5; CI: bootstrap over nodes (at most 200 replicates)"
        return [MetricResult("micro_f1", value, lo, hi, len(y), len(boots), None, note)]


__all__ = ["Node"]
