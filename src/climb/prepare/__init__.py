"""climb.prepare: raw files -> the unified store, through the dataset adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from climb.core.checks import STORE_INPUT_CHECKS


def _fingerprint_check(store: Any, rep: Any, raw_dir: str | Path | None) -> None:
    from climb.prepare.stale import check_fingerprint  # lazy: importing climb.prepare stays cheap

    check_fingerprint(store, rep, raw_dir)


STORE_INPUT_CHECKS.register("fingerprint", _fingerprint_check, replace=True)
