"""climb.core.schema: the one task-kind vocabulary; climb.core.checks: the store input checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import numpy as np
import pandas as pd

from climb import card
from climb.core.checks import STORE_INPUT_CHECKS
from climb.core.schema import TASK_KINDS, FieldSpec, TaskKindName


def test_task_kinds_are_the_one_vocabulary_of_cards() -> None:
    assert TASK_KINDS == (
        "binary", "multiclass", "multilabel", "regression", "segmentation", "node", "per_frame",
        "qa",
    )  # fmt: skip
    assert get_args(TaskKindName) == TASK_KINDS
    assert card.TASK_TYPES == TASK_KINDS and card.TaskType is TaskKindName


def _store(path: Path) -> None:
    from climb.store import StoreWriter

    w = StoreWriter(path, key="toy", fields=[FieldSpec("x", "float32", (3,))], num_samples=4)
    w.write("x", 0, np.zeros((4, 3), dtype="float32"))
    df = pd.DataFrame(
        {
            "sample_id": [f"s{i}" for i in range(4)],
            "patient_id": [f"p{i}" for i in range(4)],
            "split": ["train", "train", "val", "test"],
            "index": range(4),
            "source_path": [f"r/{i}" for i in range(4)],
            "native_labels": [json.dumps({}) for _ in range(4)],
            "label__y": [0, 1, 0, 1],
        }
    )
    w.finalize(
        df, tasks={"y": {"type": "binary", "classes": ["no", "yes"]}}, splits={"rule": "patient"}
    )


def test_store_validate_runs_the_registered_input_checks(tmp_path: Path, monkeypatch: Any) -> None:
    """The store layer runs what the upper layers register; it never imports them."""
    import climb.prepare  # noqa: F401  (registers "fingerprint")
    from climb.store.validate import validate

    assert "fingerprint" in STORE_INPUT_CHECKS
    _store(tmp_path / "s")
    seen: list[tuple[str, Any]] = []

    def probe(store: Any, rep: Any, raw_dir: Any) -> None:
        seen.append((store.key, raw_dir))
        rep.stale = True
        rep.errors.append("probe: stale")

    monkeypatch.setattr(STORE_INPUT_CHECKS, "_items", {"probe": probe})
    rep = validate(tmp_path / "s", raw_dir=tmp_path / "raw")
    assert seen == [("toy", tmp_path / "raw")]
    assert rep.stale is True and "probe: stale" in rep.errors and not rep.ok

    monkeypatch.setattr(STORE_INPUT_CHECKS, "_items", {})
    rep = validate(tmp_path / "s")
    assert rep.stale is None
    assert any("no store input check is registered" in w for w in rep.warnings)
