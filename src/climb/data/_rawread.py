"""Stored integers of an uncompressed local array copied straight into a batch with ``preadv``.

For ``StoreDataset(raw_dtype=True)`` on a field that :class:`climb.store.reader.ChunkRows` can
read (bytes-only codecs, axis-0 chunking, local disk) and whose stored byte order is the
machine's: each run of consecutive rows of one chunk file is one ``preadv`` into the batch
buffer (the kernel copies from the page cache; nothing is mapped, so no page faults on the
source side, and no Python loop over rows). Chunk files are checked as ChunkRows checks them (a
regular file of exactly ``chunk_rows * row_bytes`` bytes; a missing chunk that the store's
``checksums.json`` lists is an error, one never written reads as zeros, the fill value of climb's
arrays); with ``CLIMB_VERIFY_STORE=1`` ChunkRows reads instead (it checks whole chunks). Descriptors are cached per process (a forked worker reopens them).
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from climb.core.errors import ClimbError


class PreadRows:
    max_open = 512

    def __init__(self, rows: Any) -> None:
        """``rows``: the field's :class:`ChunkRows` (layout, chunk keys, sizes)."""
        self.src = rows
        self.dtype = rows.disk_dtype.newbyteorder("=")
        self.row_shape = rows.row_shape
        self.shape = rows.shape
        self._fds: OrderedDict[int, int] = OrderedDict()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    @staticmethod
    def usable(rows: Any) -> bool:
        """Native byte order, zero fill, and not a store read with ``CLIMB_VERIFY_STORE``
        (whose chunk checksums need whole chunks: ChunkRows reads those)."""
        if rows is None or not rows.disk_dtype.isnative or rows.fill != 0:
            return False
        return not (getattr(rows, "verify", False) and getattr(rows, "verifier", None))

    def _fd(self, k: int) -> int | None:
        if self._pid != os.getpid():  # forked: the parent's descriptors are not ours to share
            self._fds = OrderedDict()
            self._lock = threading.Lock()
            self._pid = os.getpid()
        with self._lock:
            fd = self._fds.get(k)
            if fd is not None:
                self._fds.move_to_end(k)
                return fd
            p = self.src.chunk_file(k)
            try:
                fd = os.open(p, os.O_RDONLY)
            except FileNotFoundError:
                ver = getattr(self.src, "verifier", None)
                rel = f"{getattr(self.src, 'rel_prefix', '')}/{self.src._key(k)}"
                if ver is not None and ver.expected(rel):  # listed in checksums.json: lost
                    raise ver.missing(rel) from None
                return None  # never written: all fill value
            except OSError as exc:
                raise ClimbError(
                    f"cannot open chunk {k} of {p.parent.name} ({exc.strerror})", where=str(p)
                ) from None
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size != self.src.chunk_bytes:
                os.close(fd)
                raise ClimbError(
                    f"chunk {k} of {p.parent.name} is {st.st_size} bytes, expected "
                    f"{self.src.chunk_bytes} (uncompressed): truncated or damaged",
                    where=str(p),
                    fix="run 'climb store validate' on the store; 'climb prepare KEY' rebuilds it",
                )
            self._fds[k] = fd
            while len(self._fds) > self.max_open:
                os.close(self._fds.popitem(last=False)[1])
            return fd

    def read_into(self, idx: np.ndarray, out: np.ndarray) -> None:
        idx = np.asarray(idx, dtype=np.int64).reshape(-1)
        if out.shape != (idx.size, *self.row_shape) or out.dtype != self.dtype:
            raise ValueError(f"out must be {(idx.size, *self.row_shape)} {self.dtype}")
        if idx.size == 0:
            return
        if idx.min() < 0 or idx.max() >= self.shape[0]:
            raise IndexError(f"index out of range for {self.shape[0]} samples")
        c, rb = self.src.chunk_rows, self.src.row_bytes
        cut = np.flatnonzero((np.diff(idx) != 1) | (idx[1:] % c == 0)) + 1
        starts = [0, *cut.tolist()]
        ends = [*cut.tolist(), idx.size]
        if not out.flags.c_contiguous:
            raise ValueError("out must be C-contiguous")
        mv = memoryview(out.reshape(-1).view(np.uint8))
        for s, e in zip(starts, ends, strict=True):
            r0 = int(idx[s])
            k = r0 // c
            fd = self._fd(k)
            if fd is None:
                out[s:e] = 0
                continue
            want = (e - s) * rb
            got = 0
            while got < want:
                n = os.preadv(fd, [mv[s * rb + got : e * rb]], (r0 - k * c) * rb + got)
                if n <= 0:
                    raise ClimbError(
                        f"chunk {k} ended early (read {got} of {want} bytes)",
                        where=str(self.src.chunk_file(k)),
                        fix="is the store being rewritten? otherwise 'climb store validate'",
                    )
                got += n

    def close(self) -> None:
        with self._lock:
            while self._fds:
                with contextlib.suppress(OSError):
                    os.close(self._fds.popitem()[1])

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            if self._pid == os.getpid():
                self.close()
