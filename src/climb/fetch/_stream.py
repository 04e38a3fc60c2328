"""The engine's fast path for large bodies: big socket reads, and hashing and writing off the
receiving thread.

httpcore reads the socket 64 KiB at a time, and every read costs several copies and a few dozen
Python calls in h11/httpcore; with sha256 and the file write in the same thread a 1 GiB download
was CPU-bound at about 0.4x curl's throughput on 2 cores. :func:`bulk_transport` lets each
``recv`` take up to :data:`READ_SIZE` (what is already in the socket buffer, never waiting for
more), and :class:`Sink` moves ``write`` + ``hash`` (both release the GIL on large buffers) to a
thread of its own, fed through a bounded queue, so receiving, hashing and writing overlap.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import IO, Any

import httpcore
import httpx

from climb.fetch.types import Hasher

#: Bytes asked of one socket ``recv`` (it returns what is there, up to this).
READ_SIZE = 1 << 20
#: The ``.part`` file's write buffer: coalesces small chunks (TLS records are <= 16 KiB), while
#: larger ones go straight to ``write`` without a copy.
WRITE_BUFFER = 256 << 10
#: Bodies at least this large are hashed and written in a thread of their own.
THREAD_MIN = 4 << 20
#: Chunks waiting for the sink thread at most (bounds the memory held to a few MiB).
QUEUE_CHUNKS = 16
#: Progress is reported at most this often (seconds) or every this many bytes, and at the end.
PROGRESS_EVERY = 0.1
PROGRESS_BYTES = 8 << 20


class _BulkStream(httpcore.NetworkStream):
    """Passes everything through, but reads up to :data:`READ_SIZE` per call."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max(max_bytes, READ_SIZE), timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _BulkStream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _BulkBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _BulkStream(self._inner.connect_tcp(*args, **kwargs))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _BulkStream(self._inner.connect_unix_socket(*args, **kwargs))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bulk_transport(**kwargs: Any) -> httpx.HTTPTransport:
    """An ``httpx.HTTPTransport(**kwargs)`` whose connections read up to :data:`READ_SIZE` per
    ``recv``. httpx has no public hook for the network backend: if its internals change, this
    quietly returns the plain transport (correct, only slower)."""
    transport = httpx.HTTPTransport(**kwargs)
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(pool, httpcore.ConnectionPool) and isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = _BulkBackend(backend)
    return transport


class Sink:
    """Writes chunks to ``fh`` and feeds ``hasher`` in order, then reports them to ``advance``
    (throttled). With ``threaded`` the work runs in a thread of its own behind a bounded queue;
    :meth:`close` waits for every chunk put so far to be written, hashed and reported, and
    re-raises the first error of the thread (which is also raised by a later :meth:`put`)."""

    def __init__(
        self,
        fh: IO[bytes],
        hasher: Hasher,
        advance: Callable[[int], None],
        *,
        threaded: bool,
    ) -> None:
        self._fh = fh
        self._hasher = hasher
        self._advance = advance
        self._pending = 0
        self._last = time.monotonic()
        self.error: BaseException | None = None
        self._q: queue.Queue[bytes | None] | None = None
        self._thread: threading.Thread | None = None
        if threaded:
            self._q = queue.Queue(maxsize=QUEUE_CHUNKS)
            self._thread = threading.Thread(target=self._run, name="climb-sink", daemon=True)
            self._thread.start()

    def _consume(self, chunk: bytes) -> None:
        self._fh.write(chunk)
        self._hasher.update(chunk)
        self._pending += len(chunk)
        if self._pending >= PROGRESS_BYTES or time.monotonic() - self._last >= PROGRESS_EVERY:
            self._flush_progress()

    def _flush_progress(self) -> None:
        if self._pending:
            n, self._pending = self._pending, 0
            self._last = time.monotonic()
            self._advance(n)

    def _run(self) -> None:
        assert self._q is not None
        while True:
            chunk = self._q.get()
            if chunk is None:
                return
            if self.error is None:
                try:
                    self._consume(chunk)
                except BaseException as exc:  # re-raised in the receiving thread
                    self.error = exc  # keep draining so put() never blocks for ever

    def put(self, chunk: bytes) -> None:
        if self.error is not None:
            raise self.error
        if self._q is None:
            self._consume(chunk)
        else:
            self._q.put(chunk)

    def close(self) -> None:
        """Finish every chunk put so far (also on an error path, so that the ``.part`` file
        holds exactly the bytes received), report the progress, and raise a sink error."""
        if self._thread is not None and self._q is not None:
            self._q.put(None)
            self._thread.join()
            self._thread = None
        self._flush_progress()
        if self.error is not None:
            raise self.error
