"""A small generic registry: ``name -> object``, filled by a decorator, with did-you-mean errors.

Used for the plugin-style tables of climb (task kinds, objectives, encoders, transforms, ...)::

    TASKS: Registry[type[TaskKind]] = Registry("task kind")

    @TASKS.register("binary")
    class Binary: ...

    TASKS.get("binray")  # ClimbError: unknown task kind 'binray'; did you mean: binary?

``loader`` (optional) is called once before the first lookup, so modules that register on import
can be imported lazily. :func:`did_you_mean` is the one close-match helper for every "unknown
name" message.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar, overload

from climb.core.errors import ClimbError

T = TypeVar("T")


def did_you_mean(word: str, options: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Up to ``n`` of ``options`` closest to ``word`` (difflib ratio >= ``cutoff``), best first."""
    return difflib.get_close_matches(str(word), list(options), n=n, cutoff=cutoff)


def suggestion(word: str, options: Iterable[str], n: int = 3, cutoff: float = 0.6) -> str:
    """``"did you mean: a, b?"`` for the options close to ``word``, or ``""`` if none is."""
    close = did_you_mean(word, options, n=n, cutoff=cutoff)
    return f"did you mean: {', '.join(close)}?" if close else ""


class Registry(Generic[T]):
    """Objects registered under unique string names.

    ``kind`` names what is registered (it appears in error messages: "unknown <kind> 'x'").
    """

    def __init__(self, kind: str, *, loader: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._loader = loader
        self._loaded = loader is None
        self._lock = threading.RLock()

    def _load(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if not self._loaded:
                self._loaded = True
                assert self._loader is not None
                self._loader()

    @overload
    def register(self, name: str) -> Callable[[T], T]: ...

    @overload
    def register(self, name: str, obj: T, *, replace: bool = ...) -> T: ...

    def register(self, name: str, obj: T | None = None, *, replace: bool = False):  # type: ignore[no-untyped-def]
        """Register ``obj`` under ``name``; without ``obj``, a decorator that does so.

        Registering a different object under a taken name is an error unless ``replace``;
        registering the same object again is a no-op (modules may be imported twice).
        """

        def add(o: T) -> T:
            if not isinstance(name, str) or not name:
                raise ClimbError(
                    f"a {self.kind} needs a non-empty string name, got {name!r}",
                    where=getattr(o, "__module__", repr(o)),
                )
            with self._lock:
                old = self._items.get(name)
                if old is not None and old is not o and not replace:
                    raise ClimbError(
                        f"{self.kind} {name!r} is registered twice",
                        where=f"{_origin(old)} and {_origin(o)}",
                        fix=f"give the {self.kind} a different name",
                    )
                self._items[name] = o
            return o

        if obj is None:
            return add
        return add(obj)

    def get(self, name: str) -> T:
        """The object registered as ``name``; a :class:`ClimbError` naming the closest ones."""
        self._load()
        try:
            return self._items[name]
        except (KeyError, TypeError):
            pass
        hint = suggestion(str(name), self._items)
        known = ", ".join(sorted(self._items)) or "(none registered)"
        raise ClimbError(
            f"unknown {self.kind} {name!r}" + (f"; {hint}" if hint else ""),
            fix=f"known {self.kind}s: {known}",
        )

    def names(self) -> list[str]:
        """Registered names, sorted."""
        self._load()
        return sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        self._load()
        return sorted(self._items.items())

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._load()
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._items)} registered)"


def _origin(o: object) -> str:
    return f"{getattr(o, '__module__', '?')}.{getattr(o, '__qualname__', type(o).__qualname__)}"
