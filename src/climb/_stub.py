"""Placeholders for stages that are planned but not built yet: they say so clearly."""

from __future__ import annotations

from climb.core.errors import NotBuiltError

PLANNED = {
    "fetch": "the fetch issue (download engine and source plugins)",
    "verify": "the fetch issue (download engine and source plugins)",
    "access": "the fetch issue (download engine and source plugins)",
    "prepare": "the store/prepare/ECG issue",
    "store": "the store/prepare/ECG issue",
    "train": "the training issue",
    "evaluate": "the training issue",
    "report": "the demo/report issue",
    "demo": "the demo/report issue",
}


def not_built(stage: str) -> NotBuiltError:
    return NotBuiltError(
        f"'climb {stage}' is not built yet in this version of climb",
        where=f"stage '{stage}', planned in {PLANNED.get(stage, 'a later issue')}",
        fix="see docs/ and the README for what works today ('climb datasets ...')",
    )
