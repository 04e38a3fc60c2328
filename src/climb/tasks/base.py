"""The :class:`TaskKind` plugin: everything that depends on what a task predicts.

A kind owns, for its tasks: how targets are decoded from a batch, the head that maps encoder
features to outputs, the loss, the conversion of outputs to scores, the metrics (with bootstrap
CIs) and the model-selection score. The trainer and ``climb evaluate`` call only these methods,
so adding a kind (``per_frame``, ``qa``, ...) is one module that registers a subclass.

Conventions (shared with :mod:`climb.evaluate`): outputs are "logits" ``(B, K)`` (binary: one
logit); targets use ``-1`` (classification) or NaN (regression) for a missing label; a missing
target contributes nothing to the loss, and a batch without any observed target gives a loss of
exactly 0 that still has a gradient path (``logits.sum() * 0``), never NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from climb.core.errors import ClimbError


@dataclass
class TaskSpec:
    """What a kind needs to know about one task of a run (from the store's task spec)."""

    key: str  # the head key (unique in the run)
    name: str  # the store's task name
    kind: str
    classes: list[str] = field(default_factory=list)
    target_field: str | None = None  # dense targets (segmentation masks) come from a field
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes) if self.classes else 1


class TaskKind:
    """Base class of every task kind; subclasses register with :func:`climb.tasks.register_kind`."""

    name: ClassVar[str] = ""
    #: what the encoder must give the head: pooled features (B, D), a feature pyramid (dense),
    #: or per-node embeddings (graphs)
    features: ClassVar[str] = "pooled"
    #: the metric the trainer selects checkpoints on when ``train.select`` is ``auto``
    default_select: ClassVar[str] = "val_loss"
    #: the selection metrics this kind can compute on the validation split
    select_metrics: ClassVar[tuple[str, ...]] = ("val_loss",)
    #: whether ``climb evaluate`` chooses decision thresholds on the validation split
    thresholds: ClassVar[bool] = False
    #: the task options (``data.tasks[].options``) this kind reads; any other is an error
    options: ClassVar[tuple[str, ...]] = ()

    # -- targets ----------------------------------------------------------------------------
    def target(self, batch: dict[str, Any], spec: TaskSpec) -> Tensor:
        """The target tensor of ``spec`` in a batch from :class:`climb.data.StoreDataset`."""
        return batch["targets"][spec.name]

    def num_outputs(self, spec: TaskSpec) -> int:
        return spec.num_classes

    # -- model ------------------------------------------------------------------------------
    def build_head(
        self, spec: TaskSpec, in_dim: int, *, hidden: int | None = None, dropout: float = 0.0
    ) -> nn.Module:
        from climb.models.heads import Head

        n = self.num_outputs(spec)
        if n < 1 or in_dim < 1:
            raise ClimbError(
                f"bad head size in_dim={in_dim}, outputs={n} for task {spec.name!r}",
                where=f"{self.name} head",
                fix="both must be positive",
            )
        return Head(self.name, in_dim, n, hidden, dropout)

    def init_head(self, head: nn.Module, train_targets: np.ndarray | None) -> None:
        """Set up a new head from the training targets before training (default: nothing)."""

    # -- training ---------------------------------------------------------------------------
    def loss(
        self,
        logits: Tensor,
        target: Tensor,
        *,
        class_weights: Any = None,
        spec: TaskSpec | None = None,
    ) -> Tensor:
        raise NotImplementedError

    # -- evaluation -------------------------------------------------------------------------
    def collect(self, logits: Tensor, target: Tensor) -> dict[str, np.ndarray]:
        """What evaluation keeps of one batch (concatenated over batches along axis 0):
        targets and outputs by default; a kind with large outputs keeps sufficient statistics
        (segmentation: per-image confusion counts)."""
        return {"y": target.detach().cpu().numpy(), "out": logits.detach().float().cpu().numpy()}

    def scores(self, logits: Tensor | np.ndarray) -> np.ndarray:
        """Outputs -> scores for the metrics (probabilities; raw values for regression)."""
        return torch.as_tensor(logits).detach().float().cpu().numpy().astype(np.float64)

    def selection_score(self, metric: str, c: dict[str, np.ndarray], loss: float) -> float:
        """Higher is better; NaN when undefined on this validation data (``c``: collected)."""
        if metric == "val_loss":
            return -loss if math.isfinite(loss) else math.nan
        raise ClimbError(
            f"task kind {self.name!r} cannot select on {metric!r}",
            where="train.select",
            fix=f"one of: auto, {', '.join(self.select_metrics)}",
        )

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
        """:class:`climb.evaluate.MetricResult` rows with bootstrap CIs over ``groups``."""
        from climb.tasks.metrics import compute_metrics

        return compute_metrics(
            self.name,
            c["y"],
            self.scores(c["out"]),
            classes=spec.classes or [spec.name],
            groups=groups,
            n_boot=n_boot,
            seed=seed,
            threshold=threshold,
            ci=ci,
        )

    def choose_threshold(self, c: dict[str, np.ndarray], rule: str) -> Any:
        from climb.tasks.metrics import choose_thresholds

        return choose_thresholds(self.name, c["y"], self.scores(c["out"]), rule=rule)


def zero_loss(logits: Tensor) -> Tensor:
    """A loss of exactly 0 with a gradient path (a batch without observed targets)."""
    return logits.sum() * 0.0


def as_weight(
    class_weights: Tensor | Sequence[float] | np.ndarray | None, ref: Tensor
) -> Tensor | None:
    if class_weights is None:
        return None
    return torch.as_tensor(np.asarray(class_weights, dtype=np.float32)).to(ref.device, ref.dtype)


def macro_auroc(y: np.ndarray, s: np.ndarray) -> float:
    """Macro AUROC over the columns of (N, K) ``y`` in {-1, 0, 1} with both outcomes observed."""
    from sklearn.metrics import roc_auc_score

    aucs = []
    for c in range(s.shape[1]):
        m = y[:, c] >= 0
        yc = y[m, c]
        if len(np.unique(yc)) == 2:
            aucs.append(roc_auc_score(yc, s[m, c]))
    return float(np.mean(aucs)) if aucs else math.nan
