"""Read a store at a local path or an fsspec URL (``s3://``, ``gs://``, ``memory://``, ...)."""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import stat
import threading
from collections import OrderedDict
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.errors import ClimbError
from climb.store.writer import FORMAT, FORMAT_VERSION, quiet_zarr

#: set to ``0`` to read every array through zarr (no direct chunk-file reads)
DIRECT_ENV = "CLIMB_DIRECT_READ"
_V3_DTYPES = {
    "bool": "bool",
    **{f"int{b}": f"int{b}" for b in (8, 16, 32, 64)},
    **{f"uint{b}": f"uint{b}" for b in (8, 16, 32, 64)},
    **{f"float{b}": f"float{b}" for b in (16, 32, 64)},
}
_FILL_WORDS = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}


def _is_url(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def regular_v3(
    path: Path,
) -> tuple[dict[str, Any], tuple[int, ...], int, np.dtype[Any], Any] | None:
    """``(zarr.json, shape, chunk_rows, dtype, chunk key function)`` of a zarr v3 array at
    ``path`` on a regular grid that splits axis 0 only, with a plain dtype and a standard chunk
    key encoding; ``None`` for anything else (v2, damaged metadata, sharding or storage
    transformers, extension dtypes): those are read through zarr."""
    try:
        meta = json.loads((path / "zarr.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # no v3 metadata (a v2 array, or damaged): zarr decides
    if meta.get("zarr_format") != 3 or meta.get("node_type") != "array":
        return None
    if meta.get("storage_transformers"):
        return None
    shape = tuple(int(s) for s in meta.get("shape", ()))
    grid = meta.get("chunk_grid") or {}
    if grid.get("name") != "regular" or len(shape) < 1:
        return None
    chunk_shape = tuple(int(s) for s in (grid.get("configuration") or {}).get("chunk_shape") or ())
    if len(chunk_shape) != len(shape) or chunk_shape[1:] != shape[1:] or chunk_shape[0] < 1:
        return None
    dname = meta.get("data_type")
    if not isinstance(dname, str) or dname not in _V3_DTYPES:
        return None
    key = ChunkRows._key_fn(meta.get("chunk_key_encoding") or {}, len(shape))
    if key is None:
        return None
    return meta, shape, chunk_shape[0], np.dtype(_V3_DTYPES[dname]), key


class ChunkRows:
    """Rows of a local, uncompressed zarr v3 array read straight from its chunk files.

    For arrays whose codec pipeline is only ``bytes`` (any endianness), optionally after the
    scale filter of ``FieldSpec.codec["scale"]`` (``numcodecs.fixedscaleoffset``), on a regular
    chunk grid that splits axis 0 only, a row is a contiguous run of bytes of one chunk file
    (zarr writes every chunk, the last partial one included, at full size). :meth:`read_into`
    memory-maps each chunk file it needs and copies (or converts) each run of consecutive rows
    straight into the caller's buffer: one pass over the page cache, none of zarr's copies.
    Values are bit-identical to zarr's (the scale filter is undone as numcodecs does); a missing
    chunk file reads as the fill value, as in zarr (zarr does not write chunks that are all fill
    value). Safe to share between threads; a forked process reopens the files.

    :meth:`open` returns ``None`` for anything else (compressed, sharded, transposed, v2,
    extension dtypes, ...): read those through zarr. Chunk-key encoding, dtype, endianness and
    fill value come from the array's ``zarr.json``, never assumed.
    """

    #: chunk files kept open (least recently used beyond this are closed)
    max_open = 64
    #: set by :meth:`Store.direct_reader` for a store with a file manifest: a listed chunk
    #: file that is gone is an error (never fill values), and with ``verify`` each chunk's
    #: sha256 is checked the first time it is mapped (:mod:`climb.store.integrity`)
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
        disk_dtype: np.dtype[Any],
        fill: Any,
        key: Any,
        scale: Any = None,
        offset: Any = 0,
    ) -> None:
        self.path = path
        self.shape = shape
        self.row_shape = shape[1:]
        self.chunk_rows = chunk_rows
        self.dtype = dtype
        self.disk_dtype = disk_dtype
        self.fill = fill
        self._key = key
        self.scale = scale
        self.offset = offset
        self.row_bytes = int(np.prod(self.row_shape, dtype=np.int64)) * disk_dtype.itemsize
        self.chunk_bytes = self.row_bytes * chunk_rows
        # the scale filter undone in float32 gives numcodecs' float64 result bit for bit when
        # the stored integers and the scale are exact in float32 (division correctly rounded,
        # and float64-then-float32 rounding of a quotient is innocuous)
        self._fast_scale = (
            scale is not None
            and offset == 0
            and dtype == np.float32
            and disk_dtype.kind in "iu"
            and disk_dtype.itemsize <= 2
            and float(np.float32(scale)) == float(scale)
        )
        self._fds: OrderedDict[int, int] = OrderedDict()
        self._pid = os.getpid()
        # descriptors are cached and recycled: a thread must not map a descriptor that another
        # one has just closed (its number may already name another chunk file)
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(cls, path: str | Path) -> ChunkRows | None:
        """A reader for the array at ``path``, or ``None`` when it must go through zarr."""
        path = Path(path)
        layout = regular_v3(path)
        if layout is None:
            return None
        meta, shape, chunk_rows, dtype, key = layout
        codecs = list(meta.get("codecs") or [])
        scale: Any = None
        offset: Any = 0
        stored = dtype
        if codecs and codecs[0].get("name") == "numcodecs.fixedscaleoffset":
            cfg = codecs.pop(0).get("configuration") or {}
            try:
                if np.dtype(cfg.get("dtype", dtype)).newbyteorder("=") != dtype:
                    return None
                stored = np.dtype(cfg.get("astype", cfg.get("dtype", dtype))).newbyteorder("=")
            except TypeError:
                return None
            scale, offset = cfg.get("scale", 1), cfg.get("offset", 0)
            if dtype.kind != "f" or not isinstance(scale, (int, float)):
                return None
            if not isinstance(offset, (int, float)):
                return None
        if len(codecs) != 1 or codecs[0].get("name") != "bytes":
            return None  # compressed, transposed, sharded, checksummed, ...
        endian = (codecs[0].get("configuration") or {}).get("endian", "little")
        if endian not in ("little", "big"):
            return None
        disk = stored.newbyteorder("<" if endian == "little" else ">")
        fill = cls._fill(meta.get("fill_value"), dtype)
        if fill is None:
            return None
        return cls(
            path,
            shape=shape,
            chunk_rows=chunk_rows,
            dtype=dtype,
            disk_dtype=disk,
            fill=fill,
            key=key,
            scale=scale,
            offset=offset,
        )

    @staticmethod
    def _key_fn(enc: dict[str, Any], ndim: int) -> Any:
        name = enc.get("name")
        sep = (enc.get("configuration") or {}).get("separator")
        if name == "default":
            sep = sep or "/"
            prefix = ["c"]
        elif name == "v2":
            sep = sep or "."
            prefix = []
        else:
            return None
        if sep not in ("/", "."):
            return None
        zeros = ["0"] * (ndim - 1)
        return lambda k: sep.join([*prefix, str(k), *zeros])

    @staticmethod
    def _fill(value: Any, dtype: np.dtype[Any]) -> Any:
        if value is None:
            return np.zeros((), dtype=dtype)
        if isinstance(value, str):
            if value not in _FILL_WORDS or dtype.kind != "f":
                return None  # hex-encoded floats: leave to zarr
            value = _FILL_WORDS[value]
        try:
            return np.asarray(value, dtype=dtype)
        except (TypeError, ValueError, OverflowError):
            return None

    # ----------------------------------------------------------------- reading
    def chunk_file(self, k: int) -> Path:
        return self.path / self._key(k)

    def _fd(self, k: int) -> int | None:
        """The open descriptor of chunk ``k`` (call with ``self._lock`` held)."""
        fd = self._fds.get(k)
        if fd is not None:
            self._fds.move_to_end(k)
            return fd
        p = self.chunk_file(k)
        try:
            fd = os.open(p, os.O_RDONLY)
        except FileNotFoundError:
            rel = f"{self.rel_prefix}/{self._key(k)}"
            if self.verifier is not None and self.verifier.expected(rel):
                raise self.verifier.missing(rel) from None
            return None  # never written: all fill value (zarr's write_empty_chunks=False)
        except OSError as exc:
            raise ClimbError(
                f"cannot open chunk {k} of {self.path.name} ({exc.strerror})",
                where=str(p),
                fix="check the file's permissions and the disk; 'climb store validate' checks "
                "every chunk; 'climb prepare KEY' rebuilds the store",
            ) from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise ClimbError(
                f"chunk {k} of {self.path.name} is not a regular file",
                where=str(p),
                fix="the store is damaged: run 'climb store validate' on it, then rebuild it "
                "with 'climb prepare KEY' (or restore the file)",
            )
        size = st.st_size
        if size != self.chunk_bytes:
            os.close(fd)
            raise ClimbError(
                f"chunk {k} of {self.path.name} is {size} bytes, expected {self.chunk_bytes} "
                f"({self.chunk_rows} rows of {self.row_bytes} bytes, uncompressed): the chunk "
                "file is truncated or damaged",
                where=str(p),
                fix="the store is damaged: run 'climb store validate' on it, then rebuild it "
                "with 'climb prepare KEY' (or restore the file)",
            )
        self._fds[k] = fd
        while len(self._fds) > self.max_open:
            os.close(self._fds.popitem(last=False)[1])
        return fd

    def close(self) -> None:
        while self._fds:
            with contextlib.suppress(OSError):
                os.close(self._fds.popitem()[1])

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter shutdown
            if self._pid == os.getpid():
                self.close()

    def read(self, idx: Any) -> np.ndarray:
        """Rows ``idx`` (in that order, duplicates allowed) as a new array."""
        idx = np.asarray(idx, dtype=np.int64).reshape(-1)
        out = np.empty((idx.size, *self.row_shape), dtype=self.dtype)
        self.read_into(idx, out)
        return out

    def _chunk_view(self, k: int) -> tuple[np.ndarray, Any] | None:
        """Chunk ``k`` as a read-only ``(chunk_rows, *row_shape)`` array of the stored dtype,
        memory-mapped (no copy; the caller unmaps it), or read with ``preadv`` where the file
        system cannot map it; ``None`` for a chunk that was never written (all fill value)."""
        if self._pid != os.getpid():  # a forked worker: its own lock and descriptors
            self._lock = threading.Lock()
            self.close()
            self._pid = os.getpid()
        with self._lock:
            return self._chunk_view_locked(k)

    def _chunk_view_locked(self, k: int) -> tuple[np.ndarray, Any] | None:
        fd = self._fd(k)
        if fd is None:
            return None
        size = os.fstat(fd).st_size  # again: a mapping past the end of a file is a crash
        if size != self.chunk_bytes:
            self._fds.pop(k, None)
            os.close(fd)
            raise ClimbError(
                f"chunk {k} of {self.path.name} changed size to {size} bytes while the store "
                f"was open (expected {self.chunk_bytes})",
                where=str(self.chunk_file(k)),
                fix="is the store being rewritten? re-open it when 'climb prepare' has "
                "finished; otherwise run 'climb store validate' on it",
            )
        try:
            m: Any = mmap.mmap(fd, self.chunk_bytes, prot=mmap.PROT_READ)
        except (OSError, ValueError):
            m = None
        if m is not None:
            if self.verify and self.verifier is not None:
                try:
                    self.verifier.check_bytes(f"{self.rel_prefix}/{self._key(k)}", m)
                except ClimbError:
                    m.close()
                    raise
            view = np.frombuffer(m, dtype=self.disk_dtype).reshape(self.chunk_rows, *self.row_shape)
            return view, m
        buf = np.empty((self.chunk_rows, *self.row_shape), dtype=self.disk_dtype)
        mv = memoryview(buf.reshape(-1).view(np.uint8))
        got = 0
        while got < self.chunk_bytes:
            try:
                n = os.preadv(fd, [mv[got:]], got)
            except OSError as exc:
                raise ClimbError(
                    f"cannot read chunk {k} of {self.path.name} ({exc.strerror})",
                    where=str(self.chunk_file(k)),
                    fix="check the disk; 'climb store validate' checks every chunk",
                ) from None
            if n <= 0:  # the file shrank after it was opened
                raise ClimbError(
                    f"chunk {k} of {self.path.name} ended early (read {got} of "
                    f"{self.chunk_bytes} bytes)",
                    where=str(self.chunk_file(k)),
                    fix="is the store being rewritten? re-open it when 'climb prepare' has "
                    "finished; otherwise run 'climb store validate' on it",
                )
            got += n
        if self.verify and self.verifier is not None:
            self.verifier.check_bytes(f"{self.rel_prefix}/{self._key(k)}", mv)
        return buf, None

    def read_into(self, idx: np.ndarray, out: np.ndarray) -> None:
        """Fill ``out[j]`` with row ``idx[j]`` (non-negative, in range; any order,
        duplicates allowed). ``out``: ``(len(idx), *row_shape)`` of ``self.dtype``.

        Each chunk file is memory-mapped once per call and unmapped at the end (so the page
        cache never counts towards the process's memory for longer than one batch); each run
        of consecutive rows is copied, or converted (scale filter, byte order), straight from
        the mapping into ``out``."""
        idx = np.asarray(idx, dtype=np.int64).reshape(-1)
        if out.shape != (idx.size, *self.row_shape) or out.dtype != self.dtype:
            raise ValueError(f"out must be {(idx.size, *self.row_shape)} {self.dtype}")
        if idx.size == 0:
            return
        if idx.min() < 0 or idx.max() >= self.shape[0]:
            raise IndexError(f"index out of range for {self.shape[0]} samples")
        c = self.chunk_rows
        # runs of consecutive rows inside one chunk: one copy/conversion each
        cut = np.flatnonzero((np.diff(idx) != 1) | (idx[1:] % c == 0)) + 1
        starts = [0, *cut.tolist()]
        ends = [*cut.tolist(), idx.size]
        views: dict[int, tuple[np.ndarray, Any] | None] = {}
        scale = np.float32(self.scale) if self._fast_scale else None
        src: np.ndarray | None = None
        try:
            for s, e in zip(starts, ends, strict=True):
                r0 = int(idx[s])
                k = r0 // c
                if k not in views:
                    views[k] = self._chunk_view(k)
                got = views[k]
                if got is None:
                    out[s:e] = self.fill
                    continue
                src = got[0][r0 - k * c : r0 - k * c + (e - s)]
                got = None
                if self.scale is None:
                    out[s:e] = src  # a copy (and a byte swap where the file is big-endian)
                elif scale is not None:
                    np.divide(src, scale, out=out[s:e], dtype=np.float32)
                else:  # exactly numcodecs' FixedScaleOffset.decode
                    native = src.astype(src.dtype.newbyteorder("="))
                    out[s:e] = ((native / self.scale) + self.offset).astype(self.dtype)
                src = None
        finally:
            maps = [v[1] for v in views.values() if v is not None and v[1] is not None]
            views.clear()
            src = None
            for m in maps:  # unmap now (a view still alive elsewhere: when it is freed)
                with contextlib.suppress(BufferError):
                    m.close()


class Store:
    """A prepared store. ``meta`` (dataset.json), ``samples`` (DataFrame), ``array(field)`` (zarr
    array), ``read(field, indices)`` (batched read), ``len(store)``, ``quarantine()``."""

    def __init__(
        self,
        path: str | Path,
        storage_options: dict[str, Any] | None = None,
        *,
        verify: bool | None = None,
        check: bool = True,
    ) -> None:
        """``check=False`` skips the presence-and-size check on opening (``climb store
        validate`` opens a store that way and reports every problem itself)."""
        p = str(path)
        if p.startswith("file://"):
            p = p[len("file://") :]
        self.url = p
        self.is_remote = _is_url(p)
        self.storage_options = dict(storage_options or {})
        self._arrays: dict[str, Any] = {}
        self._direct: dict[str, ChunkRows | None] = {}
        self._compressed: dict[str, Any] = {}
        self.meta = self._load_meta()
        from climb.store import integrity

        #: check every file's sha256 the first time it is read (``CLIMB_VERIFY_STORE=1``)
        self.verify = (
            bool(verify)
            if verify is not None
            else os.environ.get(integrity.VERIFY_ENV, "").strip() not in ("", "0")
        )
        #: the store's file manifest checker (None: a remote store, or one written before
        #: checksums.json existed)
        self.verifier: integrity.Verifier | None = None
        if not self.is_remote:
            files = integrity.load(Path(self.url), self.meta)
            if files is not None:
                if check:
                    integrity.check_cheap(Path(self.url), files)  # presence and sizes
                self.verifier = integrity.Verifier(Path(self.url), files)

    # ----------------------------------------------------------------- paths and files
    def _join(self, *parts: str) -> str:
        if self.is_remote:
            return "/".join([self.url.rstrip("/"), *parts])
        return str(Path(self.url, *parts))

    def _open(self, rel: str, mode: str = "rb") -> Any:
        if self.is_remote:  # climb.store.fs: clear errors (bucket, access, network), retries;
            from climb.store.fs import Loc  # files are read with range requests (fsspec)

            return Loc(self._join(rel), self.storage_options).open(mode)
        return open(self._join(rel), mode)

    def _exists(self, rel: str) -> bool:
        if self.is_remote:
            from climb.store.fs import Loc

            return Loc(self._join(rel), self.storage_options).exists()
        return Path(self._join(rel)).exists()

    def _load_meta(self) -> dict[str, Any]:
        if not self._exists("dataset.json"):
            raise ClimbError(
                f"no store at {self.url} (dataset.json is missing)",
                where=self.url,
                fix="run 'climb prepare KEY' first; a store without dataset.json is incomplete",
            )
        with self._open("dataset.json") as fh:
            raw = fh.read()
        try:
            meta = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            meta = None
        if not isinstance(meta, dict):
            raise ClimbError(
                "dataset.json is damaged (not a JSON object)",
                where=self._join("dataset.json"),
                fix="rebuild the store with 'climb prepare KEY'",
            )
        if meta.get("format") != FORMAT:
            raise ClimbError("dataset.json is not a climb store", where=self._join("dataset.json"))
        if int(meta.get("format_version", -1)) > FORMAT_VERSION:
            raise ClimbError(
                f"store format version {meta['format_version']} is newer than this climb "
                f"understands ({FORMAT_VERSION})",
                where=self.url,
                fix="upgrade climb",
            )
        return meta

    # ----------------------------------------------------------------- content
    @property
    def key(self) -> str:
        return str(self.meta["key"])

    @property
    def fields(self) -> dict[str, dict[str, Any]]:
        return dict(self.meta["fields"])

    @property
    def tasks(self) -> dict[str, dict[str, Any]]:
        return dict(self.meta["tasks"])

    def __len__(self) -> int:
        return int(self.meta["num_samples"])

    @cached_property
    def samples(self) -> Any:
        import pandas as pd

        if self.verify and self.verifier is not None:
            self.verifier.check_file("samples.parquet")
        try:
            with self._open("samples.parquet") as fh:
                return pd.read_parquet(fh)
        except FileNotFoundError:
            raise ClimbError(
                "the store has no samples.parquet",
                where=self._join("samples.parquet"),
                fix="rebuild the store with 'climb prepare KEY'",
            ) from None
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise ClimbError(
                f"samples.parquet is truncated or damaged ({type(exc).__name__}: {str(exc)[:120]})",
                where=self._join("samples.parquet"),
                fix="run 'climb store validate' on the store, then rebuild it with "
                "'climb prepare KEY'",
            ) from None

    def is_ragged(self, field: str) -> bool:
        return bool(self.meta["fields"].get(field, {}).get("ragged", False))

    def ragged(self, field: str) -> Any:
        """A ragged field (values + offsets) as a :class:`climb.store.ragged.RaggedArray`."""
        if not self.is_ragged(field):
            raise ClimbError(f"field {field!r} of store {self.key!r} is not ragged")
        return self.array(field)

    def array(self, field: str) -> Any:
        """The zarr array of ``field`` (lazy; nothing is read until indexed); for a ragged field
        a :class:`climb.store.ragged.RaggedArray` (offsets in memory, values lazy)."""
        if field not in self.meta["fields"]:
            raise ClimbError(
                f"store {self.key!r} has no field {field!r}",
                fix=f"fields: {', '.join(self.meta['fields'])}",
            )
        if field not in self._arrays and self.is_ragged(field):
            from climb.store.ragged import RaggedArray

            self._arrays[field] = RaggedArray.open(
                self.url, field, self.storage_options, verifier=self.verifier, verify=self.verify
            )
        if field not in self._arrays:
            import zarr

            url = self._join("arrays", f"{field}.zarr")
            rel = f"arrays/{field}.zarr"
            try:
                with quiet_zarr():
                    if self.is_remote:  # chunks through the bounded local cache (store.fs)
                        from climb.store.fs import Loc, remote_errors

                        loc = Loc(url, self.storage_options)
                        with remote_errors(url, self.storage_options):
                            st = loc.zarr_store(cache=True, read_only=True)
                            self._arrays[field] = zarr.open_array(st, mode="r")
                    elif self.verifier is not None:
                        from climb.store.integrity import checked_zarr_store

                        if self.verify:
                            self.verifier.check_file(f"{rel}/zarr.json")
                        st = checked_zarr_store(Path(url), rel, self.verifier, self.verify)
                        self._arrays[field] = zarr.open_array(st, mode="r")
                    else:
                        self._arrays[field] = zarr.open_array(url, mode="r")
            except ClimbError:
                raise
            except Exception as exc:  # a broken zarr.json: zarr raises many kinds
                raise ClimbError(
                    f"array {field} of store {self.key!r} cannot be opened: its zarr.json is "
                    f"missing or damaged ({type(exc).__name__}: {str(exc)[:120]})",
                    where=self._join("arrays", f"{field}.zarr", "zarr.json"),
                    fix="run 'climb store validate' on the store, then rebuild it with "
                    "'climb prepare KEY'",
                ) from None
        return self._arrays[field]

    def direct_reader(self, field: str) -> ChunkRows | None:
        """The :class:`ChunkRows` reader of a dense field stored uncompressed on a local disk,
        or ``None`` (remote store, ragged field, compressed array, ``CLIMB_DIRECT_READ=0``):
        then read through :meth:`array` / zarr."""
        if field not in self._direct:
            ok = (
                not self.is_remote
                and field in self.meta["fields"]
                and not self.is_ragged(field)
                and os.environ.get(DIRECT_ENV, "1") != "0"
            )
            reader = ChunkRows.open(self._join("arrays", f"{field}.zarr")) if ok else None
            self._direct[field] = self._with_manifest(reader, f"arrays/{field}.zarr")
        return self._direct[field]

    def _with_manifest(self, reader: Any, rel: str) -> Any:
        """``reader`` (a direct chunk reader of the array ``rel``) set to check this store's
        file manifest: a listed chunk that is gone is an error, and with ``verify`` each file's
        sha256 is checked on its first read."""
        if reader is not None and self.verifier is not None:
            if self.verify:
                self.verifier.check_file(f"{rel}/zarr.json")
            reader.verifier, reader.verify, reader.rel_prefix = self.verifier, self.verify, rel
        return reader

    def compressed_reader(self, field: str) -> Any:
        """The :class:`climb.store.compressed.CompressedChunks` reader of a dense field stored
        blosc-compressed on a local disk (images), or ``None`` (remote store, ragged field,
        another codec, ``CLIMB_DIRECT_READ=0``): then read through :meth:`array` / zarr."""
        if field not in self._compressed:
            reader = None
            if not self.is_remote and field in self.meta["fields"] and not self.is_ragged(field):
                from climb.store.compressed import CompressedChunks

                reader = CompressedChunks.open(self._join("arrays", f"{field}.zarr"))
            self._compressed[field] = self._with_manifest(reader, f"arrays/{field}.zarr")
        return self._compressed[field]

    def read(self, field: str, indices: Any) -> np.ndarray:
        """Rows ``indices`` of ``field`` as one array, in the order given (for a ragged field:
        a list of per-sample arrays).

        Uncompressed local arrays are read row run by row run from the chunk files
        (:class:`ChunkRows`), blosc-compressed local ones chunk by chunk without zarr
        (:class:`climb.store.compressed.CompressedChunks`). Otherwise indices are sorted and
        de-duplicated, each needed chunk is read and decoded once (zarr orthogonal selection),
        then the rows are put back in the requested order.
        """
        direct = self.direct_reader(field) or self.compressed_reader(field)
        if direct is not None:
            idx = np.asarray(indices, dtype=np.int64).reshape(-1)
            n = direct.shape[0]
            if idx.size and (idx.min() < -n or idx.max() >= n):
                raise IndexError(f"index out of range for {n} samples")
            return direct.read(np.where(idx < 0, idx + n, idx))
        arr = self.array(field)
        if self.is_ragged(field):  # a list of per-sample arrays
            return arr.read(np.asarray(indices, dtype=np.int64).reshape(-1).tolist())  # type: ignore[no-any-return]
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size == 0:
            return np.empty((0, *arr.shape[1:]), dtype=arr.dtype)
        n = arr.shape[0]
        if idx.min() < -n or idx.max() >= n:
            raise IndexError(f"index out of range for {n} samples")
        idx = np.where(idx < 0, idx + n, idx)
        uniq, inverse = np.unique(idx, return_inverse=True)
        if uniq.size == uniq[-1] - uniq[0] + 1:
            block = arr[int(uniq[0]) : int(uniq[-1]) + 1]
        else:
            block = arr.oindex[uniq]
        return np.asarray(block)[inverse]

    def quarantine(self) -> list[dict[str, Any]]:
        if not self._exists("quarantine.jsonl"):
            return []
        with self._open("quarantine.jsonl") as fh:
            text = fh.read().decode("utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"Store({self.url!r}, key={self.key!r}, samples={len(self)})"


def open_store(
    path: str | Path,
    storage_options: dict[str, Any] | None = None,
    *,
    verify: bool | None = None,
) -> Store:
    """Open the store at ``path`` (a directory or an fsspec URL).

    A local store is checked on opening, cheaply: ``dataset.json`` parses, and every file its
    manifest ``checksums.json`` lists exists with its recorded size (one ``stat`` each). With
    ``verify=True`` (default: ``$CLIMB_VERIFY_STORE``) each file's sha256 is also checked, lazily,
    the first time it is read. A missing listed chunk is always an error, never zeros. See
    :mod:`climb.store.integrity`."""
    return Store(path, storage_options, verify=verify)
