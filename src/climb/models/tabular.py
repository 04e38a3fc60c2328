"""Encoders for tabular fields (static EHR features, gene-expression vectors): input ``(B, F)``
float32, or any ``(B, *shape)`` that is flattened to ``F = prod(shape)`` features.

* ``mlp`` (default): ``[Linear -> LayerNorm -> GELU -> Dropout] x depth``, ``out_dim`` =
  ``hidden``. LayerNorm (per sample), never BatchNorm, so a sample's features never depend on
  the rest of its batch (the fusion modules rely on that, climb.models.fusion). Non-finite inputs
  are an error, not silently zeroed.

Registered for the modalities ``tabular`` (the data layer's name for 1-D fields) and ``table``
(the card kind of such fields). Input argument from the store: ``in_features`` = the product of
the field's per-sample shape.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from climb.core.errors import ClimbError
from climb.models._registry import register_encoder, register_input_kwargs


class MLPEncoder(nn.Module):
    def __init__(
        self,
        in_features: int,
        hidden: int = 256,
        depth: int = 2,
        dropout: float = 0.1,
        input_norm: bool = True,
    ) -> None:
        super().__init__()
        if in_features <= 0 or hidden <= 0 or depth <= 0:
            raise ClimbError(
                f"mlp needs positive in_features/hidden/depth, got {in_features}/{hidden}/{depth}",
                where="climb.models.tabular.MLPEncoder",
                fix="pass in_features = the number of input features",
            )
        self.in_features = int(in_features)
        layers: list[nn.Module] = [nn.LayerNorm(in_features)] if input_norm else []
        width = in_features
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.LayerNorm(hidden), nn.GELU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden
        self.net = nn.Sequential(*layers)
        self.out_dim = int(hidden)

    def forward(self, x: Tensor) -> Tensor:
        x = x.reshape(x.shape[0], -1).float()
        if x.shape[1] != self.in_features:
            raise ClimbError(
                f"mlp expects {self.in_features} features per sample, got {x.shape[1]}",
                where="MLPEncoder.forward",
                fix=f"build the encoder with in_features={x.shape[1]}",
            )
        if not torch.isfinite(x).all():
            raise ClimbError(
                "mlp input has non-finite values",
                where="MLPEncoder.forward",
                fix="fill missing values at prepare time (the adapters do) or in a transform",
            )
        return self.net(x)


def _mlp(in_features: int = 0, in_channels: int | None = None, **kwargs: object) -> MLPEncoder:
    n = int(in_features or in_channels or 0)
    return MLPEncoder(n, **kwargs)  # type: ignore[arg-type]


for _modality in ("tabular", "table"):
    register_encoder(_modality, "mlp", default=True)(_mlp)


def _tabular_input_kwargs(shape: tuple[int, ...], spec: dict[str, object]) -> dict[str, object]:
    return {"in_features": int(math.prod(shape))}


for _modality in ("tabular", "table"):
    register_input_kwargs(_modality, _tabular_input_kwargs)
