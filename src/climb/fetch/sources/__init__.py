"""Source plugins: one module per source kind, all behind :class:`~.base.SourcePlugin`."""

from __future__ import annotations

import importlib

from climb.fetch.sources.base import SourcePlugin

_MODULES = {
    "physionet": "climb.fetch.sources.physionet",
    "kaggle": "climb.fetch.sources.kaggle",
    "zenodo": "climb.fetch.sources.zenodo",
    "github": "climb.fetch.sources.github",
    "huggingface": "climb.fetch.sources.huggingface",
    "tcia": "climb.fetch.sources.tcia",
    "url": "climb.fetch.sources.url",
    "manual": "climb.fetch.sources.manual",
}


def plugin(kind: str) -> SourcePlugin:
    """The plugin for a source kind (imported on first use)."""
    return importlib.import_module(_MODULES[kind]).PLUGIN


def kinds() -> tuple[str, ...]:
    return tuple(_MODULES)
