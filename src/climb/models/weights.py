"""Loading encoder weights from local files, with a clear report of what did (not) match."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from climb.core.errors import ClimbError

# Keys under which checkpoints commonly keep the weights, in order of preference.
CHECKPOINT_KEYS = ("encoder", "model", "state_dict", "model_state_dict", "module")
# Wrapper prefixes added by DDP / torch.compile; always stripped.
_WRAPPER_PREFIXES = ("module.", "_orig_mod.")


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """Read a state dict from ``path`` (``torch.save`` file or ``.safetensors``).

    A checkpoint dict is unwrapped through its ``encoder`` / ``model`` / ``state_dict`` keys.
    Only tensors are kept. Loading uses ``weights_only=True``: no code in the file is run.
    """
    p = Path(path)
    if not p.is_file():
        raise ClimbError(
            f"weights file not found: {p}",
            where="load_encoder_weights",
            fix="check the path; weights are only read from local files (nothing is downloaded)",
        )
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            obj: Any = load_file(str(p))
        else:
            obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ClimbError(
            f"could not read weights from {p}: {exc}",
            where="torch.load(weights_only=True)",
            fix="the file must be a torch.save'd state dict / checkpoint of tensors and plain "
            "values, or a .safetensors file",
        ) from exc
    return _unwrap(obj, str(p))


def _unwrap(obj: Any, source: str) -> dict[str, Tensor]:
    for _ in range(4):
        if not isinstance(obj, Mapping):
            break
        if obj and all(isinstance(v, Tensor) for v in obj.values()):
            break
        inner = next(
            (obj[k] for k in CHECKPOINT_KEYS if k in obj and isinstance(obj[k], Mapping)), None
        )
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, Mapping):
        raise ClimbError(
            f"weights in {source} are a {type(obj).__name__}, not a state dict",
            where="load_encoder_weights",
            fix="save module.state_dict() (or a dict holding it under 'encoder'/'model'/"
            "'state_dict')",
        )
    state = {str(k): v for k, v in obj.items() if isinstance(v, Tensor)}
    if not state:
        raise ClimbError(
            f"no tensors found in {source}",
            where="load_encoder_weights",
            fix=f"the checkpoint should hold a state dict under one of {list(CHECKPOINT_KEYS)}",
        )
    return state


def _strip(state: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


def _reconcile_prefix(state: dict[str, Tensor], own: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """When no key matches, try dropping the state's / adding the module's first key component."""
    if any(k in own for k in state):
        return state
    candidates = [state]
    heads = {k.split(".", 1)[0] + "." for k in state if "." in k}
    candidates += [_strip(state, h) for h in heads]
    own_heads = {k.split(".", 1)[0] + "." for k in own if "." in k}
    candidates += [{h + k: v for k, v in state.items()} for h in own_heads]
    return max(candidates, key=lambda s: sum(k in own for k in s))


def load_encoder_weights(
    module: nn.Module,
    path: str | Path | Mapping[str, Tensor],
    *,
    strict: bool = False,
    prefix: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Load weights from ``path`` (a file, or an in-memory state dict) into ``module``.

    ``path`` may hold a plain state dict or a checkpoint dict with the weights under
    ``'encoder'``, ``'model'`` or ``'state_dict'``. ``prefix`` keeps only keys starting with it
    and strips it (e.g. ``prefix="encoder."`` to take the encoder out of a whole-model state dict).
    ``module.`` / ``_orig_mod.`` (DDP / torch.compile) prefixes are always stripped; when no key
    matches at all, one leading key component is dropped or added if that makes keys match.

    Returns a report ``{"source", "loaded", "missing", "unexpected"}`` (key lists). Raises
    :class:`ClimbError` for a missing file, shape mismatches, no matching key at all, or (with
    ``strict=True``) any missing / unexpected key.
    """
    if isinstance(path, Mapping):
        state = _unwrap(path, source or "the given state dict")
        src = source or "<state dict>"
    else:
        state = read_state_dict(path)
        src = source or str(path)
    for wrapper in _WRAPPER_PREFIXES:
        if all(k.startswith(wrapper) for k in state):
            state = _strip(state, wrapper)
    if prefix:
        stripped = _strip(state, prefix)
        if not stripped:
            raise ClimbError(
                f"no key in {src} starts with prefix '{prefix}'",
                where="load_encoder_weights(prefix=...)",
                fix=f"first keys are {sorted(state)[:5]}; pass the right prefix or none",
            )
        state = stripped
    own = module.state_dict()
    state = _reconcile_prefix(state, own)
    mismatched = [
        f"{k}: file {tuple(v.shape)} vs model {tuple(own[k].shape)}"
        for k, v in state.items()
        if k in own and tuple(v.shape) != tuple(own[k].shape)
    ]
    if mismatched:
        raise ClimbError(
            f"{len(mismatched)} weight(s) in {src} do not fit the model's shapes: "
            + "; ".join(mismatched[:5])
            + (" ..." if len(mismatched) > 5 else ""),
            where=f"load_encoder_weights({type(module).__name__})",
            fix="build the encoder with the same options (channels, sizes, depth) as the "
            "checkpoint, or load a checkpoint made for this architecture",
        )
    loaded = sorted(k for k in state if k in own)
    if not loaded:
        raise ClimbError(
            f"no weight in {src} matches {type(module).__name__}",
            where="load_encoder_weights",
            fix=f"file keys start like {sorted(state)[:3]}, model keys like {sorted(own)[:3]}; "
            "pass prefix=... to select the encoder's part of the checkpoint",
        )
    result = module.load_state_dict(state, strict=False)
    missing, unexpected = sorted(result.missing_keys), sorted(result.unexpected_keys)
    if strict and (missing or unexpected):
        raise ClimbError(
            f"weights in {src} do not match exactly: {len(missing)} missing, "
            f"{len(unexpected)} unexpected (e.g. {(missing + unexpected)[:4]})",
            where="load_encoder_weights(strict=True)",
            fix="use strict=False to load what matches, or a checkpoint of this exact encoder",
        )
    return {"source": src, "loaded": loaded, "missing": missing, "unexpected": unexpected}
