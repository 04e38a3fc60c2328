"""Image batch transforms for uint8 image stores: normalization with the store's statistics and
standard train-time augmentation (torchvision.transforms.v2 on tensors). docs/imaging.md.

Batches from :class:`~climb.data.StoreDataset` hold ``(B, C, H, W)`` uint8 tensors. Use

* :func:`build_image_transforms` ``(store, train=True)`` -> augment (train only) then
  normalize; ``train=False`` -> normalize only (deterministic, for val/test);
* the registry-style factories in :data:`IMAGE_TRANSFORMS` (``image_augment``,
  ``image_normalize``) with ``climb.data.transforms.build_transforms``-style specs.

Augmentation ``"standard"`` (per sample, independent random draws, from torch's global RNG so a
seeded run is reproducible): RandomResizedCrop(scale 0.8-1.0, ratio 0.9-1.1, back to the stored
size), horizontal flip (p = 0.5; pass ``hflip=0`` for chest X-ray if laterality matters),
RandomAffine(rotation +-10 deg, translation +-5%), brightness/contrast jitter +-0.2 (and
saturation +-0.1 for colour). ``"light"``: flip and +-5% translation only.

Normalization: ``(x / 255 - mean) / std`` per channel. ``mean``/``std`` come from the store:
``dataset.json`` ``stats[field]`` when present, else computed exactly from the per-sample
``pixel_mean`` / ``pixel_sqmean`` columns that imaging adapters write (train split).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

Transform = Callable[[torch.Tensor], torch.Tensor]
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def store_image_stats(
    store: str | Path, field: str = "image", split: str = "train"
) -> tuple[list[float], list[float]]:
    """Per-plane (mean, std) in 0..1 units of ``field`` over ``split`` of an image store."""
    import pandas as pd

    p = Path(store)
    meta = json.loads((p / "dataset.json").read_text(encoding="utf-8"))
    st = (meta.get("stats") or {}).get(field)
    if st and st.get("mean") is not None and st.get("split", "train") == split:
        # prepare records them in the stored units: 0..255 for uint8 images
        mean, std = np.asarray(st["mean"], float), np.asarray(st["std"], float)
        dtype = meta["fields"][field]["dtype"]
        scale = 255.0 if dtype == "uint8" else 1.0
        return (mean / scale).tolist(), (std / scale).tolist()
    df = pd.read_parquet(p / "samples.parquet", columns=["split", "pixel_mean", "pixel_sqmean"])
    sub = df[df["split"] == split]
    if sub.empty:
        sub = df
    m = np.stack([np.asarray(v, float) for v in sub["pixel_mean"]])
    sq = np.stack([np.asarray(v, float) for v in sub["pixel_sqmean"]])
    mean = m.mean(axis=0)
    std = np.sqrt(np.maximum(sq.mean(axis=0) - mean**2, 1e-12))
    return mean.round(6).tolist(), std.round(6).tolist()


def image_normalize(
    mean: Sequence[float] | float | str = 0.5,
    std: Sequence[float] | float | None = 0.5,
    store: str | None = None,
    field: str = "image",
) -> Transform:
    """uint8 (B, C, H, W) -> float32 ``(x/255 - mean) / std``. ``mean="imagenet"`` uses the
    ImageNet statistics; ``store=PATH`` reads them from the store (see module doc)."""
    if store is not None:
        mean, std = store_image_stats(store, field)
    elif mean == "imagenet":
        mean, std = IMAGENET_MEAN, IMAGENET_STD
    m = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
    s = torch.as_tensor(std if std is not None else 1.0, dtype=torch.float32).reshape(-1)

    def fn(x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        mm = (m if m.numel() == c else m[:1].expand(c)).to(x.device).view(1, c, 1, 1)
        ss = (s if s.numel() == c else s[:1].expand(c)).to(x.device).view(1, c, 1, 1)
        ss = ss.clamp_min(1e-6)
        # one float copy, then scale and shift in place: x * (1/(255 s)) - m/s
        scale = (1.0 / 255.0 if x.dtype == torch.uint8 else 1.0) / ss
        xf = x.to(torch.float32, copy=True)
        return xf.mul_(scale).sub_(mm / ss)

    fn.climb_thread_safe = True  # type: ignore[attr-defined]  # deterministic: may prefetch
    return fn


def image_augment(
    policy: str = "standard",
    hflip: float = 0.5,
    rotate: float = 10.0,
    translate: float = 0.05,
    scale: Sequence[float] = (0.8, 1.0),
    jitter: float = 0.2,
) -> Transform:
    """Per-sample random augmentation of a (B, C, H, W) uint8 batch (same dtype out)."""
    from torchvision.transforms import v2

    def make(size: tuple[int, int], channels: int) -> Any:
        ops: list[Any] = []
        if policy == "standard":
            ops.append(
                v2.RandomResizedCrop(size, scale=tuple(scale), ratio=(0.9, 1.1), antialias=True)
            )
        if hflip > 0:
            ops.append(v2.RandomHorizontalFlip(p=hflip))
        deg = rotate if policy == "standard" else 0.0
        if deg > 0 or translate > 0:
            ops.append(v2.RandomAffine(degrees=deg, translate=(translate, translate)))
        if policy == "standard" and jitter > 0:
            ops.append(v2.ColorJitter(brightness=jitter, contrast=jitter,
                                      saturation=jitter / 2 if channels == 3 else None))  # fmt: skip
        return v2.Compose(ops)

    if policy not in ("standard", "light"):
        raise ValueError(f"unknown augmentation policy {policy!r} (standard, light)")
    cache: dict[tuple[int, int, int], Any] = {}

    def fn(x: torch.Tensor) -> torch.Tensor:
        key = (int(x.shape[1]), int(x.shape[2]), int(x.shape[3]))
        if key not in cache:
            cache[key] = make((key[1], key[2]), key[0])
        t = cache[key]
        if x.shape[1] in (1, 3):
            return torch.stack([t(xi) for xi in x])
        # views/windows on the channel axis (e.g. brain+bone): same geometry for all planes
        return torch.stack([torch.cat([t(xi[j : j + 1]) for j in range(x.shape[1])]) for xi in x])

    return fn


def compose(*fns: Transform | None) -> Transform:
    parts = [f for f in fns if f is not None]

    def fn(x: torch.Tensor) -> torch.Tensor:
        for f in parts:
            x = f(x)
        return x

    if all(getattr(f, "climb_thread_safe", False) for f in parts):
        fn.climb_thread_safe = True  # type: ignore[attr-defined]
    return fn


def build_image_transforms(
    store: str | Path,
    *,
    train: bool,
    field: str = "image",
    augment: str | None = "standard",
    **augment_kwargs: Any,
) -> Transform:
    """Train: augment (per sample) then normalize with the store's stats; eval: normalize."""
    mean, std = store_image_stats(store, field)
    norm = image_normalize(mean, std)
    if train and augment:
        return compose(image_augment(augment, **augment_kwargs), norm)
    return norm


#: name -> factory, in the form of climb.data.transforms.REGISTRY
IMAGE_TRANSFORMS: dict[str, Callable[..., Transform]] = {
    "image_augment": image_augment,
    "image_normalize": image_normalize,
}

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "IMAGE_TRANSFORMS",
    "build_image_transforms",
    "compose",
    "image_augment",
    "image_normalize",
    "store_image_stats",
]
