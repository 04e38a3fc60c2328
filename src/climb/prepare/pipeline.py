"""``climb prepare``: raw files -> unified store, resumable and deterministic.

Phases (each restartable; kill the process at any point and run it again):

1. **list**: the adapter lists records (sorted, deterministic) in the main process.
2. **read**: records are processed in units of about ``UNIT_SIZE`` records by the executor
   (the records of one source file stay in one unit: :func:`cut_units`);
   each finished unit is committed to ``<root>/stores/.<key>.work/units/`` (arrays compressed
   with Blosc-LZ4, then a JSON file with the rows and quarantine entries, written last and
   atomically). On restart, committed units are skipped. A different fingerprint (options,
   inputs or code) discards the work directory.
3. **assemble**: splits are assigned, rows get their final index, and the final chunks of every
   array are written (in parallel, each chunk by one task) into ``.<key>.assemble/`` (the train
   statistics and the array digests of the content hash are taken from the chunks while they
   are in memory: nothing is read back), followed by samples.parquet, quarantine.jsonl and
   dataset.json; then the directory is moved to
   ``<root>/stores/<key>/`` and the work directory removed.

The output depends only on the inputs, the options and the code (never on the number of
workers or on interruptions), so an interrupted-and-resumed run has the same content hash as
an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.adapter import Adapter, PrepareOptions, RecordError, RecordRef, Sample
from climb.core.errors import ClimbError
from climb.core.schema import FieldSpec, is_ragged
from climb.core.splits import describe_rule, leakage, patient_split
from climb.prepare.executors import Executor, get_executor
from climb.store.fs import Loc, RemoteLock, as_loc, remote_errors
from climb.store.writer import StoreWriter, combine_block_digests, open_array_rw

UNIT_SIZE = 64
WORK_FORMAT = 1


@dataclass
class PrepareResult:
    key: str
    store: Path | str  # a local folder, or the URL of a store on object storage
    counts: dict[str, int]
    quarantined: list[dict[str, Any]]
    reasons: dict[str, int]
    fingerprint: str
    content_hash: str
    seconds: float
    resumed_units: int = 0
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ helpers


def _lz4() -> Any:
    from numcodecs import Blosc

    return Blosc(cname="lz4", clevel=1, shuffle=Blosc.SHUFFLE)


def input_digest(raw_dir: Path) -> dict[str, Any]:
    """What the raw inputs are: sha256s from fetch's ``.climb-fetch.json`` when present,
    else (relative path, size) of every file under ``raw_dir``."""
    manifest = raw_dir / ".climb-fetch.json"
    h = hashlib.sha256()
    files: list[tuple[str, int]] = []
    for p in sorted(raw_dir.rglob("*")):
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(raw_dir).parts):
            files.append((p.relative_to(raw_dir).as_posix(), p.stat().st_size))
    method = "path+size"
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            entries = data.get("files", data) if isinstance(data, dict) else data
            shas = sorted(
                json.dumps([k, v.get("sha256")]) if isinstance(v, dict) else json.dumps(v)
                for k, v in (entries.items() if isinstance(entries, dict) else enumerate(entries))
            )
            h.update("\n".join(shas).encode())
            method = "fetch-manifest sha256"
        except (ValueError, AttributeError):
            pass
    for rel, size in files:
        h.update(f"{rel}\t{size}\n".encode())
    return {
        "method": method,
        "digest": h.hexdigest(),
        "files": len(files),
        "bytes": sum(s for _, s in files),
    }


def _params(adapter: Adapter) -> dict[str, Any]:
    from climb.core.adapter import adapter_params

    fn = getattr(adapter, "params", None)
    return dict(fn()) if callable(fn) else adapter_params(adapter)


def _own_digest() -> str:
    """sha256 of this module's source: a change of the pipeline makes every store stale."""
    import inspect
    import sys

    return hashlib.sha256(inspect.getsource(sys.modules[__name__]).encode()).hexdigest()


def fingerprint(adapter: Adapter, options: PrepareOptions, inputs: dict[str, Any]) -> str:
    payload = {
        "adapter": adapter.key,
        "adapter_version": adapter.version,
        "adapter_params": _params(adapter),
        "code": adapter.code_digest(),
        "pipeline": _own_digest(),
        "options": options.to_dict(),
        "inputs": inputs["digest"],
        "work_format": WORK_FORMAT,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def resolve_adapter(key: str, params: dict[str, Any] | None = None) -> Adapter:
    """The adapter of dataset ``key``; ``params`` override its construction parameters (e.g.
    ``{"size": 224}``); unknown names or values the adapter rejects are a ClimbError."""
    from climb import registry
    from climb.core.adapter import adapter_param_names

    cls = registry.get(key)
    factory = getattr(cls, "adapter", None)
    adapter = factory() if callable(factory) else None
    if adapter is None:
        raise ClimbError(
            f"dataset {cls.card.key!r} has no adapter yet, so it cannot be prepared",
            where=cls.__module__,
            fix="run 'climb datasets list' for datasets; 'climb prepare' works for the datasets "
            "whose card lists an adapter (docs/datasets.md)",
        )
    if not params:
        return adapter
    current = _params(adapter)
    names = adapter_param_names(type(adapter))
    unknown = sorted(set(params) - set(names))
    if unknown:
        accepted = ", ".join(f"{n}={current.get(n)!r}" for n in names) or "(none)"
        raise ClimbError(
            f"{key} has no prepare option {', '.join(map(repr, unknown))}",
            where=f"{type(adapter).__module__}.{type(adapter).__qualname__}",
            fix=f"options of {key} (current values): {accepted}",
        )
    try:
        return type(adapter)(**{**current, **params})  # type: ignore[no-any-return]
    except (TypeError, ValueError) as exc:
        raise ClimbError(
            f"bad prepare option for {key}: {exc}",
            fix=f"check the values of {', '.join(sorted(params))} (docs/prepare.md, options)",
        ) from None


# ------------------------------------------------------------------ phase 2: units


def _process_unit(
    adapter: Adapter,
    raw_dir: str,
    refs: list[RecordRef],
    options: PrepareOptions,
    unit_dir: str | Loc,
    unit: int,
    fields: list[FieldSpec],
) -> tuple[int, int, int]:
    """Read one unit of records and commit it; returns (unit, samples, quarantined)."""
    raw = Path(raw_dir)
    rows: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    buffers: dict[str, list[np.ndarray]] = {f.name: [] for f in fields}
    for ref in refs:
        try:
            s = adapter.read_record(raw, ref, options)
            arrays = {}
            for f in fields:
                if is_ragged(f):
                    try:
                        arrays[f.name] = f.check(s.arrays[f.name])  # type: ignore[attr-defined]
                    except ValueError as exc:
                        raise RecordError(str(exc)) from None
                    continue
                a = np.asarray(s.arrays[f.name])
                if a.shape != tuple(f.shape):
                    raise RecordError(f"field {f.name} has shape {a.shape}, expected {f.shape}")
                if not np.all(np.isfinite(a)) and np.issubdtype(a.dtype, np.floating):
                    raise RecordError(f"field {f.name} has non-finite values after standardizing")
                arrays[f.name] = a.astype(f.dtype, copy=False)
        except RecordError as exc:
            quarantine.append(
                {
                    "record": ref.record_id,
                    "source_path": ref.source_path,
                    "reason": exc.reason,
                    "stage": exc.stage,
                }
            )
            continue
        except Exception as exc:  # an adapter bug must not lose the whole run
            quarantine.append(
                {
                    "record": ref.record_id,
                    "source_path": ref.source_path,
                    "reason": f"unexpected error: {type(exc).__name__}: {exc}",
                    "stage": "read",
                }
            )
            continue
        for name, a in arrays.items():
            buffers[name].append(a)
        rows.append(_sample_row(s))
    ud = as_loc(unit_dir)
    codec = _lz4()
    lengths: dict[str, list[int]] = {}
    for f in fields:
        if is_ragged(f):
            lengths[f.name] = [int(a.shape[0]) for a in buffers[f.name]]
            inner = f.inner_shape  # type: ignore[attr-defined]
            stacked = (
                np.concatenate(buffers[f.name])
                if buffers[f.name]
                else np.empty((0, *inner), dtype=f.dtype)
            )
        else:
            stacked = (
                np.stack(buffers[f.name])
                if buffers[f.name]
                else np.empty((0, *f.shape), dtype=f.dtype)
            )
        ud.join(f"{unit:06d}.{f.name}.bin").write_bytes(codec.encode(np.ascontiguousarray(stacked)))
    commit: dict[str, Any] = {"unit": unit, "rows": rows, "quarantine": quarantine}
    if lengths:
        commit["ragged_lengths"] = lengths
    # the unit's commit, written last (a retried unit rewrites the same files with the same bytes)
    ud.join(f"{unit:06d}.json").write_bytes(json.dumps(commit, sort_keys=True).encode())
    return unit, len(rows), len(quarantine)


#: how refs are cut into units (recorded in the work folder's state: a work folder cut by
#: another rule is started afresh, never resumed with misaligned units)
UNIT_RULE = "whole-source"


def cut_units(refs: list[RecordRef], unit_size: int) -> list[list[RecordRef]]:
    """Consecutive units of about ``unit_size`` refs that never split the refs of one source
    file (the windows of one EEG recording, the slice windows of one CT): the worker that
    reads a recording makes all of its samples, so no recording is decoded and standardised
    twice. A unit closes at the first source boundary once it holds ``unit_size`` refs."""
    units: list[list[RecordRef]] = []
    cur: list[RecordRef] = []
    for i, ref in enumerate(refs):
        cur.append(ref)
        nxt = refs[i + 1] if i + 1 < len(refs) else None
        if len(cur) >= unit_size and (nxt is None or nxt.source_path != ref.source_path):
            units.append(cur)
            cur = []
    if cur:
        units.append(cur)
    return units


def _sample_row(s: Sample) -> dict[str, Any]:
    return {
        "sample_id": s.sample_id,
        "patient_id": s.patient_id,
        "source_path": s.source_path,
        "native_labels": json.dumps(s.native_labels, sort_keys=True),
        "labels": {
            k: (list(map(int, v)) if isinstance(v, (list, tuple, np.ndarray)) else v)
            for k, v in s.labels.items()
        },
        "columns": {
            k: (v.item() if isinstance(v, np.generic) else v) for k, v in s.columns.items()
        },
        "split_hint": s.split_hint,
    }


def _load_unit_array(unit_dir: Path | Loc, unit: int, f: FieldSpec) -> np.ndarray:
    raw = as_loc(unit_dir).join(f"{unit:06d}.{f.name}.bin").read_bytes()
    flat = np.frombuffer(_lz4().decode(raw), dtype=f.dtype)
    if is_ragged(f):
        return flat.reshape((-1, *f.inner_shape))  # type: ignore[attr-defined]
    return flat.reshape((-1, *f.shape))


def _write_ragged(
    store_dir: Path | Loc,
    unit_dir: Path | Loc,
    f: Any,
    sources: list[tuple[int, int]],
    unit_lengths: dict[int, list[int]],
) -> None:
    """Write ragged field ``f`` in sample order (sequentially: values chunks do not align with
    samples). ``unit_lengths[u]`` = per-row lengths of unit ``u``."""
    from climb.store.ragged import RaggedWriter, offsets_from_lengths

    lengths = [unit_lengths[u][j] for u, j in sources]
    w = RaggedWriter(store_dir, f, lengths)
    cache: OrderedDict[int, tuple[np.ndarray, np.ndarray]] = OrderedDict()
    for u, j in sources:
        if u not in cache:
            cache[u] = (_load_unit_array(unit_dir, u, f), offsets_from_lengths(unit_lengths[u]))
            while len(cache) > 3:
                cache.popitem(last=False)
        values, off = cache[u]
        w.append(values[off[j] : off[j + 1]])
    w.close()


# ------------------------------------------------------------------ phase 3: assemble


def _stats_axes(f: FieldSpec) -> tuple[tuple[int, ...], int]:
    """Axes of a block (rows, *shape) summed for per-channel statistics, and the values per
    channel in one row."""
    axis = tuple(range(2, 1 + len(f.shape)))
    return (0, *axis), int(np.prod([f.shape[a - 1] for a in axis]))


def _wants_stats(f: FieldSpec, targets: frozenset[str] = frozenset()) -> bool:
    """Per-channel train statistics for dense numeric fields (float signals, uint8 images;
    in the stored units), not for ragged or boolean ones, nor for ``targets`` (fields that
    hold a task's target, e.g. a segmentation mask: ``tasks[t]["field"]``)."""
    dt = np.dtype(f.dtype)
    return (
        f.name not in targets
        and not is_ragged(f)
        and dt != np.bool_
        and np.issubdtype(dt, np.number)
    )


def _write_chunks(
    store_dir: str | Loc,
    unit_dir: str | Loc,
    f: FieldSpec,
    chunk_ids: list[int],
    sources: list[tuple[int, int]],
    chunk: int,
    train: np.ndarray | None = None,
) -> dict[str, Any]:
    """Write whole chunks ``chunk_ids`` of field ``f``; ``sources[i]`` = (unit, row) of row i.

    While each chunk is in memory: ``stats[c]`` = (sum, sum of squares, count) per channel, in
    float64, over the rows of chunk ``c`` that ``train`` (bool per row) marks (chunks without
    such rows are left out), and ``digests[c]`` = the sha256 digest of the chunk's rows (the
    blocks of :func:`climb.store.writer.array_digest`, version 2). So the store is never read
    back for statistics or the content hash, and each worker hashes the chunks it writes."""
    arr = open_array_rw(as_loc(store_dir), f.name)
    cache: OrderedDict[int, np.ndarray] = OrderedDict()
    n = len(sources)
    digests: dict[int, bytes] = {}
    axes, per_row = _stats_axes(f)
    stats: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}
    for c in chunk_ids:
        start, stop = c * chunk, min(n, (c + 1) * chunk)
        block = np.empty((stop - start, *f.shape), dtype=f.dtype)
        for i in range(start, stop):
            unit, row = sources[i]
            if unit not in cache:
                cache[unit] = _load_unit_array(as_loc(unit_dir), unit, f)
                while len(cache) > 3:
                    cache.popitem(last=False)
            block[i - start] = cache[unit][row]
        arr[start:stop] = block
        digests[c] = hashlib.sha256(block).digest()
        if train is not None:
            sel = train[start:stop]
            if sel.any():
                b = np.asarray(block, dtype=np.float64)[sel]
                total = b.sum(axis=axes)
                np.square(b, out=b)  # = b**2, without another copy
                stats[c] = (total, b.sum(axis=axes), b.shape[0] * per_row)
    return {"chunks": len(chunk_ids), "stats": stats, "digests": digests}


def _assign_splits(
    rows: list[dict[str, Any]], rule: str, options: PrepareOptions
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    kept, dropped, notes = [], [], []
    for r in rows:
        if rule == "patient":
            r["split"] = patient_split(r["patient_id"], options.seed)
        else:
            split = r["split_hint"].get(rule)
            if split is None:
                dropped.append(
                    {
                        "record": r["sample_id"],
                        "source_path": r["source_path"],
                        "reason": f"not in the {rule} split"
                        + (" file (CLIMB's *_splits.csv)" if rule == "climb" else ""),
                        "stage": "split",
                    }
                )
                continue
            r["split"] = split
        kept.append(r)
    if dropped:
        notes.append(f"{len(dropped)} record(s) are not in the {rule} split and were quarantined")
    return kept, dropped, notes


def _samples_frame(rows: list[dict[str, Any]], tasks: dict[str, dict[str, Any]]) -> Any:
    import pandas as pd

    extra_cols = sorted({k for r in rows for k in r["columns"]})
    data: dict[str, list[Any]] = {
        "sample_id": [r["sample_id"] for r in rows],
        "patient_id": [r["patient_id"] for r in rows],
        "split": [r["split"] for r in rows],
        "index": list(range(len(rows))),
        "source_path": [r["source_path"] for r in rows],
        "native_labels": [r["native_labels"] for r in rows],
    }
    for t, spec in tasks.items():
        col = spec.get("column")
        if not col:  # a task whose target is an array field (segmentation): no label column
            continue
        missing: Any = (
            [-1] * len(spec.get("classes", ()))
            if spec["type"] == "multilabel"
            else (float("nan") if spec["type"] == "regression" else -1)
        )
        data[col] = [r["labels"].get(t, missing) for r in rows]
    for c in extra_cols:
        data[c] = [r["columns"].get(c) for r in rows]
    return pd.DataFrame(data)


def _label_counts(df: Any, tasks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for t, spec in tasks.items():
        col = spec.get("column")
        if not col:
            continue
        per: dict[str, Any] = {}
        for split, sub in df.groupby("split", sort=True):
            if spec["type"] == "multilabel":
                m = np.array(sub[col].tolist(), dtype=np.int64).reshape(len(sub), -1)
                per[str(split)] = {
                    c: int((m[:, j] == 1).sum()) for j, c in enumerate(spec["classes"])
                }
                per[str(split)]["(missing)"] = int((m == -1).all(axis=1).sum()) if m.size else 0
            elif spec["type"] in ("binary", "multiclass"):
                v = np.asarray(sub[col].tolist(), dtype=np.int64)
                per[str(split)] = {c: int((v == j).sum()) for j, c in enumerate(spec["classes"])}
                per[str(split)]["(missing)"] = int((v < 0).sum())
        out[t] = per
    return out


def _field_stats(f: FieldSpec, parts: dict[int, tuple[np.ndarray, np.ndarray, int]]) -> Any:
    """Per-channel mean/std of float field ``f`` over the train split from the per-chunk sums
    of :func:`_write_chunks` (added in chunk order); ``None`` without train rows."""
    if not parts:
        return None
    s = np.zeros(f.shape[0])
    ss = np.zeros(f.shape[0])
    cnt = 0
    for c in sorted(parts):
        ps, pss, pc = parts[c]
        s += ps
        ss += pss
        cnt += pc
    mean = s / cnt
    std = np.sqrt(np.maximum(ss / cnt - mean**2, 0))
    return {
        "split": "train",
        "axis": f.axes[0] if f.axes else "0",
        "mean": mean.round(6).tolist(),
        "std": std.round(6).tolist(),
    }


# ------------------------------------------------------------------ main entry


def prepare(
    key: str,
    root: str | Path | None = None,
    *,
    workers: int = 1,
    splits: str | None = None,
    seed: int = 0,
    label_policy: str = "corrected",
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | str | None = None,
    unit_size: int = UNIT_SIZE,
    adapter: Adapter | None = None,
    adapter_params: dict[str, Any] | None = None,
    wait: bool = False,
    address: str | None = None,
    raw_root: str | Path | None = None,
    storage_options: dict[str, Any] | None = None,
) -> PrepareResult:
    """Prepare dataset ``key`` from ``<root>/raw/<key>/`` into ``<root>/stores/<key>/``.

    ``progress(done_records, total_records)`` is called as units finish. ``adapter_params``
    set the adapter's construction parameters (e.g. ``{"size": 224}`` for images).

    One prepare per dataset at a time: the run holds ``<root>/stores/.<key>.prepare.lock``
    (:func:`climb.core.lock.stage_lock`); a second run raises a clear error naming the holder,
    or waits for it with ``wait=True`` (``climb prepare --wait``). A disk that fills up is a
    clear error naming the path (nothing is moved into place).

    ``executor``: an :class:`Executor`, or ``"local"`` / ``"ray"`` (with ``address``);
    ``root`` may be ``s3://BUCKET/PREFIX`` (raw files then from ``raw_root``): see
    :func:`_prepare_unlocked`.
    """
    import contextlib

    from climb.core.lock import stage_lock
    from climb.core.paths import stores_dir as _stores_dir

    adapter = adapter or resolve_adapter(key, adapter_params)
    from climb.store.fs import root_location

    if root_location(root).is_remote:  # a store on object storage: its own lock (store.fs)
        out = Path(".")
        lock: Any = contextlib.nullcontext()
    else:
        out = _stores_dir(adapter.key, root)
        lock = stage_lock(out.parent, adapter.key, "prepare", wait=wait)
    with lock:
        try:
            return _prepare_unlocked(
                key,
                root,
                workers=workers,
                splits=splits,
                seed=seed,
                label_policy=label_policy,
                progress=progress,
                executor=executor,
                unit_size=unit_size,
                adapter=adapter,
                adapter_params=adapter_params,
                address=address,
                raw_root=raw_root,
                storage_options=storage_options,
            )
        except OSError as exc:
            if exc.errno not in (28, 122):  # ENOSPC, EDQUOT
                raise
            import shutil as _sh

            free = _sh.disk_usage(out.parent).free
            raise ClimbError(
                f"disk full while preparing {adapter.key}: writing "
                f"{exc.filename or out.parent} failed ({free:,} bytes free)",
                where=str(exc.filename or out.parent),
                fix="free some space (the store needs about the size of the raw data, plus the "
                "same again while it is assembled), then run the same command: it resumes; "
                "nothing was moved into place",
            ) from None


def _prepare_unlocked(
    key: str,
    root: str | Path | None = None,
    *,
    workers: int = 1,
    splits: str | None = None,
    seed: int = 0,
    label_policy: str = "corrected",
    progress: Callable[[int, int], None] | None = None,
    executor: Executor | str | None = None,
    unit_size: int = UNIT_SIZE,
    adapter: Adapter | None = None,
    adapter_params: dict[str, Any] | None = None,
    address: str | None = None,
    raw_root: str | Path | None = None,
    storage_options: dict[str, Any] | None = None,
) -> PrepareResult:
    """Prepare dataset ``key`` from ``<root>/raw/<key>/`` into ``<root>/stores/<key>/``.

    ``progress(done_records, total_records)`` is called as units finish. ``adapter_params``
    set the adapter's construction parameters (e.g. ``{"size": 224}`` for images).

    ``executor``: an :class:`Executor`, or its name: ``"local"`` (``workers`` processes) or
    ``"ray"`` (a Ray cluster at ``address``, default: a local one; ``workers`` = the cluster's
    CPUs unless given). ``root`` may be an fsspec URL (``s3://bucket/prefix``,
    ``storage_options`` for its file system; credentials from the standard chain): the work
    files and the store are written there by the workers themselves, and the store is
    complete only when its ``dataset.json`` (written last) exists. The raw files are then read
    from ``raw_root`` (a local or shared folder that every worker sees at the same path;
    default: the local data root, ``$CLIMB_ROOT`` or ``~/climb-data``).
    """
    from climb import __version__
    from climb.core.paths import raw_dir as _raw_dir
    from climb.store.fs import is_url, root_location

    t0 = time.perf_counter()
    if label_policy not in ("corrected", "climb"):
        raise ClimbError(f"unknown label policy {label_policy!r}", fix="use 'corrected' or 'climb'")
    adapter = adapter or resolve_adapter(key, adapter_params)
    if splits not in (None, "official", "climb", "patient") and splits not in getattr(
        adapter, "extra_split_rules", ()
    ):
        raise ClimbError(f"unknown split rule {splits!r}", fix="use official, climb or patient")
    key = adapter.key
    root_loc = root_location(root, storage_options)
    if raw_root is not None and is_url(raw_root):
        raise ClimbError(
            f"raw files are read from a file system, not from {raw_root}",
            fix="pass --raw-root a local or shared folder (every worker must see it); the store "
            "itself may go to object storage with --root s3://BUCKET/PREFIX",
        )
    raw = _raw_dir(key, raw_root if raw_root is not None else local_root(root))
    if not raw.is_dir():
        raise ClimbError(
            f"no raw data for {key!r}",
            where=str(raw),
            fix=f"run 'climb fetch {key}' first (or put the files there), or pass --root"
            + (
                " / --raw-root (the raw files of an s3:// root are read locally)"
                if root_loc.is_remote
                else ""
            ),
        )
    rule = splits or adapter.default_split_rule(raw)  # type: ignore[attr-defined]
    supported = adapter.split_rules(raw)
    if rule not in supported:
        raise ClimbError(
            f"split rule {rule!r} is not available for {key!r} with the files in {raw}",
            fix=f"choose one of: {', '.join(supported)}"
            + (
                "; 'climb' needs CLIMB's *_splits.csv under the raw folder (climb fetch fetches it)"
                if rule == "climb"
                else ""
            ),
        )
    options = PrepareOptions(splits=rule, seed=seed, label_policy=label_policy)  # type: ignore[arg-type]
    fields = adapter.fields()
    tasks = adapter.tasks(raw, options)
    refs = adapter.list_records(raw, options)
    if not refs:
        raise ClimbError(
            f"no records found for {key!r}",
            where=str(raw),
            fix="check that the raw folder holds the dataset files (climb fetch KEY)",
        )
    inputs = input_digest(raw)
    fp = fingerprint(adapter, options, inputs)

    stores = root_loc.join("stores")
    out = stores.join(key)
    work = stores.join(f".{key}.work")
    unit_dir = work.join("units")
    state_file = work.join("state.json")
    where = root_loc.url
    lock = RemoteLock(stores.join(f".{key}.lock"), what=f"the store of {key} at {out}")
    if root_loc.is_remote:  # two prepares into one prefix: the second one fails clearly
        root_loc.check_reachable()
        lock.acquire()
    own_executor = not (executor is not None and not isinstance(executor, str))
    ex: Executor | None = None
    try:
        with remote_errors(where, storage_options):
            if work.exists():
                try:
                    state = json.loads(state_file.read_text())
                except (OSError, ValueError, ClimbError):
                    state = {}
                if (
                    state.get("fingerprint") != fp
                    or state.get("unit_size") != unit_size
                    or state.get("unit_rule") != UNIT_RULE
                ):
                    work.rm()
            unit_dir.mkdirs()
            if not state_file.exists():
                state_file.write_text(
                    json.dumps(
                        {"fingerprint": fp, "unit_size": unit_size, "unit_rule": UNIT_RULE,
                         "key": key}
                    )
                )  # fmt: skip
            units = cut_units(refs, unit_size)
            done = _committed_units(unit_dir)
        pending = [u for u in range(len(units)) if u not in done]
        resumed = len(units) - len(pending)
        n_done = sum(len(units[u]) for u in done if u < len(units))
        if progress:
            progress(n_done, len(refs))
        import numcodecs  # noqa: F401  (the parent needs them anyway; imported before a process
        import zarr  # noqa: F401  pool forks, its workers inherit them instead of importing each)

        if own_executor:
            ex = get_executor(workers, executor or "local", address=address)  # type: ignore[arg-type]
        else:
            ex = executor  # type: ignore[assignment]
        assert ex is not None
        meta, tmp, split_meta, quarantine = _run(
            ex,
            adapter,
            raw,
            units,
            pending,
            options,
            unit_dir,
            fields,
            n_done,
            len(refs),
            progress,
            rule,
            tasks,
            key,
            stores,
            out,
            fp,
            inputs,
            __version__,
            where,
            storage_options,
            seed,
        )
    finally:
        if own_executor and ex is not None:
            ex.close()
        lock.release()
    with remote_errors(where, storage_options):
        if not root_loc.is_remote:  # swap the finished folder in with renames
            out_p, tmp_p = out.path, tmp.path
            old = out_p.parent / f".{key}.old"
            if old.exists():
                shutil.rmtree(old)
            if out_p.exists():
                out_p.replace(old)
            tmp_p.replace(out_p)
            shutil.rmtree(old, ignore_errors=True)
        work.rm()
    return PrepareResult(
        key=key,
        store=out.url if root_loc.is_remote else out.path,
        counts=dict(split_meta["counts"]),
        quarantined=quarantine,
        reasons=dict(Counter(_reason_kind(q["reason"]) for q in quarantine)),
        fingerprint=fp,
        content_hash=meta["content_hash"],
        seconds=time.perf_counter() - t0,
        resumed_units=resumed,
        notes=list(meta.get("notes", [])),
    )


def local_root(root: str | Path | None) -> str | Path | None:
    """The local data root for raw files: ``root`` unless it (or, without it, ``$CLIMB_ROOT``)
    is a URL; then ``$CLIMB_ROOT`` if that is local, else the default ``~/climb-data``."""
    from climb.core.paths import DEFAULT_ROOT, ROOT_ENV
    from climb.store.fs import is_url

    if root not in (None, "") and not is_url(str(root)):
        return root
    env = os.environ.get(ROOT_ENV, "").strip()
    return env if env and not is_url(env) else DEFAULT_ROOT


def _committed_units(unit_dir: Loc) -> set[int]:
    """Units whose commit file (``NNNNNN.json``, written last) exists."""
    return {
        int(n.split(".")[0])
        for n in unit_dir.listdir()
        if n.endswith(".json") and n.split(".")[0].isdigit()
    }


def _run(
    ex: Executor,
    adapter: Adapter,
    raw: Path,
    units: list[list[RecordRef]],
    pending: list[int],
    options: PrepareOptions,
    unit_dir: Loc,
    fields: list[FieldSpec],
    n_done: int,
    n_refs: int,
    progress: Callable[[int, int], None] | None,
    rule: str,
    tasks: dict[str, dict[str, Any]],
    key: str,
    stores: Loc,
    out: Loc,
    fp: str,
    inputs: dict[str, Any],
    version: str,
    where: str,
    storage_options: dict[str, Any] | None,
    seed: int,
) -> tuple[dict[str, Any], Loc, dict[str, Any], list[dict[str, Any]]]:
    """Phases 2 and 3 (read the pending units, assemble the store); returns (dataset.json,
    the folder written, split metadata, quarantine)."""
    tasks_iter = ((adapter, str(raw), units[u], options, unit_dir, u, fields) for u in pending)
    for unit, _n_ok, _n_bad in ex.map_unordered(_process_unit, tasks_iter):
        n_done += len(units[unit])
        if progress:
            progress(n_done, n_refs)

    with remote_errors(where, storage_options):
        # every unit must be committed (written or quarantined) before anything is assembled
        missing = sorted(set(range(len(units))) - _committed_units(unit_dir))
        if missing:
            raise ClimbError(
                f"{len(missing)} unit(s) of {key} were not written (first: {missing[0]}): a "
                "worker failed",
                where=unit_dir.url,
                fix="run the same 'climb prepare' again: finished units are kept and only the "
                "missing ones are read",
            )
        rows: list[dict[str, Any]] = []
        quarantine: list[dict[str, Any]] = []
        unit_lengths: dict[str, dict[int, list[int]]] = {}
        for u in range(len(units)):
            commit = json.loads(unit_dir.join(f"{u:06d}.json").read_text())
            for name, ls in commit.get("ragged_lengths", {}).items():
                unit_lengths.setdefault(name, {})[u] = ls
            for j, r in enumerate(commit["rows"]):
                r["_src"] = (u, j)
                rows.append(r)
            quarantine.extend(commit["quarantine"])
    kept, dropped, notes = _assign_splits(rows, rule, options)
    quarantine.extend(dropped)
    ids = Counter(r["sample_id"] for r in kept)
    dup = [k for k, c in ids.items() if c > 1]
    if dup:
        raise ClimbError(f"duplicate sample ids from the adapter: {dup[:5]}", where=key)
    sources: list[tuple[int, int]] = [tuple(r["_src"]) for r in kept]  # type: ignore[misc]
    df = _samples_frame(kept, tasks)
    leaks = leakage(df["patient_id"].tolist(), df["split"].tolist())
    describe = getattr(adapter, "describe_split", None)
    split_meta = (
        describe(rule, seed)
        if rule not in ("official", "climb", "patient") and callable(describe)
        else describe_rule(rule, seed)
    )
    split_meta["counts"] = {s: int(c) for s, c in sorted(Counter(df["split"]).items())}
    split_meta["leakage_check"] = (
        "passed" if not leaks else f"failed: {len(leaks)} patient(s) in more than one split"
    )
    if leaks:
        split_meta["leaking_patients"] = sorted(leaks)[:20]
        notes.append(
            f"{len(leaks)} patient(s) occur in more than one split ({rule} split is not patient-level)"
        )

    with remote_errors(where, storage_options):
        if out.is_remote:
            # object storage has no rename: the old store goes first and the new one is written
            # in place; it reads as complete only once dataset.json (written last) exists
            tmp = out
        else:
            tmp = stores.join(f".{key}.assemble")
        tmp.rm()
        writer = StoreWriter(tmp, key=key, fields=fields, num_samples=len(kept))
        train = df["split"].to_numpy() == "train"
        targets = frozenset(str(t["field"]) for t in tasks.values() if t.get("field"))
        stats: dict[str, Any] = {}
        digests: dict[str, str] = {}
        for f in fields:
            if is_ragged(f):
                _write_ragged(tmp, unit_dir, f, sources, unit_lengths.get(f.name, {}))
                continue
            n_chunks = -(-len(kept) // f.chunks) if kept else 0
            # contiguous runs of chunks, one per worker: each worker decodes only the work
            # units its rows come from (interleaved chunks made every worker decode every unit)
            k = min(ex.workers, n_chunks)
            groups = [list(range(n_chunks * i // k, n_chunks * (i + 1) // k)) for i in range(k)]
            # statistics and the per-chunk digests of the content hash are computed by the
            # chunk writers while the chunks are in memory (never read back)
            f_train = train if _wants_stats(f, targets) else None
            results = list(
                ex.map_unordered(
                    _write_chunks,
                    ((tmp, unit_dir, f, g, sources, f.chunks, f_train) for g in groups),
                )
            )
            blocks = {c: d for r in results for c, d in r["digests"].items()}
            missing_chunks = [c for c in range(n_chunks) if c not in blocks]
            if missing_chunks:
                raise ClimbError(
                    f"{len(missing_chunks)} chunk(s) of field {f.name} were not written",
                    where=tmp.url,
                    fix="run the same 'climb prepare' again",
                )
            digests[f.name] = combine_block_digests(
                (len(kept), *f.shape), f.dtype, (blocks[c] for c in range(n_chunks))
            )
            if _wants_stats(f, targets):
                parts = {c: v for r in results for c, v in r["stats"].items()}
                st = _field_stats(f, parts)
                if st is not None:
                    stats[f.name] = st
        from climb import registry

        try:
            card = registry.get_card(key).to_dict()
        except ClimbError:
            card = {}
        meta = writer.finalize(
            df,
            tasks=tasks,
            splits=split_meta,
            card=card,
            provenance={"raw_dir": f"raw/{key}", "inputs": inputs},
            fingerprint=fp,
            created_by={
                "climb": version,
                "adapter": f"{type(adapter).__module__}.{type(adapter).__qualname__}",
                "adapter_version": adapter.version,
                "adapter_params": _params(adapter),
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "options": options.to_dict(),
            },
            quarantine=quarantine,
            stats=stats,
            array_digests=digests,
            extra={
                "label_counts": _label_counts(df, tasks),
                "notes": notes + adapter.summary_notes(raw, options),
            },  # type: ignore[attr-defined]
        )
    return meta, tmp, split_meta, quarantine


def _reason_kind(reason: str) -> str:
    return reason.split(":")[0].strip()
