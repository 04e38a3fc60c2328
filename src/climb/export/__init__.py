"""``climb export``: a prepared store as the files a vision-language or RL trainer reads.

Formats (one module each): ``qa-jsonl`` (:mod:`climb.export.qa_jsonl`, CLIMB's ``to_qa``
layout), ``hf`` (:mod:`climb.export.hf`, a Hugging Face ``datasets`` DatasetDict saved with
``save_to_disk``) and ``webdataset`` (:mod:`climb.export.webdataset`, tar shards).

Every export streams the store split by split in store order (the same store gives the same
files), writes into ``<out>.partial`` and renames it to ``<out>`` at the end (atomic), puts the
licence terms and their warnings (non-commercial, no-derivatives, data-use agreement) in
``LICENCE.md`` and ``climb-export.json``, and quarantines samples whose media fail to encode
(``quarantine.jsonl``, counted in the summary). See docs/export.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from climb.core.errors import ClimbError
from climb.export._common import (
    SUMMARY_FILE,
    AtomicDir,
    ExportResult,
    licence_terms,
    now,
    plan_export,
    warn_licence,
    write_sidecars,
)

FORMATS = ("qa-jsonl", "hf", "webdataset")

__all__ = ["FORMATS", "SUMMARY_FILE", "ExportResult", "export_store", "resolve_store"]


def resolve_store(store_or_key: str | Path, root: str | Path | None = None) -> Any:
    """A store from a path / fsspec URL, or from a dataset key under ``<root>/stores/``."""
    from climb.core.paths import stores_dir
    from climb.store import open_store

    s = str(store_or_key)
    if "://" in s or Path(s).exists():
        return open_store(s)
    if "/" not in s and "\\" not in s:
        p = stores_dir(s, root)
        if (p / "dataset.json").exists():
            return open_store(p)
        raise ClimbError(
            f"no store for dataset {s!r} at {p}",
            fix=f"run 'climb prepare {s}' first, or pass the store's path",
        )
    raise ClimbError(
        f"no store at {s}", fix="pass a store directory, an fsspec URL or a dataset key"
    )


def export_store(
    store: Any,
    fmt: str,
    out: str | Path,
    *,
    tasks: Sequence[str] | None = None,
    splits: Sequence[str] | None = None,
    fields: Sequence[str] | None = None,
    overwrite: bool = False,
    batch_size: int = 64,
    shard_size: int = 1000,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    echo: Callable[[str], None] | None = None,
) -> ExportResult:
    """Export ``store`` (a :class:`climb.store.Store`, a path or a key) as ``fmt`` into ``out``.

    ``workers``: threads encoding media (default 1 = serial; more helps only on idle cores).
    ``progress(done, total)`` is called after each batch; ``echo`` receives the licence
    warnings (default: printed to stderr)."""
    if fmt not in FORMATS:
        raise ClimbError(f"unknown export format {fmt!r}", fix=f"use one of {', '.join(FORMATS)}")
    if not hasattr(store, "meta"):
        store = resolve_store(store)
    if fmt == "qa-jsonl":
        from climb.export import qa_jsonl as mod
    elif fmt == "hf":
        from climb.export import hf as mod  # type: ignore[no-redef]
    else:
        from climb.export import webdataset as mod  # type: ignore[no-redef]
    plan = plan_export(
        store,
        fmt,
        tasks=tasks,
        splits=splits,
        fields=fields,
        batch_size=batch_size,
        media_kinds=mod.MEDIA_KINDS,
    )
    import os

    plan.workers = max(1, min(int(workers or 1), os.cpu_count() or 1))
    terms = licence_terms(store.meta)
    warn_licence(terms, plan.key, echo)
    total = plan.total()
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    target = AtomicDir(out, overwrite=overwrite)
    t0 = now()
    try:
        if fmt == "hf":
            written, skipped, extra = mod.write(plan, target.tmp, advance, terms=terms)  # type: ignore[call-arg]
        elif fmt == "webdataset":
            written, skipped, extra = mod.write(plan, target.tmp, advance, shard_size=shard_size)  # type: ignore[call-arg]
        else:
            written, skipped, extra = mod.write(plan, target.tmp, advance)
        seconds = now() - t0
        write_sidecars(target.tmp, plan, terms, written, skipped, extra, seconds)
        path = target.commit()
    except BaseException:
        target.abort()
        raise
    finally:
        plan.close()
    return ExportResult(
        out=path,
        fmt=fmt,
        key=plan.key,
        written=written,
        skipped=skipped,
        quarantined=len(plan.quarantine),
        seconds=seconds,
        licence=terms,
    )
