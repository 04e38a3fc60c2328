"""A torch Dataset over one climb store: a split, one or more tasks, one or more fields.

Nothing is materialized: arrays stay in the store and are read per batch; only the (small) label
columns, ids and array row numbers of the selected samples are held in memory.

Indexing with an ``int`` gives one sample; indexing with a sequence of positions (what
:class:`~climb.data.samplers.ChunkBatchSampler` yields) gives a whole batch, read with one zarr
read per run of consecutive chunks (uncompressed fields: one file read per run of consecutive
rows), with its rows in array order (``batch["index"]`` gives the
position of each row; :meth:`StoreDataset.get_batch` keeps the given order). A batch is a dict::

    {"inputs": {field: Tensor (B, *shape)},   # float32 unless the field says otherwise
     "targets": {task: Tensor},                # class index int64 (-1 = missing)
                                               # multi-hot float32 (B, C) (-1 = missing)
                                               # regression float32 (NaN = missing)
     "index": LongTensor (B,)}                 # dataset positions (for ids: .sample_ids[index])
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

from climb.data._source import open_store
from climb.errors import ClimbError

Transform = Callable[[torch.Tensor], torch.Tensor]
TASK_TYPES = ("binary", "multiclass", "multilabel", "regression")


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


class StoreDataset(Dataset[dict[str, Any]]):
    """Samples of one store, optionally restricted to a split and/or explicit rows.

    Args:
        store: path of the store directory (``<root>/stores/<key>``).
        split: ``"train"``/``"val"``/``"test"``, a list of them, or ``None`` for all samples.
        tasks: task name(s) whose labels to return; ``None`` = every task of the store.
        fields: array field(s) to read; ``None`` = every dense field.
        transforms: callable applied to every field's batch tensor, or ``{field: callable}``.
            Transforms get a (B, *shape) float tensor and must be deterministic.
        rows: restrict further to these positions of the split (e.g. a few-shot subset).
        cache_chunks: keep the chunks decoded by the previous read (saves re-decoding the
            chunk shared by two consecutive block-shuffled batches; fields read straight from
            uncompressed chunk files need no cache).
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
        if fields is None:
            self.fields = [f for f in dense if f not in targets]
        else:
            self.fields = [fields] if isinstance(fields, str) else list(fields)
        for f in self.fields:
            if f not in dense:
                raise ClimbError(
                    f"store {self.key!r} has no dense field {f!r}{_closest(f, dense)}",
                    where=self.path,
                    fix=f"fields of this store: {', '.join(dense) or '(none)'}",
                )
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

        # chunking of the first field (all dense fields share axis-0 chunking in practice)
        self.chunk_len: dict[str, int] = {}
        for f in self.fields:
            ch = all_fields[f].get("chunks")
            self.chunk_len[f] = int(ch[0]) if ch else int(st.array(f).chunks[0])
        self.chunk_ids: np.ndarray = (
            self.array_index // self.chunk_len[self.fields[0]]
            if self.fields
            else np.zeros(len(pos), dtype=np.int64)
        )
        self.transforms = transforms
        self.cache_chunks = cache_chunks
        self._st: Any = None
        self._pid: int | None = None
        self._cache: dict[str, tuple[dict[int, np.ndarray]]] = {}

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
        return self._st

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_st"] = None
        state["_cache"] = {}
        return state

    def read_field(
        self, field: str, positions: np.ndarray, *, keep_order: bool = True
    ) -> np.ndarray:
        """Rows ``positions`` of ``field``; one zarr read per run of consecutive chunks.

        ``keep_order=False`` returns the rows in array order (what ``argsort`` of their array
        rows gives), which saves a scatter copy; :meth:`get_batch` then reports that order.

        Uncompressed fields of a local store (the ECG default) skip zarr: each run of
        consecutive rows is read from its chunk file straight into the batch
        (:class:`climb.store.reader.ChunkRows`; the page cache replaces the chunk cache).
        """
        st = self._store()
        direct = st.direct_reader(field)
        if direct is not None:
            idx = self.array_index[positions]
            rows = idx if keep_order else np.sort(idx, kind="stable")
            out = np.empty((len(rows), *direct.row_shape), dtype=direct.dtype)
            direct.read_into(rows, out)
            return out
        arr = st.array(field)
        idx = self.array_index[positions]
        c = self.chunk_len[field]
        out = np.empty((len(idx), *arr.shape[1:]), dtype=arr.dtype)
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

    def _transform(self, field: str, x: torch.Tensor) -> torch.Tensor:
        t = self.transforms
        if t is None:
            return x
        if isinstance(t, Mapping):
            fn = t.get(field)
            return fn(x) if fn is not None else x
        return t(x)

    def get_batch(
        self, positions: Sequence[int] | np.ndarray, *, keep_order: bool = True
    ) -> dict[str, Any]:
        """A batch of ``positions``; ``keep_order=False`` may return them in array order
        (``batch["index"]`` always says which position each row is)."""
        p = np.asarray(positions, dtype=np.int64)
        if not keep_order:
            p = p[np.argsort(self.array_index[p], kind="stable")]
        inputs: dict[str, torch.Tensor] = {}
        for f in self.fields:
            a = self.read_field(f, p, keep_order=keep_order)
            x = torch.from_numpy(a)
            if x.dtype in (torch.float64, torch.float16, torch.int16, torch.int32):
                x = x.float()
            inputs[f] = self._transform(f, x)
        targets: dict[str, torch.Tensor] = {}
        for t in self.tasks:
            y = self.labels[t][p]
            typ = self.task_specs[t]["type"]
            if typ in ("binary", "multiclass"):
                targets[t] = torch.from_numpy(y.astype(np.int64))
            else:
                targets[t] = torch.from_numpy(y.astype(np.float32))
        return {"inputs": inputs, "targets": targets, "index": torch.from_numpy(p)}

    def __getitem__(self, item: int | Sequence[int] | np.ndarray) -> dict[str, Any]:
        if isinstance(item, (int, np.integer)):
            b = self.get_batch([int(item)])
            return {
                "inputs": {k: v[0] for k, v in b["inputs"].items()},
                "targets": {k: v[0] for k, v in b["targets"].items()},
                "index": b["index"][0],
            }
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


def describe(ds: StoreDataset) -> str:
    return json.dumps({"key": ds.key, "n": len(ds), "tasks": ds.tasks, "fields": ds.fields})
