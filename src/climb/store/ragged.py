"""Ragged fields of the store: per-sample arrays whose first axis varies (graph nodes and edges,
variable-length sequences).

A ragged field ``f`` is two zarr v3 arrays under ``arrays/``:

* ``f.values.zarr``: all samples' rows concatenated along axis 0, shape ``(total, *inner_shape)``,
  chunked along axis 0 (``rows_per_chunk``);
* ``f.offsets.zarr``: int64, shape ``(num_samples + 1,)``; sample ``i`` is
  ``values[offsets[i]:offsets[i + 1]]`` (``offsets[0] == 0``, non-decreasing,
  ``offsets[-1] == total``).

In dataset.json the field has ``"ragged": true`` and ``"shape": [null, *inner_shape]``. A graph is
three ragged fields sharing a prefix: ``<g>.x`` (nodes, F), ``<g>.edge_index`` (edges, 2, local
node ids) and optionally ``<g>.edge_attr`` (edges, D); node-level labels are one more ragged
field (nodes, C). A variable-length multichannel sequence is stored time-major, (T, C).

Reading one sample costs one offsets lookup (offsets are small and kept in memory) and a read of
the value chunks it spans; nothing else of the dataset is loaded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.errors import ClimbError
from climb.core.schema import OFFSETS_DTYPE, RaggedFieldSpec

# ----------------------------------------------------------------------------- writing


def _paths(root: Path, name: str) -> tuple[Path, Path]:
    base = Path(root) / "arrays"
    return base / f"{name}.values.zarr", base / f"{name}.offsets.zarr"


def offsets_from_lengths(lengths: Sequence[int]) -> np.ndarray:
    out = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(np.asarray(lengths, dtype=np.int64), out=out[1:])
    return out


class RaggedWriter:
    """Write one ragged field sample by sample (in sample order), buffering whole value chunks.

    ``RaggedWriter(root, spec, lengths)`` creates both arrays for samples of the given lengths
    (known in advance, so the arrays are created once at full size); ``append(a)`` adds the next
    sample; ``close()`` flushes and checks every sample was written.
    """

    def __init__(self, root: str | Path, spec: RaggedFieldSpec, lengths: Sequence[int]) -> None:
        import zarr

        from climb.store.writer import _compressor

        self.spec = spec
        self.offsets = offsets_from_lengths(lengths)
        total = int(self.offsets[-1])
        from climb.store.fs import as_loc

        loc = as_loc(root)
        if loc.is_remote:  # an fsspec URL (through the store file layer: retried writes)
            vstore = loc.join("arrays", f"{spec.name}.values.zarr").zarr_store()
            ostore = loc.join("arrays", f"{spec.name}.offsets.zarr").zarr_store()
        else:
            vpath, opath = _paths(Path(loc.url), spec.name)
            vpath.parent.mkdir(parents=True, exist_ok=True)
            vstore, ostore = str(vpath), str(opath)
        comp = _compressor(spec.codec)
        self.rows = max(1, min(spec.rows_per_chunk, max(total, 1)))
        self.values = zarr.create_array(
            store=vstore,
            shape=(total, *spec.inner_shape),
            chunks=(self.rows, *spec.inner_shape),
            dtype=spec.dtype,
            compressors=[comp] if comp is not None else None,
            fill_value=0,
            overwrite=True,
            attributes={"climb_field": spec.to_meta(), "part": "values"},
        )
        off = zarr.create_array(
            store=ostore,
            shape=self.offsets.shape,
            chunks=(max(1, min(len(self.offsets), 1 << 20)),),
            dtype=OFFSETS_DTYPE,
            compressors=[comp] if comp is not None else None,
            fill_value=0,
            overwrite=True,
            attributes={"climb_field": spec.to_meta(), "part": "offsets"},
        )
        off[:] = self.offsets
        self._next = 0  # next sample
        self._buf: list[np.ndarray] = []
        self._buf_start = 0  # first value row in the buffer
        self._buf_rows = 0

    def append(self, a: np.ndarray) -> None:
        i = self._next
        if i >= len(self.offsets) - 1:
            raise ClimbError(f"ragged field {self.spec.name}: more samples than declared")
        a = self.spec.check(a)
        want = int(self.offsets[i + 1] - self.offsets[i])
        if a.shape[0] != want:
            raise ClimbError(
                f"ragged field {self.spec.name}: sample {i} has {a.shape[0]} rows, declared {want}"
            )
        self._buf.append(a)
        self._buf_rows += want
        self._next += 1
        if self._buf_rows >= self.rows:
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        if not self._buf:
            return
        block = np.concatenate(self._buf, axis=0)
        # write whole chunks only, unless final
        n_write = block.shape[0] if final else (block.shape[0] // self.rows) * self.rows
        start = self._buf_start
        if start % self.rows:
            # keep chunk alignment: only possible at the beginning of a new field
            raise AssertionError("unaligned ragged buffer")
        if n_write:
            self.values[start : start + n_write] = block[:n_write]
        rest = block[n_write:]
        self._buf = [rest] if rest.shape[0] else []
        self._buf_rows = int(rest.shape[0])
        self._buf_start = start + n_write

    def close(self) -> None:
        self._flush(final=True)
        if self._next != len(self.offsets) - 1:
            raise ClimbError(
                f"ragged field {self.spec.name}: {self._next} of {len(self.offsets) - 1} "
                "samples written"
            )


def write_ragged(root: str | Path, spec: RaggedFieldSpec, arrays: Sequence[np.ndarray]) -> None:
    """Write a whole ragged field from a list of per-sample arrays."""
    arrays = [spec.check(a) for a in arrays]
    w = RaggedWriter(root, spec, [a.shape[0] for a in arrays])
    for a in arrays:
        w.append(a)
    w.close()


# ----------------------------------------------------------------------------- reading


class RaggedArray:
    """Read access to one ragged field: ``len(r)``, ``r[i]`` (one sample), ``r.read(indices)``
    (a list, reading each needed value range once), ``r.gather(samples, take)`` (chosen steps
    of chosen samples, reading only the value chunks they fall in), ``r.lengths``."""

    def __init__(
        self, values: Any, offsets: np.ndarray, name: str = "", direct: Any = None
    ) -> None:
        self.values = values
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.name = name
        #: a :class:`climb.store.compressed.CompressedChunks` of the values (local blosc
        #: arrays), or ``None``: read through zarr
        self.direct = direct
        self._lengths: np.ndarray | None = None

    @classmethod
    def open(
        cls,
        root: str,
        name: str,
        storage_options: dict[str, Any] | None = None,
        *,
        verifier: Any = None,
        verify: bool = False,
    ) -> RaggedArray:
        """Open ``root``'s ragged field ``name``. ``verifier`` (a local store's file manifest,
        :class:`climb.store.integrity.Verifier`): a listed chunk that is gone is an error, and
        with ``verify`` each file's sha256 is checked the first time it is read."""
        import zarr

        def _open(url: str) -> Any:
            if "://" in url and not url.startswith("file://"):
                return zarr.open_array(url, mode="r", storage_options=storage_options or None)
            if verifier is not None:
                from climb.store.integrity import checked_zarr_store

                rel = f"arrays/{Path(url).name}"
                if verify:
                    verifier.check_file(f"{rel}/zarr.json")
                return zarr.open_array(
                    checked_zarr_store(Path(url), rel, verifier, verify), mode="r"
                )
            return zarr.open_array(url, mode="r")

        sep = "/" if "://" in root else None
        direct = None
        if sep:
            vurl = f"{root.rstrip('/')}/arrays/{name}.values.zarr"
            ourl = f"{root.rstrip('/')}/arrays/{name}.offsets.zarr"
        else:
            vurl, ourl = (str(p) for p in _paths(Path(root), name))
            from climb.store.compressed import CompressedChunks

            direct = CompressedChunks.open(vurl)
            if direct is not None and verifier is not None:
                direct.verifier, direct.verify = verifier, verify
                direct.rel_prefix = f"arrays/{Path(vurl).name}"
        return cls(_open(vurl), np.asarray(_open(ourl)[:]), name, direct)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        if self._lengths is None:
            self._lengths = np.diff(self.offsets)
        return self._lengths

    def __getitem__(self, i: int) -> np.ndarray:
        n = len(self)
        if i < -n or i >= n:
            raise IndexError(f"sample {i} out of range for {n} samples")
        i = i + n if i < 0 else i
        return np.asarray(self.values[int(self.offsets[i]) : int(self.offsets[i + 1])])

    def read(self, indices: Iterable[int]) -> list[np.ndarray]:
        """Samples ``indices`` in the order given; runs of consecutive samples are read with one
        read each (the direct blosc reader where there is one, else zarr)."""
        idx = [int(i) for i in indices]
        if not idx:
            return []
        n = len(self)
        idx = [i + n if i < 0 else i for i in idx]
        if min(idx) < 0 or max(idx) >= n:
            raise IndexError(f"index out of range for {n} samples")
        uniq = sorted(set(idx))
        got: dict[int, np.ndarray] = {}
        run = [uniq[0]]
        for i in [*uniq[1:], None]:
            if i is not None and i == run[-1] + 1:
                run.append(i)
                continue
            lo, hi = int(self.offsets[run[0]]), int(self.offsets[run[-1] + 1])
            if self.direct is not None:
                block = self.direct.read(np.arange(lo, hi))
            else:
                block = np.asarray(self.values[lo:hi])
            for j in run:
                got[j] = block[int(self.offsets[j]) - lo : int(self.offsets[j + 1]) - lo]
            if i is not None:
                run = [i]
        return [got[i] for i in idx]

    def gather(self, samples: Sequence[int] | np.ndarray, take: np.ndarray) -> np.ndarray:
        """Steps ``take[i, j]`` of sample ``samples[i]`` as ``(len(samples), steps, *inner)``;
        a negative ``take`` is padding (zeros). Only the value chunks holding the chosen steps
        are read, each once (a crop or clip of a long video reads a few chunks, not the video).
        """
        samples = np.asarray(samples, dtype=np.int64).reshape(-1)
        take = np.asarray(take, dtype=np.int64)
        n = len(self)
        if samples.size and (samples.min() < 0 or samples.max() >= n):
            raise IndexError(f"sample out of range for {n} samples")
        if take.ndim != 2 or take.shape[0] != samples.size:
            raise ValueError(f"take must be (len(samples), steps), got {take.shape}")
        lengths = (self.offsets[samples + 1] - self.offsets[samples])[:, None]
        if np.any(take >= lengths):
            raise IndexError(f"a step past the end of its sample in ragged field {self.name!r}")
        inner = tuple(self.values.shape[1:])
        valid = take >= 0
        if valid.all():  # no padding: every place is written below
            out = np.empty((*take.shape, *inner), dtype=self.values.dtype)
        else:
            out = np.zeros((*take.shape, *inner), dtype=self.values.dtype)
        if not valid.any():
            return out
        rows = (self.offsets[samples][:, None] + take)[valid]
        flat = out.reshape(-1, *inner)
        where = np.flatnonzero(valid.reshape(-1))
        if self.direct is not None:
            self.direct.read_into(rows, flat, dst=where)
            return out
        # through zarr: one read per run of consecutive chunks holding a chosen step
        c = int(self.values.chunks[0])
        order = np.argsort(rows, kind="stable")
        srt = rows[order]
        chunks = srt // c
        uniq = np.unique(chunks)
        total = int(self.values.shape[0])
        runs: list[list[int]] = []
        for k in uniq.tolist():
            if runs and runs[-1][1] == k - 1:
                runs[-1][1] = k
            else:
                runs.append([k, k])
        for k0, k1 in runs:
            lo, hi = k0 * c, min((k1 + 1) * c, total)
            a, b = np.searchsorted(srt, [lo, hi])
            block = np.asarray(self.values[lo:hi])
            flat[where[order[a:b]]] = block[srt[a:b] - lo]
        return out


def ragged_digest(root: str | Path, name: str, version: int | None = None) -> str:
    """sha256 of a ragged field's decoded content (offsets, then values chunk by chunk)."""
    from climb.store.writer import HASH_VERSION, array_digest

    r = RaggedArray.open(str(root), name, getattr(root, "storage_options", None))
    h = hashlib.sha256()
    h.update(json.dumps(["ragged", name]).encode())
    h.update(r.offsets.tobytes())
    h.update(array_digest(r.values, version=version or HASH_VERSION).encode())
    return h.hexdigest()


def validate_ragged(
    root: str | Path, name: str, num_samples: int, meta: Mapping[str, Any]
) -> list[str]:
    """Problems with a ragged field (empty list = fine)."""
    problems: list[str] = []
    try:
        r = RaggedArray.open(str(root), name)
    except Exception as exc:
        return [f"ragged field {name}: cannot open values/offsets ({exc})"]
    off = r.offsets
    if len(off) != num_samples + 1:
        problems.append(f"{name}: offsets has {len(off)} entries, expected {num_samples + 1}")
    if len(off) and off[0] != 0:
        problems.append(f"{name}: offsets[0] = {off[0]}, expected 0")
    if np.any(np.diff(off) < 0):
        problems.append(f"{name}: offsets decrease")
    if len(off) and off[-1] != r.values.shape[0]:
        problems.append(f"{name}: offsets end at {off[-1]} but values has {r.values.shape[0]} rows")
    inner = tuple(int(s) for s in meta.get("shape", [None])[1:])
    if tuple(r.values.shape[1:]) != inner:
        problems.append(f"{name}: values rows have shape {r.values.shape[1:]}, expected {inner}")
    if str(r.values.dtype) != str(meta.get("dtype")):
        problems.append(f"{name}: values dtype {r.values.dtype}, expected {meta.get('dtype')}")
    return problems


# ----------------------------------------------------------------------------- graphs


def read_graphs(store: Any, prefix: str, indices: Sequence[int]) -> list[dict[str, np.ndarray]]:
    """Graphs ``indices`` of a store as dicts ``x``, ``edge_index`` (2, E), ``edge_attr``, ``y``
    (those present); ``store`` is a :class:`climb.store.Store` or a store directory."""
    root = getattr(store, "url", str(store))
    opts = getattr(store, "storage_options", None)
    fields = store.fields if hasattr(store, "fields") else _fields(root)
    cache = getattr(store, "_ragged", None)
    out: list[dict[str, np.ndarray]] = [{} for _ in indices]
    for part in ("x", "edge_index", "edge_attr", "y"):
        name = f"{prefix}.{part}"
        if name not in fields:
            continue
        if cache is not None and name in cache:
            r = cache[name]
        else:
            r = RaggedArray.open(root, name, opts)
            if cache is not None:
                cache[name] = r
        for d, a in zip(out, r.read(indices), strict=True):
            d[part] = a.T.copy() if part == "edge_index" else a
    return out


def _fields(root: str) -> dict[str, Any]:
    return json.loads((Path(root) / "dataset.json").read_text(encoding="utf-8"))["fields"]
