"""``regression``: K real-valued outputs; targets float ``(B,)`` or ``(B, K)``, NaN = missing.

Loss ``mse`` (default) or ``l1`` (``loss: l1`` in the task's options, i.e. ``data.tasks[].loss``);
scores are the raw outputs; metrics MAE, RMSE, R² and Pearson r with bootstrap CIs
(:mod:`climb.tasks.metrics`). Selection: ``val_loss`` (default) or ``val_mae``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from climb.core.errors import ClimbError
from climb.tasks.base import TaskKind, TaskSpec, as_weight, zero_loss
from climb.tasks.registry import register_kind


@register_kind
class Regression(TaskKind):
    name = "regression"
    options = ("loss",)
    default_select = "val_loss"
    select_metrics: ClassVar[tuple[str, ...]] = ("val_loss", "val_mae")

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
        if target.ndim == 1 and logits.ndim == 2 and logits.shape[1] == 1:
            target = target.unsqueeze(1)
        if target.shape != logits.shape:
            raise ClimbError(
                f"regression outputs {tuple(logits.shape)} do not fit targets {tuple(target.shape)}",
                where="regression loss",
                fix="one output per regression target",
            )
        valid = ~torch.isnan(target)
        if not bool(valid.any()):
            return zero_loss(logits)
        diff = logits - torch.where(valid, target, torch.zeros_like(target))
        kind = (spec.options.get("loss") if spec is not None else None) or "mse"
        if kind not in ("mse", "l1"):
            raise ClimbError(
                f"unknown regression loss {kind!r}", where="data.tasks[].loss", fix="mse or l1"
            )
        err = diff.abs() if kind == "l1" else diff**2
        if weight is not None:
            w = weight.expand_as(err)[valid]
            return (err[valid] * w).sum() / w.sum().clamp_min(torch.finfo(w.dtype).tiny)
        return err[valid].mean()

    def init_head(self, head: nn.Module, train_targets: np.ndarray | None) -> None:
        """Start the output layer's bias at the training mean of each target, so that the
        first steps fit the variation rather than the offset (an ejection fraction of 20-80 %
        from outputs near 0)."""
        if train_targets is None:
            return
        y = np.asarray(train_targets, dtype=np.float64)
        y = y.reshape(len(y), -1)
        last = [m for m in head.modules() if isinstance(m, nn.Linear)]
        if not last or last[-1].bias is None or last[-1].out_features != y.shape[1]:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a column without values
            mean = np.nanmean(y, axis=0) if len(y) else np.zeros(y.shape[1])
        mean = np.where(np.isfinite(mean), mean, 0.0)
        with torch.no_grad():
            last[-1].bias.copy_(torch.as_tensor(mean, dtype=last[-1].bias.dtype))

    def scores(self, logits: Tensor | np.ndarray) -> np.ndarray:
        t = torch.as_tensor(logits).detach().float().cpu()
        out = t.reshape(-1) if t.ndim == 2 and t.shape[1] == 1 else t
        return out.numpy().astype(np.float64)

    def selection_score(self, metric: str, c: dict[str, np.ndarray], loss: float) -> float:
        y, logits = c["y"], c["out"]
        if metric == "val_mae":
            s = self.scores(logits)
            yy = np.asarray(y, dtype=np.float64).reshape(s.shape)
            m = np.isfinite(yy)
            return -float(np.abs(s[m] - yy[m]).mean()) if m.any() else math.nan
        return super().selection_score(metric, c, loss)


__all__ = ["F", "Regression"]
