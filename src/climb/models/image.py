"""Image encoders: any timm model as a feature extractor (``num_classes=0``), ``(B, C, H, W)``.

Registered (and tested) names: ``convnextv2_atto`` (default; the ConvNeXt-V2 family CLIMB uses,
at its smallest), ``resnet18`` and ``vit_tiny_patch16_224``; any other timm model name works
too (``build_encoder("image", "convnextv2_base")``, ``"resnet50"``, ``"vit_base_patch16_224"``).

Weights are never downloaded unless asked for explicitly:

* ``weights=None`` (default): random initialisation;
* ``weights="/path/to/file.pth"`` (or ``.safetensors``): a local state dict or checkpoint
  (a timm / torchvision state dict of the bare model, or a climb encoder checkpoint); a
  3-channel stem is adapted to ``in_chans`` the way timm does (summing / repeating);
* ``weights="hf-hub:org/name"`` or ``pretrained=True``: timm downloads from the Hugging Face hub,
  which needs network access; offline this raises a :class:`~climb.core.errors.ClimbError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import timm
from torch import Tensor, nn

from climb.core.errors import ClimbError
from climb.models._registry import register_encoder, register_fallback, register_input_kwargs
from climb.models.weights import load_encoder_weights, read_state_dict

DEFAULT_IMAGE_ENCODER = "convnextv2_atto"
_REGISTERED = ("convnextv2_atto", "resnet18", "vit_tiny_patch16_224")


class TimmEncoder(nn.Module):
    """A timm model without its classifier: ``forward(x) -> (B, out_dim)`` pooled features."""

    def __init__(
        self,
        name: str = DEFAULT_IMAGE_ENCODER,
        *,
        in_chans: int = 3,
        weights: str | Path | None = None,
        pretrained: bool = False,
        **timm_kwargs: Any,
    ) -> None:
        super().__init__()
        self.name = name
        self.in_chans = in_chans
        hub = isinstance(weights, str) and weights.startswith("hf-hub:")
        model_name = str(weights) if hub else name
        if not hub and not pretrained and model_name not in timm.list_models():
            raise ClimbError(
                f"unknown image encoder '{name}' (not a timm model)",
                where=f"build_encoder('image', {name!r})",
                fix="use a name from timm.list_models(), e.g. convnextv2_atto, resnet50, "
                "vit_base_patch16_224",
            )
        try:
            self.model = timm.create_model(
                model_name,
                pretrained=hub or pretrained,
                num_classes=0,
                in_chans=in_chans,
                **timm_kwargs,
            )
        except (OSError, RuntimeError, ValueError, ImportError) as exc:
            if hub or pretrained:
                raise ClimbError(
                    f"could not get pretrained weights for '{model_name}': {exc}",
                    where="timm.create_model(pretrained=True) / the Hugging Face hub",
                    fix="download the weights on a machine with network access and pass "
                    "weights=PATH to the local file (or run once online to fill the hub cache)",
                ) from exc
            raise ClimbError(
                f"could not build timm model '{name}': {exc}",
                where=f"timm.create_model({name!r}, in_chans={in_chans})",
                fix="check the model name and options",
            ) from exc
        self.out_dim = int(self.model.num_features)
        self.load_report: dict[str, Any] | None = None
        if weights is not None and not hub:
            self.load_report = self.load_weights(weights)

    def load_weights(self, path: str | Path, *, strict: bool = False) -> dict[str, Any]:
        """Load a local state dict of the bare timm model or of this wrapper (``model.`` keys)."""
        state = read_state_dict(path)
        own = self.state_dict()
        if not any(k in own for k in state) and any(f"model.{k}" in own for k in state):
            state = {f"model.{k}": v for k, v in state.items()}
        state = self._adapt_input_convs(state, own)
        return load_encoder_weights(self, state, strict=strict, source=str(path))

    def _adapt_input_convs(
        self, state: dict[str, Tensor], own: dict[str, Tensor]
    ) -> dict[str, Tensor]:
        from timm.models import adapt_input_conv

        out = dict(state)
        for key, value in state.items():
            target = own.get(key)
            if (
                target is not None
                and value.ndim == 4
                and target.ndim == 4
                and value.shape[1] != target.shape[1]
                and target.shape[1] == self.in_chans
                and value.shape[0] == target.shape[0]
                and value.shape[2:] == target.shape[2:]
            ):
                out[key] = adapt_input_conv(self.in_chans, value.float()).to(value.dtype)
        return out

    def forward_features(self, x: Tensor) -> Tensor:
        """Unpooled features (timm's ``forward_features``)."""
        return self.model.forward_features(x)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_chans:
            raise ClimbError(
                f"image encoder '{self.name}' expects (batch, {self.in_chans}, H, W), "
                f"got {tuple(x.shape)}",
                where=f"{self.name}.forward",
                fix="build the encoder with in_chans matching the images (1 for grey-scale)",
            )
        return self.model(x)


def _build(name: str, **kwargs: Any) -> TimmEncoder:
    # Accept the signal-style option name too, so callers can pass in_channels uniformly.
    if "in_channels" in kwargs:
        kwargs["in_chans"] = kwargs.pop("in_channels")
    kwargs.pop("seq_len", None)  # a signal option; meaningless for images
    return TimmEncoder(name, **kwargs)


_build.handles_weights = True  # type: ignore[attr-defined]


def _register(name: str) -> None:
    def builder(**kwargs: Any) -> TimmEncoder:
        return _build(name, **kwargs)

    builder.handles_weights = True  # type: ignore[attr-defined]
    builder.__name__ = name
    builder.__doc__ = f"timm '{name}' as a feature extractor."
    register_encoder("image", name, default=name == DEFAULT_IMAGE_ENCODER)(builder)


for _name in _REGISTERED:
    _register(_name)
register_fallback("image", _build)

__all__ = ["DEFAULT_IMAGE_ENCODER", "TimmEncoder"]


def _image_input_kwargs(shape: tuple[int, ...], spec: dict[str, Any]) -> dict[str, Any]:
    return {"in_chans": int(shape[0])}


register_input_kwargs("image", _image_input_kwargs)
