"""EHR tables (MIMIC-IV layout) with polars: lazy, streaming scans over the gzipped CSVs.

Nothing here loads a whole event table into memory. The event tables (``hosp/labevents``,
``icu/chartevents``; hundreds of millions of rows in the full MIMIC-IV) are read once, lazily
and streaming, joined with a small table of observation windows (one row per admission),
filtered to the documented items and written to one parquet file with an admission-bucket
column; every later step (status counts, hourly bins, most recent values) reads one bucket at a
time, so peak memory is bounded by the largest bucket, not by the table.

* :func:`find_table` / :func:`scan_table`: a table's file (``.csv.gz``, ``.csv`` or
  ``.parquet``) and a lazy frame of the columns asked for, after checking the header: a missing
  column is a :class:`~climb.core.errors.ClimbError` naming the table and the column.
* :func:`parse_time`: MIMIC timestamps (``YYYY-MM-DD HH:MM:SS[.ffffff]`` or a date);
  unparseable values become null and are counted by the callers.
* :data:`LAB_ITEMS`, :data:`CHART_ITEMS`: the documented items of the time series
  (docs/mimic.md lists them with their itemids and units).
* :func:`extract_events`: the one streaming pass over an event table; each row gets a status
  (``ok``, ``after_prediction``, ``outside_admission``, ``bad_time``, ``no_value``).
* :func:`bin_events` / :func:`last_values`: hourly bin means and the most recent value per item
  over the ``ok`` rows, one bucket at a time.
* :func:`grid`: one admission's binned rows -> values (last observation carried forward), mask
  and hours since the last value, each ``(items, bins)``.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.errors import ClimbError

#: event status codes written by :func:`extract_events`
STATUS = {"ok": 0, "after_prediction": 1, "outside_admission": 2, "bad_time": 3, "no_value": 4}
STATUS_NAMES = {v: k for k, v in STATUS.items()}

_SUFFIXES = (".csv.gz", ".csv", ".parquet")


@dataclass(frozen=True)
class EhrItem:
    """One time-series channel: ``name``, source ``table``, the itemids merged into it, unit.

    ``convert`` maps an itemid to ``(a, b)``: the value stored is ``a * valuenum + b`` (e.g.
    Fahrenheit to Celsius)."""

    name: str
    table: str
    itemids: tuple[int, ...]
    unit: str
    convert: tuple[tuple[int, float, float], ...] = ()


LAB_ITEMS: tuple[EhrItem, ...] = (
    EhrItem("creatinine", "labevents", (50912,), "mg/dL"),
    EhrItem("potassium", "labevents", (50971,), "mEq/L"),
    EhrItem("sodium", "labevents", (50983,), "mEq/L"),
    EhrItem("chloride", "labevents", (50902,), "mEq/L"),
    EhrItem("bicarbonate", "labevents", (50882,), "mEq/L"),
    EhrItem("anion_gap", "labevents", (50868,), "mEq/L"),
    EhrItem("urea_nitrogen", "labevents", (51006,), "mg/dL"),
    EhrItem("glucose_lab", "labevents", (50931,), "mg/dL"),
    EhrItem("hematocrit", "labevents", (51221,), "%"),
    EhrItem("hemoglobin", "labevents", (51222,), "g/dL"),
    EhrItem("platelets", "labevents", (51265,), "K/uL"),
    EhrItem("wbc", "labevents", (51301,), "K/uL"),
    EhrItem("magnesium", "labevents", (50960,), "mg/dL"),
    EhrItem("calcium_total", "labevents", (50893,), "mg/dL"),
    EhrItem("phosphate", "labevents", (50970,), "mg/dL"),
    EhrItem("lactate", "labevents", (50813,), "mmol/L"),
    EhrItem("ph", "labevents", (50820,), "units"),
    EhrItem("bilirubin_total", "labevents", (50885,), "mg/dL"),
    EhrItem("inr", "labevents", (51237,), "ratio"),
    EhrItem("albumin", "labevents", (50862,), "g/dL"),
)

CHART_ITEMS: tuple[EhrItem, ...] = (
    EhrItem("heart_rate", "chartevents", (220045,), "bpm"),
    EhrItem("sbp", "chartevents", (220179, 220050), "mmHg"),  # non-invasive, arterial
    EhrItem("dbp", "chartevents", (220180, 220051), "mmHg"),
    EhrItem("mbp", "chartevents", (220181, 220052), "mmHg"),
    EhrItem("resp_rate", "chartevents", (220210,), "insp/min"),
    EhrItem("spo2", "chartevents", (220277,), "%"),
    EhrItem(
        "temperature",
        "chartevents",
        (223762, 223761),
        "°C",
        convert=((223761, 5.0 / 9.0, -32.0 * 5.0 / 9.0),),  # Fahrenheit -> Celsius
    ),
    EhrItem("gcs_eye", "chartevents", (220739,), "score"),
    EhrItem("gcs_verbal", "chartevents", (223900,), "score"),
    EhrItem("gcs_motor", "chartevents", (223901,), "score"),
    EhrItem("glucose_chart", "chartevents", (220621, 225664), "mg/dL"),
    EhrItem("weight", "chartevents", (226512,), "kg"),
)

ITEMS: tuple[EhrItem, ...] = LAB_ITEMS + CHART_ITEMS


def item_index(items: Sequence[EhrItem], table: str) -> dict[int, int]:
    """itemid -> channel index (position in ``items``) for the items of ``table``."""
    return {iid: i for i, it in enumerate(items) if it.table == table for iid in it.itemids}


def _polars() -> Any:
    try:
        import polars as pl
    except ImportError as exc:  # pragma: no cover - polars is a dependency
        raise ClimbError(
            "the EHR readers need polars",
            where="climb.io.ehr",
            fix="pip install 'polars>=1.0'",
        ) from exc
    return pl


# ------------------------------------------------------------------ tables


def find_table(root: Path, module: str, name: str) -> Path | None:
    """``<root>/<module>/<name>`` with the first suffix that exists (.csv.gz, .csv, .parquet)."""
    for suffix in _SUFFIXES:
        p = root / module / f"{name}{suffix}"
        if p.is_file():
            return p
    return None


def header(path: Path) -> list[str]:
    """Column names of a CSV (plain or gzipped) or parquet table, read from its first line."""
    if path.name.endswith(".parquet"):
        pl = _polars()
        return list(pl.read_parquet_schema(path))
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as fh:
            line = fh.readline()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise ClimbError(
            f"cannot read the header of {path.name}: {exc}",
            where=str(path),
            fix="re-fetch the file (climb fetch mimic_iv) or check it is the PhysioNet CSV",
        ) from None
    return [c.strip().strip('"') for c in line.rstrip("\r\n").split(",")] if line else []


def scan_table(
    path: Path,
    table: str,
    columns: Mapping[str, str],
    optional: Mapping[str, str] | None = None,
) -> Any:
    """Lazy frame of ``columns`` (name -> ``"int"``, ``"float"`` or ``"str"``) of ``path``.

    Every column is read as text and cast here (``strict=False``: a value that does not parse
    becomes null), so one odd value never stops a scan. A required column that the table lacks
    is a :class:`ClimbError` naming the table and the column; ``optional`` columns that are
    absent come back as nulls.
    """
    pl = _polars()
    have = _checked_header(path, table, columns)
    if path.name.endswith(".parquet"):
        lf = pl.scan_parquet(path)
    else:
        lf = pl.scan_csv(path, infer_schema=False, quote_char='"', low_memory=True)
    return lf.select(_casts(have, {**columns, **(optional or {})}))


def _checked_header(path: Path, table: str, columns: Mapping[str, str]) -> list[str]:
    have = header(path)
    missing = [c for c in columns if c not in have]
    if missing:
        raise ClimbError(
            f"table {table} has no column {', '.join(repr(c) for c in missing)}",
            where=str(path),
            fix=f"the MIMIC-IV layout of {table} has the columns {', '.join(columns)}; "
            "check that the file is the PhysioNet table (not a re-export with renamed columns)",
        )
    return have


def _casts(have: Sequence[str], wanted: Mapping[str, str]) -> list[Any]:
    pl = _polars()
    casts = {"int": pl.Int64, "float": pl.Float64, "str": pl.String}
    exprs = []
    for c, kind in wanted.items():
        if c in have:
            exprs.append(pl.col(c).cast(pl.String).cast(casts[kind], strict=False).alias(c))
        else:
            exprs.append(pl.lit(None, dtype=casts[kind]).alias(c))
    return exprs


def iter_table(
    path: Path,
    table: str,
    columns: Mapping[str, str],
    optional: Mapping[str, str] | None = None,
    *,
    block_mb: int = 4,
) -> Iterator[Any]:
    """The columns of a CSV (plain or gzipped) as polars DataFrames of about ``block_mb`` MB of
    text each, decompressed and parsed as a stream (pyarrow's CSV reader), with the casts of
    :func:`scan_table`. Memory is bounded by one block whatever the table's size (polars'
    ``scan_csv`` of a ``.gz`` file holds the whole compressed file in memory: 3.3 GB for
    MIMIC-IV's chartevents). A parquet table is scanned in row groups by polars instead."""
    pl = _polars()
    have = _checked_header(path, table, columns)
    wanted = {**columns, **(optional or {})}
    if path.name.endswith(".parquet"):
        for batch in pl.scan_parquet(path).select(_casts(have, wanted)).collect_batches():
            yield batch
        return
    import pyarrow as pa
    import pyarrow.csv as pacsv

    present = [c for c in wanted if c in have]
    stream = pa.input_stream(str(path), compression="gzip" if path.name.endswith(".gz") else None)
    reader = pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(block_size=block_mb << 20),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in present},
            include_columns=present,
            strings_can_be_null=True,
        ),
    )
    exprs = _casts(present, wanted)
    try:
        for batch in reader:
            yield pl.from_arrow(pa.Table.from_batches([batch])).select(exprs)
    except (pa.ArrowInvalid, OSError, EOFError) as exc:
        raise ClimbError(
            f"cannot read table {table}: {exc}",
            where=str(path),
            fix="the file is truncated or not a CSV; re-fetch it (climb fetch verifies checksums)",
        ) from None


def parse_time(col: str, *, exact: bool = False) -> Any:
    """Expression: MIMIC timestamp text -> Datetime (null where it does not parse).

    ``exact``: only MIMIC's event format ``YYYY-MM-DD HH:MM:SS[.ffffff]`` (about twice as fast
    on the event tables); otherwise the format is inferred (dates alone too)."""
    pl = _polars()
    if exact:
        return pl.col(col).str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us")
    return pl.col(col).str.strip_chars().str.to_datetime(strict=False, time_unit="us")


# ------------------------------------------------------------------ events


def extract_events(
    events: Any,
    windows: Any,
    out_dir: Path,
    *,
    items: Mapping[int, int],
    keep_all: bool = False,
    convert: Mapping[int, tuple[float, float]] | None = None,
    buckets: int = 16,
    has_storetime: bool = True,
) -> Path:
    """One streaming pass over an event table -> parquet files under ``out_dir``.

    ``events``: a lazy frame, or an iterable of DataFrames (:func:`iter_table`), with ``hadm_id``, ``itemid``, ``charttime`` (text), ``storetime``
    (text or null), ``valuenum`` and ``valueuom``. ``windows``: a small frame with ``hadm_id``,
    ``adm`` (row index), ``start``, ``pred`` (prediction time), ``admit``, ``disch``
    (datetimes). ``items``: itemid -> channel index; other itemids are dropped, or kept with
    channel -1 when ``keep_all`` (for the text rendering).

    Output columns: ``adm`` (int32), ``itemid`` (int32), ``item`` (int16, -1 = not a channel),
    ``hours`` (float32, charttime - start), ``value`` (float32, converted), ``unit``, ``status``
    (int8, :data:`STATUS`), ``bucket`` (adm % buckets), in ``out_dir/events.parquet``. Rule of ``ok``: charttime parses, lies
    in [admittime, dischtime], and both charttime and the time the value was stored
    (storetime, when the table has it) are before the prediction time.
    """
    pl = _polars()
    out_dir.mkdir(parents=True, exist_ok=True)
    if not isinstance(events, pl.LazyFrame):
        n = 0
        for i, batch in enumerate(events):
            part = _events_plan(
                batch.lazy(), windows, items, keep_all, convert, buckets, has_storetime
            ).collect()
            if part.height:
                part.write_parquet(out_dir / f"events-{i:05d}.parquet")
                n += 1
        if n == 0:  # an empty table still leaves a (typed) file
            empty = _events_plan(
                _empty_events(), windows, items, keep_all, convert, buckets, has_storetime
            )
            empty.collect().write_parquet(out_dir / "events-00000.parquet")
        return out_dir
    lf = _events_plan(events, windows, items, keep_all, convert, buckets, has_storetime)
    # one streaming sink (a partitioned sink buffers rows per partition); each later step
    # reads one bucket with a pushed-down filter
    lf.sink_parquet(out_dir / "events.parquet", engine="streaming")
    return out_dir


_EVENT_SCHEMA = {
    "hadm_id": "Int64",
    "itemid": "Int64",
    "charttime": "String",
    "storetime": "String",
    "valuenum": "Float64",
    "valueuom": "String",
}


def _empty_events() -> Any:
    pl = _polars()
    return pl.LazyFrame(schema={k: getattr(pl, v) for k, v in _EVENT_SCHEMA.items()})


def _events_plan(
    events: Any,
    windows: Any,
    items: Mapping[int, int],
    keep_all: bool,
    convert: Mapping[int, tuple[float, float]] | None,
    buckets: int,
    has_storetime: bool,
) -> Any:
    pl = _polars()
    lf = events.filter(pl.col("hadm_id").is_not_null())
    if not keep_all:
        lf = lf.filter(pl.col("itemid").is_in(list(items)))
    w = windows.lazy().select("hadm_id", "adm", "start", "pred", "admit", "disch")
    lf = lf.join(w, on="hadm_id", how="inner")
    t = parse_time("charttime", exact=True)
    avail = parse_time("storetime", exact=True) if has_storetime else t
    value = pl.col("valuenum")
    if convert:
        for iid, (a, b) in convert.items():
            value = pl.when(pl.col("itemid") == iid).then(value * a + b).otherwise(value)
    status = (
        pl.when(pl.col("_t").is_null())
        .then(STATUS["bad_time"])
        .when((pl.col("_t") < pl.col("admit")) | (pl.col("_t") > pl.col("disch")))
        .then(STATUS["outside_admission"])
        .when(pl.col("valuenum").is_null())
        .then(STATUS["no_value"])
        .when((pl.col("_t") >= pl.col("pred")) | (pl.col("_avail") >= pl.col("pred")))
        .then(STATUS["after_prediction"])
        .otherwise(STATUS["ok"])
    )
    # itemid -> channel by a join with a small table (replace_strict is not streaming: with it
    # the pass held every row in memory)
    channels = pl.LazyFrame(
        {"itemid": list(items), "item": list(items.values())},
        schema={"itemid": pl.Int64, "item": pl.Int16},
    )
    lf = lf.join(channels, on="itemid", how="left")
    lf = (
        lf.with_columns(_t=t, _avail=pl.coalesce(avail, t))
        .with_columns(
            status=status.cast(pl.Int8),
            hours=((pl.col("_t") - pl.col("start")).dt.total_seconds() / 3600.0).cast(pl.Float32),
            value=value.cast(pl.Float32),
            item=pl.col("item").fill_null(-1),
            bucket=(pl.col("adm") % buckets).cast(pl.Int32),
        )
        .select(
            pl.col("adm").cast(pl.Int32),
            pl.col("itemid").cast(pl.Int32),
            "item",
            "hours",
            "value",
            pl.col("valueuom").alias("unit"),
            "status",
            "bucket",
        )
    )
    return lf


def _files(event_dir: Path) -> list[Path]:
    return sorted(event_dir.glob("*.parquet"))


def _bucket_frames(event_dirs: Sequence[Path], buckets: int) -> Iterator[tuple[int, Any]]:
    pl = _polars()
    files = [f for d in event_dirs for f in _files(d)]
    if not files:
        return
    for b in range(buckets):
        parts = [pl.scan_parquet(f).filter(pl.col("bucket") == b) for f in files]
        yield b, pl.concat(parts, how="vertical_relaxed")


def status_counts(event_dir: Path) -> dict[str, int]:
    """Rows of an extracted table per status name."""
    pl = _polars()
    files = _files(event_dir)
    if not files:
        return {}
    df = pl.scan_parquet(files).group_by("status").agg(pl.len()).collect(engine="streaming")
    return {STATUS_NAMES[int(s)]: int(n) for s, n in df.iter_rows()}


def duplicate_count(event_dir: Path, buckets: int) -> int:
    """``ok`` rows that repeat another row exactly (same admission, item, time and value)."""
    n = 0
    for _, lf in _bucket_frames([event_dir], buckets):
        pl = _polars()
        df = (
            lf.filter(_ok())
            .select(total=pl.len(), unique=pl.struct("adm", "itemid", "hours", "value").n_unique())
            .collect(engine="streaming")
        )
        n += int(df["total"][0]) - int(df["unique"][0])
    return n


def _ok() -> Any:
    pl = _polars()
    return pl.col("status") == STATUS["ok"]


def bin_events(
    event_dirs: Sequence[Path], buckets: int, bin_hours: float, n_bins: int
) -> Iterator[Any]:
    """Per bucket: ``adm, item, bin, value`` (mean of the distinct ``ok`` values in the bin)."""
    pl = _polars()
    for _, lf in _bucket_frames(event_dirs, buckets):
        yield (
            lf.filter(_ok() & (pl.col("item") >= 0))
            .unique(subset=["adm", "itemid", "hours", "value"])
            .with_columns(bin=(pl.col("hours") / bin_hours).floor().cast(pl.Int32))
            .filter((pl.col("bin") >= 0) & (pl.col("bin") < n_bins))
            .group_by("adm", "item", "bin")
            .agg(pl.col("value").mean().cast(pl.Float32))
            .collect(engine="streaming")
        )


def last_values(event_dirs: Sequence[Path], buckets: int) -> Iterator[Any]:
    """Per bucket: ``adm, itemid, value, unit, hours`` of the most recent ``ok`` row per item."""
    pl = _polars()
    for _, lf in _bucket_frames(event_dirs, buckets):
        yield (
            lf.filter(_ok())
            .group_by("adm", "itemid")
            .agg(
                pl.col("value").sort_by("hours").last(),
                pl.col("unit").sort_by("hours").last(),
                pl.col("hours").max(),
            )
            .collect(engine="streaming")
        )


# ------------------------------------------------------------------ one admission


def grid(
    item: np.ndarray,
    bins: np.ndarray,
    values: np.ndarray,
    n_items: int,
    n_bins: int,
    bin_hours: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One admission's binned rows -> ``(values, mask, delta)``, each ``(n_items, n_bins)``.

    ``mask`` is 1 where the bin has a value. ``values`` carries the last observed value forward
    (0 before an item's first value: the mask says it is not data). ``delta`` is the time in
    hours since the item's last value (GRU-D's convention: 0 in an observed bin, growing by
    ``bin_hours`` per empty bin, counted from the window start before the first value).
    """
    vals = np.zeros((n_items, n_bins), dtype=np.float32)
    mask = np.zeros((n_items, n_bins), dtype=np.float32)
    if len(item):
        vals[item, bins] = values
        mask[item, bins] = 1.0
    delta = np.zeros_like(vals)
    last = np.zeros(n_items, dtype=np.float32)
    since = np.zeros(n_items, dtype=np.float32)
    for b in range(n_bins):
        seen = mask[:, b] > 0
        if b > 0:
            since = since + bin_hours
        since[seen] = 0.0
        last[seen] = vals[seen, b]
        vals[:, b] = last
        delta[:, b] = since
    return vals, mask, delta
