"""Fusion modules: combine per-field encoder features into one feature vector per sample.

A multi-field model is ``encoders per field -> fusion -> head``. Every fusion follows one
protocol (:class:`Fusion`)::

    fusion = build_fusion("concat", {"ehr": 128, "ecg": 1024, "cxr": 320})
    z = fusion(features, present)            # (B, fusion.out_dim)

* ``features[f]``: ``(B, dims[f])`` pooled features of field ``f``, or ``(B, T_f, dims[f])``
  a token sequence. Pooled fusions (``concat``, ``gated``, ``late``) mean-pool token inputs
  over ``T_f``; the token fusion (``cross_attention``) uses the tokens (a pooled input is one
  token).
* ``present[f]``: ``(B,)`` bool, ``False`` where the sample has no value for field ``f`` (no
  ECG in the admission, ...). The features of an absent field are **never used**: every
  fusion replaces them with a learned mask token of that field (so a missing modality never
  looks like real data of value zero), and the presence mask itself reaches the output
  (appended as features, or through gates / attention). A field missing from ``present``
  counts as present for every sample.

Every fusion is **per sample**: the output for sample ``i`` depends only on sample ``i``'s
features and presence (no batch norm, attention only inside one sample's tokens). The tests
prove it for every registered fusion: changing sample ``j`` never changes output ``i``.
(CLIMB's original "cross-attention" attended across the batch, climb-facts.md §5.2.)

Registered fusions (:func:`fusion_names`):

``concat``
    Early fusion: ``[x_1, ..., x_n, present_1, ..., present_n]`` with absent ``x_f`` replaced
    by field ``f``'s learned mask token. ``out_dim = sum(dims) + n`` (or ``proj_dim`` with a
    ``Linear -> GELU`` projection).
``cross_attention``
    Per-sample token fusion: each field's tokens are projected to ``d_model`` and get a learned
    field embedding; an absent field contributes one learned mask token (its own tokens are
    key-padding masked); a learned summary token is prepended; a transformer encoder runs over
    **one sample's tokens at a time** (attention over the token axis, never the batch); the
    summary token's output is the feature. ``out_dim = d_model``.
``gated``
    Gated multimodal unit (Arevalo et al. 2017): ``h_f = tanh(W_f x_f)``; gate logits from the
    concatenated (mask-token-substituted) inputs and the presence mask; softmax over the
    **present** fields only (absent ones get weight 0; a sample with no field present
    averages the mask tokens); ``z = sum_f g_f h_f``. ``out_dim = hidden``.
``late``
    Late fusion: each field has its own head ``Linear(dims[f], late_dim)`` (optionally an MLP)
    mapping to a shared prediction space. ``mode="mean"`` averages the per-field outputs over
    the present fields (``out_dim = late_dim``): with the trainer's linear head on top this is
    exactly the average of per-modality linear predictions, the classic late fusion.
    ``mode="stack"`` concatenates the per-field outputs (absent ones replaced by a learned mask
    vector) and the presence mask (``out_dim = n * late_dim + n``): the trainer's head is then
    the stacking combiner that learns how much to trust each modality. Set ``late_dim`` to the
    number of task outputs to make the per-field outputs logits-sized.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import TypeVar

import torch
from torch import Tensor, nn

from climb.core.errors import ClimbError

FusionT = TypeVar("FusionT", bound=type["Fusion"])

_FUSIONS: dict[str, type[Fusion]] = {}


def register_fusion(name: str) -> Callable[[FusionT], FusionT]:
    """Class decorator: register a :class:`Fusion` subclass under ``name``."""

    def decorator(cls: FusionT) -> FusionT:
        if name in _FUSIONS and _FUSIONS[name] is not cls:
            raise ClimbError(
                f"fusion '{name}' is registered twice",
                where=f"{cls.__module__}.{cls.__qualname__}",
                fix="give the fusion a different name",
            )
        _FUSIONS[name] = cls
        cls.name = name
        return cls

    return decorator


def fusion_names() -> list[str]:
    """Registered fusion names, ``concat`` first, the others sorted."""
    rest = sorted(n for n in _FUSIONS if n != "concat")
    return (["concat"] if "concat" in _FUSIONS else []) + rest


def build_fusion(name: str, dims: Mapping[str, int], **kwargs: object) -> Fusion:
    """Build fusion ``name`` over fields with feature sizes ``dims`` (the encoders' ``out_dim``)."""
    cls = _FUSIONS.get(name)
    if cls is None:
        close = difflib.get_close_matches(name, list(_FUSIONS), n=3)
        raise ClimbError(
            f"unknown fusion '{name}'",
            where=f"build_fusion({name!r})",
            fix=(f"did you mean {', '.join(close)}? " if close else "")
            + f"known fusions: {', '.join(fusion_names())}",
        )
    try:
        return cls(dims, **kwargs)
    except TypeError as exc:
        raise ClimbError(
            f"bad options for fusion '{name}': {exc}",
            where=f"build_fusion({name!r}, **{sorted(kwargs)})",
            fix="check the option names against docs/models.md (Fusion)",
        ) from exc


class Fusion(nn.Module):
    """Base class and protocol of every fusion module (see the module docstring).

    Subclasses set ``self.out_dim`` and implement :meth:`fuse` on validated inputs:
    ``features`` in field order, each ``(B, T_f, D_f)`` (pooled inputs arrive as ``T_f = 1``
    only for token fusions; pooled fusions get ``(B, D_f)``), ``present`` ``(B,)`` bool.
    """

    name = "fusion"
    out_dim: int
    #: True for fusions that use token sequences; pooled fusions get mean-pooled tokens.
    uses_tokens = False

    def __init__(self, dims: Mapping[str, int], **kwargs: object) -> None:
        super().__init__()
        if kwargs:
            raise TypeError(f"unexpected options {sorted(kwargs)}")
        if not dims:
            raise ClimbError(
                "a fusion needs at least one field",
                where=f"fusion '{self.name}'",
                fix="pass dims={field: encoder.out_dim, ...}",
            )
        for field, dim in dims.items():
            if not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0:
                raise ClimbError(
                    f"feature size of field '{field}' must be a positive integer, got {dim!r}",
                    where=f"fusion '{self.name}'",
                    fix="pass each encoder's out_dim",
                )
        self.fields: list[str] = list(dims)
        self.dims: dict[str, int] = dict(dims)

    # -- protocol ------------------------------------------------------------------------------
    def forward(self, features: Mapping[str, Tensor], present: Mapping[str, Tensor]) -> Tensor:
        feats, pres = self._validated(features, present)
        return self.fuse(feats, pres)

    def fuse(self, features: list[Tensor], present: list[Tensor]) -> Tensor:
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------------------------
    def _validated(
        self, features: Mapping[str, Tensor], present: Mapping[str, Tensor]
    ) -> tuple[list[Tensor], list[Tensor]]:
        where = f"fusion '{self.name}' over fields {self.fields}"
        missing = [f for f in self.fields if f not in features]
        extra = [f for f in features if f not in self.dims]
        if missing or extra:
            raise ClimbError(
                "fusion inputs do not match its fields"
                + (f"; missing: {missing}" if missing else "")
                + (f"; unknown: {extra}" if extra else ""),
                where=where,
                fix="pass one feature tensor per field the fusion was built with",
            )
        batch: int | None = None
        feats: list[Tensor] = []
        pres: list[Tensor] = []
        for f in self.fields:
            x = features[f]
            if x.ndim not in (2, 3) or x.shape[-1] != self.dims[f]:
                raise ClimbError(
                    f"features of field '{f}' must be (B, {self.dims[f]}) or "
                    f"(B, T, {self.dims[f]}), got {tuple(x.shape)}",
                    where=where,
                    fix="check the encoder's out_dim against the dims given to build_fusion",
                )
            if batch is None:
                batch = x.shape[0]
            elif x.shape[0] != batch:
                raise ClimbError(
                    f"field '{f}' has batch size {x.shape[0]}, the first field {batch}",
                    where=where,
                    fix="encode every field for the same samples",
                )
            p = present.get(f)
            if p is None:
                p = torch.ones(batch, dtype=torch.bool, device=x.device)
            else:
                if p.shape != (batch,):
                    raise ClimbError(
                        f"presence mask of field '{f}' must be ({batch},), got {tuple(p.shape)}",
                        where=where,
                        fix="pass present[field] as a (B,) bool tensor",
                    )
                p = p.to(device=x.device, dtype=torch.bool)
            if self.uses_tokens:
                x = x if x.ndim == 3 else x.unsqueeze(1)
            elif x.ndim == 3:
                x = x.mean(dim=1)
            feats.append(x)
            pres.append(p)
        return feats, pres

    @staticmethod
    def _substitute(x: Tensor, present: Tensor, token: Tensor) -> Tensor:
        """``x`` where present, the learned ``token`` elsewhere (absent values never reach it)."""
        shape = (-1,) + (1,) * (x.ndim - 1)
        return torch.where(present.view(shape), x, token.to(x.dtype).expand_as(x))


def _mask_tokens(dims: Mapping[str, int]) -> nn.ParameterDict:
    return nn.ParameterDict({f: nn.Parameter(torch.randn(d) * 0.02) for f, d in dims.items()})


@register_fusion("concat")
class ConcatFusion(Fusion):
    """Early fusion by concatenation, learned mask tokens for absent fields, presence appended."""

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        proj_dim: int | None = None,
        dropout: float = 0.0,
        **kwargs: object,
    ) -> None:
        super().__init__(dims, **kwargs)
        self.mask_tokens = _mask_tokens(self.dims)
        width = sum(self.dims.values()) + len(self.fields)
        self.proj: nn.Module
        if proj_dim:
            self.proj = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, proj_dim), nn.GELU())
            self.out_dim = int(proj_dim)
        else:
            self.proj = nn.Identity()
            self.out_dim = width

    def fuse(self, features: list[Tensor], present: list[Tensor]) -> Tensor:
        parts = [
            self._substitute(x, p, self.mask_tokens[f])
            for f, x, p in zip(self.fields, features, present, strict=True)
        ]
        dtype = parts[0].dtype
        parts.append(torch.stack(present, dim=1).to(dtype))
        return self.proj(torch.cat(parts, dim=1))


@register_fusion("cross_attention")
class CrossAttentionFusion(Fusion):
    """Per-sample token fusion: one sample's field tokens attend to each other only."""

    uses_tokens = True

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        d_model: int = 128,
        depth: int = 2,
        num_heads: int = 4,
        mlp_ratio: float = 2.0,
        dropout: float = 0.0,
        max_tokens: int = 1024,
        **kwargs: object,
    ) -> None:
        super().__init__(dims, **kwargs)
        if d_model % num_heads:
            raise ClimbError(
                f"d_model {d_model} is not a multiple of num_heads {num_heads}",
                where="fusion 'cross_attention'",
                fix="choose d_model divisible by num_heads",
            )
        self.max_tokens = max_tokens
        self.proj = nn.ModuleDict({f: nn.Linear(d, d_model) for f, d in self.dims.items()})
        n = len(self.fields)
        self.field_embed = nn.Parameter(torch.randn(n, d_model) * 0.02)
        self.mask_token = nn.Parameter(torch.randn(n, d_model) * 0.02)
        self.summary = nn.Parameter(torch.randn(1, 1, d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(
            d_model,
            num_heads,
            dim_feedforward=int(d_model * mlp_ratio),
            dropout=dropout,
            activation="gelu",
            batch_first=True,  # attention runs over dim 1 (one sample's tokens), never the batch
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.out_dim = d_model

    def fuse(self, features: list[Tensor], present: list[Tensor]) -> Tensor:
        batch = features[0].shape[0]
        tokens = [self.summary.expand(batch, -1, -1)]
        pad = [torch.zeros(batch, 1, dtype=torch.bool, device=features[0].device)]
        for i, (f, x, p) in enumerate(zip(self.fields, features, present, strict=True)):
            if x.shape[1] > self.max_tokens:
                raise ClimbError(
                    f"field '{f}' has {x.shape[1]} tokens, more than max_tokens={self.max_tokens}",
                    where="fusion 'cross_attention'",
                    fix="pool the encoder's tokens or raise max_tokens",
                )
            t = self.proj[f](x) + self.field_embed[i]
            # An absent field: its first token becomes the mask token, the others are padding.
            first = self._substitute(t[:, :1], p, self.mask_token[i] + self.field_embed[i])
            t = torch.cat([first, t[:, 1:]], dim=1)
            field_pad = (~p).view(-1, 1).expand(-1, t.shape[1]).clone()
            field_pad[:, 0] = False
            tokens.append(t)
            pad.append(field_pad)
        seq = torch.cat(tokens, dim=1)
        key_padding = torch.cat(pad, dim=1)
        # A float mask (-inf on padding) avoids the boolean fast path's mismatch warnings.
        float_mask = torch.zeros(key_padding.shape, dtype=seq.dtype, device=seq.device)
        float_mask = float_mask.masked_fill(key_padding, float("-inf"))
        out = self.encoder(seq, src_key_padding_mask=float_mask)
        return self.norm(out[:, 0])


@register_fusion("gated")
class GatedFusion(Fusion):
    """Gated multimodal unit: softmax gates over the present fields weight per-field features."""

    def __init__(
        self, dims: Mapping[str, int], *, hidden: int = 128, dropout: float = 0.0, **kwargs: object
    ) -> None:
        super().__init__(dims, **kwargs)
        self.mask_tokens = _mask_tokens(self.dims)
        self.transform = nn.ModuleDict(
            {
                f: nn.Sequential(nn.Dropout(dropout), nn.Linear(d, hidden))
                for f, d in self.dims.items()
            }
        )
        n = len(self.fields)
        self.gate = nn.Linear(sum(self.dims.values()) + n, n)
        self.out_dim = hidden

    def fuse(self, features: list[Tensor], present: list[Tensor]) -> Tensor:
        xs = [
            self._substitute(x, p, self.mask_tokens[f])
            for f, x, p in zip(self.fields, features, present, strict=True)
        ]
        pres = torch.stack(present, dim=1)  # (B, n)
        h = torch.stack(
            [torch.tanh(self.transform[f](x)) for f, x in zip(self.fields, xs, strict=True)], dim=1
        )  # (B, n, hidden)
        logits = self.gate(torch.cat([*xs, pres.to(xs[0].dtype)], dim=1))
        # Absent fields get no weight; a sample with nothing present averages the mask tokens.
        none = ~pres.any(dim=1, keepdim=True)
        allowed = pres | none
        logits = logits.masked_fill(~allowed, float("-inf"))
        weights = torch.softmax(logits, dim=1)
        return (weights.unsqueeze(-1) * h).sum(dim=1)


@register_fusion("late")
class LateFusion(Fusion):
    """Late fusion: per-field heads into a shared prediction space, averaged or stacked."""

    def __init__(
        self,
        dims: Mapping[str, int],
        *,
        late_dim: int = 32,
        mode: str = "mean",
        hidden: int | None = None,
        dropout: float = 0.0,
        **kwargs: object,
    ) -> None:
        super().__init__(dims, **kwargs)
        if mode not in ("mean", "stack"):
            raise ClimbError(
                f"unknown late fusion mode '{mode}'",
                where="fusion 'late'",
                fix="use mode='mean' (average per-field outputs) or 'stack' (concatenate)",
            )
        self.mode = mode
        self.late_dim = late_dim
        heads: dict[str, nn.Module] = {}
        for f, d in self.dims.items():
            layers: list[nn.Module] = [nn.Dropout(dropout)] if dropout > 0 else []
            if hidden:
                layers += [nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, late_dim)]
            else:
                layers.append(nn.Linear(d, late_dim))
            heads[f] = nn.Sequential(*layers)
        self.heads = nn.ModuleDict(heads)
        self.mask_outputs = nn.ParameterDict(
            {f: nn.Parameter(torch.zeros(late_dim)) for f in self.fields}
        )
        n = len(self.fields)
        self.out_dim = late_dim if mode == "mean" else n * late_dim + n

    def per_field(self, features: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Each field's own head output ``(B, late_dim)`` (e.g. for per-modality losses)."""
        feats, _ = self._validated(features, {})
        return {f: self.heads[f](x) for f, x in zip(self.fields, feats, strict=True)}

    def fuse(self, features: list[Tensor], present: list[Tensor]) -> Tensor:
        outs = [
            self._substitute(self.heads[f](x), p, self.mask_outputs[f])
            for f, x, p in zip(self.fields, features, present, strict=True)
        ]
        pres = torch.stack(present, dim=1)
        if self.mode == "stack":
            return torch.cat([*outs, pres.to(outs[0].dtype)], dim=1)
        stacked = torch.stack(outs, dim=1)  # (B, n, late_dim)
        none = ~pres.any(dim=1, keepdim=True)
        weight = (pres | none).to(stacked.dtype)
        return (stacked * weight.unsqueeze(-1)).sum(dim=1) / weight.sum(dim=1, keepdim=True)
