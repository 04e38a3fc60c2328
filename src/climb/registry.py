"""The dataset registry: one decorator fills it; built-in modules and plugins are found lazily.

Built-in datasets live one module each under ``climb.datasets.<domain>.<key>``. Third-party
packages register theirs through the ``climb.datasets`` entry-point group; the entry point names
a :class:`Dataset` subclass (or a module that registers one on import).
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
import sys
import threading
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import ClassVar

from climb.card import ACCESS_LEVELS, DOMAINS, DatasetCard
from climb.core.errors import ClimbError, UnknownDatasetError
from climb.core.registry import suggestion

ENTRY_POINT_GROUP = "climb.datasets"


class Dataset:
    """Base class of a dataset module: a card, and (added by the adapter issues) an adapter.

    Subclasses set ``card`` and are registered with :func:`register_dataset`.
    """

    card: ClassVar[DatasetCard]

    @classmethod
    def key(cls) -> str:
        return cls.card.key

    @classmethod
    def adapter(cls) -> object | None:
        """The dataset's adapter (raw files -> samples, see climb.core.adapter), or None."""
        return None


_REGISTRY: dict[str, type[Dataset]] = {}
_ALIASES: dict[str, str] = {}
_LOADED = False
_LOCK = threading.RLock()
_PLUGIN_ERRORS: list[str] = []


def register_dataset(cls: type[Dataset]) -> type[Dataset]:
    """Class decorator: register a :class:`Dataset` subclass under ``cls.card.key``."""
    card = getattr(cls, "card", None)
    if not isinstance(card, DatasetCard):
        raise ClimbError(
            f"cannot register {cls.__qualname__}: it has no 'card' of type DatasetCard",
            where=cls.__module__,
            fix="set a class attribute 'card = DatasetCard(...)' before decorating",
        )
    with _LOCK:
        existing = _REGISTRY.get(card.key)
        if existing is not None and existing is not cls:
            same = (existing.__module__, existing.__qualname__) == (
                cls.__module__,
                cls.__qualname__,
            )
            if not same:
                raise ClimbError(
                    f"dataset key {card.key!r} is registered twice",
                    where=f"{existing.__module__} and {cls.__module__}",
                    fix="dataset keys are unique; rename one of them",
                )
        for alias in card.aliases:
            owner = _ALIASES.get(alias)
            if alias in _REGISTRY or (owner is not None and owner != card.key):
                raise ClimbError(
                    f"alias {alias!r} of {card.key!r} clashes with another dataset",
                    where=cls.__module__,
                )
        _REGISTRY[card.key] = cls
        for alias in card.aliases:
            _ALIASES[alias] = card.key
    return cls


def _import_builtin() -> None:
    import climb.datasets as pkg

    for info in pkgutil.walk_packages(pkg.__path__, prefix=pkg.__name__ + "."):
        leaf = info.name.rsplit(".", 1)[-1]
        if leaf.startswith("_"):
            continue
        importlib.import_module(info.name)


def _import_plugins() -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not break the catalog
            msg = f"dataset plugin {ep.name!r} ({ep.value}) failed to load: {exc}"
            _PLUGIN_ERRORS.append(msg)
            print(f"climb: warning: {msg}", file=sys.stderr)
            continue
        if isinstance(obj, type) and issubclass(obj, Dataset) and obj.card.key not in _REGISTRY:
            register_dataset(obj)


def load_all() -> None:
    """Import every built-in dataset module and every plugin (once)."""
    global _LOADED
    with _LOCK:
        if _LOADED:
            return
        _import_builtin()
        _import_plugins()
        _LOADED = True


def plugin_errors() -> list[str]:
    load_all()
    return list(_PLUGIN_ERRORS)


def keys() -> list[str]:
    load_all()
    return sorted(_REGISTRY)


def suggest(key: str, n: int = 3) -> list[str]:
    load_all()
    pool = list(_REGISTRY) + list(_ALIASES)
    norm = key.lower().replace("-", "_").replace(" ", "_")
    hits = difflib.get_close_matches(norm, pool, n=n, cutoff=0.5)
    hits += [k for k in pool if norm and (norm in k or k in norm) and k not in hits]
    out: list[str] = []
    for h in hits:
        real = _ALIASES.get(h, h)
        if real not in out:
            out.append(real)
    return out[:n]


def get(key: str) -> type[Dataset]:
    """The registered dataset class for ``key`` (or an alias); a clear error otherwise."""
    load_all()
    real = _ALIASES.get(key, key)
    if real in _REGISTRY:
        return _REGISTRY[real]
    close = suggest(key)
    hint = f"did you mean: {', '.join(close)}?" if close else "none is close to it"
    raise UnknownDatasetError(
        f"unknown dataset {key!r}; {hint}",
        fix="run 'climb datasets list' to see every dataset key",
    )


def get_card(key: str) -> DatasetCard:
    return get(key).card


def cards(
    *, domain: str | None = None, access: str | None = None, keys_: Iterable[str] | None = None
) -> list[DatasetCard]:
    """Cards, sorted by domain order then key, optionally filtered."""
    load_all()
    if domain is not None and domain not in DOMAINS:
        hint = suggestion(domain, DOMAINS)
        raise ClimbError(
            f"unknown domain {domain!r}" + (f"; {hint}" if hint else ""),
            fix=f"choose one of: {', '.join(DOMAINS)}",
        )
    if access is not None and access not in ACCESS_LEVELS:
        raise ClimbError(
            f"unknown access level {access!r}", fix=f"choose one of: {', '.join(ACCESS_LEVELS)}"
        )
    selected = (
        [get_card(k) for k in keys_] if keys_ is not None else [c.card for c in _REGISTRY.values()]
    )
    out = [
        c
        for c in selected
        if (domain is None or c.domain == domain) and (access is None or c.access == access)
    ]
    return sorted(out, key=lambda c: (DOMAINS.index(c.domain), c.key))
