"""One small file layer for stores on a local disk or at an fsspec URL (``s3://``, ``gs://``,
``memory://``, ...): the writer, prepare's work files and the reader all go through it.

* :class:`Loc` is a location (a local path or a URL plus fsspec ``storage_options``): read,
  write (atomically: a local file is written to a temporary name and renamed; an object store
  PUT is atomic per object), list, remove; retried on transient network errors; picklable, so
  process-pool and Ray workers receive it and open their own file system.
* Credentials come from the standard chain of the file system (for S3: ``AWS_ACCESS_KEY_ID`` /
  ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, ``AWS_PROFILE`` and ``~/.aws``, instance
  roles); an S3-compatible endpoint (MinIO, Ceph, a loopback test server) from
  ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``. Nothing here logs them or puts them in an error.
* :func:`remote_errors` turns the file system's errors (missing bucket, access denied,
  unreachable endpoint) into a :class:`ClimbError` that names the URL and what to do, never a
  credential.
* :class:`RemoteLock` is an exclusive object created with a conditional PUT (``If-None-Match:
  *``): two prepares into one prefix cannot both hold it.
* :func:`cached_store` wraps a zarr store: writes are retried; whole-chunk reads go through a
  bounded local disk cache (``CLIMB_CHUNK_CACHE`` bytes, default 2 GiB, in
  ``CLIMB_CHUNK_CACHE_DIR``, default ``~/.cache/climb/chunks``; ``0`` turns it off).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import socket
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from climb.core.errors import ClimbError

T = TypeVar("T")

#: bytes of the local chunk cache of remote stores (``0``: no cache)
CACHE_ENV = "CLIMB_CHUNK_CACHE"
CACHE_DIR_ENV = "CLIMB_CHUNK_CACHE_DIR"
DEFAULT_CACHE_BYTES = 2 * 1024**3
#: attempts of one remote operation before it fails (with exponential back-off)
RETRIES = 5
RETRY_BASE_S = 0.2


def is_url(path: str | os.PathLike[str] | Loc) -> bool:
    """``True`` for an fsspec URL other than ``file://`` (``s3://b/p``, ``memory://x``)."""
    if isinstance(path, Loc):
        return path.is_remote
    p = str(path)
    return "://" in p and not p.startswith("file://")


def _strip_file(p: str) -> str:
    return p[len("file://") :] if p.startswith("file://") else p


# ----------------------------------------------------------------------------- errors


def _transient(exc: BaseException) -> bool:
    """A network failure worth retrying (not a missing object, a denial or a bad request)."""
    if isinstance(exc, (FileNotFoundError, PermissionError, FileExistsError, IsADirectoryError)):
        return False
    if isinstance(exc, (ConnectionError, TimeoutError, socket.timeout)):
        return True
    name = type(exc).__name__
    if name in (
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "ClientConnectorError",
        "ServerDisconnectedError",
        "ClientOSError",
        "ClientPayloadError",
        "ResponseStreamingError",
        "IncompleteRead",
    ):
        return True
    if isinstance(exc, OSError) and exc.errno in (
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
    ):
        return True
    cause = exc.__cause__ or exc.__context__
    return cause is not None and cause is not exc and _transient(cause)


#: connection set-up failures that s3fs and botocore already retry (with back-off) below us
_RETRIED_BELOW = ("EndpointConnectionError", "ConnectTimeoutError")


def retry(fn: Callable[[], T], what: str = "", attempts: int = RETRIES) -> T:
    """``fn()``, retried with exponential back-off while it fails with a transient network
    error (a reset or closed connection, a timeout mid-transfer); the last error is re-raised.
    An endpoint that cannot be reached at all is not retried again here: s3fs and botocore
    have retried it already."""
    for i in range(attempts):
        try:
            return fn()
        except Exception as exc:
            if i == attempts - 1 or not _transient(exc) or type(exc).__name__ in _RETRIED_BELOW:
                raise
            time.sleep(RETRY_BASE_S * 2**i)
    raise AssertionError("unreachable")  # pragma: no cover


def _endpoint(storage_options: dict[str, Any], env: bool = True) -> str | None:
    ck = storage_options.get("client_kwargs") or {}
    given = storage_options.get("endpoint_url") or ck.get("endpoint_url")
    if given or not env:
        return given  # type: ignore[no-any-return]
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")


def describe_error(exc: BaseException, url: str, storage_options: dict[str, Any]) -> ClimbError:
    """A :class:`ClimbError` for a failed operation on ``url``: what, where, what to do; the
    message names the URL and the endpoint only (never a key, a token or a signature)."""
    text = f"{type(exc).__name__}: {exc}"
    low = text.lower()
    where = url + (
        f" (endpoint {_endpoint(storage_options)})" if _endpoint(storage_options) else ""
    )
    bucket = url.split("://", 1)[-1].split("/", 1)[0]
    if "nosuchbucket" in low or "bucket does not exist" in low or "specified bucket" in low:
        return ClimbError(
            f"bucket {bucket!r} does not exist",
            where=where,
            fix="create the bucket or correct --root (s3://BUCKET/PREFIX); for an S3-compatible "
            "server set AWS_ENDPOINT_URL_S3",
        )
    if isinstance(exc, PermissionError) or any(
        w in low for w in ("accessdenied", "access denied", "forbidden", "invalidaccesskeyid")
    ):
        return ClimbError(
            f"access to {url} was denied",
            where=where,
            fix="check the credentials of the standard AWS chain (AWS_ACCESS_KEY_ID / "
            "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials) and that they may read "
            "and write this bucket and prefix",
        )
    if "signaturedoesnotmatch" in low:
        return ClimbError(
            f"the object store rejected the request signature for {url}",
            where=where,
            fix="the secret access key of the AWS credential chain does not match its key id",
        )
    if "nocredentials" in low or "unable to locate credentials" in low:
        return ClimbError(
            f"no credentials for {url}",
            where=where,
            fix="set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE (or pass "
            "storage_options={'anon': True} for a public bucket)",
        )
    if _transient(exc):
        return ClimbError(
            f"cannot reach the object store for {url} ({type(exc).__name__})",
            where=where,
            fix="check the network and the endpoint (the request was retried); a "
            "prepare run can simply be started again (finished work is kept)",
        )
    if isinstance(exc, ImportError):
        return ClimbError(
            f"no file system for {url} ({exc})",
            where=where,
            fix="install the file system's package: pip install 'climb[s3]' (s3fs) for s3://, "
            "gcsfs for gs://, adlfs for az://",
        )
    return ClimbError(f"cannot use {url} ({type(exc).__name__})", where=where)


@contextlib.contextmanager
def remote_errors(url: str, storage_options: dict[str, Any] | None = None) -> Iterator[None]:
    """Turn any error of a remote file system inside the block into a :class:`ClimbError`
    (local paths and ClimbErrors pass through unchanged)."""
    try:
        yield
    except ClimbError:
        raise
    except Exception as exc:
        if not is_url(url):
            raise
        if isinstance(exc, FileNotFoundError) and "bucket" not in str(exc).lower():
            raise  # a missing object: the caller decides
        raise describe_error(exc, url, storage_options or {}) from None


# ----------------------------------------------------------------------------- locations


def effective_options(url: str, storage_options: dict[str, Any] | None) -> dict[str, Any]:
    """``storage_options`` with the S3 endpoint of the environment (``AWS_ENDPOINT_URL_S3`` /
    ``AWS_ENDPOINT_URL``) made explicit, so that fsspec's cached file system instances follow
    the endpoint the process uses now."""
    so = dict(storage_options or {})
    if url.split("://", 1)[0] in ("s3", "s3a") and not _endpoint(so, env=False):
        env = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if env:
            so["endpoint_url"] = env
    return so


def _filesystem(url: str, storage_options: dict[str, Any]) -> tuple[Any, str]:
    import fsspec

    try:
        return fsspec.core.url_to_fs(url, **effective_options(url, storage_options))  # type: ignore[no-any-return]
    except (ImportError, ValueError) as exc:
        raise describe_error(ImportError(str(exc)), url, storage_options) from None


class Loc:
    """A location for store files: a local directory or an fsspec URL, and the fsspec
    ``storage_options`` to open it with. Cheap to create and to pickle (the file system is
    opened lazily, once per process)."""

    __slots__ = ("_fs", "_pid", "storage_options", "url")

    def __init__(
        self, url: str | os.PathLike[str] | Loc, storage_options: dict[str, Any] | None = None
    ) -> None:
        if isinstance(url, Loc):
            storage_options = url.storage_options if storage_options is None else storage_options
            url = url.url
        u = _strip_file(str(url))
        self.url = u.rstrip("/") if is_url(u) else str(Path(u).expanduser())
        self.storage_options = dict(storage_options or {})
        self._fs: Any = None
        self._pid = 0

    def __getstate__(self) -> tuple[str, dict[str, Any]]:
        return self.url, self.storage_options

    def __setstate__(self, state: tuple[str, dict[str, Any]]) -> None:
        self.url, self.storage_options = state
        self._fs, self._pid = None, 0

    def __repr__(self) -> str:
        return f"Loc({self.url!r})"

    def __str__(self) -> str:
        return self.url

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Loc) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    @property
    def is_remote(self) -> bool:
        return is_url(self.url)

    @property
    def name(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def parent(self) -> Loc:
        if self.is_remote:
            return Loc(self.url.rsplit("/", 1)[0], self.storage_options)
        return Loc(Path(self.url).parent, self.storage_options)

    @property
    def path(self) -> Path:
        """The local path (a remote location has none)."""
        if self.is_remote:
            raise ClimbError(f"{self.url} is not a local path")
        return Path(self.url)

    def join(self, *parts: str) -> Loc:
        parts = tuple(p for p in parts if p)
        if not parts:
            return self
        if self.is_remote:
            return Loc("/".join([self.url, *parts]), self.storage_options)
        return Loc(Path(self.url, *parts), self.storage_options)

    __truediv__ = join

    @property
    def fs(self) -> Any:
        """The fsspec file system (remote only), opened once per process."""
        if self._fs is None or self._pid != os.getpid():
            self._fs = _filesystem(self.url, self.storage_options)[0]
            self._pid = os.getpid()
        return self._fs

    @property
    def _fspath(self) -> str:
        return str(_filesystem(self.url, self.storage_options)[1])

    def _invalidate(self) -> None:
        with contextlib.suppress(Exception):
            self.fs.invalidate_cache()

    # ------------------------------------------------------------------ file operations
    def exists(self) -> bool:
        if not self.is_remote:
            return Path(self.url).exists()
        with remote_errors(self.url, self.storage_options):
            self._invalidate()
            return bool(retry(lambda: self.fs.exists(self._fspath)))

    def is_file(self) -> bool:
        if not self.is_remote:
            return Path(self.url).is_file()
        with remote_errors(self.url, self.storage_options):
            self._invalidate()
            return bool(retry(lambda: self.fs.isfile(self._fspath)))

    def read_bytes(self) -> bytes:
        if not self.is_remote:
            return Path(self.url).read_bytes()
        with remote_errors(self.url, self.storage_options):
            return bytes(retry(lambda: self.fs.cat_file(self._fspath)))

    def read_text(self) -> str:
        return self.read_bytes().decode("utf-8")

    def write_bytes(self, data: bytes) -> None:
        """Write the whole file at once: a local file through a temporary name and a rename
        (readers never see half a file); an object with one PUT (atomic), retried."""
        if not self.is_remote:
            p = Path(self.url)
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.with_name(p.name + f".tmp{os.getpid()}.{threading.get_ident()}")
            with open(tmp, "wb") as fh:
                fh.write(data)
            tmp.replace(p)
            return
        with remote_errors(self.url, self.storage_options):
            retry(lambda: self.fs.pipe_file(self._fspath, data))

    def write_text(self, text: str) -> None:
        self.write_bytes(text.encode("utf-8"))

    def open(self, mode: str = "rb") -> Any:
        if not self.is_remote:
            return open(self.url, mode)
        with remote_errors(self.url, self.storage_options):
            return retry(lambda: self.fs.open(self._fspath, mode))

    def listdir(self) -> list[str]:
        """Names directly under this location (``[]`` when it does not exist)."""
        if not self.is_remote:
            p = Path(self.url)
            return sorted(c.name for c in p.iterdir()) if p.is_dir() else []
        with remote_errors(self.url, self.storage_options):
            self._invalidate()
            try:
                items = retry(lambda: self.fs.ls(self._fspath, detail=False))
            except FileNotFoundError:
                return []
        return sorted(str(i).rstrip("/").rsplit("/", 1)[-1] for i in items)

    def du(self) -> tuple[int, int]:
        """(files, bytes) under this location."""
        if not self.is_remote:
            p = Path(self.url)
            if p.is_file():
                return 1, p.stat().st_size
            files = [f for f in p.rglob("*") if f.is_file()] if p.is_dir() else []
            return len(files), sum(f.stat().st_size for f in files)
        with remote_errors(self.url, self.storage_options):
            self._invalidate()
            try:
                found = retry(lambda: self.fs.find(self._fspath, detail=True))
            except FileNotFoundError:
                return 0, 0
        return len(found), sum(int(v.get("size") or 0) for v in found.values())

    def check_reachable(self) -> None:
        """For a URL: fail with a clear :class:`ClimbError` when its bucket (the first part of
        the path) does not exist, denies access or cannot be reached; local paths pass."""
        if not self.is_remote:
            return
        bucket = self._fspath.split("/", 1)[0]
        with remote_errors(self.url, self.storage_options):
            try:
                retry(lambda: self.fs.ls(bucket, detail=False))
            except FileNotFoundError as exc:
                raise describe_error(
                    FileNotFoundError(f"NoSuchBucket: {exc}"), self.url, self.storage_options
                ) from None

    def mkdirs(self) -> None:
        if not self.is_remote:
            Path(self.url).mkdir(parents=True, exist_ok=True)
        # object stores have no directories

    def rm(self, recursive: bool = True) -> None:
        """Remove this file or tree (nothing when it does not exist)."""
        if not self.is_remote:
            import shutil

            p = Path(self.url)
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
            return
        with remote_errors(self.url, self.storage_options):
            self._invalidate()
            with contextlib.suppress(FileNotFoundError):
                retry(lambda: self.fs.rm(self._fspath, recursive=recursive))
            self._invalidate()

    def zarr_store(self, *, cache: bool = False, read_only: bool = False) -> Any:
        """A zarr store for the array at this location: the local path (zarr's LocalStore),
        else a :class:`CachedStore` over zarr's FsspecStore (writes retried; with ``cache``,
        chunks read through the bounded local chunk cache)."""
        if not self.is_remote:
            return self.url
        from zarr.storage import FsspecStore

        with remote_errors(self.url, self.storage_options):
            so = effective_options(self.url, self.storage_options)
            inner = FsspecStore.from_url(self.url, storage_options=so or None, read_only=read_only)
        return cached_store(inner, url=self.url, cache=chunk_cache() if cache else None)


def root_location(
    root: str | os.PathLike[str] | None, storage_options: dict[str, Any] | None = None
) -> Loc:
    """The data root as a :class:`Loc`: ``root``, else ``$CLIMB_ROOT``, else ``~/climb-data``
    (a URL stays a URL: ``s3://bucket/prefix``)."""
    from climb.core.paths import ROOT_ENV, data_root

    r = str(root) if root not in (None, "") else os.environ.get(ROOT_ENV, "").strip()
    if r and is_url(r):
        return Loc(r, storage_options)
    return Loc(data_root(root), storage_options)


def as_loc(x: str | os.PathLike[str] | Loc, storage_options: dict[str, Any] | None = None) -> Loc:
    return x if isinstance(x, Loc) and storage_options is None else Loc(x, storage_options)


# ----------------------------------------------------------------------------- lock


#: tokens of the locks this process holds now
_HELD: set[str] = set()


class RemoteLock:
    """An exclusive lock object at ``loc`` (``.<key>.lock`` beside a store), created with a
    conditional PUT so that only one writer gets it; it records who holds it (host, pid, time,
    never a credential). A second writer fails with a ClimbError that says who holds it and
    how to remove a lock left by a run that died."""

    def __init__(self, loc: Loc, what: str = "") -> None:
        self.loc = loc
        self.what = what or loc.url
        self.token = uuid.uuid4().hex
        self.held = False

    def acquire(self) -> RemoteLock:
        try:
            return self._acquire()
        except ClimbError:
            if not self._left_by_dead_run():
                raise
            self.loc.rm(recursive=False)  # left by a run on this machine that has ended
            return self._acquire()

    def _left_by_dead_run(self) -> bool:
        """The lock was written by a process of this host that no longer runs (or by this
        process, outside any lock it still holds): safe to take over."""
        try:
            other = json.loads(self.loc.read_text())
        except (ClimbError, OSError, ValueError):
            return False
        if other.get("host") != socket.gethostname() or other.get("token") in _HELD:
            return False
        pid = int(other.get("pid") or 0)
        if pid == os.getpid():
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False

    def _acquire(self) -> RemoteLock:
        info = {
            "token": self.token,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        data = json.dumps(info).encode()
        try:
            if self.loc.is_remote:

                def put() -> None:
                    with self.loc.fs.open(self.loc._fspath, "xb") as fh:
                        fh.write(data)

                try:
                    retry(put)
                except FileExistsError:
                    raise
                except OSError as exc:
                    if "precondition" in str(exc).lower():
                        raise FileExistsError(str(exc)) from None
                    raise describe_error(exc, self.loc.url, self.loc.storage_options) from None
                except Exception as exc:
                    raise describe_error(exc, self.loc.url, self.loc.storage_options) from None
            else:
                self.loc.parent.mkdirs()
                fd = os.open(self.loc.url, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
        except FileExistsError:
            try:
                other = json.loads(self.loc.read_text())
                who = f"host {other.get('host')} pid {other.get('pid')} since {other.get('since')}"
            except (ClimbError, OSError, ValueError):
                who = "unknown writer"
            raise ClimbError(
                f"another prepare is writing {self.what} ({who})",
                where=self.loc.url,
                fix="wait for it to finish; if that run died, remove the lock object and run "
                "again (the finished work is kept)",
            ) from None
        self.held = True
        _HELD.add(self.token)
        return self

    def release(self) -> None:
        """Remove the lock if it is still ours (an unreachable store leaves it behind: the
        next run on this machine takes it over once this process has ended)."""
        if not self.held:
            return
        with contextlib.suppress(Exception):
            other = json.loads(self.loc.read_text())
            if other.get("token") == self.token:
                self.loc.rm(recursive=False)
        self.held = False
        _HELD.discard(self.token)

    def __enter__(self) -> RemoteLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# ----------------------------------------------------------------------------- chunk cache


def _cache_bytes() -> int:
    raw = os.environ.get(CACHE_ENV, "").strip()
    if not raw:
        return DEFAULT_CACHE_BYTES
    mult = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
    try:
        if raw[-1].lower() in mult:
            return int(float(raw[:-1]) * mult[raw[-1].lower()])
        return int(raw)
    except ValueError:
        raise ClimbError(
            f"bad {CACHE_ENV}={raw!r}",
            fix=f"give a size in bytes, or with a suffix: {CACHE_ENV}=4G (0 turns the cache off)",
        ) from None


class ChunkCache:
    """A bounded local disk cache of chunk objects: one file per chunk under ``root``, least
    recently used files removed when the total would exceed ``max_bytes``. A full disk
    (``ENOSPC``) or an unwritable cache folder turns the cache off for this process (reads go
    to the object store; said once on stderr), it never fails a read. Several processes may
    share the folder; each keeps its own bound (so the folder holds at most about
    ``processes * max_bytes``)."""

    def __init__(self, root: str | Path, max_bytes: int) -> None:
        self.root = Path(root).expanduser()
        self.max_bytes = int(max_bytes)
        self.disabled = self.max_bytes <= 0
        self.hits = self.misses = 0
        self._lock = threading.Lock()
        self._files: OrderedDict[str, int] = OrderedDict()
        self._total = 0
        self._scanned = False

    def _scan(self) -> None:
        if self._scanned:
            return
        self._scanned = True
        if not self.root.is_dir():
            return
        found = []
        for p in self.root.rglob("*"):
            with contextlib.suppress(OSError):
                if p.is_file() and ".tmp" not in p.name:
                    st = p.stat()
                    found.append((st.st_mtime, str(p), st.st_size))
        for _, p, size in sorted(found):
            self._files[p] = size
            self._total += size

    def _path(self, url: str, key: str) -> Path:
        h = hashlib.sha256(url.encode()).hexdigest()[:24]
        return self.root / h / key

    def get(self, url: str, key: str) -> bytes | None:
        if self.disabled:
            return None
        p = self._path(url, key)
        try:
            data = p.read_bytes()
        except OSError:
            self.misses += 1
            return None
        with self._lock:
            self.hits += 1
            if str(p) in self._files:
                self._files.move_to_end(str(p))
        with contextlib.suppress(OSError):
            os.utime(p)
        return data

    def put(self, url: str, key: str, data: bytes) -> None:
        if self.disabled or len(data) > self.max_bytes:
            return
        p = self._path(url, key)
        with self._lock:
            self._scan()
            self._evict(self.max_bytes - len(data))
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
                tmp = p.with_name(p.name + f".tmp{os.getpid()}.{threading.get_ident()}")
                with open(tmp, "wb") as fh:
                    fh.write(data)
                tmp.replace(p)
            except OSError as exc:
                with contextlib.suppress(OSError, UnboundLocalError):
                    tmp.unlink()
                self._off(exc)
                return
            old = self._files.pop(str(p), 0)
            self._files[str(p)] = len(data)
            self._total += len(data) - old

    def _evict(self, limit: int) -> None:
        while self._files and self._total > limit:
            p, size = self._files.popitem(last=False)
            with contextlib.suppress(OSError):
                os.unlink(p)
            self._total -= size

    def _off(self, exc: OSError) -> None:
        import sys

        self.disabled = True
        why = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror or str(exc)
        print(
            f"climb: the chunk cache in {self.root} is off for this process ({why}); chunks "
            f"are read from the object store. Free space, or set {CACHE_DIR_ENV} to another "
            f"folder or {CACHE_ENV}=0.",
            file=sys.stderr,
        )

    @property
    def size(self) -> int:
        return self._total


_CACHE: ChunkCache | None = None


def chunk_cache() -> ChunkCache:
    """The process-wide chunk cache configured by ``CLIMB_CHUNK_CACHE`` (bytes, e.g. ``4G``;
    default 2 GiB; ``0`` = off) and ``CLIMB_CHUNK_CACHE_DIR`` (default ~/.cache/climb/chunks)."""
    global _CACHE
    root = os.environ.get(CACHE_DIR_ENV, "").strip() or "~/.cache/climb/chunks"
    size = _cache_bytes()
    if _CACHE is None or _CACHE.root != Path(root).expanduser() or _CACHE.max_bytes != size:
        _CACHE = ChunkCache(root, size)
    return _CACHE


def _is_chunk_key(key: str) -> bool:
    return key.startswith("c/") or "/c/" in key or key.startswith("c.")


def cached_store(store: Any, url: str = "", cache: ChunkCache | None = None) -> Any:
    """A zarr store over ``store`` (zarr's FsspecStore): ``set`` retried on transient network
    errors; whole-chunk ``get`` served from / kept in ``cache`` (zarr is imported lazily)."""
    from climb.store._cached import CachedStore as cls

    return cls(store, url=url, cache=cache)
