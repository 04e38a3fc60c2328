"""MIMIC-IV fusion comparison (issue 17): ``configs/mimic_fusion.yaml`` trained once per fusion
strategy (concat, cross_attention, gated, late) and once per unimodal baseline (``[ehr]`` only,
``[static]`` only) on one prepared ``mimic_iv`` store, with the same seed and the store's split,
through the library behind ``climb train`` / ``climb evaluate``
(:func:`climb.experiment.config.load_config` + :func:`climb.train.trainer.train`, which evaluates
the best checkpoint on the test split into ``<run>/results.parquet``).

Only the step counts (``train.max_steps`` = ``--steps``, validation / checkpoints a few times per
run), the bootstrap size (``--n-boot``) and ``data.root`` differ from the config; everything
else (encoders, lr, batch size, the four tasks, the selection on validation loss) is the
config's. The baselines set ``data.tasks.<i>.fields`` of all four tasks (the override syntax in
the config's comments).

    climb prepare mimic_iv --root /tmp/mimicroot       # raw/mimic_iv: the open demo, or MIMIC-IV
    python benchmarks/mimic_fusion.py --root /tmp/mimicroot            # default size
    python benchmarks/mimic_fusion.py --root /tmp/mimicroot --quick    # a couple of minutes

On the open MIMIC-IV demo (100 patients) the test split has about 30 admissions and a handful
of deaths: the CIs are wide and the ranking of strategies is not meaningful; the demo has no
ECG or CXR (every ``present__ecg`` / ``present__cxr`` is False, the fusions see mask tokens).

Prints a table, then ONE JSON object on the last line: per run the test metrics (mortality
AUROC with CI, LOS > 7 d AUROC, length-of-stay MAE, diagnosis macro AUROC when defined) and its
wall seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONFIG = HERE.parent / "configs" / "mimic_fusion.yaml"
STRATEGIES = ("concat", "cross_attention", "gated", "late")
BASELINES = {"ehr_only": ["ehr"], "static_only": ["static"]}
DATASET = "mimic_iv"
#: (task, metric, key in the JSON)
METRICS = (
    ("in_hospital_mortality", "auroc", "mortality_auroc"),
    ("los_gt7d", "auroc", "los_gt7d_auroc"),
    ("length_of_stay", "mae", "los_mae"),
    ("diagnosis", "auroc", "diagnosis_macro_auroc"),
)
DEFAULT_STEPS = 300
QUICK_STEPS = 60


def run_specs(
    strategies: tuple[str, ...] = STRATEGIES, baselines: dict[str, list[str]] | None = None
) -> list[tuple[str, list[str]]]:
    """``(run name, --set overrides)`` per run: one per fusion strategy, one per baseline."""
    from climb.experiment.config import load_config

    n_tasks = len(load_config(CONFIG).data.tasks)
    specs = [(s, [f"model.fusion={s}"]) for s in strategies]
    for name, fields in (BASELINES if baselines is None else baselines).items():
        sets = [f"data.tasks.{i}.fields=[{', '.join(fields)}]" for i in range(n_tasks)]
        specs.append((name, sets))
    return specs


def split_counts(root: Path) -> dict[str, Any]:
    """Samples (admissions) and patients per split, deaths per split, presence of ECG/CXR."""
    import pandas as pd

    df = pd.read_parquet(root / "stores" / DATASET / "samples.parquet")
    out: dict[str, Any] = {"admissions": {}, "patients": {}, "deaths": {}}
    for s, g in df.groupby("split"):
        out["admissions"][str(s)] = len(g)
        out["patients"][str(s)] = int(g.patient_id.nunique())
        out["deaths"][str(s)] = int((g.label__in_hospital_mortality == 1).sum())
    for f in ("ecg", "cxr"):
        col = f"present__{f}"
        out[f"present_{f}"] = int(df[col].sum()) if col in df.columns else 0
    # a trivial reference: length of stay predicted as the training median, on test
    los = df.label__length_of_stay
    test = los[df.split == "test"]
    if len(test):
        med = float(los[df.split == "train"].median())
        out["los_mae_train_median"] = round(float((test - med).abs().mean()), 4)
    return out


def _metric(res: Any, task: str, metric: str) -> dict[str, Any]:
    r = res[
        (res.task == task) & (res.metric == metric) & (res.split == "test") & res.class_name.isna()
    ]
    if r.empty:
        return {"value": None, "ci": None, "note": "no such row"}
    row = r.iloc[-1]

    def num(x: Any) -> float | None:
        return float(x) if x is not None and math.isfinite(float(x)) else None

    lo, hi = num(row.ci_low), num(row.ci_high)
    note = str(row.note or "")
    skipped = re.search(r"bootstrap: (\d+) of (\d+) replicates undefined", note)
    if skipped and int(skipped.group(1)) > int(skipped.group(2)) // 2:
        lo = hi = None  # an interval from a minority of the replicates is not one
    return {
        "value": num(row.value),
        "ci": [lo, hi] if lo is not None and hi is not None else None,
        "n": int(row.n),
        "note": note,
    }


def run_one(
    root: Path,
    out: Path,
    name: str,
    sets: list[str],
    *,
    steps: int,
    n_boot: int,
    seed: int = 0,
    extra: list[str] | None = None,
) -> dict[str, Any]:
    """Train + evaluate one run of the config; its test metrics and wall seconds."""
    import pandas as pd

    from climb.experiment.config import load_config
    from climb.train.trainer import train

    every = max(1, steps // 4)
    overrides = [
        f"data.root={root}",
        f"run.name=mimic_fusion_{name}",
        f"run.seed={seed}",
        f"train.max_steps={steps}",
        f"train.eval_every={every}",
        f"train.checkpoint_every={every}",
        f"train.log_every={every}",
        f"evaluate.n_boot={n_boot}",
        "evaluate.splits=[test]",
        *sets,
        *(extra or []),
    ]
    cfg = load_config(CONFIG, overrides)
    run_dir = out / name
    shutil.rmtree(run_dir, ignore_errors=True)
    t0 = time.perf_counter()
    train(cfg, run_dir)
    wall = time.perf_counter() - t0
    res = pd.read_parquet(run_dir / "results.parquet")
    rec: dict[str, Any] = {
        "fields": cfg.data.tasks[0].fields,
        "fusion": cfg.model.fusion if len(cfg.data.tasks[0].fields or []) > 1 else None,
        "wall_s": round(wall, 2),
        "run_dir": str(run_dir),
    }
    for task, metric, key in METRICS:
        rec[key] = _metric(res, task, metric)
    return rec


def compare(
    root: str | os.PathLike[str],
    *,
    steps: int = DEFAULT_STEPS,
    n_boot: int = 1000,
    out: str | os.PathLike[str] | None = None,
    strategies: tuple[str, ...] = STRATEGIES,
    baselines: dict[str, list[str]] | None = None,
    seed: int = 0,
    extra: list[str] | None = None,
    log: Any = None,
) -> dict[str, Any]:
    """Every strategy and baseline on the store under ``root``; the figures as one dict."""
    root = Path(root).expanduser().resolve()
    tmp = None
    if out is None:
        tmp = tempfile.mkdtemp(prefix="mimic_fusion_")
        out = tmp
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    runs: dict[str, Any] = {}
    try:
        for name, sets in run_specs(strategies, baselines):
            if log:
                log(f"--- {name}: {' '.join(sets)}")
            runs[name] = run_one(
                root, out, name, sets, steps=steps, n_boot=n_boot, seed=seed, extra=extra
            )
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return {
        "benchmark": "mimic_fusion",
        "config": str(CONFIG.relative_to(HERE.parent)),
        "root": str(root),
        "steps": steps,
        "n_boot": n_boot,
        "seed": seed,
        "split": split_counts(root),
        "runs": runs,
        "wall_s": round(time.perf_counter() - t0, 2),
    }


def _fmt(m: dict[str, Any] | None) -> str:
    if not m or m.get("value") is None:
        return "n/a"
    s = f"{m['value']:.3f}"
    if m.get("ci"):
        s += f" [{m['ci'][0]:.3f}, {m['ci'][1]:.3f}]"
    return s


def table(res: dict[str, Any]) -> str:
    cols = ["run", "mortality AUROC", "LOS>7d AUROC", "LOS MAE (d)", "dx macro AUROC", "wall s"]
    rows = [
        [
            name,
            _fmt(r["mortality_auroc"]),
            _fmt(r["los_gt7d_auroc"]),
            _fmt(r["los_mae"]),
            _fmt(r["diagnosis_macro_auroc"]),
            f"{r['wall_s']:.1f}",
        ]
        for name, r in res["runs"].items()
    ]
    w = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    line = lambda r: "  ".join(x.ljust(w[i]) for i, x in enumerate(r))  # noqa: E731
    return "\n".join([line(cols), line(["-" * n for n in w]), *map(line, rows)])


def _git_commit() -> str | None:
    import subprocess

    try:
        out = subprocess.run(
            ["git", "-C", str(HERE.parent), "describe", "--always", "--dirty"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except OSError:
        return None
    return out.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.environ.get("CLIMB_ROOT"), help="data root (stores/)")
    ap.add_argument("--steps", type=int, default=None, help=f"train.max_steps ({DEFAULT_STEPS})")
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_STEPS} steps, 200 bootstraps")
    ap.add_argument("--n-boot", type=int, default=None, help="bootstrap replicates (1000)")
    ap.add_argument("--out", default=None, help="keep the run directories here (default: temp)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", dest="extra", action="append", default=[], help="extra override")
    a = ap.parse_args(argv)
    if not a.root:
        ap.error("--root (or $CLIMB_ROOT) is required: the data root holding stores/mimic_iv")
    if not (Path(a.root).expanduser() / "stores" / DATASET / "dataset.json").is_file():
        ap.error(f"no {DATASET} store under {a.root}: run climb prepare {DATASET} --root {a.root}")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    steps = a.steps or (QUICK_STEPS if a.quick else DEFAULT_STEPS)
    n_boot = a.n_boot or (200 if a.quick else 1000)
    res = compare(
        a.root,
        steps=steps,
        n_boot=n_boot,
        out=a.out,
        seed=a.seed,
        extra=a.extra,
        log=lambda s: print(s, file=sys.stderr, flush=True),
    )
    import torch

    res["machine"] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "commit": _git_commit(),
    }
    sp = res["split"]
    print(
        f"\nMIMIC-IV fusion comparison: {res['root']}, {steps} steps, seed {a.seed}, "
        f"{n_boot} bootstraps; admissions per split {sp['admissions']}, deaths {sp['deaths']}, "
        f"ECG present {sp['present_ecg']}, CXR present {sp['present_cxr']}\n"
    )
    print(table(res))
    print(f"\ntotal {res['wall_s']:.1f} s")
    print(json.dumps(res, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
