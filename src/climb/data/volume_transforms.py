"""Load-time transforms of CT volumes and videos (docs/volumes-video.md).

CT stores keep int16 Hounsfield units; a window is chosen at load time, so one store serves
lung, mediastinum, brain or CLIMB's windows (several at once as channels):

``{"name": "ct_window", "presets": ["lung", "mediastinum"]}`` maps ``(B, Z, H, W)`` HU (or a
clip/slab ``(B, K, H, W)``) to ``(B, C, Z, H, W)`` float in ``[0, 1]``, one channel per window:
``clip((HU - (center - width / 2)) / width, 0, 1)``. ``center``/``width`` give one custom
window. Presets (center / width, HU): see :data:`CT_WINDOWS`.

Videos are stored ``(T, H, W, C)`` uint8; ``{"name": "video_to_float", "layout": "BCTHW"}``
turns a ``(B, T, H, W, C)`` batch into float ``(B, C, T, H, W)`` (torchvision video models) or
``"BTCHW"`` (a 2-D encoder per frame), times ``scale`` and optionally normalized per channel
(``mean``/``std``; a 1-channel video may be repeated to 3 channels with ``repeat_channels``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from climb.core.errors import ClimbError

Transform = Callable[[torch.Tensor], torch.Tensor]

#: name -> (center, width) in HU
CT_WINDOWS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),  # CLIMB's LNDb window
    "mediastinum": (40.0, 400.0),
    "soft_tissue": (50.0, 350.0),
    "abdomen": (60.0, 400.0),
    "liver": (60.0, 160.0),
    "brain": (40.0, 80.0),
    "subdural": (75.0, 215.0),
    "stroke": (40.0, 40.0),
    "bone": (400.0, 1800.0),
    "pe": (100.0, 700.0),  # CT pulmonary angiography
    "climb": (80.0, 700.0),  # CLIMB's nifti_to_video / dicom_to_jpg: level 80, width 700
}


def window_bounds(
    preset: str | None, center: float | None, width: float | None
) -> tuple[float, float]:
    if preset is not None:
        if preset not in CT_WINDOWS:
            import difflib

            m = difflib.get_close_matches(preset, list(CT_WINDOWS), n=1)
            raise ClimbError(
                f"unknown CT window preset {preset!r}"
                + (f" (did you mean {m[0]!r}?)" if m else ""),
                fix=f"one of {', '.join(CT_WINDOWS)}, or give center and width in HU",
            )
        center, width = CT_WINDOWS[preset]
    if center is None or width is None or width <= 0:
        raise ClimbError(
            f"a CT window needs a preset or center and a positive width (got {center}, {width})"
        )
    return float(center) - float(width) / 2, float(width)


def ct_window(
    presets: Sequence[str] | str | None = None,
    center: float | None = None,
    width: float | None = None,
    channel_axis: int = 1,
) -> Transform:
    """HU -> ``[0, 1]`` through one or more windows, stacked as a new channel axis."""
    if isinstance(presets, str):
        presets = [presets]
    wins = [window_bounds(p, None, None) for p in presets] if presets else []
    if center is not None or width is not None:
        wins.append(window_bounds(None, center, width))
    if not wins:
        raise ClimbError("ct_window needs presets or center/width", fix="e.g. presets: [lung]")
    bounds = [(float(lo), 1.0 / float(wd)) for lo, wd in wins]

    def fn(x: torch.Tensor) -> torch.Tensor:
        if len(bounds) == 1:  # one new float tensor, then in place
            lo, inv = bounds[0]
            if x.dtype == torch.float32:
                y = torch.sub(x.unsqueeze(channel_axis), lo)
            else:  # int16 HU as stored: the conversion is the new tensor
                y = x.unsqueeze(channel_axis).to(torch.float32).sub_(lo)
            return y.mul_(inv).clamp_(0, 1)
        xf = x.to(torch.float32)
        return torch.stack([(xf - lo).mul_(inv) for lo, inv in bounds], dim=channel_axis).clamp_(
            0, 1
        )

    fn.climb_thread_safe = True  # type: ignore[attr-defined]
    fn.climb_takes_integers = True  # type: ignore[attr-defined]  # int16 HU in, float out
    return fn


def video_to_float(
    layout: str = "BCTHW",
    scale: float = 1 / 255,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    repeat_channels: int | None = None,
) -> Transform:
    """``(B, T, H, W, C)`` uint8 -> float ``layout`` (``BCTHW`` or ``BTCHW``), scaled/normalized."""
    if layout not in ("BCTHW", "BTCHW"):
        raise ClimbError(f"video_to_float: layout must be BCTHW or BTCHW, got {layout!r}")

    def fn(x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5:
            raise ClimbError(f"video_to_float expects (B, T, H, W, C), got shape {tuple(x.shape)}")
        y = x.float() * scale
        if repeat_channels and y.shape[-1] == 1:
            y = y.expand(*y.shape[:-1], repeat_channels)
        if mean is not None:
            y = y - torch.tensor(mean, dtype=y.dtype, device=y.device)
        if std is not None:
            y = y / torch.tensor(std, dtype=y.dtype, device=y.device)
        perm = (0, 4, 1, 2, 3) if layout == "BCTHW" else (0, 1, 4, 2, 3)
        return y.permute(*perm).contiguous()

    fn.climb_thread_safe = True  # type: ignore[attr-defined]
    return fn


VOLUME_TRANSFORMS: dict[str, Callable[..., Any]] = {
    "ct_window": ct_window,
    "video_to_float": video_to_float,
}

__all__ = ["CT_WINDOWS", "VOLUME_TRANSFORMS", "ct_window", "video_to_float", "window_bounds"]
