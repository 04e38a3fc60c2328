"""DRPO's idea applied to supervised multitask training: per-task loss weights from the task's
size (rarity) and difficulty.

DRPO divides a domain's advantages by a temperature ``T_d = sqrt(N_d) · mu_d`` (``N_d`` questions
seen, ``mu_d`` the mean reward): rare and hard domains weigh more. For a supervised task ``t`` with
``N_t`` training samples and a difficulty ``d_t`` in [0, 1] (e.g. 1 - validation AUROC, or a
normalised loss), the analogue used here is::

    T_t = N_t ** size_power · max(1 - d_t, eps) ** difficulty_power      w_t ∝ 1 / T_t

(``size_power = 0.5`` and ``difficulty_power = 1`` are DRPO's square root and linear mean), with
the weights rescaled to have mean 1 over the tasks, so the overall loss scale does not change.
``scheme="uniform"`` gives 1 for every task and ``scheme="size"`` weights proportional to
``N_t`` (what concatenating the datasets does), the two baselines of an ablation.

This module is pure (no torch, no trainer): the trainer calls it once per epoch (or once).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

from climb.core.errors import ClimbError

Scheme = Literal["uniform", "size", "drpo"]


def _values(x: Mapping[str, float] | Sequence[float], name: str) -> tuple[list[str], list[float]]:
    if isinstance(x, Mapping):
        keys = [str(k) for k in x]
        vals = [float(v) for v in x.values()]
    else:
        vals = [float(v) for v in x]
        keys = [str(i) for i in range(len(vals))]
    for k, v in zip(keys, vals, strict=True):
        if not math.isfinite(v):
            raise ClimbError(f"{name} of task {k!r} is {v}", fix=f"give every task a finite {name}")
    return keys, vals


def domain_task_weights(
    sizes: Mapping[str, float] | Sequence[float],
    difficulties: Mapping[str, float] | Sequence[float] | None = None,
    *,
    scheme: Scheme = "drpo",
    size_power: float = 0.5,
    difficulty_power: float = 1.0,
    eps: float = 1e-6,
) -> dict[str, float] | list[float]:
    """Per-task loss weights (mean 1): a dict when ``sizes`` is a mapping (same keys), else a list.

    ``sizes``: training samples (or questions) per task, > 0. ``difficulties``: per task in [0, 1]
    (higher = harder); required for ``scheme="drpo"`` unless ``difficulty_power == 0``.
    """
    keys, n = _values(sizes, "size")
    if not n:
        raise ClimbError("no tasks to weight", fix="pass the size of at least one task")
    bad = [k for k, v in zip(keys, n, strict=True) if v <= 0]
    if bad:
        raise ClimbError(
            f"tasks {bad} have no training samples",
            where="domain_task_weights(sizes=...)",
            fix="drop empty tasks before weighting",
        )
    if scheme == "uniform":
        raw = [1.0] * len(n)
    elif scheme == "size":
        raw = list(n)
    elif scheme == "drpo":
        if difficulties is None:
            if difficulty_power != 0:
                raise ClimbError(
                    "scheme 'drpo' needs a difficulty per task",
                    fix="pass difficulties (e.g. 1 - validation AUROC) or difficulty_power=0",
                )
            d = [0.0] * len(n)
        else:
            dkeys, d = _values(difficulties, "difficulty")
            if isinstance(sizes, Mapping) and isinstance(difficulties, Mapping):
                if set(dkeys) != set(keys):
                    raise ClimbError(
                        f"difficulties name tasks {sorted(dkeys)}, sizes {sorted(keys)}",
                        fix="give both for the same tasks",
                    )
                dd = dict(zip(dkeys, d, strict=True))
                d = [dd[k] for k in keys]
            elif len(d) != len(n):
                raise ClimbError(f"{len(d)} difficulties for {len(n)} tasks")
            out = [k for k, v in zip(keys, d, strict=True) if not 0.0 <= v <= 1.0]
            if out:
                raise ClimbError(
                    f"difficulties of tasks {out} are outside [0, 1]",
                    fix="use e.g. 1 - AUROC, 1 - accuracy, or a loss divided by its maximum",
                )
        raw = [
            1.0 / (ni**size_power * max(1.0 - di, eps) ** difficulty_power)
            for ni, di in zip(n, d, strict=True)
        ]
    else:
        raise ClimbError(f"unknown scheme {scheme!r}", fix="use 'uniform', 'size' or 'drpo'")
    mean = sum(raw) / len(raw)
    w = [r / mean for r in raw]
    if isinstance(sizes, Mapping):
        return dict(zip(keys, w, strict=True))
    return w
