"""Deterministic batch transforms, configured by name (``data.transforms`` in a train config).

Each transform maps a (B, *shape) float tensor to a tensor. They are deterministic on purpose:
the same batch always gives the same input, which keeps resumed runs exact. They are marked
``climb_thread_safe`` (:func:`thread_safe`): a prefetching loader may run them in its background
thread; unmarked callables (random augmentation, user functions) run in the consuming thread.
A transform marked ``climb_takes_integers`` (``ct_window``) is handed int16/int32 fields as
stored and makes the float tensor itself (one pass over the batch less); others get float32.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from climb.core.errors import ClimbError

Transform = Callable[[torch.Tensor], torch.Tensor]


def thread_safe(fn: Transform) -> Transform:
    """Mark ``fn`` as deterministic and free of global state: it may run in a prefetch thread."""
    fn.climb_thread_safe = True  # type: ignore[attr-defined]
    return fn


def crop(length: int, where: str = "start") -> Transform:
    """Keep ``length`` samples of the last axis, from the start or the centre."""

    def fn(x: torch.Tensor) -> torch.Tensor:
        t = x.shape[-1]
        if t <= length:
            return x
        s = 0 if where == "start" else (t - length) // 2
        return x[..., s : s + length]

    return thread_safe(fn)


def range_scale(eps: float = 1e-8) -> Transform:
    """CLIMB/BenchMD ECG scaling: ``x / (max(x) - min(x))`` over each whole record."""

    def fn(x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(x.shape[0], -1)
        r = (flat.amax(1) - flat.amin(1)).clamp_min(eps)
        return x / r.view(-1, *([1] * (x.dim() - 1)))

    return thread_safe(fn)


def zscore(per_channel: bool = True, eps: float = 1e-6) -> Transform:
    """Standardize each record (each channel separately when ``per_channel``)."""

    def fn(x: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(2, x.dim())) if per_channel and x.dim() > 2 else tuple(range(1, x.dim()))
        m = x.mean(dim=dims, keepdim=True)
        s = x.std(dim=dims, keepdim=True).clamp_min(eps)
        return (x - m) / s

    return thread_safe(fn)


def nan_to_num(value: float = 0.0) -> Transform:
    def fn(x: torch.Tensor) -> torch.Tensor:
        return torch.nan_to_num(x, nan=value, posinf=value, neginf=value)

    return thread_safe(fn)


def to_float(scale: float = 1.0) -> Transform:
    """uint8 images and the like to float, times ``scale`` (e.g. 1/255)."""

    def fn(x: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.float32:  # .float() would be x itself: never scale the input
            return x * scale
        return x.float().mul_(scale)  # one new tensor (the conversion), scaled in place

    return thread_safe(fn)


REGISTRY: dict[str, Callable[..., Transform]] = {
    "crop": crop,
    "range_scale": range_scale,
    "zscore": zscore,
    "nan_to_num": nan_to_num,
    "to_float": to_float,
}


def _register_image_transforms() -> None:
    # image_augment / image_normalize (torchvision v2; imported lazily inside the factories)
    from climb.data.image_transforms import IMAGE_TRANSFORMS

    REGISTRY.update(IMAGE_TRANSFORMS)
    # ct_window (HU presets at load time) / video_to_float (docs/volumes-video.md)
    from climb.data.volume_transforms import VOLUME_TRANSFORMS

    REGISTRY.update(VOLUME_TRANSFORMS)


_register_image_transforms()


def build_transforms(specs: Sequence[Mapping[str, Any]] | None) -> Transform | None:
    """``[{"name": "crop", "length": 500}, {"name": "zscore"}]`` → one composed transform."""
    if not specs:
        return None
    fns: list[Transform] = []
    for i, spec in enumerate(specs):
        s = dict(spec)
        name = s.pop("name", None)
        if name not in REGISTRY:
            import difflib

            m = difflib.get_close_matches(str(name), list(REGISTRY), n=1)
            hint = f" (did you mean {m[0]!r}?)" if m else ""
            raise ClimbError(
                f"unknown transform {name!r}{hint}",
                where=f"data.transforms[{i}]",
                fix=f"one of {', '.join(REGISTRY)}",
            )
        try:
            fns.append(REGISTRY[name](**s))
        except TypeError as exc:
            raise ClimbError(
                f"bad arguments for transform {name!r}: {exc}", where=f"data.transforms[{i}]"
            ) from None

    def composed(x: torch.Tensor) -> torch.Tensor:
        for f in fns:
            x = f(x)
        return x

    if all(getattr(f, "climb_thread_safe", False) for f in fns):
        thread_safe(composed)
    if fns and getattr(fns[0], "climb_takes_integers", False):
        composed.climb_takes_integers = True  # type: ignore[attr-defined]
    return composed
