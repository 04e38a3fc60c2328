"""Segmentation training for ``climb train``: 2-D masks of imaging stores (BUSI
``lesion_segmentation``, BCSS ``segmentation``, Brain CT Hemorrhage ``segmentation``; the
``mask`` field of docs/imaging.md, "Segmentation masks"). docs/training.md, "Segmentation".

A config routes here with ``kind: segmentation`` (see configs/busi_segmentation.yaml)::

    kind: segmentation
    run: {name: busi_seg, seed: 0, threads: 1, device: auto}    # auto: cuda > cpu
    data: {root: null, dataset: busi, task: lesion_segmentation, batch_size: 16,
           val_fraction: 0.1, hflip: 0.5}
    model: {encoder: convnextv2_atto, weights: null, decoder_channels: 32}
    loss: {ce_weight: 1.0, dice_weight: 1.0}
    optim: {lr: 1.0e-3, weight_decay: 0.05, warmup_steps: 50, grad_clip: 1.0}
    train: {epochs: 30, max_steps: null, patience: null, amp: true}
    evaluate: {n_boot: 1000, seed: 0, splits: [test]}

Model: :class:`climb.models.segmentation.SegmentationNet` (timm encoder, ``features_only``, and a
U-Net-style decoder). Loss: ``ce_weight`` x cross-entropy (``ignore_index`` 255, mean over the
known pixels) + ``dice_weight`` x (1 - soft Dice averaged over the classes, over known pixels).
The checkpoint with the best validation mean foreground Dice is kept and evaluated.

Metrics (:func:`segmentation_metrics`): per image and class, over its known pixels (not 255),
Dice = 2TP / (2TP + FP + FN) and IoU = TP / (TP + FP + FN), undefined (NaN, left out) when the
class is absent from both the prediction and the truth of that image; a class's value is the
mean over the images where it is defined; ``dice`` / ``iou`` aggregate rows are the mean over
the foreground classes (every class but code 0); ``pixel_accuracy`` is the per-image share of
known pixels predicted right, averaged over images. 95% intervals: percentile bootstrap over
patients (the images of a drawn patient all enter; per-image scores averaged per resample).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from climb.errors import ClimbError

if TYPE_CHECKING:  # climb.evaluate.metrics imports scikit-learn: loaded when used
    from climb.evaluate.metrics import MetricResult

IGNORE_INDEX = 255

DEFAULTS: dict[str, Any] = {
    "kind": "segmentation",
    "run": {"name": "segmentation", "seed": 0, "threads": 1, "device": "auto"},
    "data": {
        "root": None,
        "dataset": None,
        "store": None,
        "task": None,
        "field": "image",
        "batch_size": 16,
        "eval_batch_size": 32,
        "val_fraction": None,
        "hflip": 0.5,
    },
    "model": {
        "encoder": "convnextv2_atto",
        "weights": None,
        "decoder_channels": 32,
        "dropout": 0.0,
        "encoder_kwargs": {},
    },
    "loss": {"ce_weight": 1.0, "dice_weight": 1.0, "dice_smooth": 1.0},
    "optim": {
        "lr": 1.0e-3,
        "weight_decay": 0.05,
        "warmup_steps": 50,
        "min_lr": 0.0,
        "grad_clip": 1.0,
    },
    "train": {"epochs": 30, "max_steps": None, "patience": None, "amp": True},
    "evaluate": {"n_boot": 1000, "seed": 0, "ci": 0.95, "splits": ["test"]},
}
_FREE = ("encoder_kwargs",)  # dict values passed through as they are


# ----------------------------------------------------------------------------- config


def _merge(base: dict[str, Any], over: dict[str, Any], where: str = "") -> dict[str, Any]:
    import difflib

    out = copy.deepcopy(base)
    for k, v in over.items():
        if k not in base:
            m = difflib.get_close_matches(str(k), list(base), n=1)
            hint = f" (did you mean '{where}{m[0]}'?)" if m else ""
            raise ClimbError(
                f"unknown key '{where}{k}' in a segmentation config{hint}",
                fix=f"known keys here: {', '.join(sorted(base))}",
            )
        if isinstance(base[k], dict) and k not in _FREE:
            if not isinstance(v, dict):
                raise ClimbError(
                    f"'{where}{k}' must be a mapping, got {v!r}",
                    fix=f"keys: {', '.join(sorted(base[k]))}",
                )
            out[k] = _merge(base[k], v, f"{where}{k}.")
        else:
            out[k] = v
    return out


def _apply_override(data: dict[str, Any], item: str) -> None:
    """``a.b=value`` (YAML value) into the raw mapping; unknown keys fail in :func:`_merge`."""
    import yaml

    key, sep, raw = item.partition("=")
    parts = [p for p in key.strip().split(".") if p]
    if not sep or not parts:
        raise ClimbError(
            f"bad --set {item!r}", fix="use --set key.path=value, e.g. --set optim.lr=3e-4"
        )
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    node = data
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[parts[-1]] = value


def is_segmentation_config(path: str | Path) -> bool:
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and data.get("kind") == "segmentation"


def _num(cfg: dict[str, Any], key: str, *, kind: type = float, low: float | None = None,
         high: float | None = None, open_low: bool = False, none: bool = False) -> None:  # fmt: skip
    sec, name = key.split(".")
    v = cfg[sec][name]
    if v is None and none:
        return
    if isinstance(v, str):  # YAML 1.1 reads 3e-4 (no dot) as a string
        with contextlib.suppress(ValueError):
            v = float(v)
    ok = isinstance(v, (int, float)) and not isinstance(v, bool)
    if ok and kind is int:
        ok = float(v).is_integer()
    if ok:
        ok = (low is None or (v > low if open_low else v >= low)) and (high is None or v <= high)
    if not ok:
        rng = f"{'(' if open_low else '['}{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"  # fmt: skip
        raise ClimbError(
            f"bad value {key}={v!r}",
            fix=f"{'an integer' if kind is int else 'a number'} in {rng}"
            + (" or null" if none else ""),
        )
    cfg[sec][name] = kind(v)


def validate_segmentation_config(cfg: dict[str, Any]) -> dict[str, Any]:
    d = cfg["data"]
    if not d["dataset"] and not d["store"]:
        raise ClimbError(
            "a segmentation config needs data.dataset (or data.store)",
            fix="e.g. data: {dataset: busi, task: lesion_segmentation}",
        )
    if d["dataset"] is None:
        d["dataset"] = Path(str(d["store"])).name
    _num(cfg, "data.batch_size", kind=int, low=1)
    _num(cfg, "data.eval_batch_size", kind=int, low=1)
    _num(cfg, "data.val_fraction", low=0.0, high=0.99, open_low=True, none=True)
    _num(cfg, "data.hflip", low=0.0, high=1.0)
    _num(cfg, "model.decoder_channels", kind=int, low=1)
    _num(cfg, "model.dropout", low=0.0, high=0.99)
    _num(cfg, "loss.ce_weight", low=0.0)
    _num(cfg, "loss.dice_weight", low=0.0)
    _num(cfg, "loss.dice_smooth", low=0.0)
    if cfg["loss"]["ce_weight"] + cfg["loss"]["dice_weight"] <= 0:
        raise ClimbError("loss.ce_weight and loss.dice_weight are both 0", fix="set one > 0")
    _num(cfg, "optim.lr", low=0.0, open_low=True)
    _num(cfg, "optim.weight_decay", low=0.0)
    _num(cfg, "optim.warmup_steps", kind=int, low=0)
    _num(cfg, "optim.min_lr", low=0.0)
    _num(cfg, "optim.grad_clip", low=0.0, open_low=True, none=True)
    _num(cfg, "train.epochs", kind=int, low=1)
    _num(cfg, "train.max_steps", kind=int, low=1, none=True)
    _num(cfg, "train.patience", kind=int, low=1, none=True)
    _num(cfg, "run.seed", kind=int)
    _num(cfg, "run.threads", kind=int, low=1)
    _num(cfg, "evaluate.n_boot", kind=int, low=0)
    _num(cfg, "evaluate.seed", kind=int)
    _num(cfg, "evaluate.ci", low=0.0, high=0.999, open_low=True)
    dev = str(cfg["run"]["device"])
    if not (dev in ("auto", "cpu", "cuda") or dev.startswith("cuda:")):
        raise ClimbError(f"bad run.device {dev!r}", fix="auto, cpu, cuda or cuda:N")
    if not isinstance(cfg["train"]["amp"], bool):
        raise ClimbError(f"bad train.amp {cfg['train']['amp']!r}", fix="true or false")
    splits = cfg["evaluate"]["splits"]
    if isinstance(splits, str):
        splits = cfg["evaluate"]["splits"] = [splits]
    bad = [s for s in splits or [] if s not in ("train", "val", "test")]
    if not isinstance(splits, list) or bad:
        raise ClimbError(f"bad evaluate.splits {splits!r}", fix="a list of train, val, test")
    if not isinstance(cfg["model"]["encoder_kwargs"], dict):
        raise ClimbError("model.encoder_kwargs must be a mapping", fix="e.g. {drop_path_rate: 0.1}")
    return cfg


def load_segmentation_config(
    path: str | Path | dict[str, Any], overrides: list[str] | tuple[str, ...] = ()
) -> dict[str, Any]:
    """Read (or take) a ``kind: segmentation`` config, apply ``--set`` overrides, fill the
    defaults and validate; a :class:`ClimbError` names any unknown key or bad value."""
    import yaml

    if isinstance(path, dict):
        data = copy.deepcopy(path)
    else:
        p = Path(path)
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ClimbError(f"config file not found: {p}", fix="pass a YAML config") from exc
        except yaml.YAMLError as exc:
            raise ClimbError(f"config is not valid YAML: {exc}", where=str(p)) from None
    if not isinstance(data, dict):
        raise ClimbError("a segmentation config must be a YAML mapping")
    for o in overrides:
        _apply_override(data, o)
    return validate_segmentation_config(_merge(DEFAULTS, data))


def config_hash(cfg: dict[str, Any]) -> str:
    d = copy.deepcopy(cfg)
    d["data"].pop("root", None)
    d["data"].pop("store", None)
    d["run"].pop("device", None)
    d["run"].pop("threads", None)
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------- loss


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
    from climb.evaluate.metrics import MetricResult

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
    from climb.evaluate.metrics import bootstrap_weights

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


# ----------------------------------------------------------------------------- data


class SegData:
    """One store's image + mask, read batch by batch through :class:`StoreDataset`, with the
    parts (train/val/test positions per split dataset) and the normalization."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        from climb.data import StoreDataset
        from climb.data.dataset import holdout_split
        from climb.data.image_transforms import image_normalize, store_image_stats
        from climb.paths import stores_dir

        d = cfg["data"]
        self.path = (
            Path(d["store"]).expanduser() if d["store"] else stores_dir(d["dataset"], d["root"])
        )
        if not (self.path / "dataset.json").is_file():
            raise ClimbError(
                f"no store at {self.path}",
                fix=f"climb prepare {d['dataset']} (or set data.root / data.store)",
            )
        meta = json.loads((self.path / "dataset.json").read_text(encoding="utf-8"))
        tasks = meta.get("tasks", {})
        seg = {t: s for t, s in tasks.items() if s.get("type") == "segmentation"}
        if not seg:
            raise ClimbError(
                f"store {self.path.name!r} has no segmentation task", where=str(self.path),
                fix="segmentation stores: busi, bcss, brain_ct_hemorrhage (docs/imaging.md)",
            )  # fmt: skip
        task = d["task"] or next(iter(seg))
        if task not in seg:
            raise ClimbError(
                f"store {self.path.name!r} has no segmentation task {task!r}",
                where="data.task",
                fix=f"segmentation tasks of this store: {', '.join(seg)}",
            )
        d["task"] = task
        spec = seg[task]
        self.task = task
        self.classes = [str(c) for c in spec.get("classes") or []]
        self.mask_field = str(spec["field"])
        self.field = str(d["field"])
        # No label task is needed: StoreDataset takes tasks=[] (image and mask fields only).
        kw: dict[str, Any] = {"tasks": [], "fields": [self.field, self.mask_field]}
        train = StoreDataset(self.path, split="train", **kw)
        self.ds: dict[str, Any] = {"train": train, "test": StoreDataset(self.path, split="test", **kw)}  # fmt: skip
        self.parts: dict[str, tuple[str, np.ndarray]] = {}
        all_train = np.arange(len(train))
        vf = d["val_fraction"]
        if vf:
            rest, hold = holdout_split(train.patient_ids, float(vf), seed=int(cfg["run"]["seed"]))
            self.parts = {"train": ("train", rest), "val": ("train", hold)}
            self.val_note = f"val: {vf:.0%} of train patients"
        else:
            self.ds["val"] = StoreDataset(self.path, split="val", **kw)
            self.parts = {"train": ("train", all_train), "val": ("val", np.arange(len(self.ds["val"])))}  # fmt: skip
            self.val_note = "val: the store's val split"
        self.parts["test"] = ("test", np.arange(len(self.ds["test"])))
        if len(self.parts["train"][1]) == 0:
            raise ClimbError(f"store {self.path.name!r}: no training images", fix="check splits")
        shape = meta["fields"][self.field]["shape"]
        if len(shape) != 3:
            raise ClimbError(
                f"field {self.field!r} is not a 2-D image (C, H, W): shape {shape}",
                where="data.field",
            )
        self.in_chans = int(shape[0])
        mean, std = store_image_stats(self.path, self.field)
        self.normalize = image_normalize(mean, std)

    def n(self, part: str) -> int:
        return len(self.parts[part][1])

    def patients(self, part: str) -> np.ndarray:
        name, pos = self.parts[part]
        return self.ds[name].patient_ids[pos]

    def batch(self, part: str, sel: np.ndarray) -> tuple[Tensor, Tensor]:
        """uint8 images (B, C, H, W) and int64 masks (B, H, W) of positions ``sel`` of ``part``."""
        name, pos = self.parts[part]
        b = self.ds[name].get_batch(pos[sel])
        mask = b["inputs"][self.mask_field]
        return b["inputs"][self.field], mask[:, 0].long()


def hflip_pair(
    image: Tensor, mask: Tensor, p: float, gen: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Flip the same (random, from ``gen``) samples of image (B, C, H, W) and mask (B, H, W)."""
    if p <= 0:
        return image, mask
    flip = torch.rand(len(image), generator=gen) < p
    if flip.any():
        image, mask = image.clone(), mask.clone()
        image[flip] = image[flip].flip(-1)
        mask[flip] = mask[flip].flip(-1)
    return image, mask


# ----------------------------------------------------------------------------- loop


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ClimbError(f"run.device={name} but CUDA is not available", fix="device: auto or cpu")
    return torch.device(name)


def _autocast(device: torch.device, amp: bool) -> Any:
    if amp and device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    return contextlib.nullcontext()


def predict_counts(
    model: torch.nn.Module, data: SegData, part: str, bs: int, device: torch.device, amp: bool
) -> dict[str, np.ndarray]:
    """Confusion counts of the arg-max prediction for every image of ``part``."""
    k = len(data.classes)
    chunks: list[dict[str, np.ndarray]] = []
    model.eval()
    with torch.no_grad():
        for s in range(0, data.n(part), bs):
            img, mask = data.batch(part, np.arange(s, min(s + bs, data.n(part))))
            x = data.normalize(img.to(device))
            with _autocast(device, amp):
                pred = model(x).argmax(1)
            chunks.append(confusion_counts(pred, mask.to(device), k))
    if not chunks:
        z = np.zeros((0, k), dtype=np.int64)
        return {"tp": z, "fp": z, "fn": z, "known": z[:, 0], "correct": z[:, 0]}
    return {key: np.concatenate([c[key] for c in chunks]) for key in chunks[0]}


def _check_codes(mask: Tensor, k: int) -> None:
    bad = (mask >= k) & (mask != IGNORE_INDEX)
    if bool(bad.any()):
        raise ClimbError(
            f"mask codes {sorted(set(mask[bad].unique().tolist()))[:5]} outside 0..{k - 1} "
            f"(and {IGNORE_INDEX} = unknown)",
            fix="check the store's segmentation classes",
        )


def fit(
    cfg: dict[str, Any], data: SegData, device: torch.device, log: Any = None
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Train; returns the best-by-validation-Dice model (the last one without a val part)."""
    from climb.models.segmentation import SegmentationNet

    seed = int(cfg["run"]["seed"])
    torch.manual_seed(seed)
    m, o, tr, lc = cfg["model"], cfg["optim"], cfg["train"], cfg["loss"]
    k = len(data.classes)
    model = SegmentationNet(k, data.in_chans, m["encoder"], weights=m["weights"],
                            decoder_channels=m["decoder_channels"], dropout=m["dropout"],
                            **m["encoder_kwargs"]).to(device)  # fmt: skip
    opt = torch.optim.AdamW(model.parameters(), lr=o["lr"], weight_decay=o["weight_decay"])
    bs = int(cfg["data"]["batch_size"])
    n_train = data.n("train")
    per_epoch = max(1, math.ceil(n_train / bs))
    total = int(tr["max_steps"] or tr["epochs"] * per_epoch)
    warm, floor = int(o["warmup_steps"]), float(o["min_lr"]) / float(o["lr"])

    def lr_at(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        t = (step - warm) / max(1, total - warm)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    amp = bool(tr["amp"]) and device.type == "cuda"
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    has_val = data.n("val") > 0
    best: dict[str, Any] = {"val_dice": -math.inf, "epoch": -1, "step": 0, "state": None}
    step, bad, t0 = 0, 0, time.perf_counter()
    epoch = 0
    while step < total:
        model.train()
        order = rng.permutation(n_train)
        losses = []
        for s in range(0, n_train, bs):
            if step >= total:
                break
            sel = order[s : s + bs]
            if len(sel) < 2 and n_train >= 2:
                continue  # BatchNorm needs two samples
            img, mask = data.batch("train", sel)
            _check_codes(mask, k)
            img, mask = hflip_pair(img, mask, float(cfg["data"]["hflip"]), gen)
            x, y = data.normalize(img.to(device)), mask.to(device)
            with _autocast(device, amp):
                logits = model(x)
            loss = segmentation_loss(logits, y, ce_weight=lc["ce_weight"],
                                     dice_weight=lc["dice_weight"], smooth=lc["dice_smooth"])  # fmt: skip
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if o["grad_clip"]:
                torch.nn.utils.clip_grad_norm_(model.parameters(), float(o["grad_clip"]))
            opt.step()
            sched.step()
            step += 1
            losses.append(float(loss.detach()))
        train_loss = float(np.mean(losses)) if losses else math.nan
        row: dict[str, Any] = {"step": step, "kind": "train", "epoch": epoch, "loss": train_loss,
                               "lr": opt.param_groups[0]["lr"],
                               "elapsed_s": round(time.perf_counter() - t0, 2)}  # fmt: skip
        if log:
            log(**row)
        if has_val:
            counts = predict_counts(model, data, "val", int(cfg["data"]["eval_batch_size"]), device, amp)  # fmt: skip
            v = mean_foreground_dice(counts, k)
            if log:
                log(step=step, kind="val", epoch=epoch, metric="dice", value=v,
                    elapsed_s=round(time.perf_counter() - t0, 2))  # fmt: skip
            score = v if np.isfinite(v) else -math.inf
            if best["state"] is None or score > best["val_dice"]:
                best.update(val_dice=score, epoch=epoch, step=step,
                            state=copy.deepcopy(model.state_dict()))  # fmt: skip
                bad = 0
            else:
                bad += 1
                if tr["patience"] and bad >= int(tr["patience"]):
                    break
        epoch += 1
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    else:
        best.update(epoch=epoch - 1, step=step)
    info = {"best_epoch": best["epoch"], "best_step": best["step"], "steps": step,
            "best_val_dice": best["val_dice"] if has_val else None,
            "selection": "best validation Dice" if has_val else "last (no validation images)"}  # fmt: skip
    return model, info


def evaluate_split(
    model: torch.nn.Module, data: SegData, part: str, cfg: dict[str, Any], device: torch.device
) -> list[MetricResult]:
    counts = predict_counts(model, data, part, int(cfg["data"]["eval_batch_size"]), device,
                            bool(cfg["train"]["amp"]))  # fmt: skip
    ev = cfg["evaluate"]
    return segmentation_metrics(counts, data.classes, groups=data.patients(part),
                                n_boot=int(ev["n_boot"]), seed=int(ev["seed"]), ci=float(ev["ci"]))  # fmt: skip


def train_segmentation(cfg: dict[str, Any], out: Path | None = None) -> Path:
    """Run a segmentation config; returns the run directory (config.yaml, metrics.csv,
    metrics.jsonl, results.json, results.parquet, checkpoints/model.pt)."""
    import yaml

    from climb import __version__
    from climb.evaluate import append_results, metric_rows
    from climb.paths import runs_dir
    from climb.train.loop import MetricsLog

    torch.set_num_threads(int(cfg["run"]["threads"]))
    device = _device(str(cfg["run"]["device"]))
    out = Path(out) if out is not None else runs_dir(cfg["data"]["root"]) / cfg["run"]["name"]
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    data = SegData(cfg)  # resolves data.task
    (out / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    log = MetricsLog(out, enabled=True)
    model, info = fit(cfg, data, device, log.write)
    (out / "checkpoints").mkdir(exist_ok=True)
    torch.save({"model": model.state_dict(), "config": cfg, "classes": data.classes,
                "in_chans": data.in_chans, **info}, out / "checkpoints" / "model.pt")  # fmt: skip
    run_id, chash = str(cfg["run"]["name"]), config_hash(cfg)
    rows: list[dict[str, object]] = []
    results: dict[str, Any] = {}
    for split in cfg["evaluate"]["splits"]:
        if data.n(split) == 0:
            continue
        res = evaluate_split(model, data, split, cfg, device)
        results[split] = [r.to_dict() for r in res]
        rows += metric_rows(res, run_id=run_id, dataset=cfg["data"]["dataset"],
                            task=data.task, split=split, config_hash=chash,
                            code_version=__version__)  # fmt: skip
        for r in res:
            if r.class_name is None or r.metric == "dice":
                log.write(step=info["steps"], kind=split, task=data.task,
                          metric=r.metric if r.class_name is None else f"dice/{r.class_name}",
                          value=r.value)  # fmt: skip
    summary = {"task": data.task, "classes": data.classes, "device": str(device),
               "n": {p: data.n(p) for p in ("train", "val", "test")}, "val": data.val_note,
               **info, "results": results, "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
    (out / "results.json").write_text(json.dumps(summary, indent=2, default=float), "utf-8")
    if rows:
        append_results(out / "results.parquet", rows)
    return out


__all__ = [
    "DEFAULTS",
    "confusion_counts",
    "image_scores",
    "is_segmentation_config",
    "load_segmentation_config",
    "segmentation_loss",
    "segmentation_metrics",
    "train_segmentation",
]
