"""A small 2-D segmentation network: a timm encoder (``features_only=True``) and a light
U-Net-style decoder (upsample x2, concatenate the skip, 3x3 conv; twice more x2 to full size).

``SegmentationNet(num_classes, in_chans, encoder="convnextv2_atto")`` maps ``(B, C, H, W)``
float images to ``(B, num_classes, H, W)`` logits. Weights are never downloaded: random
initialisation unless ``weights=PATH`` names a local state dict of the bare timm model (timm
loads it, drops the classifier and adapts a 3-channel stem to ``in_chans``). H and W should be
multiples of the encoder's largest stride (32 for ConvNeXt / ResNet); other sizes are padded on
the right / bottom and cropped back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from climb.core.errors import ClimbError

DEFAULT_SEGMENTATION_ENCODER = "convnextv2_atto"


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


def build_features_encoder(
    name: str, in_chans: int, weights: str | Path | None = None, **timm_kwargs: Any
) -> nn.Module:
    """``timm.create_model(name, features_only=True)``; a local ``weights`` file only."""
    import timm

    if name not in timm.list_models():
        raise ClimbError(
            f"unknown segmentation encoder {name!r} (not a timm model)",
            where="model.encoder",
            fix="a timm model with features_only support, e.g. convnextv2_atto, resnet18",
        )
    kw: dict[str, Any] = {"features_only": True, "in_chans": in_chans, **timm_kwargs}
    if weights is not None:
        p = Path(weights).expanduser()
        if not p.is_file():
            raise ClimbError(
                f"encoder weights file not found: {p}",
                where="model.weights",
                fix="a local .pth / .safetensors state dict of the timm model (no downloads)",
            )
        kw.update(pretrained=True, pretrained_cfg_overlay={"file": str(p)})
    try:
        return timm.create_model(name, **kw)
    except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:
        raise ClimbError(
            f"could not build the segmentation encoder {name!r}: {exc}",
            where=f"timm.create_model({name!r}, features_only=True)",
            fix="check the model name, its features_only support and the weights file",
        ) from exc


class SegmentationNet(nn.Module):
    """Encoder features at strides s_1 < ... < s_k, decoded top-down: at each level the coarser
    map is upsampled to the finer one, concatenated with it (skip) and mixed by a 3x3 conv
    (``decoder_channels`` wide); then x2 upsample + conv steps up to full resolution and a 1x1
    classifier."""

    def __init__(
        self,
        num_classes: int,
        in_chans: int,
        encoder: str = DEFAULT_SEGMENTATION_ENCODER,
        *,
        weights: str | Path | None = None,
        decoder_channels: int = 32,
        dropout: float = 0.0,
        **timm_kwargs: Any,
    ) -> None:
        super().__init__()
        self.encoder = build_features_encoder(encoder, in_chans, weights, **timm_kwargs)
        chans = list(self.encoder.feature_info.channels())
        self.strides = list(self.encoder.feature_info.reduction())
        d = int(decoder_channels)
        self.lateral = nn.ModuleList([nn.Conv2d(c, d, 1) for c in chans])
        self.fuse = nn.ModuleList([_conv(2 * d, d) for _ in chans[:-1]])
        n_up = max(0, (self.strides[0] - 1).bit_length())  # stride 4 -> two x2 steps
        self.up = nn.ModuleList([_conv(d, d) for _ in range(n_up)])
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.classifier = nn.Conv2d(d, num_classes, 1)
        self.num_classes = num_classes
        self.in_chans = in_chans

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        m = self.strides[-1]
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph))
        feats = self.encoder(x)
        y = self.lateral[-1](feats[-1])
        for i in range(len(feats) - 2, -1, -1):
            skip = self.lateral[i](feats[i])
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = self.fuse[i](torch.cat([y, skip], 1))
        for block in self.up:
            y = block(F.interpolate(y, scale_factor=2.0, mode="bilinear", align_corners=False))
        if y.shape[-2:] != x.shape[-2:]:
            y = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)
        out = self.classifier(self.dropout(y))
        return out[..., :h, :w]


__all__ = ["DEFAULT_SEGMENTATION_ENCODER", "SegmentationNet", "build_features_encoder"]
