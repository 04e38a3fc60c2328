"""``per_frame``: one label per frame (or second) of a video, e.g. Cholec80's surgical phase
(7 classes, multiclass per frame) and tool presence (7 labels, multilabel per frame).

A store declares such a task with ``type: multiclass | multilabel`` and ``level: frame``; its
targets are a ragged field aligned with the video's frames (``field``; ``ignore_index`` marks
unknown frames: -1 for phases, 255 for tools). The batch's collation mask of that field marks
padding, which is ignored like unknown frames. The encoder gives per-frame features (an encoder
with ``forward_frames``, e.g. ``frame_pool``); the head maps every frame's features to K logits.

Metrics over all known frames of the split, with percentile bootstrap intervals over patients
(all frames of a drawn video enter together): multiclass -> accuracy, macro F1, balanced
accuracy, macro AUROC (``compute_metrics``) and ``jaccard`` (mean over phases of the frame-level
IoU of the arg-max prediction); multilabel -> per-tool and macro AUROC / AUPRC (macro AUPRC is
the tool mAP of the literature). Selection: ``val_acc`` (multiclass), ``val_auroc``, ``val_loss``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from climb.core.errors import ClimbError
from climb.tasks.base import TaskKind, TaskSpec
from climb.tasks.classification import Multiclass, Multilabel
from climb.tasks.registry import get_kind, register_kind


class FrameHead(nn.Module):
    """A :class:`climb.models.heads.Head` applied to every frame: (B, T, D) -> (B, T, K)."""

    def __init__(self, head: nn.Module) -> None:
        super().__init__()
        self.head = head

    def forward(self, x: Tensor) -> Tensor:
        b, t, d = x.shape
        return self.head(x.reshape(b * t, d)).reshape(b, t, -1)


@register_kind
class PerFrame(TaskKind):
    name = "per_frame"
    options = ("frame_type", "ignore_index")
    features = "frames"
    default_select = "val_auroc"
    select_metrics: ClassVar[tuple[str, ...]] = ("val_loss", "val_auroc", "val_acc", "val_f1")
    thresholds = False

    @staticmethod
    def frame_kind(spec: TaskSpec) -> Any:
        sub = spec.options.get("frame_type", "multiclass")
        if sub not in ("multiclass", "multilabel"):
            raise ClimbError(
                f"per-frame task {spec.name!r} has type {sub!r}",
                where=f"task {spec.name}",
                fix="per-frame tasks are multiclass or multilabel",
            )
        return get_kind(sub)

    def target(self, batch: dict[str, Any], spec: TaskSpec) -> Tensor:
        f = spec.target_field
        if f is None or f not in batch["inputs"]:
            raise ClimbError(
                f"per-frame task {spec.name!r}: its label field {f!r} is not in the batch",
                where=f"task {spec.name}",
                fix="the store's task spec names the ragged label field ('field')",
            )
        y = batch["inputs"][f]
        mask = (batch.get("masks") or {}).get(f)
        ignore = spec.options.get("ignore_index", -1)
        sub = spec.options.get("frame_type", "multiclass")
        if sub == "multiclass":
            y = y.long()
            if y.ndim == 3:
                y = y[..., 0]
            y = torch.where(y == int(ignore), torch.full_like(y, -1), y)
            if mask is not None:
                y = torch.where(mask, y, torch.full_like(y, -1))
            return y
        y = y.float()
        y = torch.where(y == float(ignore), torch.full_like(y, -1.0), y)
        if mask is not None:
            y = torch.where(mask.unsqueeze(-1), y, torch.full_like(y, -1.0))
        return y

    def build_head(
        self, spec: TaskSpec, in_dim: int, *, hidden: int | None = None, dropout: float = 0.0
    ) -> nn.Module:
        from climb.models.heads import Head

        return FrameHead(Head(self.name, in_dim, spec.num_classes, hidden, dropout))

    def _flat(self, logits: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        k = logits.shape[-1]
        if logits.shape[1] != target.shape[1]:
            raise ClimbError(
                f"per-frame outputs for {logits.shape[1]} frames, labels for {target.shape[1]}",
                where="per_frame loss",
                fix="collate the video and its label field with the same policy (data.ragged)",
            )
        lg = logits.reshape(-1, k)
        tg = target.reshape(lg.shape[0], -1) if target.ndim == 3 else target.reshape(-1)
        return lg, tg

    def loss(
        self,
        logits: Tensor,
        target: Tensor,
        *,
        class_weights: Any = None,
        spec: TaskSpec | None = None,
    ) -> Tensor:
        lg, tg = self._flat(logits, target)
        sub: TaskKind = get_kind("multilabel" if tg.ndim == 2 else "multiclass")
        return sub.loss(lg, tg, class_weights=class_weights)

    def collect(self, logits: Tensor, target: Tensor) -> dict[str, np.ndarray]:
        lg, tg = self._flat(logits.float(), target)
        rows = torch.arange(target.shape[0], device=target.device).repeat_interleave(
            target.shape[1]
        )
        known = (tg >= 0).any(1) if tg.ndim == 2 else tg >= 0
        return {
            "y": tg[known].cpu().numpy(),
            "out": lg[known].detach().cpu().numpy(),
            "row": rows[known].cpu().numpy(),
        }

    def _sub(self, c: dict[str, np.ndarray]) -> Any:
        return get_kind("multilabel" if np.asarray(c["y"]).ndim == 2 else "multiclass")

    def scores(self, logits: Tensor | np.ndarray) -> np.ndarray:
        t = torch.as_tensor(logits).detach().float().cpu()
        return torch.softmax(t, dim=-1).numpy().astype(np.float64)

    def selection_score(self, metric: str, c: dict[str, np.ndarray], loss: float) -> float:
        if len(c["y"]) == 0:
            return math.nan
        return self._sub(c).selection_score(metric, {"y": c["y"], "out": c["out"]}, loss)

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
        from climb.tasks.metrics import compute_metrics

        sub = self._sub(c)
        fg = None if groups is None else np.asarray(groups)[c["row"]]
        rows = compute_metrics(
            sub.name,
            c["y"],
            sub.scores(c["out"]),
            classes=spec.classes or [spec.name],
            groups=fg,
            n_boot=n_boot,
            seed=seed,
            ci=ci,
        )
        note = "per frame; bootstrap over patients (all frames of a video together)"
        rows = [replace(r, note="; ".join(x for x in (r.note, note) if x)) for r in rows]
        if isinstance(sub, Multiclass):
            rows.append(jaccard(c["y"], c["out"], len(spec.classes), fg, n_boot, seed, ci))
        elif not isinstance(sub, Multilabel):  # pragma: no cover - two sub-kinds only
            raise ClimbError(f"unknown per-frame sub-kind {sub.name}")
        return rows


def jaccard(
    y: np.ndarray,
    logits: np.ndarray,
    k: int,
    groups: np.ndarray | None,
    n_boot: int,
    seed: int,
    ci: float,
) -> Any:
    """Mean over classes of the frame-level IoU of the arg-max prediction (classes absent from
    both prediction and truth left out), with a percentile bootstrap over ``groups``."""
    from climb.tasks.metrics import MetricResult, bootstrap_weights

    pred = np.asarray(logits).argmax(1)
    y = np.asarray(y).reshape(-1)
    n = len(y)
    w = np.vstack([np.ones((1, n)), bootstrap_weights(n, n_boot, seed, groups)])
    vals = []
    for c in range(k):
        p, t = pred == c, y == c
        tp = w @ (p & t).astype(np.float64)
        den = w @ (p | t).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            vals.append(np.where(den > 0, tp / np.where(den > 0, den, 1), np.nan))
    v = np.vstack(vals)  # (k, R)
    with np.errstate(invalid="ignore"):
        defined = np.isfinite(v)
        mean = np.where(defined.any(0), np.nansum(v, 0) / np.maximum(defined.sum(0), 1), np.nan)
    boot = mean[1:][np.isfinite(mean[1:])]
    a = (1 - ci) / 2
    lo, hi = (
        (float(x) for x in np.quantile(boot, [a, 1 - a])) if len(boot) >= 2 else (math.nan,) * 2
    )
    return MetricResult(
        "jaccard",
        float(mean[0]),
        lo,
        hi,
        n,
        len(boot),
        None,
        "mean over classes of the frame-level IoU (arg-max); bootstrap over patients",
    )


__all__ = ["FrameHead", "PerFrame", "jaccard"]
