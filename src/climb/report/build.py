"""``climb report``: one self-contained HTML page and a Markdown twin from results.

Inputs are run directories (as written by ``climb train``) or ``results.parquet`` files (or
folders holding them). Every number in the tables is read from ``results.parquet`` (aggregate
rows, ``class_name`` null, of the chosen split and metric); run kinds come from each run's
``config.yaml`` (one task = single-task, several = multitask, ``data.few_shot`` = few-shot,
``model.init`` = started from a pretrained encoder); training curves from ``metrics.csv``;
dataset composition and quarantine from the stores the runs used (``run.json``).
"""

from __future__ import annotations

import base64
import html
import io
import json
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from climb.core.errors import ClimbError

# Okabe-Ito colour-blind-safe palette
OKABE_ITO = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
KIND_COLOUR = {"single-task": OKABE_ITO["sky"], "multitask": OKABE_ITO["blue"]}
INIT_COLOUR = {"scratch": OKABE_ITO["orange"], "pretrained": OKABE_ITO["blue"]}
SPLIT_COLOUR = {"train": OKABE_ITO["blue"], "val": OKABE_ITO["orange"], "test": OKABE_ITO["green"]}
SECTIONS = (
    ("composition", "Dataset composition"),
    ("auroc", "Single-task vs multitask AUROC"),
    ("delta", "ΔAUROC: multitask minus single-task"),
    ("fewshot", "Few-shot transfer"),
    ("weighting", "Multitask task weighting: uniform vs size vs DRPO"),
    ("kinds", "Regression, segmentation, per-frame and EEG metrics"),
    ("fusion", "Fusion strategies and unimodal baselines"),
    ("training", "Training curves"),
    ("quarantine", "Quarantine summary"),
    ("config", "Run configuration and environment"),
)


@dataclass
class Run:
    path: Path | None
    run_id: str
    kind: str  # single-task | multitask | few-shot
    tasks: list[str]
    k: int | None = None
    init: str = "scratch"  # scratch | pretrained
    init_from: str | None = None
    weighting: str = "uniform"  # train.task_weighting of a multitask run
    final_weights: dict[str, float] = field(default_factory=dict)  # task -> last loss weight
    config: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    metrics: pd.DataFrame | None = None


@dataclass
class ReportData:
    results: pd.DataFrame
    runs: dict[str, Run]
    stores: dict[str, dict[str, Any]]  # key -> {"meta": dataset.json, "quarantine": [..]}
    metric: str
    split: str


# ------------------------------------------------------------------------------ collect
def _find_results(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for p in paths:
        p = Path(p).expanduser()
        if p.is_file() and p.suffix == ".parquet":
            found.append(p)
        elif p.is_dir():
            hits = sorted(p.rglob("results.parquet"))
            if not hits:
                raise ClimbError(
                    f"no results.parquet under {p}", fix="run 'climb evaluate RUN_DIR' first"
                )
            found.extend(hits)
        else:
            raise ClimbError(
                f"{p} is neither a run directory nor a results.parquet file",
                fix="pass run directories (climb train --out) or results.parquet files",
            )
    return sorted(set(found))


def _load_run(run_dir: Path, run_ids: list[str], df: pd.DataFrame) -> Run:
    import yaml

    cfg: dict[str, Any] = {}
    if (run_dir / "config.yaml").is_file():
        cfg = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8")) or {}
    info: dict[str, Any] = {}
    if (run_dir / "run.json").is_file():
        info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    data = cfg.get("data") or {}
    tasks = [f"{t['dataset']}/{t['task']}" for t in data.get("tasks") or []]
    if not tasks:
        tasks = sorted({f"{d}/{t}" for d, t in zip(df["dataset"], df["task"], strict=True)})
    few = data.get("few_shot")
    init_from = (cfg.get("model") or {}).get("init")
    kind = "few-shot" if few else ("multitask" if len(tasks) > 1 else "single-task")
    k = few.get("k") if isinstance(few, dict) else None
    if isinstance(k, str):
        k = {"small": 8, "medium": 64, "large": 256}.get(k)
    metrics = None
    if (run_dir / "metrics.csv").is_file():
        metrics = pd.read_csv(run_dir / "metrics.csv")
    weighting = str((cfg.get("train") or {}).get("task_weighting") or "uniform")
    final = {  # the config's per-task weights, then what the trainer recorded
        f"{t['dataset']}/{t['task']}": float(t.get("weight", 1.0)) for t in data.get("tasks") or []
    }
    final.update({t: float(v.get("weight", 1.0)) for t, v in (info.get("tasks") or {}).items()})
    if (run_dir / "metrics.jsonl").is_file():  # DRPO: the weights of the last update
        for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if row.get("kind") == "weight" and "task" in row:
                final[str(row["task"])] = float(row.get("value", 1.0))
    return Run(
        path=run_dir,
        run_id=run_ids[0] if run_ids else run_dir.name,
        kind=kind,
        tasks=tasks,
        k=int(k) if k is not None else None,
        init="pretrained" if init_from else "scratch",
        init_from=Path(str(init_from)).name if init_from else None,
        weighting=weighting,
        final_weights=final,
        config=cfg,
        info=info,
        metrics=metrics,
    )


def collect(
    paths: list[str | Path],
    *,
    metric: str = "auroc",
    split: str = "test",
    stores: str | Path | None = None,
) -> ReportData:
    from climb.evaluate.results import read_results

    files = _find_results([Path(p) for p in paths])
    frames = []
    runs: dict[str, Run] = {}
    for f in files:
        df = read_results([f])
        if df.empty:
            continue
        ids = list(dict.fromkeys(df["run_id"].astype(str)))
        run = _load_run(f.parent, ids, df)
        df = df.assign(run_id=run.run_id)  # one run per file (re-evaluations append rows)
        runs[run.run_id] = run
        frames.append(df)
    if not frames:
        raise ClimbError("the results files hold no rows", where=", ".join(map(str, files)))
    results = pd.concat(frames, ignore_index=True)
    store_dirs: set[Path] = set()
    for r in runs.values():
        for t in (r.info.get("tasks") or {}).values():
            if t.get("store"):
                store_dirs.add(Path(t["store"]))
    if stores is not None and Path(stores).is_dir():
        store_dirs |= {p.parent for p in Path(stores).glob("*/dataset.json")}
    store_info: dict[str, dict[str, Any]] = {}
    for d in sorted(store_dirs):
        if not (d / "dataset.json").is_file():
            continue
        meta = json.loads((d / "dataset.json").read_text(encoding="utf-8"))
        q = []
        if (d / "quarantine.jsonl").is_file():
            for line in (d / "quarantine.jsonl").read_text(encoding="utf-8").splitlines():
                if line.strip():
                    q.append(json.loads(line))
        store_info[str(meta.get("key", d.name))] = {"meta": meta, "quarantine": q, "path": str(d)}
    return ReportData(results, runs, store_info, metric, split)


# ------------------------------------------------------------------------------ tables
def aggregate(data: ReportData) -> pd.DataFrame:
    """Aggregate rows of the report's metric and split, with the run's kind, k and init; for
    each (run, dataset, task) the latest evaluation."""
    df = data.results
    df = df[(df["metric"] == data.metric) & (df["split"] == data.split) & df["class_name"].isna()]
    df = df.sort_values("created_at").groupby(["run_id", "dataset", "task"], as_index=False).last()
    df = df.assign(
        kind=[data.runs[r].kind for r in df["run_id"]],
        k=[data.runs[r].k for r in df["run_id"]],
        init=[data.runs[r].init for r in df["run_id"]],
        weighting=[data.runs[r].weighting for r in df["run_id"]],
    )
    return df


def fmt_ci(v: float, lo: float, hi: float) -> str:
    if v is None or not np.isfinite(v):
        return "n/a"
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{v:.3f}"
    return f"{v:.3f} [{lo:.3f}, {hi:.3f}]"


def comparison_table(data: ReportData) -> pd.DataFrame:
    """Per task present in a single-task or multitask run: both values with CIs and the Δ.
    The multitask side is the uniformly weighted run where there is one (the other weightings
    are in :func:`weighting_table`)."""
    agg = aggregate(data)
    agg = agg[agg["kind"].isin(["single-task", "multitask"])]
    mt = agg["kind"] == "multitask"
    if (mt & (agg["weighting"] == "uniform")).any():
        agg = agg[~mt | (agg["weighting"] == "uniform")]
    rows = []
    for (ds, task), g in agg.groupby(["dataset", "task"], sort=True):
        row: dict[str, Any] = {"dataset": ds, "task": task}
        for kind in ("single-task", "multitask"):
            h = g[g["kind"] == kind].sort_values("created_at")
            if len(h):
                last = h.iloc[-1]
                row[kind] = float(last["value"])
                row[f"{kind} CI"] = (float(last["ci_low"]), float(last["ci_high"]))
                row[f"{kind} n"] = int(last["n"])
                row[f"{kind} run"] = last["run_id"]
        if "single-task" in row and "multitask" in row:
            row["delta"] = row["multitask"] - row["single-task"]
        rows.append(row)
    return pd.DataFrame(rows)


WEIGHTINGS = ("uniform", "size", "drpo")


def weighting_table(data: ReportData) -> pd.DataFrame:
    """Per task of the multitask runs: the metric of the latest run of each
    ``train.task_weighting`` scheme, with its CI and the task's final loss weight."""
    agg = aggregate(data)
    agg = agg[agg["kind"] == "multitask"]
    rows = []
    for (ds, task), g in agg.groupby(["dataset", "task"], sort=True):
        row: dict[str, Any] = {"dataset": ds, "task": task}
        for w in WEIGHTINGS:
            h = g[g["weighting"] == w].sort_values("created_at")
            if len(h):
                last = h.iloc[-1]
                run = data.runs[last["run_id"]]
                row[w] = (float(last["value"]), float(last["ci_low"]), float(last["ci_high"]))
                row[f"{w} weight"] = run.final_weights.get(f"{ds}/{task}")
        rows.append(row)
    return pd.DataFrame(rows)


#: the headline metrics of each task kind that the AUROC tables do not show; "eeg" is the
#: agreement set EEG papers report, for classification tasks of EEG stores
KIND_METRICS: dict[str, tuple[str, ...]] = {
    "regression": ("mae", "rmse", "r2"),
    "segmentation": ("dice", "iou", "pixel_accuracy"),
    "per_frame": ("accuracy", "balanced_accuracy", "f1", "jaccard"),
    "eeg": ("balanced_accuracy", "cohen_kappa", "f1_weighted", "auroc", "auprc"),
}
_KIND_MARKERS = (("regression", "mae"), ("segmentation", "dice"), ("per_frame", "jaccard"))


def _split_rows(data: ReportData) -> pd.DataFrame:
    """Aggregate rows of the report's split (every metric), latest evaluation per
    (run, dataset, task, metric)."""
    df = data.results
    df = df[(df["split"] == data.split) & df["class_name"].isna()]
    keys = ["run_id", "dataset", "task", "metric"]
    return df.sort_values("created_at").groupby(keys, as_index=False).last()


def task_kind(data: ReportData, run_id: str, ds: str, task: str, metrics: set[str]) -> str:
    """The kind of a run's task for the report: what the trainer recorded in run.json, else
    guessed from the metrics; classification tasks of EEG stores are ``eeg``."""
    info = (data.runs[run_id].info.get("tasks") or {}).get(f"{ds}/{task}") or {}
    kind = str(info.get("type") or "")
    if not kind:
        kind = next((k for k, m in _KIND_MARKERS if m in metrics), "classification")
    if kind in ("binary", "multiclass", "classification"):
        domain = (data.stores.get(ds, {}).get("meta", {}).get("card") or {}).get("domain")
        if domain == "eeg":
            return "eeg"
    return kind


def kind_tables(data: ReportData) -> dict[str, pd.DataFrame]:
    """Per kind of :data:`KIND_METRICS`: one row per (run, dataset, task) with those metrics."""
    df = _split_rows(data)
    out: dict[str, list[dict[str, Any]]] = {}
    for (rid, ds, task), g in df.groupby(["run_id", "dataset", "task"], sort=True):
        kind = task_kind(data, str(rid), str(ds), str(task), set(g["metric"]))
        if kind not in KIND_METRICS:
            continue
        row: dict[str, Any] = {"run": rid, "dataset": ds, "task": task, "n": None}
        for m in KIND_METRICS[kind]:
            h = g[g["metric"] == m]
            if len(h):
                r = h.iloc[-1]
                row[m] = (float(r["value"]), float(r["ci_low"]), float(r["ci_high"]))
                row["n"] = int(r["n"]) if row["n"] is None else row["n"]
        out.setdefault(kind, []).append(row)
    return {k: pd.DataFrame(v) for k, v in out.items()}


def _inputs_label(run: Run, ds: str, task: str) -> str | None:
    """How a run combines its input fields for a task: ``<fusion> (a + b)`` or ``a only``;
    None when the config does not list the fields."""
    for t in (run.config.get("data") or {}).get("tasks") or []:
        if t.get("dataset") == ds and t.get("task") == task:
            fields = t.get("fields") or ([t["field"]] if t.get("field") else None)
            if not fields:
                return None
            if len(fields) == 1:
                return f"{fields[0]} only"
            fusion = (run.config.get("model") or {}).get("fusion") or "concat"
            return f"{fusion} ({' + '.join(map(str, fields))})"
    return None


def fusion_table(data: ReportData) -> pd.DataFrame:
    """Per task trained with at least two input combinations (fusion strategies or single
    fields): the report's metric (MAE for regression tasks) of the latest run of each."""
    df = _split_rows(data)
    rows = []
    for (ds, task), g in df.groupby(["dataset", "task"], sort=True):
        by: dict[str, pd.Series] = {}
        reg = "mae" in set(g["metric"]) and data.metric not in set(g["metric"])
        metric = "mae" if reg else data.metric
        for rid, h in g[g["metric"] == metric].groupby("run_id"):
            run = data.runs[str(rid)]
            if run.kind == "few-shot":
                continue
            label = _inputs_label(run, str(ds), str(task))
            if label is not None:
                last = h.sort_values("created_at").iloc[-1]
                if label not in by or last["created_at"] >= by[label]["created_at"]:
                    by[label] = last
        if len(by) < 2:
            continue
        for label, r in sorted(by.items(), key=lambda kv: (kv[0].endswith(" only"), kv[0])):
            rows.append(
                {"dataset": ds, "task": task, "inputs": label, "metric": metric,
                 "value": float(r["value"]), "ci_low": float(r["ci_low"]),
                 "ci_high": float(r["ci_high"]), "n": int(r["n"]), "run": r["run_id"]}
            )  # fmt: skip
    return pd.DataFrame(rows)


def fewshot_table(data: ReportData) -> pd.DataFrame:
    agg = aggregate(data)
    agg = agg[(agg["kind"] == "few-shot") & agg["k"].notna()]
    return agg.sort_values(["dataset", "task", "init", "k"]).reset_index(drop=True)


# ------------------------------------------------------------------------------ figures
def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "font.size": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "figure.dpi": 110,
        }
    )
    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.getvalue()


def fig_composition(data: ReportData) -> bytes | None:
    if not data.stores:
        return None
    plt = _plt()
    keys = sorted(
        data.stores, key=lambda k: (data.stores[k]["meta"].get("card", {}).get("domain", ""), k)
    )
    labels = [f"{k}\n({data.stores[k]['meta'].get('card', {}).get('domain', '?')})" for k in keys]
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(keys) + 1.2))
    left = np.zeros(len(keys))
    for split in ("train", "val", "test"):
        vals = np.array(
            [
                data.stores[k]["meta"].get("splits", {}).get("counts", {}).get(split, 0)
                for k in keys
            ],
            dtype=float,
        )
        ax.barh(labels, vals, left=left, color=SPLIT_COLOUR[split], label=split)
        left += vals
    q = [len(data.stores[k]["quarantine"]) for k in keys]
    for i, (tot, nq) in enumerate(zip(left, q, strict=True)):
        ax.text(
            tot,
            i,
            f"  {int(tot)}" + (f" (+{nq} quarantined)" if nq else ""),
            va="center",
            fontsize=8,
        )
    ax.set_xlabel("samples in the store (count)")
    ax.set_title("Samples per dataset and split (domain in brackets)")
    ax.invert_yaxis()
    ax.set_xlim(0, max(left.max(), 1) * 1.35)
    ax.legend(title="split", loc="lower right", frameon=False)
    return _png(fig)


def fig_delta(table: pd.DataFrame, metric: str) -> bytes | None:
    if table.empty or "delta" not in table or table["delta"].notna().sum() == 0:
        return None
    plt = _plt()
    t = table[table["delta"].notna()].sort_values("delta")
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(t) + 1.5))
    colours = [OKABE_ITO["blue"] if d >= 0 else OKABE_ITO["vermillion"] for d in t["delta"]]
    names = [f"{d}/{k}" for d, k in zip(t["dataset"], t["task"], strict=True)]
    ax.barh(names, t["delta"], color=colours)
    ax.axvline(0, color="black", lw=0.8)
    for i, d in enumerate(t["delta"]):
        ax.text(d, i, f" {d:+.3f} ", va="center", ha="left" if d >= 0 else "right", fontsize=8)
    lim = max(0.05, float(np.nanmax(np.abs(t["delta"]))) * 1.4)
    ax.set_xlim(-lim, lim)
    ax.set_xlabel(f"Δ{metric.upper()} (multitask − single-task, test split)")
    ax.set_title("Multitask minus single-task (blue: multitask better)")
    return _png(fig)


def fig_fewshot(few: pd.DataFrame, metric: str) -> bytes | None:
    if few.empty:
        return None
    plt = _plt()
    groups = list(few.groupby(["dataset", "task"], sort=True))
    fig, axes = plt.subplots(1, len(groups), figsize=(4.6 * len(groups), 3.6), squeeze=False)
    for ax, ((ds, task), g) in zip(axes[0], groups, strict=True):
        for init, h in g.groupby("init"):
            h = h.sort_values("k")
            c = INIT_COLOUR.get(str(init), OKABE_ITO["black"])
            label = "from scratch" if init == "scratch" else "from multitask encoder"
            ax.plot(
                h["k"], h["value"], marker="o" if init == "scratch" else "s", color=c, label=label
            )
            ok = h["ci_low"].notna() & h["ci_high"].notna()
            ax.fill_between(h["k"][ok], h["ci_low"][ok], h["ci_high"][ok], color=c, alpha=0.15)
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_xscale("log", base=2)
        ks = sorted(g["k"].dropna().unique())
        ax.set_xticks(ks, [str(int(k)) for k in ks])
        ax.set_ylim(0.0, 1.02)
        ax.set_xlabel("k (training samples per class)")
        ax.set_ylabel(f"test {metric.upper()} (macro)")
        ax.set_title(f"{ds}/{task}")
        ax.legend(frameon=False, fontsize=8, loc="lower right")
    fig.suptitle("Few-shot transfer (bands: 95% bootstrap CI; dashed: chance)", fontsize=10)
    return _png(fig)


def fig_training(data: ReportData) -> bytes | None:
    runs = [r for r in data.runs.values() if r.kind != "few-shot" and r.metrics is not None]
    tasks = sorted({t for r in runs for t in r.tasks})
    if not tasks:
        return None
    plt = _plt()
    ncol = min(len(tasks), 4)
    nrow = (len(tasks) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 3.0 * nrow), squeeze=False)
    for ax, task in zip(axes.flat, tasks, strict=False):
        for r in runs:
            m = r.metrics
            assert m is not None
            if task not in r.tasks:
                continue
            c = KIND_COLOUR.get(r.kind, OKABE_ITO["black"])
            tr = m[(m["kind"] == "train") & (m["task"] == task)]
            va = m[(m["kind"] == "val") & (m["task"] == task)]
            if len(tr):
                ax.plot(tr["step"], tr["loss"], color=c, label=f"{r.kind} train")
            if len(va):
                ax.plot(
                    va["step"], va["loss"], color=c, ls="none", marker="D", label=f"{r.kind} val"
                )
        ax.set_title(task, fontsize=9)
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("loss (masked BCE / CE)")
        ax.legend(frameon=False, fontsize=7)
    for ax in list(axes.flat)[len(tasks) :]:
        ax.axis("off")
    fig.suptitle(
        "Training curves from metrics.csv (multitask steps are shared by all tasks)", fontsize=10
    )
    fig.tight_layout()
    return _png(fig)


# ------------------------------------------------------------------------------ render
@dataclass
class Figure:
    name: str
    title: str
    png: bytes
    caption: str


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


def _tables(data: ReportData) -> dict[str, Table]:
    out: dict[str, Table] = {}
    comp_rows = []
    for k, s in sorted(data.stores.items()):
        meta = s["meta"]
        c = meta.get("splits", {}).get("counts", {})
        comp_rows.append(
            [k, str(meta.get("card", {}).get("domain", "")),
             ", ".join(meta.get("tasks", {}).keys()),
             *(str(c.get(x, 0)) for x in ("train", "val", "test")),
             str(meta.get("num_samples", "")), str(len(s["quarantine"])),
             str(meta.get("splits", {}).get("rule", ""))]
        )  # fmt: skip
    out["composition"] = Table(
        [
            "dataset",
            "domain",
            "tasks",
            "train",
            "val",
            "test",
            "samples",
            "quarantined",
            "split rule",
        ],
        comp_rows,
    )
    comp = comparison_table(data)
    rows = []
    for _, r in comp.iterrows():
        cells = [r["dataset"], r["task"]]
        for kind in ("single-task", "multitask"):
            if isinstance(r.get(f"{kind} CI"), tuple):
                lo, hi = r[f"{kind} CI"]
                cells += [fmt_ci(r[kind], lo, hi), str(r[f"{kind} n"])]
            else:
                cells += ["–", "–"]
        d = r.get("delta")
        cells.append(f"{d:+.3f}" if d is not None and np.isfinite(d) else "–")
        rows.append(cells)
    out["auroc"] = Table(
        [
            "dataset",
            "task",
            f"single-task {data.metric} [95% CI]",
            "n",
            f"multitask {data.metric} [95% CI]",
            "n",
            "Δ",
        ],
        rows,
    )
    few = fewshot_table(data)
    frows = []
    for (ds, task, k), g in few.groupby(["dataset", "task", "k"], sort=True):
        cells = [ds, task, str(int(k))]
        for init in ("scratch", "pretrained"):
            h = g[g["init"] == init]
            cells.append(fmt_ci(*h.iloc[-1][["value", "ci_low", "ci_high"]]) if len(h) else "–")
        frows.append(cells)
    out["fewshot"] = Table(
        [
            "dataset",
            "task",
            "k",
            f"from scratch {data.metric} [95% CI]",
            f"from multitask encoder {data.metric} [95% CI]",
        ],
        frows,
    )
    wt = weighting_table(data)
    schemes = [w for w in WEIGHTINGS if w in wt.columns]
    wrows = []
    if len(schemes) > 1:  # an ablation needs at least two schemes
        for _, r in wt.iterrows():
            cells = [r["dataset"], r["task"]]
            for w in schemes:
                v = r.get(w)
                if isinstance(v, tuple):
                    wgt = r.get(f"{w} weight")
                    ws = f" (w {wgt:.2f})" if wgt is not None and np.isfinite(wgt) else ""
                    cells.append(fmt_ci(*v) + ws)
                else:
                    cells.append("–")
            wrows.append(cells)
        means = []
        for w in schemes:
            vals = [v[0] for v in wt[w] if isinstance(v, tuple) and np.isfinite(v[0])]
            means.append(f"{np.mean(vals):.3f}" if vals else "–")
        wrows.append(["mean over tasks", "", *means])
    out["weighting"] = Table(
        ["dataset", "task", *(f"{w} {data.metric} [95% CI] (final weight)" for w in schemes)],
        wrows,
    )
    for kind, kt in kind_tables(data).items():
        krows = []
        for _, r in kt.iterrows():
            cells = [str(r["run"]), str(r["dataset"]), str(r["task"])]
            cells.append("" if r.get("n") is None or pd.isna(r.get("n")) else str(int(r["n"])))
            for m in KIND_METRICS[kind]:
                v = r.get(m)
                cells.append(fmt_ci(*v) if isinstance(v, tuple) else "–")
            krows.append(cells)
        out[f"kind:{kind}"] = Table(
            ["run", "dataset", "task", "n", *(f"{m} [95% CI]" for m in KIND_METRICS[kind])], krows
        )
    ft = fusion_table(data)
    out["fusion"] = Table(
        ["dataset", "task", "inputs", "metric", "value [95% CI]", "n", "run"],
        [
            [str(r["dataset"]), str(r["task"]), str(r["inputs"]), str(r["metric"]),
             fmt_ci(r["value"], r["ci_low"], r["ci_high"]), str(r["n"]), str(r["run"])]
            for _, r in ft.iterrows()
        ],
    )  # fmt: skip
    qrows = []
    for k, s in sorted(data.stores.items()):
        by: dict[str, list[str]] = {}
        for q in s["quarantine"]:
            reason = str(q.get("reason", "?"))
            reason = "duplicate record id" if reason.startswith("duplicate record id") else reason
            by.setdefault(f"{q.get('stage', '?')}: {reason}", []).append(str(q.get("record", "")))
        for reason, recs in sorted(by.items()):
            qrows.append(
                [k, reason, str(len(recs)), ", ".join(recs[:3]) + (" …" if len(recs) > 3 else "")]
            )
    out["quarantine"] = Table(["dataset", "stage: reason", "records", "examples"], qrows)
    crows = []
    for r in sorted(data.runs.values(), key=lambda r: (r.kind, r.run_id)):
        model = r.config.get("model", {})
        encs = model.get("encoders") or {}
        enc = ", ".join(f"{m}: {e.get('name')}" for m, e in encs.items()) or str(
            model.get("encoder") or "default"
        )
        crows.append(
            [r.run_id, r.kind, ", ".join(r.tasks), "" if r.k is None else str(r.k),
             r.init + (f" ({r.init_from})" if r.init_from else "")
             + (f", weighting {r.weighting}" if r.kind == "multitask" else ""),
             str(r.config.get("train", {}).get("max_steps", "")), enc,
             str(r.info.get("config_hash", ""))[:12]]
        )  # fmt: skip
    out["config"] = Table(
        ["run", "kind", "tasks", "k", "init", "steps", "encoders", "config hash"], crows
    )
    return out


WEIGHTING_NOTE = (
    "The same multitask configuration trained with each train.task_weighting scheme: uniform "
    "(every task's loss weight 1), size (proportional to its training samples) and drpo "
    "(DRPO's temperature: 1/sqrt(N) scaled by each task's validation difficulty, updated after "
    "every validation). The weight shown is the task's last loss weight (mean 1 over tasks)."
)


def _noted_table(t: Table, note: str, empty: str, fmt: str) -> str:
    """A section body: ``note`` and the table, or ``empty`` (in italics) without rows."""
    if not t.rows:
        return f"<p><em>{html.escape(empty)}</em></p>" if fmt == "html" else f"_{empty}_\n"
    if fmt == "html":
        return f"<p class='note'>{html.escape(note)}</p>" + _html_table(t)
    return note + "\n\n" + _md_table(t)


def _weighting_note(t: Table, fmt: str) -> str:
    empty = "no multitask runs with two or more train.task_weighting schemes"
    return _noted_table(t, WEIGHTING_NOTE, empty, fmt)


KIND_TITLES = {
    "regression": "Regression (MAE, RMSE, R²)",
    "segmentation": "Segmentation (mean foreground Dice and IoU per image, pixel accuracy)",
    "per_frame": "Per-frame tasks (frame-level, bootstrap over patients)",
    "eeg": "EEG classification (balanced accuracy, Cohen's kappa, weighted F1)",
}


def _kinds_body(tables: dict[str, Table], fmt: str) -> str:
    parts = []
    for kind in KIND_METRICS:
        t = tables.get(f"kind:{kind}")
        if t is None or not t.rows:
            continue
        title = KIND_TITLES[kind]
        if fmt == "html":
            parts.append(f"<h3>{html.escape(title)}</h3>" + _html_table(t))
        else:
            parts.append(f"### {title}\n\n" + _md_table(t))
    if not parts:
        msg = "no regression, segmentation, per-frame or EEG tasks among these runs"
        return f"<p><em>{msg}</em></p>" if fmt == "html" else f"_{msg}_\n"
    return "".join(parts) if fmt == "html" else "\n".join(parts)


FUSION_NOTE = (
    "Tasks trained with several input combinations: each fusion strategy over the listed "
    "fields (model.fusion) and the single-field baselines, on the same split; the report's "
    "metric, or MAE for regression tasks (lower is better)."
)


def _fusion_body(t: Table, fmt: str) -> str:
    empty = "no task trained with two or more input combinations"
    return _noted_table(t, FUSION_NOTE, empty, fmt)


def environment(data: ReportData) -> dict[str, str]:
    from climb import __version__

    infos = [r.info for r in data.runs.values() if r.info]
    env = {
        "climb (runs)": ", ".join(sorted({str(i.get("climb_version")) for i in infos})) or "?",
        "torch (runs)": ", ".join(sorted({str(i.get("torch")) for i in infos})) or "?",
        "device (runs)": ", ".join(sorted({str(i.get("device")) for i in infos})) or "?",
        "report written by": f"climb {__version__}, Python {sys.version.split()[0]}",
        "platform": platform.platform(),
        "metric / split": f"{data.metric} / {data.split}",
    }
    return env


def _html_table(t: Table) -> str:
    if not t.rows:
        return "<p><em>none</em></p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in t.header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in t.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def md_escape(s: object) -> str:
    """A user string (run name, dataset key, reason, config value, title) made inert in
    Markdown, as ``html.escape`` makes it inert in index.html: HTML tags and entities are
    escaped (many Markdown renderers pass raw HTML through), line breaks become spaces (no new
    block, heading or link definition), and table pipes, backticks and link/image syntax
    (``](``) are backslash-escaped. The text still reads the same once rendered."""
    text = html.escape(str(s), quote=False)
    text = " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text
    text = text.replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")
    return text.replace("](", "]\\(")


def _md_table(t: Table) -> str:
    if not t.rows:
        return "_none_\n"
    esc = md_escape
    lines = ["| " + " | ".join(map(esc, t.header)) + " |", "|" + "---|" * len(t.header)]
    lines += ["| " + " | ".join(map(esc, row)) + " |" for row in t.rows]
    return "\n".join(lines) + "\n"


CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #0072B2;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}th{background:#eef4fa}
tr:nth-child(even) td{background:#fafafa}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}nav a{margin-right:1em}.note{color:#555;font-size:.9em}
"""


def build_report(
    paths: list[str | Path],
    out: str | Path,
    *,
    title: str = "climb report",
    metric: str = "auroc",
    split: str = "test",
    stores: str | Path | None = None,
) -> Path:
    """Write ``<out>/index.html`` (self-contained) and ``<out>/report.md`` (+ ``figures/``);
    returns the HTML path."""
    data = collect(paths, metric=metric, split=split, stores=stores)
    tables = _tables(data)
    comp = comparison_table(data)
    few = fewshot_table(data)
    figs: dict[str, Figure] = {}
    for name, title_, png, cap in (
        ("composition", "Samples per dataset and split", fig_composition(data),
         "Samples in each unified store by split; quarantined records are not in the store."),
        ("delta", "ΔAUROC (multitask − single-task)", fig_delta(comp, metric),
         "Difference of the point estimates on the test split (as CLIMB's Figure 3); see the table for each side's CI."),
        ("fewshot", "Few-shot curves", fig_fewshot(few, metric),
         "Test macro metric against k samples per class, from scratch vs from the multitask encoder (as CLIMB's Figure 4)."),
        ("training", "Training curves", fig_training(data),
         "Training loss (lines) and validation loss (diamonds) per task from each run's metrics.csv."),
    ):  # fmt: skip
        if png is not None:
            figs[name] = Figure(name, title_, png, cap)
    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for f in figs.values():
        (out / "figures" / f"{f.name}.png").write_bytes(f.png)
    env = environment(data)
    n_runs = len(data.runs)

    def fig_html(name: str) -> str:
        f = figs.get(name)
        if f is None:
            return "<p><em>no data for this figure</em></p>"
        b64 = base64.b64encode(f.png).decode()
        return (
            f'<figure id="fig-{name}"><img alt="{html.escape(f.title)}" src="data:image/png;base64,{b64}">'
            f"<figcaption>{html.escape(f.caption)}</figcaption></figure>"
        )

    def fig_md(name: str) -> str:
        f = figs.get(name)
        return f"![{f.title}](figures/{f.name}.png)\n\n_{f.caption}_\n" if f else "_no data_\n"

    body = {
        "composition": (fig_html("composition") + _html_table(tables["composition"]),
                        fig_md("composition") + "\n" + _md_table(tables["composition"])),
        "auroc": (_html_table(tables["auroc"]), _md_table(tables["auroc"])),
        "delta": (fig_html("delta"), fig_md("delta")),
        "fewshot": (fig_html("fewshot") + _html_table(tables["fewshot"]),
                    fig_md("fewshot") + "\n" + _md_table(tables["fewshot"])),
        "weighting": (_weighting_note(tables["weighting"], "html"),
                      _weighting_note(tables["weighting"], "md")),
        "kinds": (_kinds_body(tables, "html"), _kinds_body(tables, "md")),
        "fusion": (_fusion_body(tables["fusion"], "html"), _fusion_body(tables["fusion"], "md")),
        "training": (fig_html("training"), fig_md("training")),
        "quarantine": (_html_table(tables["quarantine"]), _md_table(tables["quarantine"])),
        "config": (_html_table(tables["config"]) + _html_table(Table(["", ""], [[k, v] for k, v in env.items()])),
                   _md_table(tables["config"]) + "\n" + _md_table(Table(["", ""], [[k, v] for k, v in env.items()]))),
    }  # fmt: skip
    intro = (
        f"{n_runs} run(s); metric <b>{html.escape(metric)}</b> on the <b>{html.escape(split)}</b> "
        "split with 95% patient-level bootstrap confidence intervals. Every number in the tables "
        "is read from the runs' results.parquet."
    )
    nav = "".join(f'<a href="#{sid}">{html.escape(t)}</a>' for sid, t in SECTIONS)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p class='note'>{intro}</p><nav>{nav}</nav>",
    ]
    md = [f"# {md_escape(title)}\n", intro.replace("<b>", "**").replace("</b>", "**") + "\n"]
    for sid, t in SECTIONS:
        parts.append(f'<section id="{sid}"><h2>{html.escape(t)}</h2>{body[sid][0]}</section>')
        md.append(f"## {t}\n\n{body[sid][1]}")
    parts.append("</body></html>")
    index = out / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    return index


__all__ = [
    "SECTIONS",
    "build_report",
    "collect",
    "comparison_table",
    "fewshot_table",
    "fmt_ci",
    "fusion_table",
    "kind_tables",
    "weighting_table",
]
