"""Adapters of GEO and Expression Atlas (docs/gene-expression.md): one store per series /
experiment, one sample per biological sample (GSM / assay), a phenotype label from the GDS
subsets, the GSE sample characteristics or the Atlas SDRF factors.

Gene filtering is **fitted on the training split only**: the adapter makes a seeded,
label-stratified, patient-grouped split itself (rule ``subject``), keeps the ``genes`` genes of
highest variance of the log2 values among the *training* samples (genes missing in more than
half of the training samples are never kept), fills a remaining missing value with the gene's
training median, and records the selection in ``dataset.json`` (``splits.feature_selection``).
The store holds log2 values; per-gene training means and standard deviations are the store's
field statistics (``dataset.json`` ``stats.expression``), so scaling is a load-time transform
fitted on train. Nothing computed from validation or test samples reaches any stored value.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.adapter import BaseAdapter, PrepareOptions, RecordError, RecordRef, Sample
from climb.core.errors import ClimbError
from climb.core.schema import FieldSpec
from climb.core.splits import describe, stratified_group_split
from climb.io.geo import (
    ExpressionTable,
    GeoFormatError,
    read_condensed_sdrf,
    read_gds_soft,
    read_matrix_tsv,
    read_series_matrix,
)

FRACTIONS = (0.7, 0.15, 0.15)
#: CLIMB's order of GDS subset types for the category question (climb-facts.md §1.1, geo.py)
GDS_LABEL_ORDER = (
    "cell type",
    "strain",
    "disease state",
    "genotype/variation",
    "tissue",
    "development stage",
    "agent",
)
PATIENT_KEYS = ("individual", "patient", "patient id", "subject", "donor", "donor id")


def geo2r_needs_log(values: np.ndarray) -> bool:
    """GEO2R's rule for whether values are on a linear scale (then log2 them)."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return False
    q0, q25, q99 = np.quantile(v, [0.0, 0.25, 0.99])
    return bool(q99 > 100 or (q99 - q0 > 50 and q25 > 0))


class _Parsed:
    """One series: samples x genes values, per-sample label text and patient id."""

    def __init__(
        self,
        accession: str,
        table: ExpressionTable,
        labels: dict[str, str | None],
        patients: dict[str, str],
        label_name: str,
        log: bool,
        source_path: str,
        notes: list[str],
        errors: dict[str, str] | None = None,
    ) -> None:
        self.accession = accession
        self.table = table
        self.labels = labels
        self.patients = patients
        self.label_name = label_name
        self.log = log
        self.source_path = source_path
        self.notes = notes
        self.errors = errors or {}


class ExpressionAdapter(BaseAdapter):
    """Shared listing, split, train-only gene selection and records."""

    key = ""
    extra_split_rules = ("subject",)
    what = "series"

    def __init__(self, series: str = "", genes: int = 1000, label: str = "") -> None:
        if genes <= 0:
            raise ValueError(f"genes must be positive, got {genes}")
        self.series = str(series)
        self.genes = int(genes)
        self.label = str(label)
        self.version = "1"
        self._memo: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_memo"] = {}
        return state

    # subclasses
    def parse(self, raw_dir: Path) -> _Parsed:
        raise NotImplementedError

    def fields(self) -> list[Any]:
        return [
            FieldSpec(
                "expression",
                "float32",
                (self.genes,),
                axes=("gene",),
                unit="log2 expression",
                chunks=1024,
            )
        ]

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["subject"]

    def default_split_rule(self, raw_dir: Path) -> str:
        return "subject"

    def describe_split(self, rule: str, seed: int) -> dict[str, Any]:
        built = next(iter(self._memo.values()), None)
        extra: dict[str, Any] = {}
        if built is not None:
            extra["feature_selection"] = built["selection"]
        return describe(
            rule,
            seed,
            "seeded patient-grouped split stratified by the label: train 70% / val 15% / test "
            "15%; gene selection and missing-value fill fitted on train only",
            **extra,
        )

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        b = self._build(raw_dir, options)
        classes = b["classes"]
        return {
            "phenotype": {
                "type": "binary" if len(classes) == 2 else "multiclass",
                "classes": classes,
                "label_space": None,
                "column": "label__phenotype",
                "policy": options.label_policy,
                "description": f"{b['parsed'].label_name} of the sample ({b['parsed'].accession}); "
                "classes sorted by name; -1 = not annotated",
            }
        }

    def summary_notes(self, raw_dir: Path, options: PrepareOptions) -> list[str]:
        return list(self._build(raw_dir, options)["notes"])

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        return list(self._build(raw_dir, options)["refs"])

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        if "error" in ref.info:
            raise RecordError(ref.info["error"], stage="label")
        return Sample(
            sample_id=ref.record_id,
            patient_id=ref.info["patient"],
            source_path=ref.source_path,
            arrays={"expression": np.asarray(ref.info["x"], dtype=np.float32)},
            labels={"phenotype": ref.info["y"]},
            native_labels={ref.info["label_name"]: ref.info["label_text"]},
            columns={"series": ref.info["series"], "filled_missing": ref.info["filled"]},
            split_hint={"subject": ref.info["split"]},
        )

    # ------------------------------------------------------------------ build
    def _build(self, raw_dir: Path, options: PrepareOptions) -> dict[str, Any]:
        key = f"{raw_dir}|{options.seed}"
        if key not in self._memo:
            self._memo = {key: self._compute(raw_dir, options)}
        return self._memo[key]

    def _compute(self, raw_dir: Path, options: PrepareOptions) -> dict[str, Any]:
        p = self.parse(raw_dir)
        t = p.table
        classes = sorted({v for v in p.labels.values() if v})
        if len(classes) < 2:
            raise ClimbError(
                f"{p.accession}: the label '{p.label_name}' has {len(classes)} class(es)",
                where=p.source_path,
                fix="choose another label with -O label=NAME (docs/gene-expression.md)",
            )
        y = {s: (classes.index(v) if v else -1) for s, v in p.labels.items()}
        samples = [s for s in t.samples if s not in p.errors]
        groups: dict[str, int] = {}
        for s in samples:
            pid = p.patients.get(s, s)
            groups[pid] = max(groups.get(pid, -1), y.get(s, -1))
        by_patient = stratified_group_split(groups, options.seed, FRACTIONS)
        split = {s: by_patient[p.patients.get(s, s)] for s in samples}
        idx = {s: i for i, s in enumerate(t.samples)}
        x = t.values
        if p.log:
            x = np.log2(np.clip(x, 0.0, None) + 1.0)
        train = [idx[s] for s in samples if split[s] == "train"]
        if not train:
            raise ClimbError(f"{p.accession}: no training samples", where=p.source_path)
        xt = x[train]
        missing = np.isnan(xt).mean(axis=0)
        usable = np.flatnonzero(missing <= 0.5)
        med = np.nanmedian(xt[:, usable], axis=0) if usable.size else np.zeros(0)
        var = np.nanvar(xt[:, usable], axis=0) if usable.size else np.zeros(0)
        if usable.size < self.genes:
            raise ClimbError(
                f"{p.accession} has {usable.size} usable genes, fewer than genes={self.genes}",
                where=p.source_path,
                fix=f"prepare with -O genes={usable.size} (or fewer)",
            )
        order = np.lexsort((usable, -np.nan_to_num(var, nan=-1.0)))[: self.genes]
        keep = usable[order]
        fill = med[order]
        refs = []
        for s in t.samples:
            if s in p.errors:
                refs.append(RecordRef(s, p.source_path, {"error": p.errors[s]}))
                continue
            v = x[idx[s], keep].copy()
            nan = np.isnan(v)
            v[nan] = fill[nan]
            refs.append(
                RecordRef(
                    s,
                    p.source_path,
                    {
                        "x": v.astype(np.float32),
                        "y": y.get(s, -1),
                        "patient": p.patients.get(s, s),
                        "split": split[s],
                        "series": p.accession,
                        "label_name": p.label_name,
                        "label_text": p.labels.get(s),
                        "filled": int(nan.sum()),
                    },
                )
            )
        notes = list(p.notes)
        notes.append(
            f"{p.accession}: {len(t.genes)} genes, {usable.size} usable on train, kept the "
            f"{self.genes} of highest training variance"
            + ("; values log2(x + 1)-transformed" if p.log else "; values already log scale")
        )
        unlabeled = sum(1 for s in samples if y.get(s, -1) < 0)
        if unlabeled:
            notes.append(f"{unlabeled} sample(s) without a '{p.label_name}' value (label -1)")
        selection = {
            "fitted_on": "train",
            "rule": "top variance of log2 values among training samples; missing values "
            "filled with the training median",
            "genes": [t.genes[i] for i in keep],
            "symbols": [t.symbols[i] for i in keep] if t.symbols else [],
            "train_samples": len(train),
        }
        return {
            "parsed": p,
            "classes": classes,
            "refs": sorted(refs, key=lambda r: r.record_id),
            "notes": notes,
            "selection": selection,
        }

    def _pick(self, raw_dir: Path, found: dict[str, Path]) -> tuple[str, Path]:
        if not found:
            raise ClimbError(
                f"no {self.what} files found",
                where=str(raw_dir),
                fix=f"put the {self.what} files there (climb fetch {self.key}); "
                "docs/gene-expression.md lists the layouts",
            )
        if self.series:
            for acc, path in found.items():
                if acc.lower() == self.series.lower():
                    return acc, path
            raise ClimbError(
                f"{self.what} {self.series!r} is not in {raw_dir}",
                fix=f"available: {', '.join(sorted(found)[:20])}",
            )
        if len(found) > 1:
            raise ClimbError(
                f"{len(found)} {self.what} files in {raw_dir}; a store holds one",
                fix=f"choose one with -O series=NAME: {', '.join(sorted(found)[:20])}",
            )
        return next(iter(found.items()))


def _auto_label(candidates: dict[str, dict[str, str]], n: int, order: tuple[str, ...] = ()) -> str:
    """The first key of ``order`` present, else the first key with 2..max(2, n/2) values."""
    for k in order:
        if k in candidates and len(set(candidates[k].values())) >= 2:
            return k
    for k, per in candidates.items():
        if k.lower() in PATIENT_KEYS:
            continue
        distinct = len(set(per.values()))
        if 2 <= distinct <= max(2, n // 2):
            return k
    return ""


class GeoAdapter(ExpressionAdapter):
    key = "geo"
    what = "GDS SOFT / GSE series-matrix"

    def files(self, raw_dir: Path) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for p in sorted(raw_dir.rglob("*")):
            n = p.name
            if n.endswith((".soft.gz", ".soft")) and n.upper().startswith("GDS"):
                out[n.split(".")[0].upper()] = p
            elif "_series_matrix.txt" in n:
                out[n.split("_")[0].upper()] = p
        return out

    def parse(self, raw_dir: Path) -> _Parsed:
        acc, path = self._pick(raw_dir, self.files(raw_dir))
        rel = path.relative_to(raw_dir).as_posix()
        if acc.startswith("GDS"):
            return self._parse_gds(path, rel)
        return self._parse_gse(acc, path, rel, raw_dir)

    def _parse_gds(self, path: Path, rel: str) -> _Parsed:
        g = read_gds_soft(path)
        if not g.subsets:
            raise GeoFormatError(
                f"{g.accession} has no subsets: no phenotype to predict",
                where=str(path),
                fix="GEO DataSets annotate samples in ^SUBSET blocks; use a GDS that has them, "
                "or the series matrix of its GSE with -O label=<characteristic>",
            )
        by_type: dict[str, dict[str, str]] = {}
        errors: dict[str, str] = {}
        for s in g.subsets:
            per = by_type.setdefault(s["type"], {})
            for sid in s["samples"]:
                if sid in per and per[sid] != s["description"]:
                    errors[sid] = (
                        f"sample in two '{s['type']}' subsets: {per[sid]!r} and "
                        f"{s['description']!r}"
                    )
                per[sid] = s["description"]
        label = self.label or _auto_label(by_type, len(g.table.samples), GDS_LABEL_ORDER)
        if label not in by_type:
            raise ClimbError(
                f"{g.accession} has no subset type {label!r}",
                where=str(path),
                fix=f"subset types: {', '.join(sorted(by_type))} (-O label=TYPE)",
            )
        errors = {k: v for k, v in errors.items() if f"'{label}'" in v}
        patients = dict(by_type.get("individual", {}))
        vt = g.attributes.get("value_type", "")
        log = vt == "count" or (
            vt not in ("transformed count",) and geo2r_needs_log(g.table.values)
        )
        labels = {s: by_type[label].get(s) for s in g.table.samples}
        notes = [f"{g.accession}: label = subset type '{label}'; value_type '{vt}'"]
        if patients:
            notes.append(
                f"{g.accession}: samples grouped by the 'individual' subsets "
                f"({len(set(patients.values()))} individuals) for the split"
            )
        return _Parsed(g.accession, g.table, labels, patients, label, log, rel, notes, errors)

    def _parse_gse(self, acc: str, path: Path, rel: str, raw_dir: Path) -> _Parsed:
        m = read_series_matrix(path)
        table = m.table
        notes: list[str] = []
        if table is None:
            table = self._supplementary(acc, m.samples, path.parent, raw_dir)
            notes.append(f"{acc}: series matrix has no data table; values from {self._supp_name}")
        chars: dict[str, dict[str, str]] = {}
        for s, c in zip(m.samples, m.characteristics, strict=True):
            for k, v in c.items():
                chars.setdefault(k, {})[s] = v
        label = self.label or _auto_label(chars, len(m.samples))
        if label not in chars:
            raise ClimbError(
                f"{acc} has no sample characteristic {label!r}",
                where=str(path),
                fix=f"characteristics: {', '.join(sorted(chars))} (-O label=KEY)",
            )
        pkey = next((k for k in chars if k.lower() in PATIENT_KEYS), None)
        patients = dict(chars[pkey]) if pkey else {}
        missing = [s for s in table.samples if s not in m.samples]
        if missing:
            raise GeoFormatError(
                f"{acc}: expression columns {missing[:5]} are not samples of the series",
                where=str(path.parent),
            )
        labels = {s: chars[label].get(s) for s in table.samples}
        notes.append(f"{acc}: label = characteristic '{label}'")
        log = geo2r_needs_log(table.values)
        return _Parsed(acc, table, labels, patients, label, log, rel, notes)

    _supp_name = ""

    def _supplementary(self, acc: str, samples: list[str], folder: Path, raw_dir: Path) -> Any:
        cands = [
            p
            for p in sorted(raw_dir.rglob("*"))
            if p.is_file()
            and p.name.lower().startswith(acc.lower())
            and p.name.endswith((".tsv", ".tsv.gz", ".txt", ".txt.gz"))
            and "series_matrix" not in p.name
        ]
        rank = {"tpm": 0, "fpkm": 1, "count": 2}

        def score(p: Path) -> tuple[int, str]:
            n = p.name.lower()
            return (min((v for k, v in rank.items() if k in n), default=3), n)

        for p in sorted(cands, key=score):
            t = read_matrix_tsv(p)
            if set(t.samples) <= set(samples) and t.samples:
                self._supp_name = p.name
                return t
        raise GeoFormatError(
            f"{acc}: the series matrix has no data table and no supplementary genes x samples "
            "table with its GSM columns was found",
            where=str(folder),
            fix=f"put {acc}_<counts|tpm>.tsv.gz (GeneID + one column per GSM) beside it",
        )


class ExpressionAtlasAdapter(ExpressionAdapter):
    key = "expression_atlas"
    what = "Expression Atlas experiment"

    def files(self, raw_dir: Path) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for p in sorted(raw_dir.rglob("*.condensed-sdrf.tsv")):
            out[p.name.split(".")[0]] = p
        return out

    def parse(self, raw_dir: Path) -> _Parsed:
        acc, sdrf_path = self._pick(raw_dir, self.files(raw_dir))
        folder = sdrf_path.parent
        sdrf = read_condensed_sdrf(sdrf_path)
        expr = None
        log = False
        for pattern, is_linear in (
            (f"{acc}-raw-counts.tsv", True),
            (f"{acc}_*-normalized-expressions.tsv", False),
        ):
            hits = sorted(folder.glob(pattern)) + sorted(folder.glob(pattern + ".gz"))
            if hits:
                expr, log = hits[0], is_linear
                break
        if expr is None:
            raise GeoFormatError(
                f"{acc}: no per-assay expression file ({acc}-raw-counts.tsv or "
                f"{acc}_<array>-normalized-expressions.tsv)",
                where=str(folder),
                fix="baseline experiments' -tpms.tsv hold assay-group summaries, not samples; "
                "fetch the experiment's raw counts or normalized expressions",
            )
        table = read_matrix_tsv(expr)
        factors: dict[str, dict[str, str]] = {}
        chars: dict[str, dict[str, str]] = {}
        for assay, kinds in sdrf.items():
            for k, v in kinds.get("factor", {}).items():
                factors.setdefault(k, {})[assay] = v
            for k, v in kinds.get("characteristic", {}).items():
                chars.setdefault(k, {})[assay] = v
        label = (
            self.label
            or _auto_label(factors, len(table.samples))
            or _auto_label(chars, len(table.samples))
        )
        source = factors if label in factors else chars
        if label not in source:
            raise ClimbError(
                f"{acc} has no factor or characteristic {label!r}",
                where=str(sdrf_path),
                fix=f"factors: {', '.join(sorted(factors))}; characteristics: "
                f"{', '.join(sorted(chars))} (-O label=NAME)",
            )
        unknown = [s for s in table.samples if s not in sdrf]
        errors = {s: "assay not in the condensed SDRF" for s in unknown}
        pkey = next((k for k in chars if k.lower() in PATIENT_KEYS), None)
        patients = dict(chars[pkey]) if pkey else {}
        labels = {s: source[label].get(s) for s in table.samples}
        rel = expr.relative_to(raw_dir).as_posix()
        counts = Counter(v for v in labels.values() if v)
        notes = [f"{acc}: label = '{label}' ({dict(sorted(counts.items()))}); values {expr.name}"]
        return _Parsed(acc, table, labels, patients, label, log, rel, notes, errors)
