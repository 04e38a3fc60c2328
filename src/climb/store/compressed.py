"""Rows of a local blosc-compressed zarr v3 array, decoded chunk by chunk without zarr.

Video frames and CT slices are stored as ragged fields whose values are blosc-compressed chunks
of a few frames/slices (``climb.datasets._video``, ``_volume``). A training clip or window needs a
few rows of a sample; zarr's per-call machinery (async codec pipeline, selection objects, a new
output buffer per chunk) costs about 1 ms per read here, several times the lz4 decode itself.
:class:`CompressedChunks` reads only the chunk files that hold the requested rows, decodes each
once with ``numcodecs.blosc`` into a reused per-thread buffer (a small LRU of decoded chunks, so
a chunk shared by consecutive batches is decoded once) and copies the rows straight into the
caller's array (values bit-identical to zarr's; tested). Dense compressed fields (images) and
ragged values (video, CT) both read through it.

:meth:`CompressedChunks.open` returns ``None`` for anything else (a remote store, another codec,
sharding, a non-native byte order, a v2 array): callers then read through zarr. With a file
manifest (``Store(verify=...)``) a listed chunk file that is gone is an error (never fill
values) and, with ``verify``, each chunk's sha256 is checked the first time it is read.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.errors import ClimbError
from climb.store.reader import DIRECT_ENV, ChunkRows, regular_v3

_FIX = (
    "the store is damaged: run 'climb store validate' on it, then rebuild it with "
    "'climb prepare KEY' (or restore the file)"
)


class CompressedChunks:
    """Rows of a local ``bytes`` + ``blosc`` zarr v3 array chunked along axis 0 only."""

    verifier: Any = None
    verify: bool = False
    rel_prefix: str = ""

    def __init__(
        self,
        path: Path,
        *,
        shape: tuple[int, ...],
        chunk_rows: int,
        dtype: np.dtype[Any],
        fill: Any,
        key: Any,
    ) -> None:
        self.path = path
        self.shape = shape
        self.row_shape = shape[1:]
        self.chunk_rows = chunk_rows
        self.dtype = dtype
        self.fill = fill
        self._key = key
        self.row_items = int(np.prod(self.row_shape, dtype=np.int64))
        self.chunk_bytes = self.row_items * chunk_rows * dtype.itemsize
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:  # picklable (spawned workers): no scratch
        state = dict(self.__dict__)
        state.pop("_local", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    @classmethod
    def open(cls, path: str | Path) -> CompressedChunks | None:
        """A reader for the array at ``path``, or ``None`` when it must go through zarr."""
        if os.environ.get(DIRECT_ENV, "1") == "0":
            return None
        path = Path(path)
        layout = regular_v3(path)
        if layout is None:
            return None
        meta, shape, chunk_rows, dtype, key = layout
        codecs = list(meta.get("codecs") or [])
        if len(codecs) != 2 or codecs[0].get("name") != "bytes" or codecs[1].get("name") != "blosc":
            return None
        endian = (codecs[0].get("configuration") or {}).get("endian", "little")
        if dtype.itemsize > 1 and np.dtype(dtype).newbyteorder(
            "<" if endian == "little" else ">"
        ) != dtype.newbyteorder("="):
            return None  # a foreign byte order: zarr converts it
        fill = ChunkRows._fill(meta.get("fill_value"), dtype)
        if fill is None:
            return None
        return cls(path, shape=shape, chunk_rows=chunk_rows, dtype=dtype, fill=fill, key=key)

    # ----------------------------------------------------------------- reading
    def chunk_file(self, k: int) -> Path:
        return self.path / self._key(k)

    def _cache(self) -> OrderedDict[int, np.ndarray | None]:
        c = getattr(self._local, "cache", None)
        if c is None:
            c = self._local.cache = OrderedDict()
        return c

    @property
    def cache_size(self) -> int:
        """Decoded chunks kept per thread (LRU): up to 4, at most 32 MiB of them."""
        return max(1, min(4, (32 << 20) // max(1, self.chunk_bytes)))

    def _chunk(self, k: int) -> np.ndarray | None:
        """Chunk ``k`` decoded, from this thread's small LRU of decoded chunks (a buffer is
        reused for another chunk only at a later call: copy the rows out before asking for
        more), or ``None`` for a chunk that was never written (all fill value)."""
        cache = self._cache()
        if k in cache:
            cache.move_to_end(k)
            return cache[k]
        buf = None
        while len(cache) >= self.cache_size:
            old = cache.popitem(last=False)[1]
            if old is not None:
                buf = old
        if buf is None:
            buf = np.empty((self.chunk_rows, *self.row_shape), dtype=self.dtype)
        got = self._decode(k, buf)
        cache[k] = got
        return got

    def _decode(self, k: int, buf: np.ndarray) -> np.ndarray | None:
        import numcodecs.blosc as blosc

        p = self.chunk_file(k)
        rel = f"{self.rel_prefix}/{self._key(k)}"
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            if self.verifier is not None and self.verifier.expected(rel):
                raise self.verifier.missing(rel) from None
            return None
        except OSError as exc:
            raise ClimbError(
                f"cannot read chunk {k} of {self.path.name} ({exc.strerror})",
                where=str(p),
                fix="check the file's permissions and the disk; 'climb store validate' checks "
                "every chunk",
            ) from None
        if self.verify and self.verifier is not None:
            self.verifier.check_bytes(rel, data)
        try:
            # the blosc header (16 bytes): version, versionlz, flags, typesize, then nbytes,
            # blocksize and cbytes as little-endian uint32
            if len(data) < 16:
                raise ValueError(f"{len(data)} bytes, shorter than a blosc header")
            nbytes = int.from_bytes(data[4:8], "little")
            cbytes = int.from_bytes(data[12:16], "little")
            if nbytes != self.chunk_bytes:
                raise ValueError(f"{nbytes} bytes decoded, expected {self.chunk_bytes}")
            if cbytes != len(data):
                raise ValueError(f"{len(data)} bytes on disk, the header says {cbytes}")
            blosc.decompress(data, buf)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise ClimbError(
                f"chunk {k} of {self.path.name} cannot be decoded ({exc}): the chunk file is "
                "truncated or damaged",
                where=str(p),
                fix=_FIX,
            ) from None
        return buf

    def read_into(self, rows: np.ndarray, out: np.ndarray, dst: np.ndarray | None = None) -> None:
        """Rows ``rows`` (any order, duplicates allowed) into ``out[dst[i]]`` (``out[i]``
        without ``dst``); each chunk they touch is read and decoded once, and each run of
        consecutive rows bound for consecutive places is one slice copy."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if rows.size == 0:
            return
        if rows.min() < 0 or rows.max() >= self.shape[0]:
            raise IndexError(f"row out of range for {self.shape[0]} rows of {self.path.name}")
        place = np.arange(rows.size) if dst is None else np.asarray(dst, dtype=np.int64)
        if np.all(rows[1:] >= rows[:-1]):
            srt, to = rows, place
        else:
            order = np.argsort(rows, kind="stable")
            srt, to = rows[order], place[order]
        c = self.chunk_rows
        chunks = srt // c
        cut = np.flatnonzero(chunks[1:] != chunks[:-1]) + 1
        for a, b in zip([0, *cut.tolist()], [*cut.tolist(), srt.size], strict=True):
            k = int(chunks[a])
            src = self._chunk(k)
            d = to[a:b]
            if src is None:
                out[d] = self.fill
                continue
            loc = srt[a:b] - k * c
            n = b - a
            if (
                loc[-1] - loc[0] == n - 1
                and d[-1] - d[0] == n - 1
                and (n == 1 or (np.all(np.diff(loc) == 1) and np.all(np.diff(d) == 1)))
            ):  # a contiguous run to a contiguous place (a crop): one slice copy
                out[int(d[0]) : int(d[0]) + n] = src[int(loc[0]) : int(loc[0]) + n]
            else:
                out[d] = src[loc]

    def read(self, rows: Any) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        out = np.empty((rows.size, *self.row_shape), dtype=self.dtype)
        self.read_into(rows, out)
        return out
