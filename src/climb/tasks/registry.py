"""The task-kind registry: one instance per kind name (the names are ``climb.core``'s
vocabulary of task kinds)."""

from __future__ import annotations

import difflib

from climb.core.errors import ClimbError
from climb.tasks.base import TaskKind

_KINDS: dict[str, TaskKind] = {}


def register_kind(cls: type[TaskKind]) -> type[TaskKind]:
    """Class decorator: register ``cls()`` under ``cls.name``."""
    if not cls.name:
        raise ClimbError(f"task kind {cls.__name__} has no name", where=cls.__module__)
    _KINDS[cls.name] = cls()
    return cls


def get_kind(name: str) -> TaskKind:
    _load_builtin()
    if name not in _KINDS:
        close = difflib.get_close_matches(name, list(_KINDS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ClimbError(
            f"unknown task kind {name!r}{hint}",
            where="task type",
            fix=f"one of: {', '.join(sorted(_KINDS))}",
        )
    return _KINDS[name]


def kind_names() -> list[str]:
    _load_builtin()
    return sorted(_KINDS)


def _load_builtin() -> None:
    if "binary" not in _KINDS:
        import climb.tasks.classification
        import climb.tasks.node
        import climb.tasks.per_frame
        import climb.tasks.regression
        import climb.tasks.segmentation  # noqa: F401
