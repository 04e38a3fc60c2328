"""Executors run independent tasks; the pipeline only needs ``map_unordered``.

``local`` runs in this process (1 worker) or a process pool (N workers). A Ray executor can be
added by registering another class in ``EXECUTORS`` (same two methods).
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from climb.core.errors import ClimbError


class Executor(Protocol):
    workers: int

    def map_unordered(
        self, fn: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]
    ) -> Iterator[Any]: ...

    def close(self) -> None: ...


class SerialExecutor:
    workers = 1

    def map_unordered(
        self, fn: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]
    ) -> Iterator[Any]:
        for t in tasks:
            yield fn(*t)

    def close(self) -> None:
        pass


class ProcessExecutor:
    """A process pool; at most ``2 * workers`` tasks in flight, results as they complete."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)

    def map_unordered(
        self, fn: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]
    ) -> Iterator[Any]:
        it = iter(tasks)
        pending: set[Future[Any]] = set()
        for t in it:
            pending.add(self._pool.submit(fn, *t))
            if len(pending) >= 2 * self.workers:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.add(self._pool.submit(fn, *nxt))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _local(workers: int) -> Executor:
    return SerialExecutor() if workers <= 1 else ProcessExecutor(workers)


EXECUTORS: dict[str, Callable[[int], Executor]] = {"local": _local}


def get_executor(workers: int = 1, kind: str = "local") -> Executor:
    if workers < 1:
        raise ClimbError(f"--workers must be >= 1, got {workers}")
    if kind not in EXECUTORS:
        raise ClimbError(f"unknown executor {kind!r}", fix=f"choose one of: {', '.join(EXECUTORS)}")
    return EXECUTORS[kind](workers)
