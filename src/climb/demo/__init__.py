"""climb.demo: the built-in demo corpus (synthetic data in native layouts) and the main job
end to end on it (docs/demo.md)."""

from __future__ import annotations

from typing import Any


def run_demo(*args: Any, **kwargs: Any) -> Any:
    """See :func:`climb.demo.run.run_demo`."""
    from climb.demo.run import run_demo as _run

    return _run(*args, **kwargs)


def generate_corpus(*args: Any, **kwargs: Any) -> Any:
    """See :func:`climb.demo.corpus.generate_corpus`."""
    from climb.demo.corpus import generate_corpus as _gen

    return _gen(*args, **kwargs)


__all__ = ["generate_corpus", "run_demo"]
