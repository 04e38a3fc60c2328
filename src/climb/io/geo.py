"""Gene-expression files: NCBI GEO (GDS SOFT, GSE series matrix, supplementary count tables)
and EMBL-EBI Expression Atlas experiments (expression TSVs + condensed SDRF).

Readers return samples x genes float matrices with the sample annotations they carry; they do
no filtering or scaling (adapters fit those on the training split only). Parsing is by hand
because the formats are simple line-based text (GEOparse, the usual Python reader, builds the
same tables with pandas and is not a dependency here).

* :func:`read_gds_soft`: ``GDSxxx.soft[.gz]``: ``^DATASET`` attributes, ``^SUBSET`` blocks
  (``subset_type``, ``subset_description``, ``subset_sample_id``) and the
  ``!dataset_table_begin`` table (``ID_REF``, ``IDENTIFIER``, one column per GSM; ``null`` = NaN).
* :func:`read_series_matrix`: ``GSExxx_series_matrix.txt[.gz]``: ``!Series_*`` attributes,
  ``!Sample_*`` rows (``!Sample_characteristics_ch1`` as ``key: value`` cells) and the
  ``!series_matrix_table_begin`` table (empty for RNA-seq series).
* :func:`read_matrix_tsv`: a genes x samples TSV (GEO supplementary counts, Atlas
  ``-raw-counts.tsv`` / ``-tpms.tsv`` / ``-normalized-expressions.tsv``).
* :func:`read_condensed_sdrf`: Atlas ``<E>.condensed-sdrf.tsv`` -> assay -> {property: value}.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.errors import ClimbError


class GeoFormatError(ClimbError):
    """A gene-expression file that does not have the expected structure."""


@dataclass
class ExpressionTable:
    """``values``: (samples, genes) float64, NaN = missing. ``genes``: row ids of the source
    (probe ids or gene ids); ``symbols``: gene symbols where the file has them."""

    samples: list[str]
    genes: list[str]
    values: np.ndarray
    symbols: list[str] = field(default_factory=list)


@dataclass
class GdsFile:
    accession: str
    attributes: dict[str, str]
    subsets: list[dict[str, Any]]  # {"id", "type", "description", "samples": [...]}
    table: ExpressionTable


@dataclass
class SeriesMatrix:
    accession: str
    attributes: dict[str, list[str]]
    samples: list[str]
    sample_rows: dict[str, list[list[str]]]  # "!Sample_title" -> rows of per-sample cells
    characteristics: list[dict[str, str]]  # per sample: key -> value
    table: ExpressionTable | None


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _float(cells: list[str]) -> list[float]:
    out = []
    for c in cells:
        c = c.strip().strip('"')
        try:
            out.append(float(c))
        except ValueError:
            out.append(float("nan"))  # "null", "", "NA"
    return out


def read_gds_soft(path: str | Path) -> GdsFile:
    """Parse a GDS SOFT file; a :class:`GeoFormatError` says what is missing."""
    p = Path(path)
    attrs: dict[str, str] = {}
    subsets: list[dict[str, Any]] = []
    accession = ""
    header: list[str] | None = None
    genes: list[str] = []
    symbols: list[str] = []
    rows: list[list[float]] = []
    in_table = False
    try:
        with _open_text(p) as fh:
            for line in fh:
                line = line.rstrip("\r\n")
                if in_table:
                    if line.startswith("!dataset_table_end"):
                        in_table = False
                        continue
                    cells = line.split("\t")
                    if header is None:
                        header = cells
                        continue
                    genes.append(cells[0])
                    symbols.append(cells[1] if len(cells) > 1 else "")
                    vals = _float(cells[2:])
                    if len(vals) != len(header) - 2:
                        raise GeoFormatError(
                            f"table row {cells[0]!r} has {len(vals)} values for "
                            f"{len(header) - 2} samples",
                            where=str(p),
                            fix="the file is truncated or malformed; re-fetch it",
                        )
                    rows.append(vals)
                elif line.startswith("^DATASET"):
                    accession = line.split("=", 1)[1].strip()
                elif line.startswith("^SUBSET"):
                    subsets.append({"id": line.split("=", 1)[1].strip()})
                elif line.startswith("!subset_") and subsets:
                    k, _, v = line[len("!subset_") :].partition("=")
                    k, v = k.strip(), v.strip()
                    if k == "sample_id":
                        subsets[-1].setdefault("samples", []).extend(
                            s.strip() for s in v.split(",") if s.strip()
                        )
                    else:
                        subsets[-1][k] = v
                elif line.startswith("!dataset_table_begin"):
                    in_table = True
                elif line.startswith("!dataset_") and not subsets:
                    k, _, v = line[len("!dataset_") :].partition("=")
                    attrs[k.strip()] = v.strip()
    except (OSError, EOFError) as exc:
        raise GeoFormatError(f"cannot read {p.name}: {exc}", where=str(p)) from None
    if not accession:
        raise GeoFormatError(
            "not a GDS SOFT file: no '^DATASET = GDS...' line",
            where=str(p),
            fix="use the GDSxxx.soft.gz file of the GEO DataSet (not a GSE family file)",
        )
    if header is None or not rows:
        raise GeoFormatError(
            f"{accession} has no expression table (!dataset_table_begin)",
            where=str(p),
            fix="re-fetch the full SOFT file",
        )
    for s in subsets:
        s.setdefault("samples", [])
        s["type"] = s.get("type", "")
        s["description"] = s.get("description", "")
    return GdsFile(
        accession=accession,
        attributes=attrs,
        subsets=subsets,
        table=ExpressionTable(
            samples=header[2:],
            genes=genes,
            values=np.asarray(rows, dtype=np.float64).T.copy(),
            symbols=symbols,
        ),
    )


def _cells(line: str) -> list[str]:
    return next(csv.reader([line], delimiter="\t", quotechar='"'))


def read_series_matrix(path: str | Path) -> SeriesMatrix:
    """Parse a GSE series-matrix file (the data table may be empty, as for RNA-seq)."""
    p = Path(path)
    attrs: dict[str, list[str]] = {}
    sample_rows: dict[str, list[list[str]]] = {}
    header: list[str] | None = None
    genes: list[str] = []
    rows: list[list[float]] = []
    in_table = False
    try:
        with _open_text(p) as fh:
            for line in fh:
                line = line.rstrip("\r\n")
                if not line:
                    continue
                if in_table:
                    if line.startswith("!series_matrix_table_end"):
                        in_table = False
                        continue
                    cells = _cells(line)
                    if header is None:
                        header = cells
                        continue
                    genes.append(cells[0])
                    rows.append(_float(cells[1:]))
                elif line.startswith("!series_matrix_table_begin"):
                    in_table = True
                elif line.startswith("!Series_"):
                    cells = _cells(line)
                    attrs.setdefault(cells[0][len("!Series_") :], []).extend(cells[1:])
                elif line.startswith("!Sample_"):
                    cells = _cells(line)
                    sample_rows.setdefault(cells[0], []).append(cells[1:])
    except (OSError, EOFError) as exc:
        raise GeoFormatError(f"cannot read {p.name}: {exc}", where=str(p)) from None
    acc = (attrs.get("geo_accession") or [""])[0]
    samples = (sample_rows.get("!Sample_geo_accession") or [[]])[0]
    if not acc or not samples:
        raise GeoFormatError(
            "not a GEO series matrix: no !Series_geo_accession / !Sample_geo_accession",
            where=str(p),
            fix="use the GSExxx_series_matrix.txt.gz file of the series",
        )
    chars: list[dict[str, str]] = [{} for _ in samples]
    for row in sample_rows.get("!Sample_characteristics_ch1", []):
        for i, cell in enumerate(row[: len(samples)]):
            k, sep, v = cell.partition(":")
            if sep and k.strip():
                chars[i][k.strip()] = v.strip()
    table = None
    if header is not None and rows:
        table = ExpressionTable(
            samples=header[1:], genes=genes, values=np.asarray(rows, dtype=np.float64).T.copy()
        )
    return SeriesMatrix(acc, attrs, samples, sample_rows, chars, table)


def read_matrix_tsv(path: str | Path, *, id_columns: int | None = None) -> ExpressionTable:
    """A genes x samples TSV -> samples x genes. ``id_columns``: leading non-sample columns
    (auto: 1, or 2 when the second header is 'Gene Name', 3 with 'DesignElementAccession')."""
    p = Path(path)
    try:
        with _open_text(p) as fh:
            lines = [ln.rstrip("\r\n") for ln in fh if ln.strip() and not ln.startswith("#")]
    except (OSError, EOFError) as exc:
        raise GeoFormatError(f"cannot read {p.name}: {exc}", where=str(p)) from None
    if len(lines) < 2:
        raise GeoFormatError(f"{p.name} has no data rows", where=str(p))
    header = [c.strip().strip('"') for c in lines[0].split("\t")]
    if id_columns is None:
        id_columns = 1
        if len(header) > 1 and header[1].lower() in ("gene name", "gene_name", "symbol"):
            id_columns = 2
        if len(header) > 2 and header[2] == "DesignElementAccession":
            id_columns = 3
    genes, symbols, rows = [], [], []
    n = len(header) - id_columns
    for ln in lines[1:]:
        cells = ln.split("\t")
        if len(cells) != len(header):
            raise GeoFormatError(
                f"{p.name}: row {cells[0]!r} has {len(cells)} columns, the header {len(header)}",
                where=str(p),
                fix="the table is truncated or malformed; re-fetch it",
            )
        genes.append(cells[0].strip().strip('"'))
        symbols.append(cells[1].strip() if id_columns > 1 else "")
        rows.append(_float(cells[id_columns:]))
    if n <= 0:
        raise GeoFormatError(f"{p.name} has no sample columns", where=str(p))
    return ExpressionTable(
        samples=header[id_columns:],
        genes=genes,
        values=np.asarray(rows, dtype=np.float64).T.copy(),
        symbols=symbols,
    )


def read_condensed_sdrf(path: str | Path) -> dict[str, dict[str, dict[str, str]]]:
    """Atlas condensed SDRF (no header; experiment, array design, assay, characteristic|factor,
    property, value[, ontology term]) -> assay -> {"characteristic"|"factor": {prop: value}}."""
    p = Path(path)
    out: dict[str, dict[str, dict[str, str]]] = {}
    with _open_text(p) as fh:
        for i, ln in enumerate(fh, 1):
            if not ln.strip():
                continue
            cells = ln.rstrip("\r\n").split("\t")
            if len(cells) < 6:
                raise GeoFormatError(
                    f"{p.name} line {i} has {len(cells)} columns, expected >= 6 (experiment, "
                    "array design, assay, characteristic|factor, property, value)",
                    where=str(p),
                )
            assay, kind, prop, value = cells[2], cells[3], cells[4], cells[5]
            out.setdefault(assay, {}).setdefault(kind, {})[prop] = value
    return out
