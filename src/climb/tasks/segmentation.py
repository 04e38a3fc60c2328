"""``segmentation``: 2-D masks (BUSI ``lesion_segmentation``, BCSS ``segmentation``, Brain CT
Hemorrhage ``segmentation``: the ``mask`` field of docs/imaging.md, "Segmentation masks").

Targets come from the task's mask field (uint8 codes, 255 = unknown pixel). Model: the kind
builds a dense network for its field, :class:`climb.models.segmentation.SegmentationNet` (a timm
encoder with ``features_only`` and a light U-Net decoder), from ``model.encoders.<field|image>``
(``name``; ``kwargs``: ``weights``, ``decoder_channels``, ``dropout`` and timm arguments).
Loss (task options ``ce_weight``, ``dice_weight``, ``dice_smooth``): ``ce_weight`` x
cross-entropy (ignore 255, mean over the known pixels) + ``dice_weight`` x (1 - soft Dice
averaged over the classes, over known pixels). Selection: ``val_dice`` (mean foreground Dice).

Metrics (:func:`segmentation_metrics`): per image and class, over its known pixels (not 255),
Dice = 2TP / (2TP + FP + FN) and IoU = TP / (TP + FP + FN), undefined (NaN, left out) when the
class is absent from both the prediction and the truth of that image; a class's value is the
mean over the images where it is defined; ``dice`` / ``iou`` aggregate rows are the mean over
the foreground classes (every class but code 0); ``pixel_accuracy`` is the per-image share of
known pixels predicted right, averaged over images. 95% intervals: percentile bootstrap over
patients (the images of a drawn patient all enter; per-image scores averaged per resample).
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from climb.core.errors import ClimbError
from climb.tasks.base import TaskKind, TaskSpec
from climb.tasks.registry import register_kind

if TYPE_CHECKING:
    from climb.tasks.metrics import MetricResult

IGNORE_INDEX = 255


def segmentation_loss(
    logits: Tensor,
    target: Tensor,
    *,
    ce_weight: float = 1.0,
    dice_weight: float = 1.0,
    smooth: float = 1.0,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """``ce_weight`` x CE (mean over known pixels) + ``dice_weight`` x (1 - soft Dice).

    ``logits`` (B, K, H, W), ``target`` (B, H, W) int64 codes with ``ignore_index`` = unknown.
    Soft Dice per class over the known pixels of the batch, ``(2 I + s) / (P + T + s)``, averaged
    over the K classes. A batch without known pixels contributes 0 (and zero gradients)."""
    logits = logits.float()
    valid = target != ignore_index
    n_known = valid.sum()
    total = logits.new_zeros(())
    if ce_weight > 0:
        ce = F.cross_entropy(logits, target, ignore_index=ignore_index, reduction="sum")
        total = total + ce_weight * ce / n_known.clamp_min(1)
    if dice_weight > 0:
        k = logits.shape[1]
        v = valid.unsqueeze(1).to(logits.dtype)
        probs = logits.softmax(1) * v
        onehot = F.one_hot(torch.where(valid, target, 0), k).permute(0, 3, 1, 2).to(logits.dtype)
        onehot = onehot * v
        dims = (0, 2, 3)
        inter = (probs * onehot).sum(dims)
        den = probs.sum(dims) + onehot.sum(dims)
        dice = (2 * inter + smooth) / (den + smooth).clamp_min(1e-8)
        total = total + dice_weight * (1 - dice.mean())
    return total


# ----------------------------------------------------------------------------- metrics


def confusion_counts(
    pred: Tensor | np.ndarray,
    target: Tensor | np.ndarray,
    num_classes: int,
    ignore_index: int = IGNORE_INDEX,
) -> dict[str, np.ndarray]:
    """Per image and class TP / FP / FN over the known pixels, and per image the number of
    known pixels and of right ones. ``pred``/``target`` (N, H, W) (or (N, 1, H, W))."""
    p = torch.as_tensor(pred).long().reshape(len(pred), -1)
    t = torch.as_tensor(target).long().reshape(len(target), -1)
    valid = t != ignore_index
    tp = torch.zeros(len(p), num_classes, dtype=torch.long, device=p.device)
    fp = torch.zeros_like(tp)
    fn = torch.zeros_like(tp)
    for c in range(num_classes):
        pc, tc = (p == c) & valid, (t == c) & valid
        tp[:, c] = (pc & tc).sum(1)
        fp[:, c] = (pc & ~tc).sum(1)
        fn[:, c] = (~pc & tc).sum(1)
    return {
        "tp": tp.cpu().numpy(),
        "fp": fp.cpu().numpy(),
        "fn": fn.cpu().numpy(),
        "known": valid.sum(1).cpu().numpy(),
        "correct": ((p == t) & valid).sum(1).cpu().numpy(),
    }


def image_scores(counts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per image: ``dice`` and ``iou`` (N, K), NaN where the class is in neither prediction nor
    truth; ``pixel_accuracy`` (N,), NaN for an image without known pixels."""
    tp, fp, fn = (counts[k].astype(np.float64) for k in ("tp", "fp", "fn"))
    known = counts["known"].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        den = tp + fp + fn
        dice = np.where(den > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
        iou = np.where(den > 0, tp / den, np.nan)
        acc = np.where(known > 0, counts["correct"] / np.where(known > 0, known, 1), np.nan)
    return {"dice": dice, "iou": iou, "pixel_accuracy": acc}


def _weighted_mean(w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(R, N) weights, (N,) values with NaN = undefined -> (R,) means (NaN: none defined)."""
    d = np.isfinite(v)
    num = w @ np.where(d, v, 0.0)
    den = w @ d.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _summary(
    metric: str, cls: str | None, vals: np.ndarray, n: int, ci: float, note: str
) -> MetricResult:
    from climb.tasks.metrics import MetricResult

    value = float(vals[0])
    if not np.isfinite(value):
        return MetricResult(metric, math.nan, math.nan, math.nan, n, 0, cls,
                            "; ".join(x for x in ("undefined: no image where it is defined", note) if x))  # fmt: skip
    boot = vals[1:]
    ok = boot[np.isfinite(boot)]
    notes = [note] if note else []
    if len(ok) < len(boot):
        notes.append(f"bootstrap: {len(boot) - len(ok)} of {len(boot)} replicates undefined")
    lo = hi = math.nan
    if len(ok) >= 2:
        a = (1 - ci) / 2
        lo, hi = (float(x) for x in np.quantile(ok, [a, 1 - a]))
    return MetricResult(metric, value, lo, hi, n, len(ok), cls, "; ".join(notes))


def segmentation_metrics(
    counts: dict[str, np.ndarray],
    classes: list[str],
    *,
    groups: np.ndarray | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    ci: float = 0.95,
) -> list[MetricResult]:
    """Per-class ``dice`` / ``iou``, their means over the foreground classes (``class_name``
    None) and ``pixel_accuracy``, with percentile bootstrap intervals over ``groups``
    (patients; over images when None). See the module doc for the definitions."""
    from climb.tasks.metrics import bootstrap_weights

    sc = image_scores(counts)
    n = len(sc["pixel_accuracy"])
    w = np.vstack([np.ones((1, n)), bootstrap_weights(n, n_boot, seed, groups)])
    unit = "patients" if groups is not None else "images"
    boot_note = f"per-image mean; bootstrap over {unit}" if n_boot else "per-image mean"
    out: list[MetricResult] = []
    fg = list(range(1, len(classes))) if len(classes) > 1 else [0]
    for metric in ("dice", "iou"):
        per_class = np.stack([_weighted_mean(w, sc[metric][:, c]) for c in range(len(classes))], 1)
        for c, name in enumerate(classes):
            n_def = int(np.isfinite(sc[metric][:, c]).sum())
            out.append(_summary(metric, name, per_class[:, c], n_def, ci, boot_note))
        used = [c for c in fg if np.isfinite(per_class[0, c])]
        left = [classes[c] for c in fg if c not in used]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            macro = np.nanmean(per_class[:, used], axis=1) if used else np.full(len(w), np.nan)
        note = f"mean over {len(used)} foreground class(es)"
        if left:
            note += f"; left out (undefined on every image): {', '.join(left)}"
        n_img = int(np.isfinite(sc[metric][:, used]).any(1).sum()) if used else 0
        out.append(_summary(metric, None, macro, n_img, ci, f"{note}; {boot_note}"))
    acc = sc["pixel_accuracy"]
    n_acc = int(np.isfinite(acc).sum())
    note = f"known pixels only; {boot_note}"
    out.append(_summary("pixel_accuracy", None, _weighted_mean(w, acc), n_acc, ci, note))
    return out


def mean_foreground_dice(counts: dict[str, np.ndarray], num_classes: int) -> float:
    """Point estimate of the ``dice`` aggregate (model selection on the validation split)."""
    d = image_scores(counts)["dice"]
    fg = list(range(1, num_classes)) if num_classes > 1 else [0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        per = np.nanmean(d[:, fg], axis=0)
        v = np.nanmean(per) if np.isfinite(per).any() else math.nan
    return float(v)


def check_codes(mask: Tensor, k: int) -> None:
    bad = (mask >= k) & (mask != IGNORE_INDEX)
    if bool(bad.any()):
        raise ClimbError(
            f"mask codes {sorted(set(mask[bad].unique().tolist()))[:5]} outside 0..{k - 1} "
            f"(and {IGNORE_INDEX} = unknown)",
            fix="check the store's segmentation classes",
        )


@register_kind
class Segmentation(TaskKind):
    name = "segmentation"
    options = ("ce_weight", "dice_weight", "dice_smooth")
    features = "dense"
    default_select = "val_dice"
    select_metrics: ClassVar[tuple[str, ...]] = ("val_loss", "val_dice")

    def target(self, batch: dict[str, Any], spec: TaskSpec) -> Tensor:
        if spec.target_field is None:
            raise ClimbError(f"segmentation task {spec.name!r} names no mask field")
        mask = batch["inputs"][spec.target_field]
        mask = mask[:, 0] if mask.ndim == 4 else mask
        mask = mask.long()
        check_codes(mask, spec.num_classes)
        return mask

    def build_head(
        self, spec: TaskSpec, in_dim: int, *, hidden: int | None = None, dropout: float = 0.0
    ) -> nn.Module:
        return nn.Identity()  # the dense network (encoder + decoder) outputs the logits

    def build_dense(
        self, spec: TaskSpec, in_chans: int, name: str | None, **kwargs: Any
    ) -> nn.Module:
        from climb.models.segmentation import DEFAULT_SEGMENTATION_ENCODER, SegmentationNet

        return SegmentationNet(
            spec.num_classes, in_chans, name or DEFAULT_SEGMENTATION_ENCODER, **kwargs
        )

    def loss(
        self,
        logits: Tensor,
        target: Tensor,
        *,
        class_weights: Any = None,
        spec: TaskSpec | None = None,
    ) -> Tensor:
        o = spec.options if spec is not None else {}
        return segmentation_loss(
            logits,
            target,
            ce_weight=float(o.get("ce_weight", 1.0)),
            dice_weight=float(o.get("dice_weight", 1.0)),
            smooth=float(o.get("dice_smooth", 1.0)),
        )

    def collect(self, logits: Tensor, target: Tensor) -> dict[str, np.ndarray]:
        return confusion_counts(logits.argmax(1), target, logits.shape[1])

    def selection_score(self, metric: str, c: dict[str, np.ndarray], loss: float) -> float:
        if metric == "val_dice":
            return mean_foreground_dice(c, c["tp"].shape[1]) if len(c["tp"]) else math.nan
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
        return segmentation_metrics(c, spec.classes, groups=groups, n_boot=n_boot, seed=seed, ci=ci)


__all__ = [
    "IGNORE_INDEX",
    "Segmentation",
    "confusion_counts",
    "image_scores",
    "mean_foreground_dice",
    "segmentation_loss",
    "segmentation_metrics",
    "torch",
    "warnings",
]
