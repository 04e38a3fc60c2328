"""Classification kinds: ``binary`` (one logit), ``multiclass`` (K logits, softmax) and
``multilabel`` (K logits, sigmoid per label).

* binary: targets int64 in {0, 1}, ``-1`` = missing; BCE-with-logits; score = sigmoid. A head
  with 2 outputs is accepted too (cross-entropy / softmax[:, 1]).
* multiclass: targets int64 class index, ``-1`` = missing; cross-entropy; score = softmax.
* multilabel: targets (B, K) in {0, 1}, ``-1`` or NaN = missing per entry; BCE per label.

Selection scores: ``val_loss`` (minus the loss), ``val_auroc`` (macro AUROC over classes with
both outcomes observed), ``val_acc`` (accuracy of the arg-max / 0.5 decision), ``val_f1``
(micro F1 at 0.5 for multilabel; macro F1 of the arg-max for multiclass).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from climb.core.errors import ClimbError
from climb.tasks.base import TaskKind, TaskSpec, as_weight, macro_auroc, zero_loss
from climb.tasks.registry import register_kind


def micro_f1(y: np.ndarray, s: np.ndarray, thr: float = 0.5) -> float:
    """Micro F1 of ``s >= thr`` over the observed entries (``y >= 0``) of ``y``."""
    obs = y >= 0
    p = (s >= thr) & obs
    tp = float((p & (y == 1)).sum())
    fp = float((p & (y == 0)).sum())
    fn = float(((~p) & (y == 1) & obs).sum())
    return 2 * tp / max(2 * tp + fp + fn, 1.0)


class _Classification(TaskKind):
    default_select = "val_auroc"
    select_metrics: ClassVar[tuple[str, ...]] = ("val_loss", "val_auroc", "val_acc", "val_f1")
    thresholds = True

    def _onehot(self, y: np.ndarray, k: int) -> np.ndarray:
        return y

    def selection_score(self, metric: str, c: dict[str, np.ndarray], loss: float) -> float:
        y, logits = c["y"], c["out"]
        if metric == "val_loss" or len(y) == 0:
            return super().selection_score("val_loss", c, loss)
        s = self.scores(logits)
        if metric == "val_auroc":
            s2 = s if s.ndim == 2 else s[:, None]
            return macro_auroc(self._onehot(y, s2.shape[1]), s2)
        if metric == "val_acc":
            return self._accuracy(y, s)
        if metric == "val_f1":
            return self._f1(y, s)
        return super().selection_score(metric, c, loss)

    def _accuracy(self, y: np.ndarray, s: np.ndarray) -> float:
        raise NotImplementedError

    def _f1(self, y: np.ndarray, s: np.ndarray) -> float:
        raise NotImplementedError


@register_kind
class Binary(_Classification):
    name = "binary"

    def num_outputs(self, spec: TaskSpec) -> int:
        if spec.classes and len(spec.classes) not in (1, 2):
            raise ClimbError(
                f"a binary task has 1 or 2 classes, task {spec.name!r} has {len(spec.classes)}",
                where=f"task {spec.name}",
                fix="use task type 'multiclass' or 'multilabel' for more classes",
            )
        return 1

    def loss(
        self,
        logits: Tensor,
        target: Tensor,
        *,
        class_weights: Any = None,
        spec: TaskSpec | None = None,
    ) -> Tensor:
        weight = as_weight(class_weights, logits)
        if logits.ndim == 2 and logits.shape[1] == 2:
            return _cross_entropy(logits, target, weight, self.name)
        logit = logits.reshape(-1)
        target = target.reshape(-1)
        if logit.shape != target.shape:
            raise ClimbError(
                f"binary logits {tuple(logits.shape)} do not fit targets {tuple(target.shape)}",
                where="binary loss",
                fix="a binary head has one logit per sample",
            )
        valid = target >= 0
        if not bool(valid.any()):
            return zero_loss(logits)
        lg, tg = logit[valid], target[valid].to(logit.dtype)
        if weight is not None and weight.numel() == 2:
            w = torch.where(tg > 0.5, weight[1], weight[0])
            losses = F.binary_cross_entropy_with_logits(lg, tg, reduction="none")
            return (losses * w).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny)
        pos_weight = None if weight is None else weight.reshape(-1)[:1]
        return F.binary_cross_entropy_with_logits(lg, tg, pos_weight=pos_weight)

    def scores(self, logits: Tensor | np.ndarray) -> np.ndarray:
        t = torch.as_tensor(logits).detach().float().cpu()
        if t.ndim == 2 and t.shape[1] == 2:
            out = torch.softmax(t, dim=-1)[:, 1]
        else:
            out = torch.sigmoid(t.reshape(-1))
        return out.numpy().astype(np.float64)

    def _onehot(self, y: np.ndarray, k: int) -> np.ndarray:
        return np.asarray(y).reshape(-1, 1)

    def _accuracy(self, y: np.ndarray, s: np.ndarray) -> float:
        y = np.asarray(y).reshape(-1)
        m = y >= 0
        return float(((s[m] >= 0.5).astype(int) == y[m]).mean()) if m.any() else math.nan

    def _f1(self, y: np.ndarray, s: np.ndarray) -> float:
        return micro_f1(np.asarray(y).reshape(-1), s)


@register_kind
class Multiclass(_Classification):
    name = "multiclass"
    options = ("soft_labels",)
    thresholds = False  # decisions are the arg-max

    def loss(
        self,
        logits: Tensor,
        target: Tensor,
        *,
        class_weights: Any = None,
        spec: TaskSpec | None = None,
    ) -> Tensor:
        if target.dim() == 2 and target.is_floating_point():  # soft targets (distributions)
            return soft_kl(logits, target)
        return _cross_entropy(logits, target, as_weight(class_weights, logits), self.name)

    def scores(self, logits: Tensor | np.ndarray) -> np.ndarray:
        t = torch.as_tensor(logits).detach().float().cpu()
        return torch.softmax(t, dim=-1).numpy().astype(np.float64)

    def _onehot(self, y: np.ndarray, k: int) -> np.ndarray:
        y = np.asarray(y).reshape(-1)
        out = np.full((len(y), k), -1)
        m = (y >= 0) & (y < k)
        out[m] = np.eye(k, dtype=int)[y[m]]
        return out

    def _accuracy(self, y: np.ndarray, s: np.ndarray) -> float:
        y = np.asarray(y).reshape(-1)
        m = y >= 0
        return float((s[m].argmax(1) == y[m]).mean()) if m.any() else math.nan

    def _f1(self, y: np.ndarray, s: np.ndarray) -> float:
        from sklearn.metrics import f1_score

        y = np.asarray(y).reshape(-1)
        m = y >= 0
        if not m.any():
            return math.nan
        return float(f1_score(y[m], s[m].argmax(1), average="macro", zero_division=0))


def soft_kl(logits: Tensor, target: Tensor) -> Tensor:
    """Mean KL(target || softmax(logits)) over the rows with a distribution (rows of -1 are
    ignored); 0 with a gradient when no row has one."""
    if target.shape != logits.shape:
        raise ClimbError(
            f"soft targets {tuple(target.shape)} do not fit the logits {tuple(logits.shape)}",
            where="multiclass loss",
            fix="one probability per class and row (options.soft_labels)",
        )
    valid = (target >= 0).all(1)
    if not bool(valid.any()):
        return logits.sum() * 0.0
    logq = F.log_softmax(logits[valid], dim=1)
    return F.kl_div(logq, target[valid].to(logq.dtype), reduction="batchmean")


@register_kind
class Multilabel(_Classification):
    name = "multilabel"

    def loss(
        self,
        logits: Tensor,
        target: Tensor,
        *,
        class_weights: Any = None,
        spec: TaskSpec | None = None,
    ) -> Tensor:
        weight = as_weight(class_weights, logits)
        target = target.to(logits.dtype)
        if target.shape != logits.shape:
            raise ClimbError(
                f"multilabel logits {tuple(logits.shape)} do not fit targets {tuple(target.shape)}",
                where="multilabel loss",
                fix="targets are (batch, labels) with -1 for missing entries",
            )
        valid = (target >= 0) & ~torch.isnan(target)
        if not bool(valid.any()):
            return zero_loss(logits)
        losses = F.binary_cross_entropy_with_logits(
            logits,
            torch.where(valid, target, torch.zeros_like(target)),
            reduction="none",
            pos_weight=weight,
        )
        return losses[valid].mean()

    def scores(self, logits: Tensor | np.ndarray) -> np.ndarray:
        t = torch.as_tensor(logits).detach().float().cpu()
        return torch.sigmoid(t).numpy().astype(np.float64)

    def _accuracy(self, y: np.ndarray, s: np.ndarray) -> float:
        m = y >= 0
        return float(((s >= 0.5).astype(int) == y)[m].mean()) if m.any() else math.nan

    def _f1(self, y: np.ndarray, s: np.ndarray) -> float:
        return micro_f1(np.nan_to_num(np.asarray(y, dtype=np.float64), nan=-1), s)


def _cross_entropy(logits: Tensor, target: Tensor, weight: Tensor | None, kind: str) -> Tensor:
    target = target.reshape(-1).long()
    valid = target >= 0
    if not bool(valid.any()):
        return zero_loss(logits)
    lg, tg = logits[valid], target[valid]
    if logits.shape[1] <= int(tg.max()):
        raise ClimbError(
            f"target class {int(tg.max())} out of range for {logits.shape[1]} logits",
            where=f"{kind} loss",
            fix="check the label space / number of outputs of the head",
        )
    losses = F.cross_entropy(lg, tg, reduction="none")
    if weight is None:
        return losses.mean()
    w = weight[tg]
    return (losses * w).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny)


__all__ = ["Binary", "Multiclass", "Multilabel", "micro_f1", "nn"]
