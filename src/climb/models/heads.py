"""Task heads, masked losses and score conversion for the four task types.

Conventions (shared with :mod:`climb.evaluate`):

* ``binary``: **one logit** (the positive class), loss = BCE-with-logits, score = sigmoid.
  Targets int64 in {0, 1}, ``-1`` = missing. (Logits with 2 columns are accepted too and then
  use cross-entropy / softmax[:, 1], so a 2-output head also works.)
* ``multiclass``: K logits, cross-entropy, score = softmax. Targets int64 class index, ``-1``
  = missing.
* ``multilabel``: K logits, BCE-with-logits per label, score = sigmoid per label. Targets
  float/int ``(B, K)`` in {0, 1}, ``-1`` (or NaN) = missing per entry.
* ``regression``: K outputs, MSE, score = raw output. Targets float ``(B,)`` or ``(B, K)``,
  NaN = missing.

Missing targets contribute nothing; losses are means over the observed targets (weighted means
with class weights). A batch with no observed target gives a loss of exactly 0 that still has a
gradient path (``logits.sum() * 0``), never NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from climb.errors import ClimbError

TASK_TYPES = ("binary", "multiclass", "multilabel", "regression")


def check_task_type(task_type: str) -> str:
    if task_type not in TASK_TYPES:
        raise ClimbError(
            f"unknown task type '{task_type}'",
            where="climb.models.heads",
            fix=f"use one of {', '.join(TASK_TYPES)}",
        )
    return task_type


def num_logits(task_type: str, num_classes: int) -> int:
    """Number of head outputs for a task with ``num_classes`` classes / labels / targets."""
    check_task_type(task_type)
    return 1 if task_type == "binary" else num_classes


class Head(nn.Module):
    """``[Dropout] -> Linear`` or ``[Dropout] -> Linear(in, hidden) -> GELU -> Dropout -> Linear``."""

    def __init__(
        self, task_type: str, in_dim: int, num_outputs: int, hidden: int | None, dropout: float
    ) -> None:
        super().__init__()
        self.task_type = task_type
        self.in_dim = in_dim
        self.num_outputs = num_outputs
        layers: list[nn.Module] = []
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        if hidden:
            layers += [nn.Linear(in_dim, hidden), nn.GELU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            layers.append(nn.Linear(hidden, num_outputs))
        else:
            layers.append(nn.Linear(in_dim, num_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, features: Tensor) -> Tensor:
        return self.net(features)


def build_head(
    task_type: str,
    in_dim: int,
    num_outputs: int,
    hidden: int | None = None,
    dropout: float = 0.0,
) -> nn.Module:
    """A head mapping ``(B, in_dim)`` features to logits.

    ``num_outputs`` is the number of classes / labels / regression targets; for ``binary`` it may
    be 1 or 2 (the two class names) and the head always has a single logit (see module docs).
    """
    check_task_type(task_type)
    if task_type == "binary":
        if num_outputs not in (1, 2):
            raise ClimbError(
                f"a binary task has 1 or 2 classes, got num_outputs={num_outputs}",
                where="build_head('binary', ...)",
                fix="use task type 'multiclass' or 'multilabel' for more classes",
            )
        num_outputs = 1
    if num_outputs < 1 or in_dim < 1:
        raise ClimbError(
            f"bad head size in_dim={in_dim}, num_outputs={num_outputs}",
            where=f"build_head({task_type!r}, ...)",
            fix="both must be positive",
        )
    return Head(task_type, in_dim, num_outputs, hidden, dropout)


def _zero(logits: Tensor) -> Tensor:
    return logits.sum() * 0.0


def _as_weight(
    class_weights: Tensor | Sequence[float] | np.ndarray | None, ref: Tensor
) -> Tensor | None:
    if class_weights is None:
        return None
    return torch.as_tensor(np.asarray(class_weights, dtype=np.float32)).to(ref.device, ref.dtype)


def task_loss(
    task_type: str,
    logits: Tensor,
    target: Tensor,
    *,
    class_weights: Tensor | Sequence[float] | np.ndarray | None = None,
) -> Tensor:
    """Masked loss for ``task_type`` (conventions in the module docstring).

    ``class_weights``: multiclass -> per-class CE weights (K,); multilabel -> per-label
    ``pos_weight`` (K,); binary -> ``pos_weight`` (scalar or (1,)) for one logit, or per-class
    weights (2,) (negative, positive); regression -> per-target weights (K,) of the squared error.
    """
    check_task_type(task_type)
    weight = _as_weight(class_weights, logits)
    if task_type == "multiclass" or (
        task_type == "binary" and logits.ndim == 2 and logits.shape[1] == 2
    ):
        target = target.reshape(-1).long()
        valid = target >= 0
        if not bool(valid.any()):
            return _zero(logits)
        lg, tg = logits[valid], target[valid]
        if logits.shape[1] <= int(tg.max()):
            raise ClimbError(
                f"target class {int(tg.max())} out of range for {logits.shape[1]} logits",
                where=f"task_loss({task_type!r})",
                fix="check the label space / num_outputs of the head",
            )
        losses = F.cross_entropy(lg, tg, reduction="none")
        if weight is None:
            return losses.mean()
        w = weight[tg]
        return (losses * w).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny)

    if task_type == "binary":
        logit = logits.reshape(-1)
        target = target.reshape(-1)
        if logit.shape != target.shape:
            raise ClimbError(
                f"binary logits {tuple(logits.shape)} do not fit targets {tuple(target.shape)}",
                where="task_loss('binary')",
                fix="a binary head has one logit per sample",
            )
        valid = target >= 0
        if not bool(valid.any()):
            return _zero(logits)
        lg, tg = logit[valid], target[valid].to(logit.dtype)
        if weight is not None and weight.numel() == 2:
            w = torch.where(tg > 0.5, weight[1], weight[0])
            losses = F.binary_cross_entropy_with_logits(lg, tg, reduction="none")
            return (losses * w).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny)
        pos_weight = None if weight is None else weight.reshape(-1)[:1]
        return F.binary_cross_entropy_with_logits(lg, tg, pos_weight=pos_weight)

    if task_type == "multilabel":
        target = target.to(logits.dtype)
        if target.shape != logits.shape:
            raise ClimbError(
                f"multilabel logits {tuple(logits.shape)} do not fit targets {tuple(target.shape)}",
                where="task_loss('multilabel')",
                fix="targets are (batch, labels) with -1 for missing entries",
            )
        valid = (target >= 0) & ~torch.isnan(target)
        if not bool(valid.any()):
            return _zero(logits)
        losses = F.binary_cross_entropy_with_logits(
            logits,
            torch.where(valid, target, torch.zeros_like(target)),
            reduction="none",
            pos_weight=weight,
        )
        return losses[valid].mean()

    # regression
    target = target.to(logits.dtype)
    if target.ndim == 1 and logits.ndim == 2 and logits.shape[1] == 1:
        target = target.unsqueeze(1)
    if target.shape != logits.shape:
        raise ClimbError(
            f"regression outputs {tuple(logits.shape)} do not fit targets {tuple(target.shape)}",
            where="task_loss('regression')",
            fix="one output per regression target",
        )
    valid = ~torch.isnan(target)
    if not bool(valid.any()):
        return _zero(logits)
    sq = (logits - torch.where(valid, target, torch.zeros_like(target))) ** 2
    if weight is not None:
        w = weight.expand_as(sq)[valid]
        return (sq[valid] * w).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny)
    return sq[valid].mean()


def predict_scores(task_type: str, logits: Tensor | np.ndarray) -> np.ndarray:
    """Scores for :func:`climb.evaluate.compute_metrics` as float64 numpy.

    multiclass -> softmax ``(N, K)``; multilabel -> sigmoid ``(N, K)``; binary -> P(positive)
    ``(N,)``; regression -> raw outputs (``(N,)`` for one target, else ``(N, K)``).
    """
    check_task_type(task_type)
    t = torch.as_tensor(logits).detach().float().cpu()
    if task_type == "multiclass":
        out = torch.softmax(t, dim=-1)
    elif task_type == "multilabel":
        out = torch.sigmoid(t)
    elif task_type == "binary":
        out = (
            torch.softmax(t, dim=-1)[:, 1]
            if t.ndim == 2 and t.shape[1] == 2
            else torch.sigmoid(t.reshape(-1))
        )
    else:
        out = t.reshape(-1) if t.ndim == 2 and t.shape[1] == 1 else t
    return out.numpy().astype(np.float64)
