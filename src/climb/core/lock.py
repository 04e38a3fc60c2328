"""One lock per dataset and stage (``climb fetch``, ``climb prepare``), held for the run.

Two runs of one stage of one dataset at once would share a work folder (prepare) or a
``.part`` file (fetch) and leave a wrong result behind. :func:`stage_lock` takes an exclusive
OS lock (``fcntl.flock``) on ``<folder>/.<key>.<stage>.lock``:

* the kernel releases it when the holder exits, however it exits (kill -9, crash, power loss
  of a client), so a lock is never stale;
* on Linux NFS (v4, or v3 with lockd) and GPFS ``flock`` is a lock of the shared file system,
  so runs on different machines exclude each other too; Lustre needs its ``flock`` mount option
  (without it ``flock`` fails and the fallback below is used), BeeGFS its global file locks
  (without them the lock only excludes runs on the same machine);
* the holder writes who it is (pid, host, command, start time) into the file, so a second run
  says exactly which run holds the lock. A second run exits with that message (exit code 2)
  or, with ``wait=True`` (``--wait``), waits until the lock is free.

Where the file system refuses ``flock`` (some FUSE or old NFS mounts without a lock daemon),
the lock falls back to an atomic lock file (``O_CREAT | O_EXCL``) carrying the same owner
record; such a lock is recovered automatically when its owner ran on this host and its pid is
gone, and the message names the file to remove when its owner ran on another host.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from climb.core.errors import ClimbError

#: Seconds between two attempts while waiting.
POLL = 0.2


class LockedError(ClimbError):
    """Another run holds the lock of this dataset and stage."""


def lock_path(folder: str | os.PathLike[str], key: str, stage: str) -> Path:
    return Path(folder) / f".{key}.{stage}.lock"


def _owner() -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": " ".join(["climb", *sys.argv[1:]])[:300]
        if sys.argv and sys.argv[0]
        else "python",
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def read_owner(path: Path) -> dict[str, object]:
    """The owner record in a lock file ({} when absent or unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(owner: dict[str, object]) -> str:
    if not owner:
        return "another run (owner unknown)"
    return (
        f"pid {owner.get('pid')} on host {owner.get('host')} since {owner.get('since')} "
        f"({owner.get('command')})"
    )


def _locked(
    key: str, stage: str, path: Path, owner: dict[str, object], extra: str = ""
) -> Exception:
    return LockedError(
        f"another 'climb {stage}' of {key} is running: {_describe(owner)}",
        where=str(path),
        fix=f"wait for it to finish, or run again with --wait to wait for it{extra}",
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def stage_lock(
    folder: str | os.PathLike[str],
    key: str,
    stage: str,
    *,
    wait: bool = False,
    timeout: float | None = None,
) -> Iterator[Path]:
    """Hold the lock of ``stage`` for dataset ``key`` (file in ``folder``) for the block.

    Without ``wait`` a held lock raises :class:`LockedError` naming its holder at once; with
    ``wait`` it waits (at most ``timeout`` seconds, if given)."""
    path = lock_path(folder, key, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = None if timeout is None else time.monotonic() + timeout
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        import fcntl

        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    if not wait or (deadline is not None and time.monotonic() > deadline):
                        raise _locked(key, stage, path, read_owner(path)) from None
                    time.sleep(POLL)
                    continue
                if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                    os.close(fd)
                    fd = -1
                    with _file_lock(path.with_suffix(".lockfile"), key, stage, wait, deadline):
                        yield path
                    return
                raise
        record = json.dumps(_owner()).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, record, 0)
        try:
            yield path
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        if fd >= 0:
            os.close(fd)  # releases the flock


@contextlib.contextmanager
def _file_lock(
    path: Path, key: str, stage: str, wait: bool, deadline: float | None
) -> Iterator[None]:
    """The fallback: an atomically created lock file with the owner record."""
    me = _owner()
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            owner = read_owner(path)
            here = owner.get("host") == me["host"]
            pid = owner.get("pid")
            if here and isinstance(pid, int) and not _pid_alive(pid):
                with contextlib.suppress(FileNotFoundError):  # stale: its owner is gone
                    path.unlink()
                continue
            if not wait or (deadline is not None and time.monotonic() > deadline):
                extra = (
                    ""
                    if here
                    else f"; if that run is no longer running on {owner.get('host')}, remove {path}"
                )
                raise _locked(key, stage, path, owner, extra) from None
            time.sleep(POLL)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(me, fh)
        break
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


__all__ = ["LockedError", "lock_path", "read_owner", "stage_lock"]
