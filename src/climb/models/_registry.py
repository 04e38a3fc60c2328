"""One registry of encoders, keyed by (modality, name), filled by the ``@register_encoder`` decorator.

Like timm's registry: modules that define encoders decorate a builder function; entry points
(:func:`build_encoder`, :func:`list_encoders`) stay thin. Builders are plain callables
``builder(**kwargs) -> nn.Module`` whose result has an ``out_dim: int`` attribute.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

from climb.core.errors import ClimbError

BuilderT = TypeVar("BuilderT", bound=Callable[..., nn.Module])

_ENCODERS: dict[tuple[str, str], Callable[..., nn.Module]] = {}
_DEFAULTS: dict[str, str] = {}
# Per modality, a fallback builder for names that are not registered (image -> any timm model).
_FALLBACKS: dict[str, Callable[..., nn.Module]] = {}


def register_encoder(
    modality: str, name: str, *, default: bool = False
) -> Callable[[BuilderT], BuilderT]:
    """Decorator: register ``builder`` as encoder ``name`` for ``modality``.

    ``default=True`` makes it the encoder :func:`build_encoder` uses when no name is given.
    """

    def decorator(builder: BuilderT) -> BuilderT:
        key = (modality, name)
        if key in _ENCODERS and _ENCODERS[key] is not builder:
            raise ClimbError(
                f"encoder '{name}' is registered twice for modality '{modality}'",
                where=f"{builder.__module__}.{getattr(builder, '__name__', builder)}",
                fix="give the encoder a different name",
            )
        _ENCODERS[key] = builder
        if default:
            _DEFAULTS[modality] = name
        return builder

    return decorator


def register_fallback(modality: str, builder: Callable[..., nn.Module]) -> None:
    """Builder used for names of ``modality`` that are not registered (called as ``builder(name, **kw)``)."""
    _FALLBACKS[modality] = builder


# Per modality, the encoder arguments that follow from a field's stored shape and metadata
# (braindecode-style standard arguments: channels, length, sampling rate).
_INPUT_KWARGS: dict[str, Callable[[tuple[int, ...], dict[str, Any]], dict[str, Any]]] = {}


def register_input_kwargs(
    modality: str, fn: Callable[[tuple[int, ...], dict[str, Any]], dict[str, Any]]
) -> None:
    """Register how a field of ``modality`` (per-sample ``shape``, the store's field spec)
    becomes encoder arguments, e.g. ``signal``: ``in_channels``, ``seq_len``."""
    _INPUT_KWARGS[modality] = fn


def input_kwargs(modality: str, shape: tuple[int, ...], spec: dict[str, Any]) -> dict[str, Any]:
    """Encoder arguments for a field of ``modality`` with per-sample ``shape`` (none if the
    modality registered no rule)."""
    _ensure_loaded()
    fn = _INPUT_KWARGS.get(modality)
    return dict(fn(tuple(shape), dict(spec or {}))) if fn is not None else {}


def _ensure_loaded() -> None:
    # Importing the modules runs their decorators; done lazily so importing the registry is cheap.
    from climb.models import eeg, graph, image, signal, tabular, text, video, volume  # noqa: F401  # noqa: F401  (docs/volumes-video.md)


def list_encoders(modality: str | None = None) -> list[tuple[str, str]]:
    """Registered encoders as sorted ``(modality, name)`` pairs, optionally for one modality.

    The image modality also accepts any timm model name that is not listed here.
    """
    _ensure_loaded()
    return sorted(key for key in _ENCODERS if modality is None or key[0] == modality)


def default_encoder(modality: str) -> str:
    """The encoder name :func:`build_encoder` uses for ``modality`` when none is given."""
    _ensure_loaded()
    if modality not in _DEFAULTS:
        raise _unknown_modality(modality)
    return _DEFAULTS[modality]


def build_encoder(modality: str, name: str | None = None, **kwargs: object) -> nn.Module:
    """Build encoder ``name`` (default: the modality's default) with ``kwargs``.

    The result maps its input to ``(B, out_dim)`` features and has ``out_dim: int``.
    ``weights=PATH`` loads a local state dict / checkpoint (non-strict; the report of missing and
    unexpected keys is kept as ``module.load_report``); nothing is ever downloaded unless an image
    encoder is asked for hub weights explicitly.
    """
    _ensure_loaded()
    modalities = {m for m, _ in _ENCODERS}
    if modality not in modalities:
        raise _unknown_modality(modality)
    if name is None:
        name = _DEFAULTS[modality]
    builder = _ENCODERS.get((modality, name))
    if builder is None:
        fallback = _FALLBACKS.get(modality)
        if fallback is not None:
            try:
                return _checked(fallback(name, **kwargs), modality, name)
            except TypeError as exc:
                raise ClimbError(
                    f"bad options for {modality} encoder '{name}': {exc}",
                    where=f"build_encoder({modality!r}, {name!r}, **{sorted(kwargs)})",
                    fix="check the option names against docs/models.md",
                ) from exc
        names = [n for m, n in _ENCODERS if m == modality]
        close = difflib.get_close_matches(name, names, n=3)
        raise ClimbError(
            f"unknown {modality} encoder '{name}'",
            where=f"build_encoder({modality!r}, {name!r})",
            fix=(f"did you mean {', '.join(close)}? " if close else "")
            + f"known {modality} encoders: {', '.join(sorted(names))}",
        )
    # Encoders that do not load weights themselves get them here, from a local file only.
    weights = (
        kwargs.pop("weights", None) if not getattr(builder, "handles_weights", False) else None
    )
    try:
        module = builder(**kwargs)
    except TypeError as exc:
        raise ClimbError(
            f"bad options for {modality} encoder '{name}': {exc}",
            where=f"build_encoder({modality!r}, {name!r}, **{sorted(kwargs)})",
            fix="check the option names against docs/models.md",
        ) from exc
    module = _checked(module, modality, name)
    if weights is not None:
        from climb.models.weights import load_encoder_weights

        module.load_report = load_encoder_weights(module, weights)  # type: ignore[arg-type]
    return module


def _checked(module: nn.Module, modality: str, name: str) -> nn.Module:
    out_dim = getattr(module, "out_dim", None)
    if not isinstance(out_dim, int) or out_dim <= 0:
        raise ClimbError(
            f"{modality} encoder '{name}' has no positive integer 'out_dim'",
            where=type(module).__qualname__,
            fix="set self.out_dim in the encoder's __init__",
        )
    return module


def _unknown_modality(modality: str) -> ClimbError:
    known = sorted({m for m, _ in _ENCODERS})
    return ClimbError(
        f"no encoders for modality '{modality}'",
        where="climb.models.build_encoder",
        fix=f"known modalities: {', '.join(known)}",
    )
