"""A torch Dataset over one climb store: a split, one or more tasks, one or more fields.

Nothing is materialized: arrays stay in the store and are read per batch; only the (small) label
columns, ids, presence flags and array row numbers of the selected samples are held in memory.

Indexing with an ``int`` gives one sample; indexing with a sequence of positions (what
:class:`~climb.data.samplers.ChunkBatchSampler` yields) gives a whole batch, read with one zarr
read per run of consecutive chunks (uncompressed fields: one file read per run of consecutive
rows), with its rows in array order (``batch["index"]`` gives the
position of each row; :meth:`StoreDataset.get_batch` keeps the given order). A batch is a dict::

    {"inputs": {field: Tensor (B, *shape)},   # float32 unless the field says otherwise
                                               # (uint8 images stay uint8; raw_dtype=True:
                                               # int16 µV for ECG, see scale_on_device)
     "targets": {task: Tensor},                # class index int64 (-1 = missing)
                                               # multi-hot float32 (B, C) (-1 = missing)
                                               # regression float32 (NaN = missing)
     "index": LongTensor (B,),                 # dataset positions (for ids: .sample_ids[index])
     "present": {field: BoolTensor (B,)},      # False = the sample has no such field: its
                                               # input rows are zeros (never data-like)
     "masks": {field: BoolTensor (rows, T)},   # ragged fields only: True = real step
     "lengths": {field: LongTensor (rows,)},   # ragged fields only: valid steps per row
     "clip_index": {field: LongTensor (rows,)}}  # dense clips only: batch row of each clip

Ragged fields (variable-length sequences, stored (T, *inner)) become ``(rows, T, *inner)`` by
a collation policy per field (``ragged={field: "pad" | {"name": "crop", ...} | {"name":
"clip", ...}}``, climb.data.collate); rows = B except for dense clips (one row per clip).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from climb.core.errors import ClimbError
from climb.core.schema import SAMPLE_LABEL_KINDS
from climb.data._source import open_store
from climb.data.collate import Collated, from_plan

Transform = Callable[[torch.Tensor], torch.Tensor]
#: samples.parquet column prefix: ``present__<field>`` (bool) marks samples that have the field
PRESENT_PREFIX = "present__"
#: key of a batch whose non-thread-safe transforms are still to run (StoreDataset.finish_batch)
PENDING_KEY = "_pending_transforms"
#: stored dtypes that ``raw_dtype=True`` keeps (the default path converts them to float32)
_RAW_KEEP = frozenset({"int16", "int32", "float16"})
TASK_TYPES = SAMPLE_LABEL_KINDS  # one vocabulary: climb.core.schema


def _closest(word: str, options: Sequence[str]) -> str:
    import difflib

    m = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {m[0]!r}?)" if m else ""


def label_array(column: Any, task_type: str, num_classes: int) -> np.ndarray:
    """Decode one ``label__<task>`` column into a dense array with missing values masked."""
    if task_type in ("binary", "multiclass"):
        vals = np.asarray(column, dtype=np.float64)
        vals = np.where(np.isnan(vals), -1, vals)
        return vals.astype(np.int64)
    if task_type == "multilabel":
        out = np.full((len(column), num_classes), -1, dtype=np.int8)
        for i, v in enumerate(column):
            if v is None:
                continue
            a = np.asarray(v, dtype=np.int8)
            if a.shape != (num_classes,):
                raise ClimbError(
                    f"multilabel label of length {a.shape} where the task has {num_classes} classes",
                    where=f"row {i}",
                )
            out[i] = a
        return out
    if task_type == "regression":
        return np.asarray(column, dtype=np.float64)
    raise ClimbError(f"unknown task type {task_type!r}", fix=f"one of {', '.join(TASK_TYPES)}")


def holdout_split(
    patient_ids: np.ndarray, fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split positions into (rest, holdout) by patient: a patient lands wholly on one side.

    The assignment hashes ``(seed, patient_id)``, so it is stable across runs and machines.
    """
    import hashlib

    if not 0.0 < fraction < 1.0:
        raise ClimbError(f"holdout fraction must be in (0, 1), got {fraction}")
    uniq, inv = np.unique(np.asarray(patient_ids, dtype=str), return_inverse=True)
    u = np.array(
        [
            int.from_bytes(hashlib.sha256(f"{seed}:{p}".encode()).digest()[:8], "little") / 2**64
            for p in uniq
        ]
    )
    hold = (u < fraction)[inv]
    return np.flatnonzero(~hold), np.flatnonzero(hold)


def _is_thread_safe(fn: Any) -> bool:
    """Transforms marked ``climb_thread_safe`` (deterministic, no global RNG) may run in a
    prefetch thread; anything else runs where the batch is consumed (see climb.data.loader)."""
    return bool(getattr(fn, "climb_thread_safe", False))


def presence_column(field: str) -> str:
    """The ``samples.parquet`` column that marks which samples have ``field``."""
    return f"{PRESENT_PREFIX}{field}"


class StoreDataset(Dataset[dict[str, Any]]):
    """Samples of one store, optionally restricted to a split and/or explicit rows.

    Args:
        store: path of the store directory (``<root>/stores/<key>``).
        split: ``"train"``/``"val"``/``"test"``, a list of them, or ``None`` for all samples.
        tasks: task name(s) whose labels to return; ``None`` = every task of the store.
        fields: array field(s) to read; ``None`` = every dense field. Ragged fields
            (variable-length sequences) may be named too; they are made dense per batch by the
            policy in ``ragged`` (default ``pad``). Graph fields are read by the graph path
            (``climb.store.ragged.read_graphs``), not here.
        transforms: callable applied to every field's batch tensor, or ``{field: callable}``.
            Transforms get a (B, *shape) tensor and must be deterministic unless they draw from
            torch's global RNG in the consuming thread (unmarked callables do; see
            climb.data.loader).
        rows: restrict further to these positions of the split (e.g. a few-shot subset).
        cache_chunks: keep the chunks decoded by the previous read (saves re-decoding the
            chunk shared by two consecutive block-shuffled batches) for fields read through
            zarr; fields read straight from local chunk files need none (uncompressed) or keep
            their own per-thread cache of decoded chunks (blosc: climb.store.compressed).
        ragged: ``{field: policy}`` for ragged fields: ``"pad"``, ``{"name": "crop",
            "length": L}``, ``{"name": "clip", "frames": K, "mode": "uniform"|"dense",
            "stride": s}`` (climb.data.collate).
        train: random (``True``) or centred (``False``) crops/clips; ``None`` = the split is
            ``"train"``.
        seed: seed of the ragged policies' random draws (with the epoch and the store row).
        raw_dtype: serve fields stored as scaled integers (ECG: int16 µV) in their stored dtype,
            unscaled, and int16/int32 fields without converting them to float32: the batch
            crosses memory (and the host-to-device link) at half the size; call
            :func:`scale_on_device` with :attr:`raw_specs` after moving it.
    """

    def __init__(
        self,
        store: str | os.PathLike[str],
        *,
        split: str | Sequence[str] | None = None,
        tasks: str | Sequence[str] | None = None,
        fields: str | Sequence[str] | None = None,
        transforms: Transform | Mapping[str, Transform] | None = None,
        rows: Sequence[int] | np.ndarray | None = None,
        cache_chunks: bool = True,
        ragged: Mapping[str, Any] | None = None,
        train: bool | None = None,
        seed: int = 0,
        raw_dtype: bool = False,
        soft_targets: Mapping[str, str] | None = None,
    ) -> None:
        self.path = str(store)
        st = open_store(self.path)
        self.meta: dict[str, Any] = dict(st.meta)
        self.key: str = str(self.meta.get("key", Path(self.path).name))
        all_fields: dict[str, dict[str, Any]] = dict(self.meta.get("fields", {}))
        all_tasks: dict[str, dict[str, Any]] = dict(self.meta.get("tasks", {}))

        # fields (a field that holds a task's target, e.g. a segmentation mask, is not a
        # default input)
        targets = {str(s["field"]) for s in all_tasks.values() if s.get("field")}
        dense = [f for f, spec in all_fields.items() if not spec.get("ragged")]
        from climb.core.schema import graph_prefixes

        graphs = graph_prefixes(all_fields)
        graph_fields = {f for f in all_fields if any(f.startswith(f"{g}.") for g in graphs)} & {
            f for f, spec in all_fields.items() if spec.get("ragged")
        }
        sequences = [
            f for f, spec in all_fields.items() if spec.get("ragged") and f not in graph_fields
        ]
        if fields is None:
            self.fields = [f for f in dense if f not in targets]
        else:
            self.fields = [fields] if isinstance(fields, str) else list(fields)
        for f in self.fields:
            if f in graph_fields:
                raise ClimbError(
                    f"field {f!r} of store {self.key!r} is part of a graph",
                    where=self.path,
                    fix="graphs are read whole by the graph path (climb.store.ragged.read_graphs "
                    "-> torch_geometric); StoreDataset serves dense and sequence fields",
                )
            if f not in dense and f not in sequences:
                readable = dense + sequences
                raise ClimbError(
                    f"store {self.key!r} has no dense field {f!r}{_closest(f, readable)}",
                    where=self.path,
                    fix=f"fields of this store: {', '.join(readable) or '(none)'}",
                )
        if len(set(self.fields)) != len(self.fields):
            raise ClimbError(f"a field is named twice in fields={self.fields}", where=self.path)
        self.ragged_fields = [f for f in self.fields if f in sequences]
        self.dense_fields = [f for f in self.fields if f not in sequences]
        from climb.data.collate import build_collate

        rag = dict(ragged or {})
        for f in rag:
            if f not in self.ragged_fields:
                raise ClimbError(
                    f"ragged policy for {f!r}, which is not a ragged field of this dataset"
                    + _closest(f, self.ragged_fields),
                    where=f"ragged.{f}",
                    fix=f"ragged fields read here: {', '.join(self.ragged_fields) or '(none)'}",
                )
        self.collates = {
            f: build_collate(rag.get(f), where=f"ragged.{f}") for f in self.ragged_fields
        }
        # tasks
        if tasks is None:  # every task with a label column (not segmentation masks)
            self.tasks = [t for t, s in all_tasks.items() if not s.get("field")]
        else:
            self.tasks = [tasks] if isinstance(tasks, str) else list(tasks)
        for t in self.tasks:
            if t not in all_tasks:
                raise ClimbError(
                    f"store {self.key!r} has no task {t!r}{_closest(t, list(all_tasks))}",
                    where=self.path,
                    fix=f"tasks of this store: {', '.join(all_tasks) or '(none)'}",
                )
        self.task_specs: dict[str, dict[str, Any]] = {t: dict(all_tasks[t]) for t in self.tasks}

        # rows of the selected split(s), in array order
        df = st.samples
        sel = np.ones(len(df), dtype=bool)
        if split is not None:
            splits = [split] if isinstance(split, str) else list(split)
            sel = df["split"].isin(splits).to_numpy()
        pos = np.flatnonzero(sel)
        index = df["index"].to_numpy(dtype=np.int64)[pos]
        order = np.argsort(index, kind="stable")
        pos = pos[order]
        if rows is not None:
            r = np.asarray(rows, dtype=np.int64)
            if len(r) and (r.min() < 0 or r.max() >= len(pos)):
                raise ClimbError(f"rows out of range for {len(pos)} samples", where=self.path)
            pos = pos[r]
        self.split = split
        self.train = (split == "train") if train is None else bool(train)
        self.seed = int(seed)
        self.array_index: np.ndarray = df["index"].to_numpy(dtype=np.int64)[pos]
        self.sample_ids: np.ndarray = df["sample_id"].astype(str).to_numpy()[pos]
        pid = df["patient_id"] if "patient_id" in df.columns else df["sample_id"]
        self.patient_ids: np.ndarray = pid.astype(str).to_numpy()[pos]
        self.labels: dict[str, np.ndarray] = {}
        for t in self.tasks:
            spec = self.task_specs[t]
            if spec.get("field"):
                raise ClimbError(
                    f"task {t!r} of store {self.key!r} is a {spec['type']} task whose target is "
                    f"the array field {spec['field']!r}, not a label column",
                    where=self.path,
                    fix=f"read it as a field (fields=[..., {spec['field']!r}]) and leave it out "
                    "of tasks=",
                )
            col = spec.get("column") or f"label__{t}"
            if col not in df.columns:
                raise ClimbError(
                    f"samples.parquet has no column {col!r} for task {t!r}", where=self.path
                )
            self.labels[t] = label_array(
                df[col].iloc[pos].tolist()
                if spec["type"] == "multilabel"
                else df[col].to_numpy()[pos],
                spec["type"],
                len(spec.get("classes") or []),
            )
        # soft targets: a multiclass task's target becomes the distribution of the
        # ``<prefix><class>`` count columns (e.g. IIIC's expert votes ``votes_<class>``)
        self.soft: dict[str, np.ndarray] = {}
        for t, prefix in (soft_targets or {}).items():
            if t not in self.tasks or self.task_specs[t]["type"] != "multiclass":
                raise ClimbError(
                    f"soft targets need a multiclass task of this dataset; {t!r} is not one",
                    where=self.path,
                    fix="set options.soft_labels only on multiclass tasks",
                )
            self.soft[t] = self._soft_array(df, t, str(prefix), pos)
        # presence: present__<field> (bool) marks which samples have the field; none = all
        self.present: dict[str, np.ndarray | None] = {}
        for f in self.fields:
            col = presence_column(f)
            if col not in df.columns:
                self.present[f] = None
                continue
            v = df[col].to_numpy()[pos]
            if v.dtype == object or v.dtype.kind not in "biu" or not np.isin(v, (0, 1)).all():
                raise ClimbError(
                    f"presence column {col!r} must be boolean (True = the sample has {f!r})",
                    where=f"{self.path}/samples.parquet",
                    fix="write it as a bool column with no missing values (docs/store-format.md "
                    "'Missing fields')",
                )
            pres = v.astype(bool)
            self.present[f] = None if pres.all() else pres

        # chunking: of the first dense field (all dense fields share axis-0 chunking in
        # practice), else the value chunk of the first ragged field each sample starts in
        self.chunk_len: dict[str, int] = {}
        for f in self.dense_fields:
            ch = all_fields[f].get("chunks")
            self.chunk_len[f] = int(ch[0]) if ch else int(st.array(f).chunks[0])
        if self.dense_fields:
            self.chunk_ids: np.ndarray = self.array_index // self.chunk_len[self.dense_fields[0]]
        elif self.ragged_fields:
            r0 = st.array(self.ragged_fields[0])
            per = max(1, int(r0.values.chunks[0]))
            self.chunk_ids = r0.offsets[self.array_index] // per
        else:
            self.chunk_ids = np.zeros(len(pos), dtype=np.int64)
        self.transforms = transforms
        self.cache_chunks = cache_chunks
        self.raw_dtype = bool(raw_dtype)
        #: ``{field: {"scale": s, "dtype": "float32"}}``: fields served in their stored dtype
        #: (``raw_dtype=True``) and how :func:`scale_on_device` turns them into what the
        #: default path serves (``x.float() / scale``)
        self.raw_specs: dict[str, dict[str, Any]] = {}
        if self.raw_dtype:
            for f in self.fields:
                spec = all_fields[f]
                codec = spec.get("codec") or {}
                stored = np.dtype(codec.get("astype", "int16")) if codec.get("scale") else None
                if f in self.ragged_fields:
                    continue
                direct = st.direct_reader(f) if stored is not None else None
                if direct is not None and direct._fast_scale:
                    self.raw_specs[f] = {"scale": float(codec["scale"]), "dtype": "float32",
                                         "stored": str(stored)}  # fmt: skip
                elif stored is None and spec.get("dtype") in _RAW_KEEP:
                    self.raw_specs[f] = {"scale": 1.0, "dtype": "float32",
                                         "stored": str(spec["dtype"])}  # fmt: skip
            for f in self.raw_specs:
                if self._field_transform(f) is not None:
                    raise ClimbError(
                        f"raw_dtype=True serves {f!r} unscaled in {self.raw_specs[f]['stored']}; "
                        "its transforms expect float values",
                        where=self.path,
                        fix="apply the transforms after scale_on_device(batch, ds.raw_specs), or "
                        "leave raw_dtype off",
                    )
        self._st: Any = None
        self._pid: int | None = None
        self._cache: dict[str, tuple[dict[int, np.ndarray]]] = {}
        self._raw_readers: dict[str, Any] = {}

    # -- info
    def __len__(self) -> int:
        return len(self.array_index)

    def field_spec(self, field: str) -> dict[str, Any]:
        return dict(self.meta["fields"][field])

    def modality(self, field: str) -> str:
        """``signal`` / ``image`` / ... from the card's modality kind, else from the shape."""
        for m in (self.meta.get("card") or {}).get("modalities", []) or []:
            if m.get("name") == field and m.get("kind"):
                return str(m["kind"])
        shape = self.meta["fields"][field].get("shape", [])
        return {1: "tabular", 2: "signal", 3: "image"}.get(len(shape), "volume")

    def __repr__(self) -> str:
        return (
            f"StoreDataset({self.key!r}, split={self.split!r}, n={len(self)}, "
            f"fields={self.fields}, tasks={self.tasks})"
        )

    # -- reading
    def _store(self) -> Any:
        if self._st is None or self._pid != os.getpid():  # one handle per (worker) process
            self._st = open_store(self.path)
            self._pid = os.getpid()
            self._cache = {}
            self._raw_readers = {}
        return self._st

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_st"] = None
        state["_cache"] = {}
        state["_raw_readers"] = {}
        return state

    def _raw_reader(self, field: str) -> Any:
        """A reader of ``field``'s stored integers, unscaled: ``preadv`` straight into the
        batch where the byte order is native (climb.data._rawread), else a :class:`ChunkRows`
        that copies them."""
        if field not in self._raw_readers:
            from climb.data._rawread import PreadRows
            from climb.store.reader import ChunkRows

            d = self._store().direct_reader(field)
            if PreadRows.usable(d):
                self._raw_readers[field] = PreadRows(d)
            else:
                stored = d.disk_dtype.newbyteorder("=")
                self._raw_readers[field] = ChunkRows(
                    d.path, shape=d.shape, chunk_rows=d.chunk_rows, dtype=stored,
                    disk_dtype=d.disk_dtype, fill=np.zeros((), dtype=stored), key=d._key,
                )  # fmt: skip
        return self._raw_readers[field]

    def read_field(
        self,
        field: str,
        positions: np.ndarray,
        *,
        keep_order: bool = True,
        alloc: Callable[[tuple[int, ...], np.dtype[Any]], np.ndarray] | None = None,
    ) -> np.ndarray:
        """Rows ``positions`` of a dense ``field``; one zarr read per run of consecutive chunks.

        ``keep_order=False`` returns the rows in array order (what ``argsort`` of their array
        rows gives), which saves a scatter copy; :meth:`get_batch` then reports that order.

        Uncompressed fields of a local store (the ECG default) skip zarr: each run of
        consecutive rows is read from its chunk file straight into the batch
        (:class:`climb.store.reader.ChunkRows`; the page cache replaces the chunk cache).
        ``alloc(shape, dtype)`` provides the output array (a worker's shared-memory slot).
        """
        new_out = alloc or (lambda shape, dtype: np.empty(shape, dtype=dtype))
        st = self._store()
        direct = st.direct_reader(field)
        if direct is not None:
            idx = self.array_index[positions]
            rows = idx if keep_order else np.sort(idx, kind="stable")
            if field in self.raw_specs:
                direct = self._raw_reader(field)
            elif direct._fast_scale and type(self._raw_reader(field)).__name__ == "PreadRows":
                # scaled integers (ECG int16 µV): preadv them, then one float32 division into
                # the batch (the same division as ChunkRows' fast path: bit-identical), instead
                # of mapping each chunk file per batch
                raw = self._raw_reader(field)
                ints = np.empty((len(rows), *raw.row_shape), dtype=raw.dtype)
                raw.read_into(rows, ints)
                out = new_out((len(rows), *direct.row_shape), direct.dtype)
                np.divide(ints, np.float32(direct.scale), out=out, dtype=np.float32)
                return out
            out = new_out((len(rows), *direct.row_shape), direct.dtype)
            direct.read_into(rows, out)
            return out
        comp = st.compressed_reader(field)
        if comp is not None:  # local blosc chunks (images): decoded without zarr, each once
            idx = self.array_index[positions]
            rows = idx if keep_order else np.sort(idx, kind="stable")
            out = new_out((len(rows), *comp.row_shape), comp.dtype)
            comp.read_into(rows, out)
            return out
        arr = st.array(field)
        idx = self.array_index[positions]
        c = self.chunk_len[field]
        out = new_out((len(idx), *arr.shape[1:]), arr.dtype)
        if len(idx) == 0:
            return out
        order = np.argsort(idx, kind="stable")
        sidx = idx[order]
        chunks = sidx // c
        uniq, starts = np.unique(chunks, return_index=True)
        ends = np.append(starts[1:], len(sidx))
        old: dict[int, np.ndarray] = self._cache.get(field, ({},))[0] if self.cache_chunks else {}
        new: dict[int, np.ndarray] = {}
        runs: list[tuple[int, int]] = []  # runs of consecutive chunks still to decode
        for k in (int(u) for u in uniq):
            if k in old:
                new[k] = old[k]
            elif runs and runs[-1][1] == k - 1:
                runs[-1] = (runs[-1][0], k)
            else:
                runs.append((k, k))
        n_total = arr.shape[0]
        for k0, k1 in runs:
            block = np.asarray(arr[k0 * c : min((k1 + 1) * c, n_total)])
            for k in range(k0, k1 + 1):
                new[k] = block[(k - k0) * c : (k - k0 + 1) * c]
        if keep_order:
            for k, a, b in zip(uniq, starts, ends, strict=True):
                out[order[a:b]] = new[int(k)][sidx[a:b] - int(k) * c]
        else:
            for k, a, b in zip(uniq, starts, ends, strict=True):
                rows = sidx[a:b] - int(k) * c
                src = new[int(k)]
                whole = len(rows) == len(src) and rows[0] == 0 and rows[-1] == len(src) - 1
                if whole and bool(np.all(np.diff(rows) == 1)):  # no repeats: the whole chunk
                    out[a:b] = src  # a plain copy
                else:
                    np.take(src, rows, axis=0, out=out[a:b])
        if self.cache_chunks:
            self._cache[field] = (new,)
        return out

    def read_ragged(self, field: str, positions: np.ndarray) -> list[np.ndarray]:
        """Samples ``positions`` of a ragged ``field`` as ``(T_i, *inner)`` arrays, in that
        order (runs of consecutive store rows are one zarr read each)."""
        r = self._store().array(field)
        return list(r.read(self.array_index[np.asarray(positions, dtype=np.int64)].tolist()))

    def collate_ragged(
        self, field: str, positions: np.ndarray, present: np.ndarray, *, epoch: int
    ) -> Collated:
        """Ragged ``field`` of ``positions`` made dense by its policy. A policy with a
        ``plan`` (every built-in one) reads only the steps it takes (a 16-frame clip of a
        video reads the chunks of those frames, not the video); others get whole samples.
        Absent samples (``present`` False) have no steps (zeros, mask False)."""
        policy = self.collates[field]
        rows = self.array_index[positions]
        plan = getattr(policy, "plan", None)
        if plan is None:
            seqs = self.read_ragged(field, positions)
            if not present.all():
                seqs = [s if ok else s[:0] for s, ok in zip(seqs, present, strict=True)]
            return policy(seqs, rows=rows, epoch=epoch, train=self.train, seed=self.seed)
        r = self._store().array(field)
        lengths = r.lengths[rows]
        lengths = np.where(present, lengths, 0)
        pl = plan(lengths, rows=rows, epoch=epoch, train=self.train, seed=self.seed)
        samples = rows if pl.owner is None else rows[pl.owner]
        return from_plan(r.gather(samples, pl.take), pl)

    def _field_transform(self, field: str) -> Transform | None:
        t = self.transforms
        if t is None:
            return None
        if isinstance(t, Mapping):
            return t.get(field)
        return t

    def _transform(self, field: str, x: torch.Tensor) -> torch.Tensor:
        fn = self._field_transform(field)
        return fn(x) if fn is not None else x

    def _as_tensor(self, field: str, a: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(a)
        if field in self.raw_specs:
            return x
        if x.dtype in (torch.int16, torch.int32) and getattr(
            self._field_transform(field), "climb_takes_integers", False
        ):  # its transform makes the float tensor itself (ct_window): one pass less
            return x
        if x.dtype in (torch.float64, torch.float16, torch.int16, torch.int32):
            x = x.float()
        return x

    def _soft_array(self, df: Any, t: str, prefix: str, pos: np.ndarray) -> np.ndarray:
        """(N, K) float32 class distributions from the count columns ``<prefix><class>``;
        a row without counts (all zero or missing) is the one-hot of its hard label, or -1
        everywhere (ignored by the loss) when that is missing too."""
        classes = [str(c) for c in self.task_specs[t].get("classes") or []]
        cols = [f"{prefix}{c}" for c in classes]
        missing = [c for c in cols if c not in df.columns]
        if missing:
            have = sorted(c for c in df.columns if c.startswith(prefix)) or ["(none)"]
            raise ClimbError(
                f"samples.parquet has no column(s) {', '.join(missing)} for the soft targets of "
                f"task {t!r}",
                where=f"{self.path}/samples.parquet",
                fix=f"columns with prefix {prefix!r}: {', '.join(have)}; set "
                "options.soft_labels to the prefix of one count column per class",
            )
        counts = df[cols].to_numpy(dtype=np.float64)[pos]
        counts = np.where(np.isfinite(counts) & (counts > 0), counts, 0.0)
        total = counts.sum(1, keepdims=True)
        out = np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)
        hard = self.labels[t]
        none = total[:, 0] <= 0
        k = len(classes)
        ok = none & (hard >= 0) & (hard < k)
        out[ok] = np.eye(k)[hard[ok]]
        out[none & ~ok] = -1.0
        return out.astype(np.float32)

    def get_batch(
        self,
        positions: Sequence[int] | np.ndarray,
        *,
        keep_order: bool = True,
        epoch: int = 0,
        stage: str = "all",
        alloc: Callable[[tuple[int, ...], np.dtype[Any]], np.ndarray] | None = None,
    ) -> dict[str, Any]:
        """A batch of ``positions``; ``keep_order=False`` may return them in array order
        (``batch["index"]`` always says which position each row is).

        ``epoch`` keys the random draws of ragged policies (crop/clip). ``stage="read"``
        leaves the transforms that are not marked thread-safe to :meth:`finish_batch` (what a
        prefetch thread does, so that random augmentation draws from torch's global RNG in the
        consuming thread, in batch order); ``"all"`` does everything. ``alloc``: see
        :meth:`read_field` (dense fields).
        """
        p = np.asarray(positions, dtype=np.int64)
        if not keep_order:
            p = p[np.argsort(self.array_index[p], kind="stable")]
        inputs: dict[str, torch.Tensor] = {}
        present: dict[str, torch.Tensor] = {}
        masks: dict[str, torch.Tensor] = {}
        lengths: dict[str, torch.Tensor] = {}
        clip_index: dict[str, torch.Tensor] = {}
        pending: list[str] = []
        for f in self.fields:
            pres = self.present[f]
            pr = np.ones(len(p), dtype=bool) if pres is None else pres[p]
            present[f] = torch.from_numpy(pr)
            if f in self.collates:
                c = self.collate_ragged(f, p, pr, epoch=int(epoch))
                x = self._as_tensor(f, c.values)
                masks[f] = torch.from_numpy(c.mask)
                lengths[f] = torch.from_numpy(c.lengths)
                if c.clip_index is not None:
                    clip_index[f] = torch.from_numpy(c.clip_index)
            else:
                a = self.read_field(f, p, keep_order=keep_order, alloc=alloc)
                x = self._as_tensor(f, a)
            fn = self._field_transform(f)
            if fn is not None:
                if stage == "all" or _is_thread_safe(fn):
                    x = fn(x)
                else:
                    pending.append(f)
            inputs[f] = x
        targets: dict[str, torch.Tensor] = {}
        for t in self.tasks:
            if t in self.soft:
                targets[t] = torch.from_numpy(self.soft[t][p])
                continue
            y = self.labels[t][p]
            typ = self.task_specs[t]["type"]
            if typ in ("binary", "multiclass"):
                targets[t] = torch.from_numpy(y.astype(np.int64))
            else:
                targets[t] = torch.from_numpy(y.astype(np.float32))
        batch = {
            "inputs": inputs,
            "targets": targets,
            "index": torch.from_numpy(p),
            "present": present,
            "masks": masks,
            "lengths": lengths,
            "clip_index": clip_index,
        }
        if pending:
            batch[PENDING_KEY] = pending
        elif any(v is not None for v in self.present.values()):
            _zero_absent(batch)
        return batch

    def finish_batch(self, batch: dict[str, Any]) -> dict[str, Any]:
        """The transforms :meth:`get_batch` (``stage="read"``) left to the consuming thread."""
        pending = batch.pop(PENDING_KEY, None)
        if pending:
            for f in pending:
                batch["inputs"][f] = self._transform(f, batch["inputs"][f])
            _zero_absent(batch)
        return batch

    def __getitem__(self, item: Any) -> dict[str, Any]:
        if isinstance(item, (int, np.integer)):
            b = self.get_batch([int(item)])
            one = {k: {f: v[0] for f, v in b[k].items()} for k in _PER_ROW}
            one["index"] = b["index"][0]
            one["clip_index"] = b["clip_index"]  # a sample's dense clips stay a batch
            for f in b["clip_index"]:
                one["inputs"][f] = b["inputs"][f]
                one["masks"][f] = b["masks"][f]
                one["lengths"][f] = b["lengths"][f]
            return one
        if isinstance(item, BatchRequest):
            return self.get_batch(item.positions, keep_order=False, epoch=item.epoch)
        # a batch from a sampler: row order inside a batch is free, array order is cheapest
        return self.get_batch(item, keep_order=False)

    def class_counts(self, task: str) -> dict[str, int]:
        """Positives per class (missing labels excluded), for a quick look or class weights."""
        spec = self.task_specs[task]
        classes = list(spec.get("classes") or [])
        y = self.labels[task]
        if spec["type"] == "multilabel":
            return {c: int((y[:, i] == 1).sum()) for i, c in enumerate(classes)}
        if spec["type"] in ("binary", "multiclass"):
            return {c: int((y == i).sum()) for i, c in enumerate(classes)}
        return {"n": int(np.isfinite(y).sum())}


_PER_ROW = ("inputs", "targets", "present", "masks", "lengths")


class BatchRequest:
    """What the loader's sampler hands the dataset: positions and the epoch (ragged draws)."""

    __slots__ = ("epoch", "positions")

    def __init__(self, positions: Sequence[int] | np.ndarray, epoch: int = 0) -> None:
        self.positions = np.asarray(positions, dtype=np.int64)
        self.epoch = int(epoch)


def _zero_absent(batch: dict[str, Any]) -> None:
    """Zero the rows of absent fields (after transforms: a normalisation must not turn the
    zeros of a missing image into something that looks like data)."""
    for f, pres in batch["present"].items():
        if bool(pres.all()):
            continue
        x = batch["inputs"][f]
        absent = ~pres
        ci = batch["clip_index"].get(f)
        if ci is not None:
            absent = absent[ci]
        x[absent] = 0


def scale_on_device(
    batch: dict[str, Any], specs: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """Turn the fields a ``raw_dtype=True`` dataset served in their stored dtype into float32,
    where the batch now lives (e.g. after :func:`climb.data.to_device`): ``x.float() / scale``,
    the same float32 values as the default path (ChunkRows divides in float32 too).
    ``specs`` = :attr:`StoreDataset.raw_specs`. Returns the batch (changed in place)."""
    for f, spec in specs.items():
        x = batch["inputs"].get(f)
        if x is None or x.dtype == torch.float32:
            continue
        y = x.to(torch.float32)
        s = float(spec.get("scale") or 1.0)
        if s != 1.0:
            y.div_(torch.tensor(s, dtype=torch.float32, device=y.device))
        batch["inputs"][f] = y
    return batch


def describe(ds: StoreDataset) -> str:
    return json.dumps({"key": ds.key, "n": len(ds), "tasks": ds.tasks, "fields": ds.fields})
