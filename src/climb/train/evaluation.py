"""Evaluate a run directory: predict with its checkpoint, metrics with patient-level bootstrap
CIs (climb.evaluate.metrics), thresholds chosen on validation, rows appended to results.parquet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from climb.errors import ClimbError


def evaluate_run(
    run_dir: str | Path,
    *,
    splits: list[str] | None = None,
    checkpoint: str | None = None,
    device: str | None = None,
    n_boot: int | None = None,
    print_table: bool = True,
) -> list[dict[str, Any]]:
    """Evaluate ``run_dir`` on ``splits`` (default: the config's ``evaluate.splits``)."""
    from climb import __version__
    from climb.evaluate.metrics import choose_thresholds, compute_metrics
    from climb.evaluate.results import append_results, metric_rows
    from climb.models import predict_scores
    from climb.train.config import load_config
    from climb.train.loop import _amp, predict
    from climb.train.setup import (
        Dist,
        build_model,
        build_tasks,
        resolve_checkpoint,
        select_device,
    )

    run = Path(run_dir).expanduser()
    if not (run / "config.yaml").is_file():
        raise ClimbError(
            f"{run} is not a climb run directory (no config.yaml)",
            where=str(run),
            fix="give the --out directory of a 'climb train' run",
        )
    cfg = load_config(run / "config.yaml")
    ev = cfg.evaluate
    which = checkpoint or ev.checkpoint
    ckpt_path = resolve_checkpoint(run, which)
    ck = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    dev = select_device(device or cfg.run.device, Dist())
    cfg.model.init = None  # weights come from the run's own checkpoint
    tasks = build_tasks(cfg, None)
    model = build_model(cfg, tasks)
    model.load_state_dict(ck["model"])
    model.to(dev).eval()
    amp = _amp(cfg, dev)
    splits = list(splits or ev.splits)
    rows: list[dict[str, Any]] = []
    boot = ev.n_boot if n_boot is None else n_boot
    for t in tasks:
        thr: float | np.ndarray | None = None
        if t.type in ("binary", "multilabel") and t.val is not None and len(t.val):
            yv, lv, _ = predict(model, t, t.val, dev, cfg.data.eval_batch_size, amp)
            thr = choose_thresholds(t.type, yv, predict_scores(t.type, lv), rule=ev.threshold)
        for split in splits:
            ds = t.val if split == "val" else t.dataset(split)
            if ds is None or len(ds) == 0:
                rows_missing = {
                    "run_id": run.name,
                    "dataset": t.entry.dataset,
                    "task": t.entry.task,
                    "split": split,
                    "metric": "n",
                    "value": 0.0,
                    "n": 0,
                    "note": "no samples in this split",
                    "config_hash": cfg.hash(),
                    "code_version": __version__,
                }
                rows.append(rows_missing)
                continue
            y, lg, _ = predict(model, t, ds, dev, cfg.data.eval_batch_size, amp)
            res = compute_metrics(
                t.type,
                y,
                predict_scores(t.type, lg),
                classes=t.classes or [t.entry.task],
                groups=ds.patient_ids,
                n_boot=boot,
                seed=ev.seed,
                threshold=thr,
                ci=ev.ci,
            )
            rows += metric_rows(
                res,
                run_id=run.name,
                dataset=t.entry.dataset,
                task=t.entry.task,
                split=split,
                config_hash=cfg.hash(),
                code_version=__version__,
            )
    append_results(run / "results.parquet", rows)
    if print_table:
        _print(rows, run, ckpt_path, int(ck.get("step", -1)))
    return rows


def _print(rows: list[dict[str, Any]], run: Path, ckpt: Path, step: int) -> None:
    from rich.table import Table

    from climb.console import stdout_console

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
