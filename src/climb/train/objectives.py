"""Objectives: what one training step computes. The :class:`Trainer` owns everything else
(devices, precision, DDP, accumulation, schedules, selection, checkpoints, resume).

An objective gets the trainer (its model, tasks, autocast) and one batch of one task and returns
the loss to back-propagate plus values to log. It may keep state (saved in checkpoints) and may
take over optimisation (``manual_optimization = True``: the trainer then calls ``step`` and does
no backward/optimizer step itself, as RL objectives with several forward passes need). Register
new objectives with :func:`register_objective`; a config picks one with ``train.objective``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from torch import Tensor

from climb.core.errors import ClimbError

if TYPE_CHECKING:
    from climb.train.trainer import Trainer


@dataclass
class StepOutput:
    loss: Tensor | None  # None with manual optimisation (the objective stepped itself)
    n: int  # samples in the batch (throughput)
    logs: dict[str, float] = field(default_factory=dict)


class Objective:
    """Base class: the supervised objective's interface with no-op state."""

    name = ""
    manual_optimization = False

    def setup(self, trainer: Trainer) -> None:
        """Called once the model, tasks and optimizer exist (before a resume loads state)."""

    def step(self, trainer: Trainer, key: str, batch: dict[str, Any]) -> StepOutput:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class Supervised(Objective):
    """The task kind's loss of the task's head on its targets, times the task's weight."""

    name = "supervised"

    def step(self, trainer: Trainer, key: str, batch: dict[str, Any]) -> StepOutput:
        t = trainer.by_key[key]
        y = t.kind.target(batch, t.spec)
        with trainer.autocast():
            out = trainer.ddp_model(
                batch["inputs"],
                key,
                batch.get("present"),
                batch.get("masks"),
                batch.get("clip_index"),
            )
        loss = t.kind.loss(out.float(), y, spec=t.spec) * trainer.task_weights[key]
        return StepOutput(loss=loss, n=len(y))


_OBJECTIVES: dict[str, Callable[[], Objective]] = {"supervised": Supervised}


def register_objective(name: str, factory: Callable[[], Objective]) -> None:
    _OBJECTIVES[name] = factory


def build_objective(name: str) -> Objective:
    if name not in _OBJECTIVES:
        close = difflib.get_close_matches(name, list(_OBJECTIVES), n=1)
        raise ClimbError(
            f"unknown objective {name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""),
            where="train.objective",
            fix=f"one of: {', '.join(sorted(_OBJECTIVES))}",
        )
    return _OBJECTIVES[name]()
