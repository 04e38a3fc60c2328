"""The results record: one ``results.parquet`` per run (or shared), one row per metric value.

Rows are appended atomically: the whole table is rewritten to a temporary file in the same
folder and renamed over the old one, under an advisory lock, so a reader never sees half a file
and two writers on one machine do not lose each other's rows.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from climb.core.errors import ClimbError
from climb.tasks.metrics import MetricResult

RESULTS_FILE = "results.parquet"

RESULT_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("dataset", pa.string()),
        ("task", pa.string()),
        ("split", pa.string()),
        ("metric", pa.string()),
        ("class_name", pa.string()),  # null for aggregate (macro) rows
        ("value", pa.float64()),
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("n", pa.int64()),
        ("note", pa.string()),
        ("config_hash", pa.string()),
        ("code_version", pa.string()),
        ("created_at", pa.string()),  # ISO 8601, UTC
    ]
)
RESULT_COLUMNS: list[str] = RESULT_SCHEMA.names
REQUIRED_COLUMNS = ("run_id", "dataset", "task", "split", "metric", "value")
_FLOATS = ("value", "ci_low", "ci_high")


def _resolve(path: str | Path) -> Path:
    p = Path(path)
    return p / RESULTS_FILE if p.is_dir() or p.suffix != ".parquet" else p


def metric_rows(results: Iterable[MetricResult], **context: object) -> list[dict[str, object]]:
    """Turn :class:`MetricResult` items into result rows, adding ``context`` (run_id, dataset, ...).

    ``n_boot_ok`` is not a column; when some replicates were skipped the note already says so.
    """
    rows = []
    for r in results:
        row: dict[str, object] = {
            "metric": r.metric,
            "class_name": r.class_name,
            "value": r.value,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "n": r.n,
            "note": r.note,
        }
        row.update(context)
        rows.append(row)
    return rows


def _to_table(rows: Sequence[Mapping[str, object]], where: str) -> pa.Table:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    columns: dict[str, list[object]] = {c: [] for c in RESULT_COLUMNS}
    for i, row in enumerate(rows):
        unknown = sorted(set(row) - set(RESULT_COLUMNS))
        if unknown:
            raise ClimbError(
                f"result row {i} has unknown column(s) {unknown}",
                where=where,
                fix=f"columns are {RESULT_COLUMNS}",
            )
        missing = [c for c in REQUIRED_COLUMNS if row.get(c) is None and c != "value"]
        if missing or "value" not in row:
            raise ClimbError(
                f"result row {i} lacks required column(s) {missing or ['value']}",
                where=where,
                fix=f"every row needs {list(REQUIRED_COLUMNS)}",
            )
        for c in RESULT_COLUMNS:
            v = row.get(c)
            if c in _FLOATS:
                v = math.nan if v is None else float(v)  # type: ignore[arg-type]
            elif c == "n":
                v = None if v is None else int(v)  # type: ignore[call-overload]
            elif c == "created_at":
                v = v.isoformat() if isinstance(v, datetime) else (v or now)
            elif c == "note":
                v = "" if v is None else str(v)
            elif v is not None:
                v = str(v)
            columns[c].append(v)
    return pa.table(columns, schema=RESULT_SCHEMA)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # not POSIX: atomic rename still protects readers
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def append_results(path: str | Path, rows: Sequence[Mapping[str, object]]) -> Path:
    """Append ``rows`` (dicts with :data:`RESULT_COLUMNS` keys) to a results parquet file.

    ``path`` is the ``.parquet`` file or a folder (then ``<folder>/results.parquet``). Missing
    optional columns are null (``created_at`` defaults to now, UTC). Returns the file written.
    """
    target = _resolve(path)
    where = f"append_results({target})"
    new = _to_table(rows, where)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target):
        if target.exists():
            try:
                old = pq.read_table(target)
            except Exception as exc:
                raise ClimbError(
                    f"existing results file {target} cannot be read: {exc}",
                    where=where,
                    fix="move the damaged file away; nothing was written",
                ) from exc
            if set(old.column_names) != set(RESULT_COLUMNS):
                raise ClimbError(
                    f"{target} has columns {old.column_names}, not the results schema",
                    where=where,
                    fix="write to a different results file",
                )
            new = pa.concat_tables([old.select(RESULT_COLUMNS).cast(RESULT_SCHEMA), new])
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        try:
            pq.write_table(new, tmp)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    return target


def read_results(paths: str | Path | Iterable[str | Path]) -> pd.DataFrame:
    """Read and concatenate results files; folders are searched recursively for results.parquet.

    Returns a DataFrame with exactly :data:`RESULT_COLUMNS` (empty if no rows).
    """
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    files: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            files += sorted(p.rglob(RESULTS_FILE))
        elif p.is_file():
            files.append(p)
        else:
            raise ClimbError(
                f"results path not found: {p}",
                where="read_results",
                fix="pass a results.parquet file or a folder (e.g. <root>/runs) holding some",
            )
    tables = []
    for f in files:
        try:
            tables.append(pq.read_table(f).select(RESULT_COLUMNS).cast(RESULT_SCHEMA))
        except Exception as exc:
            raise ClimbError(
                f"cannot read results file {f}: {exc}",
                where="read_results",
                fix="check that it was written by climb (append_results)",
            ) from exc
    table = pa.concat_tables(tables) if tables else RESULT_SCHEMA.empty_table()
    return table.to_pandas()
