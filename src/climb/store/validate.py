"""Check a store against the v1 contract (docs/store-format.md) and against its inputs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from climb.store.reader import Store

REQUIRED_META = (
    "format", "format_version", "key", "card", "num_samples", "fields", "tasks", "splits",
    "provenance", "fingerprint", "created_by",
)  # fmt: skip
REQUIRED_COLUMNS = ("sample_id", "patient_id", "split", "index", "source_path", "native_labels")
SPLITS = ("train", "val", "test")


@dataclass
class Report:
    path: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    stale: bool | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "ok": self.ok, "stale": self.stale, "errors": self.errors,
                "warnings": self.warnings, "checks": self.checks}  # fmt: skip


def _check_labels(store: Store, rep: Report) -> None:
    df = store.samples
    for name, task in store.meta["tasks"].items():
        if task.get("field"):  # target stored as an array field (segmentation mask)
            if task["field"] not in store.meta.get("fields", {}):
                rep.errors.append(f"task {name}: field {task['field']} missing from the store")
            else:
                rep.checks.append(f"target field of task {name}")
            continue
        col = task.get("column", f"label__{name}")
        if col not in df.columns:
            rep.errors.append(f"task {name}: column {col} missing from samples.parquet")
            continue
        values = df[col].tolist()
        t = task["type"]
        n_cls = len(task.get("classes", ()))
        if t == "multilabel":
            bad = [
                i
                for i, v in enumerate(values)
                if v is None or len(v) != n_cls or not set(np.asarray(v).tolist()) <= {-1, 0, 1}
            ]
            if bad:
                rep.errors.append(
                    f"task {name}: {len(bad)} row(s) are not {n_cls} values in {{-1,0,1}} (first row {bad[0]})"
                )
        elif t in ("binary", "multiclass"):
            v = np.asarray(values, dtype=np.int64)
            if ((v < -1) | (v >= n_cls)).any():
                rep.errors.append(f"task {name}: class index outside -1..{n_cls - 1}")
        rep.checks.append(f"labels of task {name}")


def _check_files(store: Store, rep: Report, deep: bool) -> None:
    """Every file of the store's manifest (checksums.json): present, its size, and (``deep``)
    its sha256. Each problem is one error naming the file."""
    from climb.core.errors import ClimbError
    from climb.store.integrity import check_cheap

    v = store.verifier
    if v is None:
        if not store.is_remote:
            rep.warnings.append("no file manifest (checksums.json): a store written before it")
        return
    for rel in sorted(v.files):
        try:
            check_cheap(v.store, {rel: v.files[rel]})
            if deep:
                v.check_file(rel)
        except ClimbError as exc:
            rep.errors.append(exc.what)
    rep.checks.append(
        f"{len(v.files)} files vs checksums.json (size" + (" and sha256)" if deep else ")")
    )


def validate(path: str | Path, raw_dir: str | Path | None = None, deep: bool = True) -> Report:
    """Schema, counts, arrays vs manifest, patient leakage, and the registered input checks
    (climb.core.checks: climb.prepare registers the fingerprint against the current
    inputs/code, which needs the raw folder: ``raw_dir`` or ``<root>/raw/<key>`` next to the
    store's ``<root>/stores/<key>``)."""
    rep = Report(str(path))
    try:
        store = Store(path, check=False)
    except Exception as exc:
        rep.errors.append(str(exc))
        return rep
    _check_files(store, rep, deep)
    meta = store.meta
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        rep.errors.append(f"dataset.json lacks {missing}")
    rep.checks.append("dataset.json schema")
    try:
        df = store.samples
    except Exception as exc:
        rep.errors.append(f"samples.parquet unreadable: {exc}")
        return rep
    cols = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if cols:
        rep.errors.append(f"samples.parquet lacks columns {cols}")
        return rep
    n = int(meta.get("num_samples", -1))
    if len(df) != n:
        rep.errors.append(f"samples.parquet has {len(df)} rows, dataset.json says {n}")
    if df["sample_id"].duplicated().any():
        rep.errors.append(f"{int(df['sample_id'].duplicated().sum())} duplicate sample_id(s)")
    if sorted(df["index"].tolist()) != list(range(len(df))):
        rep.errors.append("column index is not a permutation of 0..num_samples-1")
    bad_split = sorted(set(df["split"]) - set(SPLITS))
    if bad_split:
        rep.errors.append(f"unknown split name(s) {bad_split}")
    counts = {str(k): int(v) for k, v in df["split"].value_counts().sort_index().items()}
    if counts != {k: int(v) for k, v in meta.get("splits", {}).get("counts", {}).items()}:
        rep.errors.append(
            f"split counts {counts} differ from dataset.json {meta.get('splits', {}).get('counts')}"
        )
    rep.checks.append("samples.parquet schema and counts")
    _check_labels(store, rep)
    for name, spec in meta.get("fields", {}).items():
        if spec.get("ragged"):
            from climb.store.ragged import ragged_digest, validate_ragged

            if store.is_remote:
                rep.warnings.append(f"ragged field {name}: not checked on a remote store")
                continue
            rep.errors.extend(validate_ragged(store.url, name, n, spec))
            if deep and n:
                try:
                    ragged_digest(store.url, name)
                except Exception as exc:
                    rep.errors.append(f"ragged field {name}: a chunk cannot be decoded ({exc})")
            rep.checks.append(f"ragged field {name} (values + offsets) vs manifest")
            continue
        try:
            arr = store.array(name)
        except Exception as exc:
            rep.errors.append(f"array {name}: cannot open ({exc})")
            continue
        want = (n, *spec["shape"])
        if tuple(arr.shape) != want:
            rep.errors.append(f"array {name}: shape {tuple(arr.shape)}, manifest says {want}")
        if str(arr.dtype) != spec["dtype"]:
            rep.errors.append(f"array {name}: dtype {arr.dtype}, manifest says {spec['dtype']}")
        if deep and n:
            from climb.store.writer import array_digest

            try:
                array_digest(arr)
            except Exception as exc:
                rep.errors.append(f"array {name}: a chunk cannot be decoded ({exc})")
        rep.checks.append(f"array {name} vs manifest" + (" (all chunks decoded)" if deep else ""))
    if deep and "content_hash" in meta and not store.is_remote:
        from climb.store.writer import content_hash

        try:  # a damaged chunk is reported above; do not end in a traceback here
            got = content_hash(
                store.url,
                list(meta.get("fields", {})),
                version=int(meta.get("content_hash_version", 1)),
            )
        except Exception as exc:
            got = None
            rep.errors.append(f"content hash: the store cannot be read in full ({exc})")
        if got is not None and got != meta["content_hash"]:
            rep.errors.append(
                "content hash differs from dataset.json (files changed after prepare)"
            )
        rep.checks.append("content hash")
    from climb.core.splits import leakage

    leaks = leakage(df["patient_id"].tolist(), df["split"].tolist())
    if leaks:
        msg = f"{len(leaks)} patient(s) in more than one split (e.g. {sorted(leaks)[:3]})"
        if meta.get("splits", {}).get("rule") == "climb":
            rep.warnings.append(msg + "; CLIMB's published split is record-level")
        else:
            rep.errors.append(msg)
    rep.checks.append("no patient in two splits")
    try:
        for line_no, q in enumerate(store.quarantine(), 1):
            if not {"record", "reason"} <= set(q):
                rep.errors.append(f"quarantine.jsonl line {line_no} lacks record/reason")
    except (ValueError, json.JSONDecodeError) as exc:
        rep.errors.append(f"quarantine.jsonl is not JSON lines: {exc}")
    rep.checks.append("quarantine.jsonl")
    from climb.core.checks import STORE_INPUT_CHECKS

    if not len(STORE_INPUT_CHECKS):
        rep.warnings.append(
            "fingerprint not checked: no store input check is registered (import climb.prepare)"
        )
    for _name, check in STORE_INPUT_CHECKS.items():
        check(store, rep, raw_dir)
    return rep
