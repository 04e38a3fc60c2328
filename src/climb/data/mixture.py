"""Multitask mixtures: which task's batch comes next.

Batches are per task (a batch never mixes tasks, so tasks may have different modalities and
shapes). With task sizes ``n_i`` (training samples) the strategies are:

- ``proportional``: ``p_i = n_i / Σ n_j``
- ``uniform``: ``p_i = 1 / K``
- ``temperature`` (T ≥ 1 flattens): ``p_i = n_i^(1/T) / Σ n_j^(1/T)``
  (T = 1 is proportional, T → ∞ is uniform)
- ``round_robin``: tasks in turn, deterministically.

:class:`TaskMixture` draws the task of every step from a seeded generator whose state is saved
in checkpoints, and keeps one resumable batch stream per task.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from climb.core.errors import ClimbError

STRATEGIES: tuple[str, ...] = ("proportional", "uniform", "temperature", "round_robin")


def mixture_weights(
    sizes: Mapping[str, int], strategy: str = "proportional", temperature: float = 1.0
) -> dict[str, float]:
    """Sampling probability of every task (round_robin: the long-run share, 1/K)."""
    if strategy not in STRATEGIES:
        import difflib

        m = difflib.get_close_matches(strategy, STRATEGIES, n=1)
        hint = f" (did you mean {m[0]!r}?)" if m else ""
        raise ClimbError(
            f"unknown mixture strategy {strategy!r}{hint}", fix=f"one of {', '.join(STRATEGIES)}"
        )
    names = list(sizes)
    if not names:
        raise ClimbError("a mixture needs at least one task")
    n = np.array([float(sizes[k]) for k in names])
    if (n <= 0).any():
        empty = [k for k in names if sizes[k] <= 0]
        raise ClimbError(f"tasks without training samples: {', '.join(empty)}")
    if strategy in ("uniform", "round_robin"):
        w = np.ones_like(n)
    elif strategy == "proportional":
        w = n
    else:
        if temperature <= 0:
            raise ClimbError(f"mixture temperature must be > 0, got {temperature}")
        w = n ** (1.0 / temperature)
    w = w / w.sum()
    return {k: float(v) for k, v in zip(names, w, strict=True)}


class TaskStream:
    """An endless, resumable stream of batches for one task.

    ``make_iter(epoch, start_batch)`` must return an iterator over the batches of ``epoch`` from
    batch ``start_batch`` on (e.g. a DataLoader over a :class:`ChunkBatchSampler` whose state was
    set). The stream counts consumed batches so its position can be checkpointed.
    """

    def __init__(self, make_iter: Callable[[int, int], Iterator[Any]]) -> None:
        self.make_iter = make_iter
        self.epoch = 0
        self.batch = 0
        self._it: Iterator[Any] | None = None

    def __next__(self) -> Any:
        for _ in range(2):
            if self._it is None:
                self._it = self.make_iter(self.epoch, self.batch)
            try:
                item = next(self._it)
            except StopIteration:
                self._it = None
                if self.batch == 0:
                    raise ClimbError("a task's data stream yields no batches") from None
                self.epoch += 1
                self.batch = 0
                continue
            self.batch += 1
            return item
        raise ClimbError("a task's data stream yields no batches")

    def __iter__(self) -> Iterator[Any]:
        return self

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "batch": self.batch}

    def load_state_dict(self, state: Mapping[str, int]) -> None:
        self.epoch = int(state["epoch"])
        self.batch = int(state["batch"])
        self.close()

    def close(self) -> None:
        """Drop the current iterator (stopping its prefetch thread or worker processes)."""
        it, self._it = self._it, None
        stop = getattr(it, "close", None)
        if callable(stop):
            stop()


class TaskMixture:
    """Chooses the task of each step and returns ``(task, batch)`` from that task's stream."""

    def __init__(
        self,
        streams: Mapping[str, TaskStream],
        sizes: Mapping[str, int],
        strategy: str = "proportional",
        temperature: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.streams = dict(streams)
        self.names = list(self.streams)
        self.weights = mixture_weights({k: sizes[k] for k in self.names}, strategy, temperature)
        self.strategy = strategy
        self.rng = np.random.default_rng(seed)
        self.step = 0

    def next_task(self) -> str:
        if self.strategy == "round_robin":
            name = self.names[self.step % len(self.names)]
        elif len(self.names) == 1:
            name = self.names[0]
        else:
            p = np.array([self.weights[k] for k in self.names])
            name = self.names[int(self.rng.choice(len(self.names), p=p))]
        self.step += 1
        return name

    def __next__(self) -> tuple[str, Any]:
        name = self.next_task()
        return name, next(self.streams[name])

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return self

    def state_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "rng": self.rng.bit_generator.state,
            "streams": {k: s.state_dict() for k, s in self.streams.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.step = int(state["step"])
        self.rng.bit_generator.state = state["rng"]
        for k, s in state["streams"].items():
            if k in self.streams:
                self.streams[k].load_state_dict(s)
