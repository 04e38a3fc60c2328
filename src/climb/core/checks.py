"""Extension point: checks of a store against what it was made from.

A store can be checked against its own contract by the store layer (climb.store.validate), but
whether it is *stale* (the raw inputs or the adapter code changed since it was prepared) needs
the adapters, which live above the store. So the store layer runs the checks registered here
and never imports the layers that provide them: ``climb.prepare`` registers ``fingerprint``
when it is imported (the CLI always imports it). A check is
``check(store, report, raw_dir) -> None``; it appends to ``report.errors`` / ``warnings`` /
``checks`` and may set ``report.stale``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from climb.core.registry import Registry

StoreInputCheck = Callable[[Any, Any, "str | Path | None"], None]

#: name -> check, run in name order by :func:`climb.store.validate.validate`
STORE_INPUT_CHECKS: Registry[StoreInputCheck] = Registry("store input check")
