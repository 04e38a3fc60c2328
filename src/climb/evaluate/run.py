"""Evaluate a run directory: rebuild its tasks and model from ``config.yaml``, load its
checkpoint (safely), predict, and write metrics with patient-level bootstrap CIs (each task
kind's own metrics) to ``results.parquet``. Decision thresholds are chosen on validation.

Works for every run ``climb train`` writes (classification, regression, segmentation, graph and
node tasks, multi-field fusion, k-fold cross-validation runs), without importing the trainer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from climb.core.errors import ClimbError


def fold_dirs(run: Path) -> list[tuple[int | None, Path]]:
    """``[(None, run)]`` for a plain run; ``[(k, run/folds/fold<k>), ...]`` for k-fold runs."""
    folds = sorted(
        (int(p.name[4:]), p) for p in (run / "folds").glob("fold*") if p.name[4:].isdigit()
    )
    return [(k, p) for k, p in folds] if folds else [(None, run)]


def evaluate_run(
    run_dir: str | Path,
    *,
    splits: list[str] | None = None,
    checkpoint: str | None = None,
    device: str | None = None,
    n_boot: int | None = None,
    print_table: bool = True,
    root: str | None = None,
) -> list[dict[str, Any]]:
    """Evaluate ``run_dir`` on ``splits`` (default: the config's ``evaluate.splits``).
    ``root`` replaces the saved ``data.root`` (stores moved, or read from ``s3://...``)."""
    from climb.evaluate.results import append_results
    from climb.experiment.config import load_config

    run = Path(run_dir).expanduser()
    if not (run / "config.yaml").is_file():
        raise ClimbError(
            f"{run} is not a climb run directory (no config.yaml)",
            where=str(run),
            fix="give the --out directory of a 'climb train' run",
        )
    cfg = load_config(run / "config.yaml")
    if root is not None:
        cfg.data.root = str(root)
    rows: list[dict[str, Any]] = []
    folds = fold_dirs(run)
    if cfg.data.cv is not None and folds == [(None, run)]:
        raise ClimbError(
            f"{run} is a cross-validation run without fold checkpoints",
            where=str(run / "folds"),
            fix="train it first (climb train ... --out RUN)",
        )
    steps = []
    for fold, fdir in folds:
        r, step, ck = _evaluate_fold(cfg, run, fdir, fold, splits, checkpoint, device, n_boot)
        rows += r
        steps.append((ck, step))
    if cfg.data.cv is not None:
        rows += cv_summary(rows, run.name, cfg.hash())
    append_results(run / "results.parquet", rows)
    if print_table:
        ck, step = steps[-1]
        _print(rows, run, ck, step)
    return rows


def _evaluate_fold(
    cfg: Any,
    run: Path,
    fdir: Path,
    fold: int | None,
    splits: list[str] | None,
    checkpoint: str | None,
    device: str | None,
    n_boot: int | None,
) -> tuple[list[dict[str, Any]], int, Path]:
    from climb import __version__
    from climb.evaluate.results import metric_rows
    from climb.experiment.build import build_model, build_tasks, resolve_checkpoint
    from climb.experiment.checkpoint import load_checkpoint
    from climb.experiment.predict import amp_settings, predict
    from climb.experiment.runtime import Dist, select_device

    ev = cfg.evaluate
    ckpt_path = resolve_checkpoint(fdir, checkpoint or ev.checkpoint)
    ck = load_checkpoint(ckpt_path)
    dev = select_device(device or cfg.run.device, Dist())
    cfg.model.init = None  # weights come from the run's own checkpoint
    tasks = build_tasks(cfg, None, fold=fold)
    model = build_model(cfg, tasks)
    try:
        model.load_state_dict(ck["model"])
    except RuntimeError as exc:
        raise ClimbError(
            f"checkpoint {ckpt_path} does not fit the model of {run / 'config.yaml'}: "
            f"{str(exc).splitlines()[0][:300]}",
            where=str(ckpt_path),
            fix="evaluate a run with the config it was trained with",
        ) from None
    model.to(dev).eval()
    amp = amp_settings(cfg.run.amp, dev)
    roles = list(splits or ev.splits)
    boot = ev.n_boot if n_boot is None else n_boot
    rows: list[dict[str, Any]] = []
    bs = cfg.data.eval_batch_size
    for t in tasks:
        thr: Any = None
        if t.kind.thresholds and t.size("val"):
            cv_, _ = predict(model, t, "val", dev, bs, amp)
            thr = t.kind.choose_threshold(cv_, ev.threshold)
        for role in roles:
            split_name = role if fold is None else f"{role}_fold{fold}"
            if t.size(role) == 0:
                rows.append(
                    {
                        "run_id": run.name,
                        "dataset": t.entry.dataset,
                        "task": t.entry.task,
                        "split": split_name,
                        "metric": "n",
                        "value": 0.0,
                        "n": 0,
                        "note": "no samples in this split",
                        "config_hash": cfg.hash(),
                        "code_version": __version__,
                    }
                )
                continue
            c, _ = predict(model, t, role, dev, bs, amp)
            res = t.kind.metrics(
                c, t.spec, groups=t.groups(role), n_boot=boot, seed=ev.seed, ci=ev.ci, threshold=thr
            )
            rows += metric_rows(
                res,
                run_id=run.name,
                dataset=t.entry.dataset,
                task=t.entry.task,
                split=split_name,
                config_hash=cfg.hash(),
                code_version=__version__,
            )
    return rows, int(ck.get("step", -1)), ckpt_path


def cv_summary(rows: list[dict[str, Any]], run_id: str, chash: str) -> list[dict[str, Any]]:
    """Mean +- std over folds of every aggregate metric (split ``cv``)."""
    by: dict[tuple[str, str, str], list[float]] = {}
    for r in rows:
        if r.get("class_name") or "_fold" not in str(r["split"]) or r["metric"] == "n":
            continue
        role = str(r["split"]).split("_fold")[0]
        if role != "test":
            continue
        v = r.get("value")
        if isinstance(v, float) and np.isfinite(v):
            by.setdefault((str(r["dataset"]), str(r["task"]), str(r["metric"])), []).append(v)
    out = []
    for (ds, task, metric), vals in sorted(by.items()):
        m, sd = float(np.mean(vals)), float(np.std(vals))
        out.append(
            {
                "run_id": run_id,
                "dataset": ds,
                "task": task,
                "split": "cv",
                "metric": f"{metric}_mean",
                "value": m,
                "n": len(vals),
                "note": f"std {sd:.4f} over {len(vals)} folds",
                "config_hash": chash,
            }
        )
    return out


def write_cv_json(run: Path, rows: list[dict[str, Any]]) -> None:
    summary = {f"{r['dataset']}/{r['task']}": {} for r in rows if r.get("split") == "cv"}
    for r in rows:
        if r.get("split") == "cv":
            summary[f"{r['dataset']}/{r['task']}"][str(r["metric"])] = {
                "value": r["value"],
                "note": r["note"],
            }
    (run / "results.json").write_text(json.dumps(summary, indent=2, default=float), "utf-8")


def _print(rows: list[dict[str, Any]], run: Path, ckpt: Path, step: int) -> None:
    from rich.table import Table

    from climb.core.console import stdout_console

    table = Table(title=f"{run.name}: {ckpt.name} (step {step})")
    for c, j in (
        ("dataset", "left"),
        ("task", "left"),
        ("split", "left"),
        ("metric", "left"),
        ("value", "right"),
        ("CI", "right"),
        ("n", "right"),
    ):
        table.add_column(c, justify=j)  # type: ignore[arg-type]
    for r in rows:
        if r.get("class_name"):
            continue  # per-class rows are in results.parquet; the table shows aggregates
        lo, hi = r.get("ci_low"), r.get("ci_high")
        ci = f"[{lo:.3f}, {hi:.3f}]" if isinstance(lo, float) and np.isfinite(lo) else ""
        v = r.get("value")
        table.add_row(
            str(r["dataset"]),
            str(r["task"]),
            str(r["split"]),
            str(r["metric"]),
            f"{v:.4f}" if isinstance(v, float) else str(v),
            ci,
            str(r.get("n", "")),
        )
    stdout_console().print(table)


__all__ = ["cv_summary", "evaluate_run", "fold_dirs", "torch"]
