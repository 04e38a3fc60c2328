"""Video encoders (modality ``video``): input ``(B, C, T, H, W)`` float, output ``(B, out_dim)``.

Registered names (all randomly initialised; ``weights=PATH`` loads a local state dict, nothing
is downloaded):

* torchvision video models ``r3d_18``, ``r2plus1d_18``, ``mc3_18`` (512-d), ``mvit_v2_s``
  (768-d; needs 16 frames of 224 x 224) and ``swin3d_t`` (768-d); a 1-channel (grey) video is
  repeated to the 3 channels these stems expect;
* ``frame_pool``: CLIMB's way, a 2-D encoder per frame (any registered image encoder or timm
  name, ``image_encoder=...``) then temporal pooling: ``pool="mean"`` (masked mean, as CLIMB's
  ConvNeXt wrapper) or ``"attention"`` (a learned query scores each frame; softmax over the
  valid frames). ``forward(x, mask=None)``; ``forward_frames(x)`` gives ``(B, T, D)`` per-frame
  features for per-frame tasks (Cholec80 phases).

Batches from a video store are ``(B, T, H, W, C)`` uint8: the ``video_to_float`` transform
(``layout: BCTHW``) turns them into this input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from climb.core.errors import ClimbError
from climb.models._registry import build_encoder, register_encoder, register_input_kwargs

TORCHVISION_VIDEO = ("r3d_18", "r2plus1d_18", "mc3_18", "mvit_v2_s", "swin3d_t")


def _check_5d(x: Tensor, name: str, channels: int) -> None:
    if x.ndim != 5 or x.shape[1] != channels:
        raise ClimbError(
            f"video encoder '{name}' expects (batch, {channels}, frames, H, W), got {tuple(x.shape)}",
            where=f"{name}.forward",
            fix="add the video_to_float transform (layout BCTHW) and set in_channels to the "
            "video's channels",
        )


class TorchvisionVideoEncoder(nn.Module):
    """A torchvision video classifier without its head."""

    def __init__(self, name: str, *, in_channels: int = 3) -> None:
        super().__init__()
        import torchvision.models.video as tvv

        if name not in TORCHVISION_VIDEO:
            raise ClimbError(
                f"unknown torchvision video model {name!r}", fix=", ".join(TORCHVISION_VIDEO)
            )
        if in_channels not in (1, 3):
            raise ClimbError(
                f"{name} takes 1 (repeated) or 3 input channels, got {in_channels}",
                fix="use in_channels 1 or 3, or the frame_pool encoder",
            )
        self.name = name
        self.in_channels = in_channels
        model = getattr(tvv, name)(weights=None)
        if name in ("mvit_v2_s", "swin3d_t"):
            head = model.head
            lin = head[-1] if isinstance(head, nn.Sequential) else head
            self.out_dim = int(lin.in_features)
            model.head = nn.Identity()
        else:
            self.out_dim = int(model.fc.in_features)
            model.fc = nn.Identity()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        _check_5d(x, self.name, self.in_channels)
        if self.in_channels == 1:
            x = x.expand(-1, 3, -1, -1, -1)
        return self.model(x)


def _tv_builder(name: str) -> Any:
    def builder(*, in_channels: int = 3, **kwargs: Any) -> TorchvisionVideoEncoder:
        kwargs.pop("seq_len", None)
        if kwargs:
            raise TypeError(f"unexpected options {sorted(kwargs)}")
        return TorchvisionVideoEncoder(name, in_channels=in_channels)

    builder.__name__ = name
    builder.__doc__ = f"torchvision {name} (random init) without its head."
    return builder


for _n in TORCHVISION_VIDEO:
    register_encoder("video", _n, default=_n == "r3d_18")(_tv_builder(_n))


class TemporalPool(nn.Module):
    """``(B, T, D)`` + optional valid mask ``(B, T)`` -> ``(B, D)``: masked mean or attention."""

    def __init__(self, dim: int, mode: str = "mean") -> None:
        super().__init__()
        if mode not in ("mean", "attention"):
            raise ClimbError(f"temporal pool must be 'mean' or 'attention', got {mode!r}")
        self.mode = mode
        self.score = nn.Linear(dim, 1) if mode == "attention" else None

    def forward(self, f: Tensor, mask: Tensor | None = None) -> Tensor:
        if mask is None:
            mask = torch.ones(f.shape[:2], dtype=torch.bool, device=f.device)
        m = mask.to(torch.bool)
        if self.score is None:
            w = m.to(f.dtype)
            return (f * w.unsqueeze(-1)).sum(1) / w.sum(1, keepdim=True).clamp_min(1.0)
        s = self.score(f).squeeze(-1).masked_fill(~m, float("-inf"))
        a = torch.softmax(s, dim=1).nan_to_num(0.0)  # a row with no valid frame -> zeros
        return (a.unsqueeze(-1) * f).sum(1)


class FramePoolEncoder(nn.Module):
    """A 2-D image encoder on every frame, then temporal pooling (CLIMB's video encoder)."""

    def __init__(
        self,
        image_encoder: str = "resnet18",
        *,
        in_channels: int = 3,
        pool: str = "mean",
        frame_batch: int = 256,
        modality_name: str = "video",
        **image_kwargs: Any,
    ) -> None:
        super().__init__()
        self.name = f"frame_pool({image_encoder})"
        self.in_channels = in_channels
        self.frame_batch = max(1, int(frame_batch))
        self.modality_name = modality_name
        self.image = build_encoder("image", image_encoder, in_chans=in_channels, **image_kwargs)
        self.out_dim = int(self.image.out_dim)
        self.pool = TemporalPool(self.out_dim, pool)

    def forward_frames(self, x: Tensor) -> Tensor:
        """``(B, C, T, H, W)`` -> per-frame features ``(B, T, D)``."""
        _check_5d(x, self.name, self.in_channels)
        b, c, t, h, w = x.shape
        frames = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        feats = [
            self.image(frames[i : i + self.frame_batch]) for i in range(0, b * t, self.frame_batch)
        ]
        return torch.cat(feats).view(b, t, -1)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        return self.pool(self.forward_frames(x), mask)


@register_encoder("video", "frame_pool")
def frame_pool(
    *,
    image_encoder: str = "resnet18",
    in_channels: int = 3,
    pool: str = "mean",
    weights: str | Path | None = None,
    **image_kwargs: Any,
) -> FramePoolEncoder:
    """2-D encoder per frame + mean/attention temporal pooling; ``weights`` = the image
    encoder's local weights (e.g. a CLIMB-pretrained image checkpoint)."""
    image_kwargs.pop("seq_len", None)
    if weights is not None:
        image_kwargs["weights"] = weights
    return FramePoolEncoder(image_encoder, in_channels=in_channels, pool=pool, **image_kwargs)


frame_pool.handles_weights = True  # type: ignore[attr-defined]


def _video_input_kwargs(shape: tuple[int, ...], spec: dict[str, Any]) -> dict[str, Any]:
    # stored (T, H, W, C): the channel count is the last axis; after the video_to_float
    # transform (float, C first: (C, T, H, W)) it is the first
    if not shape:
        return {}
    floating = str(spec.get("batch_dtype", "")).startswith("torch.float")
    return {"in_channels": int(shape[0] if floating else shape[-1])}


register_input_kwargs("video", _video_input_kwargs)

__all__ = ["TORCHVISION_VIDEO", "FramePoolEncoder", "TemporalPool", "TorchvisionVideoEncoder"]
