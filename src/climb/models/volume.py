"""Volume encoders (modality ``volume``): input ``(B, C, Z, H, W)`` float, output ``(B, out_dim)``.

Registered names (randomly initialised; ``weights=PATH`` loads a local state dict):

* MONAI 3-D networks: ``densenet121_3d`` (1024-d), ``resnet18_3d`` (512-d), ``resnet34_3d``
  (512-d), ``resnet50_3d`` (2048-d), without their classification layer;
* ``slice_pool``: a 2-D image encoder on every slice plus mean/attention pooling over slices
  (:class:`climb.models.video.FramePoolEncoder` with slices as frames).

CT stores hold ``(Z, H, W)`` int16 HU; the ``ct_window`` transform gives ``(B, C, Z, H, W)``
with one channel per window preset, so ``in_channels`` = the number of presets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import Tensor, nn

from climb.core.errors import ClimbError
from climb.models._registry import register_encoder, register_input_kwargs
from climb.models.video import FramePoolEncoder


class MonaiVolumeEncoder(nn.Module):
    def __init__(self, name: str, *, in_channels: int = 1) -> None:
        super().__init__()
        try:
            from monai.networks import nets
        except ImportError:  # pragma: no cover - monai is a dependency
            raise ClimbError(
                "MONAI is needed for 3-D volume encoders", fix="pip install monai"
            ) from None
        self.name = name
        self.in_channels = in_channels
        if name == "densenet121_3d":
            m = nets.DenseNet121(spatial_dims=3, in_channels=in_channels, out_channels=1)
            self.out_dim = int(m.class_layers.out.in_features)
            m.class_layers.out = nn.Identity()
        else:
            depth = {"resnet18_3d": 18, "resnet34_3d": 34, "resnet50_3d": 50}[name]
            fn = getattr(nets, f"resnet{depth}")
            m = fn(spatial_dims=3, n_input_channels=in_channels, feed_forward=False)
            self.out_dim = 512 if depth < 50 else 2048
        self.model = m

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 5 or x.shape[1] != self.in_channels:
            raise ClimbError(
                f"volume encoder '{self.name}' expects (batch, {self.in_channels}, Z, H, W), got "
                f"{tuple(x.shape)}",
                where=f"{self.name}.forward",
                fix="add the ct_window transform; in_channels = the number of window presets",
            )
        return self.model(x)


def _monai_builder(name: str) -> Any:
    def builder(*, in_channels: int = 1, **kwargs: Any) -> MonaiVolumeEncoder:
        kwargs.pop("seq_len", None)
        if kwargs:
            raise TypeError(f"unexpected options {sorted(kwargs)}")
        return MonaiVolumeEncoder(name, in_channels=in_channels)

    builder.__name__ = name
    builder.__doc__ = f"MONAI {name} (random init) without its classifier."
    return builder


for _n in ("densenet121_3d", "resnet18_3d", "resnet34_3d", "resnet50_3d"):
    register_encoder("volume", _n, default=_n == "resnet18_3d")(_monai_builder(_n))


@register_encoder("volume", "slice_pool")
def slice_pool(
    *,
    image_encoder: str = "resnet18",
    in_channels: int = 1,
    pool: str = "mean",
    weights: str | Path | None = None,
    **image_kwargs: Any,
) -> FramePoolEncoder:
    """2-D encoder per slice + mean/attention pooling over the slices."""
    image_kwargs.pop("seq_len", None)
    if weights is not None:
        image_kwargs["weights"] = weights
    return FramePoolEncoder(
        image_encoder, in_channels=in_channels, pool=pool, modality_name="volume", **image_kwargs
    )


slice_pool.handles_weights = True  # type: ignore[attr-defined]


def _volume_input_kwargs(shape: tuple[int, ...], spec: dict[str, Any]) -> dict[str, Any]:
    return {"in_channels": 1}  # HU: one channel until ct_window adds one per preset


register_input_kwargs("volume", _volume_input_kwargs)

__all__ = ["MonaiVolumeEncoder"]
