"""EEG encoders from braindecode, in the models registry under modality ``signal``.

EEG stores hold a ``signal`` field (channels x time at 200 Hz, docs/eeg.md), so EEG encoders
are ``signal`` encoders built from the same standard arguments (``in_channels``, ``seq_len``;
braindecode's ``n_chans``, ``n_times``) plus ``sfreq`` (200). The existing 1-D encoders
(``xresnet1d``, ``patch_transformer``) work on EEG unchanged.

=============== ============================================= ==================================
name            braindecode model                             features (out_dim)
=============== ============================================= ==================================
``eegnet``      ``braindecode.models.EEGNet`` (Lawhern 2018)   the last feature maps, flattened
``eegconformer`` ``EEGConformer`` (Song et al. 2023)            its 32-d fully connected output
``biot``        ``BIOT`` (Yang et al. 2023)                    the 256-d transformer embedding
=============== ============================================= ==================================

Models are randomly initialised (no weights are downloaded); their classification layer
(``final_layer``) is replaced by the identity so the registry's heads sit on the features.
Other keyword arguments go to the braindecode class (e.g. ``embed_dim``, ``num_layers``, ``num_heads`` for BIOT).

Why the import is special: braindecode 1.x (every release with BIOT: 1.0-1.8) imports
``torchaudio`` in ``braindecode/modules/filter.py`` from ``braindecode/modules/__init__.py``,
and ``braindecode/__init__`` imports every model, so ``import braindecode.models`` fails without
torchaudio, and no torchaudio build matches torch 2.14. None of the three models here uses
torchaudio or the filter module. When torchaudio is missing, :func:`braindecode_class` loads
braindecode's own, unmodified model modules without running the package initialisers (bare
package objects for ``braindecode``, ``braindecode.models`` and ``braindecode.modules``; the
``braindecode.modules`` namespace is filled from its submodules except ``filter``). With
torchaudio installed the normal ``import braindecode.models`` is used.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
import warnings
from typing import Any

import torch
from torch import Tensor, nn

from climb.core.errors import ClimbError
from climb.models._registry import register_encoder

#: registry name -> (braindecode module, class)
BRAINDECODE_MODELS: dict[str, tuple[str, str]] = {
    "eegnet": ("eegnet", "EEGNet"),
    "eegconformer": ("eegconformer", "EEGConformer"),
    "biot": ("biot", "BIOT"),
}
_SKIPPED_MODULES = ("filter",)  # braindecode.modules.filter imports torchaudio


def _install_hint(exc: BaseException) -> ClimbError:
    return ClimbError(
        f"braindecode models cannot be imported: {type(exc).__name__}: {exc}",
        where="climb.models.eeg",
        fix="install braindecode without its torchaudio pin: pip install --no-deps "
        "braindecode==1.8.1 plus its dependencies (mne, einops, torchinfo, pydantic, "
        "docstring_inheritance, linear_attention_transformer); see the Makefile's install",
    )


def _bare_package(name: str, path: str) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__path__ = [path]
    mod.__package__ = name
    sys.modules[name] = mod
    return mod


def _load_without_init() -> None:
    """Make ``braindecode.models.<m>`` importable without the package ``__init__`` files."""
    import pkgutil

    spec = importlib.util.find_spec("braindecode")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("No module named 'braindecode'")
    root = next(iter(spec.submodule_search_locations))
    if not isinstance(sys.modules.get("braindecode"), types.ModuleType) or not hasattr(
        sys.modules["braindecode"], "__path__"
    ):
        _bare_package("braindecode", root)
    modules = _bare_package("braindecode.modules", f"{root}/modules")
    for info in pkgutil.iter_modules(modules.__path__):
        if info.name in _SKIPPED_MODULES:
            continue
        sub = importlib.import_module(f"braindecode.modules.{info.name}")
        names = getattr(sub, "__all__", None) or [n for n in vars(sub) if not n.startswith("_")]
        for n in names:
            if not hasattr(modules, n) and hasattr(sub, n):
                setattr(modules, n, getattr(sub, n))
    _bare_package("braindecode.models", f"{root}/models")


_LOADED = False


def braindecode_class(name: str) -> type[nn.Module]:
    """The braindecode class registered as ``name`` (see :data:`BRAINDECODE_MODELS`)."""
    global _LOADED
    module, cls = BRAINDECODE_MODELS[name]
    try:
        if not _LOADED:
            if importlib.util.find_spec("torchaudio") is not None:
                importlib.import_module("braindecode.models")
            elif "braindecode.models" not in sys.modules:
                _load_without_init()
            _LOADED = True
        return getattr(importlib.import_module(f"braindecode.models.{module}"), cls)  # type: ignore[no-any-return]
    except ClimbError:
        raise
    except Exception as exc:
        raise _install_hint(exc) from exc


class BraindecodeEncoder(nn.Module):
    """A braindecode model without its classification layer: ``(B, C, T) -> (B, out_dim)``."""

    def __init__(
        self, name: str, in_channels: int, seq_len: int, sfreq: float = 200.0, **kwargs: Any
    ) -> None:
        super().__init__()
        cls = braindecode_class(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # braindecode's deprecation notes on arguments
            self.model = cls(
                n_chans=int(in_channels),
                n_outputs=2,
                n_times=int(seq_len),
                sfreq=float(sfreq),
                **kwargs,
            )
        if not hasattr(self.model, "final_layer"):
            raise ClimbError(f"braindecode {cls.__name__} has no final_layer to replace")
        self.model.final_layer = nn.Identity()
        self.name = name
        self.in_channels = int(in_channels)
        was = self.model.training
        self.model.eval()
        with torch.no_grad():
            self.out_dim = int(
                self.forward(torch.zeros(1, int(in_channels), int(seq_len))).shape[1]
            )
        self.model.train(was)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ClimbError(
                f"{self.name} expects (batch, {self.in_channels}, time), got {tuple(x.shape)}",
                fix="build the encoder from the field's shape (in_channels, seq_len)",
            )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="A window was not provided")  # BIOT stft
            return self.model(x).flatten(1)


def _builder(name: str) -> None:
    def build(
        in_channels: int = 16, seq_len: int = 2000, sfreq: float = 200.0, **kwargs: Any
    ) -> BraindecodeEncoder:
        return BraindecodeEncoder(name, in_channels, seq_len, sfreq, **kwargs)

    build.__name__ = name
    build.__doc__ = (
        f"braindecode {BRAINDECODE_MODELS[name][1]}, randomly initialised (docs/eeg.md)."
    )
    register_encoder("signal", name)(build)


for _name in BRAINDECODE_MODELS:
    _builder(_name)
