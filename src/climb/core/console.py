"""Shared rich consoles: stdout for results, stderr for progress and errors."""

from __future__ import annotations

import os
import sys

from rich.console import Console


def _width(stream) -> int | None:  # type: ignore[no-untyped-def]
    if stream.isatty():
        return None
    return int(os.environ.get("COLUMNS", "160"))


def stdout_console() -> Console:
    return Console(file=sys.stdout, width=_width(sys.stdout), highlight=False)


def stderr_console() -> Console:
    return Console(file=sys.stderr, width=_width(sys.stderr), highlight=False)
