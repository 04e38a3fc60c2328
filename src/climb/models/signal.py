"""Encoders for 1-D multichannel signals (ECG now; EEG and IMU later): input ``(B, C, T)`` float32.

* ``xresnet1d18/34/50/101`` (and ``xresnet1d`` with a ``depth`` option): the residual 1-D CNN of
  fastai's xresnet, as used by the PTB-XL benchmark (Strodthoff et al. 2021), kernel size 5,
  concat (average + max) pooling over time.
* ``patch_transformer``: a lead x time patch transformer shaped like the ECG-JEPA encoder
  (Kim 2024, arXiv 2410.08559): each lead is cut into patches of ``patch_size`` samples, a shared
  ``Linear(patch_size, embed_dim)`` embeds them, a fixed 2-D sin-cos positional embedding over
  (lead, patch) is added, a pre-norm transformer encoder runs over all ``C * T/patch_size``
  tokens, and tokens are mean-pooled. ECG-JEPA's own sizes are in :data:`ECG_JEPA_CONFIG`.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from climb.core.errors import ClimbError
from climb.models._registry import register_encoder, register_input_kwargs

# ECG-JEPA's encoder (embed 768, depth 12, 16 heads, MLP ratio 4, patches of 50 samples; it was
# trained on 8 leads I, II, V1-V6 at 250 Hz, 10 s = 2,500 samples -> 8 x 50 = 400 tokens).
# Use as build_encoder("signal", "patch_transformer", **ECG_JEPA_CONFIG). Too big for CPU tests.
ECG_JEPA_CONFIG: dict[str, int | float] = {
    "embed_dim": 768,
    "depth": 12,
    "num_heads": 16,
    "mlp_ratio": 4.0,
    "patch_size": 50,
    "in_channels": 8,
    "seq_len": 2500,
}

_XRESNET_LAYERS: dict[int, tuple[list[int], int]] = {
    18: ([2, 2, 2, 2], 1),
    34: ([3, 4, 6, 3], 1),
    50: ([3, 4, 6, 3], 4),
    101: ([3, 4, 23, 3], 4),
    152: ([3, 8, 36, 3], 4),
}


def _check_input(x: Tensor, in_channels: int, name: str) -> None:
    if x.ndim != 3 or x.shape[1] != in_channels:
        raise ClimbError(
            f"{name} expects input (batch, {in_channels} channels, time), got {tuple(x.shape)}",
            where=f"{name}.forward",
            fix=f"build the encoder with in_channels={x.shape[1] if x.ndim == 3 else '?'} "
            "or select the channels the encoder was built for",
        )


def _conv_layer(
    ni: int, nf: int, ks: int, stride: int = 1, *, act: bool = True, zero_bn: bool = False
) -> nn.Sequential:
    conv = nn.Conv1d(ni, nf, ks, stride=stride, padding=ks // 2, bias=False)
    nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
    bn = nn.BatchNorm1d(nf)
    nn.init.constant_(bn.weight, 0.0 if zero_bn else 1.0)  # zero-init the last BN of a block
    layers: list[nn.Module] = [conv, bn]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class _ResBlock1d(nn.Module):
    """fastai's ResBlock in 1-D: basic (expansion 1) or bottleneck (expansion 4)."""

    def __init__(self, expansion: int, ni: int, nh: int, stride: int, ks: int) -> None:
        super().__init__()
        nf, ni = nh * expansion, ni * expansion
        if expansion == 1:
            convs = [
                _conv_layer(ni, nh, ks, stride),
                _conv_layer(nh, nf, ks, act=False, zero_bn=True),
            ]
        else:
            convs = [
                _conv_layer(ni, nh, 1),
                _conv_layer(nh, nh, ks, stride),
                _conv_layer(nh, nf, 1, act=False, zero_bn=True),
            ]
        self.convpath = nn.Sequential(*convs)
        idpath: list[nn.Module] = []
        if stride != 1:
            idpath.append(nn.AvgPool1d(stride, ceil_mode=True))
        if ni != nf:
            idpath.append(_conv_layer(ni, nf, 1, act=False))
        self.idpath = nn.Sequential(*idpath)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.convpath(x) + self.idpath(x))


class XResNet1d(nn.Module):
    """Residual 1-D CNN (fastai xresnet / PTB-XL benchmark ``xresnet1d*``) -> ``(B, out_dim)``.

    Stem: three conv-BN-ReLU (32, 32, 64 channels; the first with stride 2) and a max-pool; four
    stages of residual blocks with 64, 128, 256, 512 (x ``widen``) channels (x4 for bottleneck
    depths 50/101/152), stride 2 from the second stage; pooling ``"avgmax"`` (concat of adaptive
    average and max, as the benchmark's head; ``out_dim = 2 * final channels``), ``"avg"``
    or ``"max"``.
    """

    def __init__(
        self,
        in_channels: int = 12,
        seq_len: int | None = None,
        *,
        depth: int = 18,
        kernel_size: int = 5,
        kernel_size_stem: int = 5,
        widen: float = 1.0,
        stem_sizes: tuple[int, int, int] = (32, 32, 64),
        pool: str = "avgmax",
    ) -> None:
        super().__init__()
        if depth not in _XRESNET_LAYERS:
            raise ClimbError(
                f"xresnet1d has no depth {depth}",
                where="XResNet1d(depth=...)",
                fix=f"use one of {sorted(_XRESNET_LAYERS)}",
            )
        if pool not in ("avgmax", "avg", "max"):
            raise ClimbError(
                f"unknown pooling '{pool}'", where="XResNet1d(pool=...)", fix="avgmax, avg or max"
            )
        layers, expansion = _XRESNET_LAYERS[depth]
        self.in_channels = in_channels
        self.seq_len = seq_len  # unused: the network takes any length (>= 32 samples)
        self.depth = depth
        self.pool = pool
        sizes = [in_channels, *stem_sizes]
        stem: list[nn.Module] = [
            _conv_layer(sizes[i], sizes[i + 1], kernel_size_stem, stride=2 if i == 0 else 1)
            for i in range(3)
        ]
        stem.append(nn.MaxPool1d(kernel_size=3, stride=2, padding=1))
        self.stem = nn.Sequential(*stem)
        block_sizes = [stem_sizes[-1] // expansion] + [
            max(1, int(o * widen)) for o in (64, 128, 256, 512)
        ]
        stages = []
        for i, n_blocks in enumerate(layers):
            ni, nf, stride = block_sizes[i], block_sizes[i + 1], 1 if i == 0 else 2
            blocks = [
                _ResBlock1d(
                    expansion, ni if j == 0 else nf, nf, stride if j == 0 else 1, kernel_size
                )
                for j in range(n_blocks)
            ]
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        final = block_sizes[-1] * expansion
        self.out_dim = 2 * final if pool == "avgmax" else final

    def forward_features(self, x: Tensor) -> Tensor:
        """Feature map before pooling: ``(B, channels, T')``."""
        _check_input(x, self.in_channels, "xresnet1d")
        return self.stages(self.stem(x))

    def forward(self, x: Tensor) -> Tensor:
        h = self.forward_features(x)
        if self.pool == "avg":
            return h.mean(dim=-1)
        if self.pool == "max":
            return h.amax(dim=-1)
        return torch.cat([h.mean(dim=-1), h.amax(dim=-1)], dim=1)


@register_encoder("signal", "xresnet1d", default=True)
def xresnet1d(in_channels: int = 12, seq_len: int | None = None, **kwargs: object) -> XResNet1d:
    """xresnet1d with a ``depth`` option (18, 34, 50, 101, 152; default 18: small and fast)."""
    return XResNet1d(in_channels, seq_len, **kwargs)  # type: ignore[arg-type]


def _fixed_depth(depth: int) -> None:
    def builder(in_channels: int = 12, seq_len: int | None = None, **kwargs: object) -> XResNet1d:
        return XResNet1d(in_channels, seq_len, depth=depth, **kwargs)  # type: ignore[arg-type]

    builder.__name__ = f"xresnet1d{depth}"
    builder.__doc__ = f"xresnet1d{depth} (PTB-XL benchmark family)."
    register_encoder("signal", f"xresnet1d{depth}")(builder)


for _depth in (18, 34, 50, 101):
    _fixed_depth(_depth)


def sincos_2d(embed_dim: int, n_rows: int, n_cols: int) -> Tensor:
    """Fixed 2-D sin-cos positional embedding (MAE / ECG-JEPA style): ``(n_rows * n_cols, D)``.

    The first half of the dimensions encodes the row (lead), the second half the column (patch).
    """
    if embed_dim % 4:
        raise ClimbError(
            f"embed_dim {embed_dim} is not a multiple of 4",
            where="2-D sin-cos positional embedding",
            fix="choose embed_dim divisible by 4 (and by num_heads)",
        )
    quarter = embed_dim // 4
    omega = 1.0 / 10000 ** (np.arange(quarter, dtype=np.float64) / quarter)

    def one_axis(pos: np.ndarray) -> np.ndarray:
        out = np.outer(pos, omega)
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)

    rows, cols = np.meshgrid(np.arange(n_rows), np.arange(n_cols), indexing="ij")
    emb = np.concatenate([one_axis(rows.ravel()), one_axis(cols.ravel())], axis=1)
    return torch.from_numpy(emb).float()


class PatchTransformer1d(nn.Module):
    """Lead x time patch transformer (ECG-JEPA shape) -> mean-pooled tokens ``(B, embed_dim)``.

    A signal whose length is not a multiple of ``patch_size`` is zero-padded at the end. Input
    sizes other than ``(in_channels, seq_len)`` get their positional embedding computed on the fly.
    """

    def __init__(
        self,
        in_channels: int = 12,
        seq_len: int = 5000,
        *,
        patch_size: int = 50,
        embed_dim: int = 128,
        depth: int = 4,
        num_heads: int = 4,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ClimbError(
                f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}",
                where="patch_transformer",
                fix="choose embed_dim as a multiple of num_heads",
            )
        self.in_channels = in_channels
        self.seq_len = seq_len
        self.patch_size = patch_size
        self.embed_dim = embed_dim
        self.out_dim = embed_dim
        n_patches = math.ceil(seq_len / patch_size)
        self.register_buffer(
            "pos_embed", sincos_2d(embed_dim, in_channels, n_patches), persistent=False
        )
        self.patch_embed = nn.Linear(patch_size, embed_dim)  # ECG-JEPA's W_P
        layer = nn.TransformerEncoderLayer(
            d_model=embed_dim,
            nhead=num_heads,
            dim_feedforward=int(embed_dim * mlp_ratio),
            dropout=dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def tokens(self, x: Tensor) -> Tensor:
        """Token sequence after the encoder: ``(B, C * n_patches, embed_dim)``."""
        _check_input(x, self.in_channels, "patch_transformer")
        b, c, t = x.shape
        pad = (-t) % self.patch_size
        if pad:
            x = F.pad(x, (0, pad))
        n_patches = x.shape[-1] // self.patch_size
        h = self.patch_embed(x.reshape(b, c, n_patches, self.patch_size))
        pos = self.pos_embed
        if pos.shape[0] != c * n_patches:
            pos = sincos_2d(self.embed_dim, c, n_patches).to(h.device)
        h = h.reshape(b, c * n_patches, self.embed_dim) + pos.to(h.dtype)
        return self.norm(self.blocks(h))

    def forward(self, x: Tensor) -> Tensor:
        return self.tokens(x).mean(dim=1)


@register_encoder("signal", "patch_transformer")
def patch_transformer(
    in_channels: int = 12, seq_len: int = 5000, **kwargs: object
) -> PatchTransformer1d:
    """Lead x time patch transformer; small defaults (128 dim, depth 4, 4 heads, patch 50)."""
    return PatchTransformer1d(in_channels, seq_len, **kwargs)  # type: ignore[arg-type]


def _signal_input_kwargs(shape: tuple[int, ...], spec: dict[str, object]) -> dict[str, object]:
    return {"in_channels": int(shape[0]), "seq_len": int(shape[-1])}


register_input_kwargs("signal", _signal_input_kwargs)
