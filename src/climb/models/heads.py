"""Task heads: ``[Dropout] -> Linear`` or a small MLP from pooled features to outputs.

Losses, scores, metrics and selection per task kind live in :mod:`climb.tasks` (one plugin per
kind); the number of outputs per kind is below (binary: one logit).
"""

from __future__ import annotations

from torch import Tensor, nn

from climb.core.errors import ClimbError
from climb.core.schema import TASK_KINDS

#: the task kinds whose head is a :class:`Head` over pooled (or per-node) features; the dense
#: kinds build their own output network (climb.tasks)
TASK_TYPES = tuple(k for k in TASK_KINDS if k not in ("segmentation", "qa"))


def check_task_type(task_type: str) -> str:
    if task_type not in TASK_TYPES:
        raise ClimbError(
            f"unknown task type '{task_type}'",
            where="climb.models.heads",
            fix=f"use one of {', '.join(TASK_TYPES)}",
        )
    return task_type


def num_logits(task_type: str, num_classes: int) -> int:
    """Number of head outputs for a task with ``num_classes`` classes / labels / targets."""
    check_task_type(task_type)
    return 1 if task_type == "binary" else num_classes


class Head(nn.Module):
    """``[Dropout] -> Linear`` or ``[Dropout] -> Linear(in, hidden) -> GELU -> Dropout -> Linear``."""

    def __init__(
        self, task_type: str, in_dim: int, num_outputs: int, hidden: int | None, dropout: float
    ) -> None:
        super().__init__()
        self.task_type = task_type
        self.in_dim = in_dim
        self.num_outputs = num_outputs
        layers: list[nn.Module] = []
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        if hidden:
            layers += [nn.Linear(in_dim, hidden), nn.GELU()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            layers.append(nn.Linear(hidden, num_outputs))
        else:
            layers.append(nn.Linear(in_dim, num_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, features: Tensor) -> Tensor:
        return self.net(features)


def build_head(
    task_type: str,
    in_dim: int,
    num_outputs: int,
    hidden: int | None = None,
    dropout: float = 0.0,
) -> nn.Module:
    """A head mapping ``(B, in_dim)`` features to logits.

    ``num_outputs`` is the number of classes / labels / regression targets; for ``binary`` it may
    be 1 or 2 (the two class names) and the head always has a single logit (see module docs).
    """
    check_task_type(task_type)
    if task_type == "binary":
        if num_outputs not in (1, 2):
            raise ClimbError(
                f"a binary task has 1 or 2 classes, got num_outputs={num_outputs}",
                where="build_head('binary', ...)",
                fix="use task type 'multiclass' or 'multilabel' for more classes",
            )
        num_outputs = 1
    if num_outputs < 1 or in_dim < 1:
        raise ClimbError(
            f"bad head size in_dim={in_dim}, num_outputs={num_outputs}",
            where=f"build_head({task_type!r}, ...)",
            fix="both must be positive",
        )
    return Head(task_type, in_dim, num_outputs, hidden, dropout)
