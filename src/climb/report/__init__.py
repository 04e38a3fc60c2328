"""climb.report: a self-contained HTML page and a Markdown report from results."""

from __future__ import annotations

from typing import Any


def build_report(*args: Any, **kwargs: Any) -> Any:
    """See :func:`climb.report.build.build_report`."""
    from climb.report.build import build_report as _build

    return _build(*args, **kwargs)


__all__ = ["build_report"]
