"""Executors run independent tasks; the pipeline only needs ``map_unordered``.

``local`` runs in this process (1 worker) or a process pool (N workers). ``ray`` runs each task
as a Ray task on a Ray cluster (``address``; default: start a local one): tasks, not Ray Data,
because prepare's work is already cut into coarse, idempotent units (64 records; one chunk run
per worker at assembly) whose results are tiny (counts, digests, sums): the workers write the
unit files and chunks to the store location themselves, so there is no dataset of rows to
stream through Ray's object store, and a task gives exactly the needed semantics: a worker that
dies is retried by Ray (``max_retries``), and a retried unit rewrites the same files with the
same bytes (its commit file last), so a retry leaves neither duplicates nor holes.
"""

from __future__ import annotations

import contextlib
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


#: times Ray re-runs a task whose worker process died (a unit is idempotent)
RAY_MAX_RETRIES = 3
RAY_INSTALL_HINT = "pip install 'climb[ray]' (or: pip install 'ray>=2.9')"


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast, with a clear error, when ``host:port`` of a Ray address does not answer
    (ray.init would otherwise wait a long time for a cluster that is not there)."""
    import socket

    target = address.split("://", 1)[-1]
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        raise ClimbError(
            f"bad Ray address {address!r}",
            fix="give HOST:PORT of the head node (e.g. 10.0.0.5:6379), ray://HOST:10001 for "
            "Ray Client, or 'auto' for the cluster this machine belongs to",
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ClimbError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or type(exc).__name__})",
            where=address,
            fix="start the head node ('ray start --head') or correct --address; without "
            "--address climb starts a local Ray instance",
        ) from None


class RayExecutor:
    """Tasks as Ray tasks, at most ``2 * workers`` in flight, results as they complete.

    ``address``: a running cluster (``HOST:PORT``, ``ray://HOST:PORT`` or ``auto``); ``None``
    starts a local Ray instance with ``workers`` CPUs (and stops it on :meth:`close`). If Ray is
    already initialised in this process (``ray.init`` called by the user), that cluster is used.
    ``workers`` <= 1 means: as many tasks at a time as the cluster has CPUs. Every worker must
    import climb and see the raw folder and the store location at the same paths (a shared
    file system, or object storage for the store).
    """

    def __init__(self, workers: int = 1, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ClimbError(
                "the Ray executor needs Ray, which is not installed",
                fix=RAY_INSTALL_HINT + "; or use the local executor (--executor local -j N)",
            ) from None
        self._ray = ray
        self._owns = False
        if address and address != "auto":
            _check_reachable(address)
        if not ray.is_initialized():
            import logging

            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "logging_level": logging.WARNING,
            }
            if address:
                kwargs["address"] = address
            elif workers > 1:
                kwargs["num_cpus"] = workers
            try:
                ray.init(**kwargs)
            except Exception as exc:  # ConnectionError, RuntimeError, ValueError, ...
                raise ClimbError(
                    "cannot start or join a Ray cluster"
                    + (f" at {address}" if address else "")
                    + f" ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})",
                    where=address or "local Ray instance",
                    fix="check --address and that the cluster runs the same Ray and Python "
                    "versions ('ray status' on the head node)",
                ) from None
            self._owns = True
        cpus = int(ray.cluster_resources().get("CPU", 1)) or 1
        self.workers = workers if workers > 1 else cpus
        self._remote: dict[Any, Any] = {}

    def map_unordered(
        self, fn: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]
    ) -> Iterator[Any]:
        ray = self._ray
        if fn not in self._remote:
            self._remote[fn] = ray.remote(fn).options(
                num_cpus=1, max_retries=RAY_MAX_RETRIES, retry_exceptions=False
            )
        remote = self._remote[fn]
        it = iter(tasks)
        pending: list[Any] = []
        shared: dict[int, tuple[Any, Any]] = {}  # id(arg) -> (arg, its ObjectRef)

        def submit(t: tuple[Any, ...]) -> Any:
            # an argument shared by many tasks (the adapter, the row -> unit map of assembly,
            # which has one entry per sample) goes to Ray's object store once, not once per task
            args = []
            for a in t:
                if _shareable(a):
                    if id(a) not in shared:
                        shared[id(a)] = (a, ray.put(a))
                    args.append(shared[id(a)][1])
                else:
                    args.append(a)
            return remote.remote(*args)

        try:
            for t in it:
                pending.append(submit(t))
                if len(pending) >= 2 * self.workers:
                    break
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                yield self._get(done[0])
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(submit(nxt))
        finally:
            for ref in pending:  # an error or an abandoned iterator: stop the rest
                with contextlib.suppress(Exception):
                    ray.cancel(ref)

    def _get(self, ref: Any) -> Any:
        ray = self._ray
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, ModuleNotFoundError) and "climb" in str(cause):
                raise ClimbError(
                    f"a Ray worker cannot import climb ({cause})",
                    fix="install the same climb (and its extras) on every node of the cluster, "
                    "or start the job with a runtime_env that ships it",
                ) from None
            if isinstance(cause, BaseException):
                raise cause from None
            raise
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError) as exc:
            raise ClimbError(
                f"a Ray worker died {RAY_MAX_RETRIES + 1} times running one task "
                f"({type(exc).__name__})",
                fix="look at the worker logs (/tmp/ray/session_latest/logs); out of memory? "
                "run again: finished units are kept",
            ) from None

    def close(self) -> None:
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
        self._owns = False


def _shareable(a: Any) -> bool:
    """Worth one ``ray.put`` for all tasks: a large sequence, or an object of a user class
    (an adapter); not plain scalars, strings, small lists."""
    import numpy as np

    if isinstance(a, (list, tuple, np.ndarray)):
        return len(a) > 1024
    return not isinstance(a, (str, bytes, int, float, bool, type(None), dict)) and hasattr(
        a, "__dict__"
    )


def _local(workers: int, address: str | None = None) -> Executor:
    if address:
        raise ClimbError(
            "--address is for the Ray executor", fix="add --executor ray, or drop --address"
        )
    return SerialExecutor() if workers <= 1 else ProcessExecutor(workers)


def _ray(workers: int, address: str | None = None) -> Executor:
    return RayExecutor(workers, address)


EXECUTORS: dict[str, Callable[..., Executor]] = {"local": _local, "ray": _ray}


def get_executor(workers: int = 1, kind: str = "local", address: str | None = None) -> Executor:
    """An executor by name: ``local`` (``workers`` processes) or ``ray`` (``address``)."""
    if workers < 1:
        raise ClimbError(f"--workers must be >= 1, got {workers}")
    if kind not in EXECUTORS:
        raise ClimbError(f"unknown executor {kind!r}", fix=f"choose one of: {', '.join(EXECUTORS)}")
    return EXECUTORS[kind](workers, address)
