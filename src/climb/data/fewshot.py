"""Few-shot subsets: k samples per class, as CLIMB draws them (§3.3 of the fact sheet).

- ``binary`` / ``multiclass``: for each class in class order, ``min(k, count)`` samples drawn from
  that class's samples (dataset order) by a fresh ``numpy.random.RandomState(seed)``; a legacy
  ``RandomState.choice(n, m, replace=False)`` is a permutation prefix, which is what
  ``DataFrame.sample(m, random_state=seed)`` does in CLIMB. Missing labels (-1) are never drawn.
- ``multilabel``: CLIMB's greedy pass in dataset order: keep a sample if any of its positive
  labels has count < k, then increment the counts of its positive labels. Deterministic (the seed
  is not used); samples without a positive label are never kept.

CLIMB's sizes are ``small=8``, ``medium=64``, ``large=256`` samples per class; any k works.
The selection is returned as sorted dataset positions; :func:`record_few_shot` writes the chosen
``sample_id`` s (with k, seed, rule and per-class counts) so a run can be audited and repeated.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.errors import ClimbError

SIZES: dict[str, int] = {"small": 8, "medium": 64, "large": 256}


def resolve_k(k: int | str) -> int:
    if isinstance(k, str):
        if k in SIZES:
            return SIZES[k]
        try:
            k = int(k)
        except ValueError:
            raise ClimbError(
                f"few-shot size {k!r} is not a number or a CLIMB size",
                fix=f"use an integer k >= 1 or one of {', '.join(f'{n} ({v})' for n, v in SIZES.items())}",
            ) from None
    if int(k) < 1:
        raise ClimbError(f"few-shot k must be >= 1, got {k}")
    return int(k)


def few_shot_indices(labels: np.ndarray, task_type: str, k: int | str, seed: int = 0) -> np.ndarray:
    """Sorted positions of a k-per-class subset of ``labels`` (see the module doc)."""
    kk = resolve_k(k)
    y = np.asarray(labels)
    if task_type in ("binary", "multiclass"):
        chosen: list[np.ndarray] = []
        for c in np.unique(y[y >= 0]):
            members = np.flatnonzero(y == c)
            m = min(kk, len(members))
            rs = np.random.RandomState(seed)
            chosen.append(members[rs.permutation(len(members))[:m]])
        return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)
    if task_type == "multilabel":
        if y.ndim != 2:
            raise ClimbError(f"multilabel labels must be 2-D (N, C), got shape {y.shape}")
        counts = np.zeros(y.shape[1], dtype=np.int64)
        keep: list[int] = []
        for i in range(len(y)):
            pos = np.flatnonzero(y[i] == 1)
            if len(pos) and (counts[pos] < kk).any():
                keep.append(i)
                counts[pos] += 1
        return np.asarray(keep, dtype=np.int64)
    raise ClimbError(
        f"few-shot subsets need class labels; task type {task_type!r} has none",
        fix="use few-shot only with binary, multiclass or multilabel tasks",
    )


def subset_counts(labels: np.ndarray, task_type: str, classes: list[str]) -> dict[str, int]:
    y = np.asarray(labels)
    if task_type == "multilabel":
        return {c: int((y[:, i] == 1).sum()) for i, c in enumerate(classes)}
    return {c: int((y == i).sum()) for i, c in enumerate(classes)}


def record_few_shot(
    path: str | os.PathLike[str],
    *,
    dataset: str,
    task: str,
    k: int,
    seed: int,
    task_type: str,
    sample_ids: list[str],
    counts: dict[str, int],
) -> Path:
    """Write the selection to ``path`` (JSON, atomically) and return the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {
        "dataset": dataset,
        "task": task,
        "k": k,
        "seed": seed,
        "rule": "greedy-dataset-order" if task_type == "multilabel" else "per-class-RandomState",
        "n": len(sample_ids),
        "class_counts": counts,
        "sample_ids": sample_ids,
    }
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, p)
    return p
