"""``climb demo``: the main job end to end on the built-in corpus, offline.

    generate corpus -> serve it on 127.0.0.1 -> climb fetch (mirror URLs) -> climb prepare
    -> climb train + climb evaluate (single-task, multitask, few-shot) -> climb report

Everything runs through the same library code as the commands a user types; only the data are
synthetic and the services are a loopback mirror (docs/demo.md).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from climb.core.errors import ClimbError

MARKER = ".climb-demo"
IMAGE_SIZE = 64

# (dataset, task, modality): the pretraining tasks and the held-out few-shot targets
PRETRAIN_TASKS = (
    ("ptbxl", "superdiagnostic"),
    ("cpsc2018", "ecg7"),
    ("chexpert", "chexpert14"),
    ("busi", "busi3"),
)
HELDOUT_TASKS = (("georgia", "ecg7"), ("brain_tumor", "tumor_type"))
NO_VAL_SPLIT = {"chexpert", "brain_tumor"}  # official train/test only: carve val from train
FETCH_KEYS = ("ptbxl", "cpsc2018", "georgia", "busi", "brain_tumor")
#: Datasets the demo fetches with explicit ``--source`` SPECs: Georgia also from its alternate
#: Kaggle copy, to show prepare keeping one copy of each duplicate record id.
FETCH_SOURCES = {"georgia": ("physionet", "kaggle", "github")}
# EEG (EDF), echo videos (AVI) and CT volumes (NIfTI): manual sources like CheXpert, placed
# under raw/<key>; each gets a single-task run of its own (MODALITY_TASKS)
MANUAL_KEYS = ("chexpert", "tuab", "echonet_dynamic", "inspect")
#: single-task runs on the other modalities (dataset, task): TUAB abnormal EEG (braindecode
#: EEGNet), EchoNet-Dynamic ejection fraction (regression on 8-frame clips, a tiny ConvNeXt per
#: frame + mean pooling) and INSPECT PE (a tiny ConvNeXt per CT slice + mean pooling)
MODALITY_TASKS = (("tuab", "abnormal"), ("echonet_dynamic", "ef"), ("inspect", "pe"))
#: prepare split rules other than the adapter's default: INSPECT's `climb` rule (first 75 % of
#: the label table's rows -> train) keeps both classes in the demo's tiny test split
PREPARE_SPLITS = {"inspect": "climb"}
# multitask loss weightings compared in the report (train.task_weighting)
WEIGHTINGS = ("uniform", "size", "drpo")
ALL_KEYS = (*FETCH_KEYS, *MANUAL_KEYS)


@dataclass(frozen=True)
class DemoPlan:
    """Sizes of one demo run: ``quick`` is what the test suite runs (about 2 minutes)."""

    quick: bool
    single_steps: int
    multitask_steps: int
    fewshot_steps: int
    ks: tuple[int, ...]
    n_boot: int
    ecg_samples: int  # ECG input length after the crop (500 Hz)
    batch_size: int = 16

    @classmethod
    def make(cls, quick: bool) -> DemoPlan:
        if quick:
            return cls(True, 20, 40, 10, (1, 2, 4, 8, 16), 100, 1250)
        return cls(False, 100, 200, 25, (1, 2, 4, 8, 16), 1000, 2500)


@dataclass
class DemoResult:
    out: Path
    report: Path
    runs: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


@contextmanager
def _env(values: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def prepare_out(out: Path) -> None:
    """Create ``out`` or reuse a previous demo folder (its outputs are replaced). A non-empty
    folder that is not a demo folder is refused, so nothing of the user's is deleted."""
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ClimbError(
            f"{out} exists and is not a climb demo folder",
            fix="choose another --out (the demo only replaces folders it created itself)",
        )
    for sub in ("mirror", "data", "report"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("created by climb demo; safe to delete\n")


# ------------------------------------------------------------------------------ configs
def base_config(root: Path, plan: DemoPlan, seed: int, name: str) -> dict[str, Any]:
    return {
        "run": {"name": name, "seed": seed, "device": "auto"},
        "data": {
            "root": str(root),
            "tasks": [],
            "batch_size": plan.batch_size,
            "eval_batch_size": 64,
            "num_workers": 0,
            # one pipeline for both modalities: uint8 images and mV signals become float, the
            # ECG is cut to its first 5 s (images are shorter than 2500 and untouched), then
            # every record is standardized per channel
            "transforms": [
                {"name": "to_float"},
                {"name": "nan_to_num"},
                {"name": "crop", "length": plan.ecg_samples},
                {"name": "zscore", "per_channel": True},
            ],
        },
        "model": {
            "encoders": {
                "signal": {"name": "xresnet1d", "kwargs": {"depth": 18, "widen": 0.25}},
                "image": {"name": "test_convnext", "kwargs": {}},
            },
            "head_dropout": 0.1,
        },
        "optim": {"lr": 3e-3, "weight_decay": 0.01, "warmup_steps": 5},
        "train": {
            "max_steps": plan.single_steps,
            "eval_every": plan.single_steps,
            "checkpoint_every": plan.single_steps,
            "log_every": 5,
            "select": "val_loss",
            "max_eval_batches": 4,
        },
        "evaluate": {"splits": ["test"], "n_boot": plan.n_boot, "seed": seed},
    }


def task_entry(dataset: str, task: str) -> dict[str, Any]:
    e: dict[str, Any] = {"dataset": dataset, "task": task}
    if dataset in NO_VAL_SPLIT:
        e["val_fraction"] = 0.15
    return e


def modality_config(
    root: Path, plan: DemoPlan, seed: int, dataset: str, task: str
) -> dict[str, Any]:
    """The single-task run on an EEG, video or CT store (MODALITY_TASKS): small encoders and
    inputs, so that the quick demo stays quick."""
    c = base_config(root, plan, seed, f"single__{dataset}__{task}")
    data, model = c["data"], c["model"]
    if dataset == "tuab":  # (16, 2000) µV windows at 200 Hz; configs/tuab.yaml's scaling
        data["tasks"] = [{"dataset": dataset, "task": task, "field": "eeg"}]
        data["transforms"] = [  # µV -> units of 100 µV, the central 5 s (eeg_multitask.yaml)
            {"name": "to_float", "scale": 0.01},
            {"name": "crop", "length": 1000, "where": "center"},
        ]
        model["encoders"] = {"signal": {"name": "eegnet", "kwargs": {}}}
    elif dataset == "echonet_dynamic":  # (T, 64, 64, 3) uint8 videos; EF in %
        data["tasks"] = [{"dataset": dataset, "task": task, "field": "video"}]
        data["ragged"] = {"video": {"name": "clip", "frames": 8, "mode": "uniform"}}
        data["transforms"] = [
            {"name": "video_to_float", "layout": "BCTHW", "mean": [0.13] * 3, "std": [0.2] * 3}
        ]
        model["encoders"] = {
            "video": {"name": "frame_pool", "kwargs": {"image_encoder": "test_convnext"}}
        }
        # the regression head starts at the training mean EF (TaskKind.init_head)
        c["train"]["select"] = "val_mae"
    elif dataset == "inspect":  # (Z, 64, 64) int16 HU volumes, 12 slices
        data["tasks"] = [{"dataset": dataset, "task": task, "field": "ct", "val_fraction": 0.25}]
        data["ragged"] = {"ct": {"name": "crop", "length": 8}}
        data["transforms"] = [{"name": "ct_window", "presets": ["pe"]}]
        model["encoders"] = {
            "volume": {"name": "slice_pool", "kwargs": {"image_encoder": "test_convnext"}}
        }
    else:
        raise ClimbError(f"no demo run for {dataset}/{task}")
    if dataset != "tuab":  # 8 clips / volumes of 8 frames / slices per step
        data["batch_size"] = 8
    return c


def experiment_configs(root: Path, plan: DemoPlan, seed: int) -> list[dict[str, Any]]:
    """Every run of the demo, in order (few-shot runs from the multitask encoder come after
    the multitask run they start from)."""
    runs_dir = root / "runs"
    cfgs = []
    for ds, task in PRETRAIN_TASKS:
        c = base_config(root, plan, seed, f"single__{ds}__{task}")
        c["data"]["tasks"] = [task_entry(ds, task)]
        cfgs.append(c)
    cfgs += [modality_config(root, plan, seed, ds, task) for ds, task in MODALITY_TASKS]
    # the multitask run (uniform loss weights; the few-shot runs start from it), then the same
    # run with the other train.task_weighting schemes: the weighting ablation of the report.
    # Four validations per run, so that DRPO's weights follow the tasks' difficulties.
    for weighting in WEIGHTINGS:
        name = "multitask" if weighting == "uniform" else f"multitask__{weighting}"
        m = base_config(root, plan, seed, name)
        m["data"]["tasks"] = [task_entry(ds, t) for ds, t in PRETRAIN_TASKS]
        m["data"]["mixture"] = "uniform"
        m["train"].update(
            max_steps=plan.multitask_steps,
            eval_every=max(1, plan.multitask_steps // 4),
            checkpoint_every=plan.multitask_steps,
            task_weighting=weighting,
        )
        cfgs.append(m)
    for ds, task in HELDOUT_TASKS:
        for k in plan.ks:
            for init in ("scratch", "multitask"):
                c = base_config(root, plan, seed, f"fewshot__{ds}__{task}__k{k}__{init}")
                c["data"]["tasks"] = [task_entry(ds, task)]
                c["data"]["few_shot"] = {"k": k, "seed": seed}
                c["data"]["batch_size"] = 8
                c["train"].update(
                    max_steps=plan.fewshot_steps,
                    eval_every=plan.fewshot_steps,
                    checkpoint_every=plan.fewshot_steps,
                )
                c["optim"]["lr"] = 1e-3
                if init == "multitask":
                    c["model"]["init"] = str(runs_dir / "multitask")
                cfgs.append(c)
    return cfgs


# ------------------------------------------------------------------------------ stages
def _console() -> Any:
    from climb.core.console import stderr_console

    return stderr_console()


def _bar(console: Any) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
    )


def stage_generate(mirror: Path, seed: int, quick: bool) -> dict[str, Any]:
    from climb.demo.corpus import STEPS, CorpusSizes, generate_corpus

    sizes = CorpusSizes.quick() if quick else CorpusSizes()
    with _bar(_console()) as bar:
        t = bar.add_task("generate corpus", total=len(STEPS), info="")

        def done(name: str) -> None:
            bar.update(t, advance=1, info=name)

        return generate_corpus(mirror, seed, sizes, progress=done)


def stage_fetch(mirror: Path, root: Path) -> None:
    """Serve the mirror on 127.0.0.1 and run ``climb fetch`` against it; CheXpert (a manual
    source) is placed by hand as its card says, then recorded by ``climb fetch``."""
    from climb.demo.server import MirrorServer
    from climb.fetch._commands import run_fetch

    config_dir = Path(tempfile.mkdtemp(prefix="climb-demo-config-"))
    try:
        with MirrorServer(mirror) as srv:
            env = {
                **srv.env(),
                # the loopback Kaggle emulator accepts any login; the user's real credentials
                # and config are never read (CLIMB_CONFIG_DIR is an empty folder)
                "KAGGLE_USERNAME": "climb-demo",
                "KAGGLE_KEY": "demo-key",
                "CLIMB_NO_PROMPT": "1",
                "CLIMB_CONFIG_DIR": str(config_dir),
                "KAGGLE_CONFIG_DIR": str(config_dir),
            }
            with _env(env):
                plain = [k for k in FETCH_KEYS if k not in FETCH_SOURCES]
                code = run_fetch(plain, root, (), (), 4, False, False)
                for key, specs in FETCH_SOURCES.items():
                    code = code or run_fetch([key], root, (), (), 4, False, False, specs)
                if code:
                    raise ClimbError(f"climb fetch failed on the demo mirror (exit {code})")
                for key in MANUAL_KEYS:  # "download it yourself and unpack it under raw/<key>"
                    src = mirror / "manual" / key
                    shutil.copytree(src, root / "raw" / key, dirs_exist_ok=True)
                run_fetch(list(MANUAL_KEYS), root, (), (), 4, False, True)
    finally:
        shutil.rmtree(config_dir, ignore_errors=True)


def stage_prepare(root: Path) -> dict[str, Any]:
    """``climb prepare`` every dataset (images at IMAGE_SIZE px to keep the demo fast)."""
    from climb.prepare.pipeline import prepare, resolve_adapter

    out: dict[str, Any] = {}
    console = _console()
    with _bar(console) as bar:
        for key in ALL_KEYS:
            adapter = resolve_adapter(key)
            if hasattr(adapter, "size"):
                adapter.size = IMAGE_SIZE  # type: ignore[attr-defined]
            t = bar.add_task(f"prepare {key}", total=None, info="")

            def cb(done: int, total: int, t: Any = t) -> None:
                bar.update(t, completed=done, total=total)

            res = prepare(key, root, adapter=adapter, progress=cb, splits=PREPARE_SPLITS.get(key))
            bar.update(
                t, info=f"{sum(res.counts.values())} samples, {len(res.quarantined)} quarantined"
            )
            out[key] = {"counts": res.counts, "quarantined": len(res.quarantined)}
    return out


def stage_train(root: Path, plan: DemoPlan, seed: int) -> list[Path]:
    """``climb train`` then ``climb evaluate`` for every experiment."""
    import torch

    from climb.evaluate.run import evaluate_run
    from climb.experiment.config import from_dict
    from climb.train.trainer import train

    console = _console()
    cfgs = experiment_configs(root, plan, seed)
    runs = []
    threads = torch.get_num_threads()
    # small models on few cores: one intra-op thread is 2-5x faster than two (measured on a
    # shared 2-core machine), and leaves a core for reading and decoding batches
    if (os.cpu_count() or 1) <= 4:
        torch.set_num_threads(1)
    try:
        for i, c in enumerate(cfgs, 1):
            name = c["run"]["name"]
            console.print(f"[bold]run {i}/{len(cfgs)}[/] {name}")
            run_dir = train(from_dict(c), root / "runs" / name, evaluate_at_end=False)
            evaluate_run(run_dir, print_table=False)
            runs.append(run_dir)
    finally:
        torch.set_num_threads(threads)
    return runs


def run_demo(
    out: str | Path = "climb-demo",
    *,
    seed: int = 0,
    quick: bool = False,
    open_browser: bool = False,
) -> DemoResult:
    """Run the whole demo into ``out`` and return where everything is."""
    from climb.report import build_report

    out = Path(out).expanduser().resolve()
    prepare_out(out)
    mirror, root, report_dir = out / "mirror", out / "data", out / "report"
    plan = DemoPlan.make(quick)
    console = _console()
    result = DemoResult(out=out, report=report_dir / "index.html")
    t0 = time.perf_counter()

    def stage(name: str) -> None:
        console.rule(f"[bold]{name}")

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        result.seconds[name] = round(now - since, 1)
        return now

    stage("1/5 generate the demo corpus (synthetic, native layouts)")
    corpus = stage_generate(mirror, seed, quick)
    t = lap("generate", t0)
    stage("2/5 climb fetch from a loopback mirror of PhysioNet, Kaggle and GitHub")
    stage_fetch(mirror, root)
    t = lap("fetch", t)
    stage("3/5 climb prepare")
    prepared = stage_prepare(root)
    t = lap("prepare", t)
    stage(
        "4/5 climb train + climb evaluate (single-task: ECG, images, EEG, echo video, CT; "
        "multitask x 3 weightings; few-shot)"
    )
    result.runs = stage_train(root, plan, seed)
    t = lap("train+evaluate", t)
    stage("5/5 climb report")
    build_report(result.runs, report_dir, title="climb demo report", stores=root / "stores")
    lap("report", t)
    result.seconds["total"] = round(time.perf_counter() - t0, 1)
    (out / "demo.json").write_text(
        json.dumps(
            {
                "seed": seed,
                "quick": quick,
                "plan": plan.__dict__,
                "corpus": corpus,
                "prepared": prepared,
                "seconds": result.seconds,
                "runs": [str(r) for r in result.runs],
            },
            indent=1,
            default=str,
        ),
        encoding="utf-8",
    )
    if open_browser:
        open_in_browser(result.report)
    return result


def open_in_browser(path: Path) -> bool:
    """Open ``path`` in a browser if there is one; never raises."""
    try:
        import webbrowser

        return bool(webbrowser.open(path.resolve().as_uri()))
    except Exception:
        return False


__all__ = [
    "MODALITY_TASKS",
    "DemoPlan",
    "DemoResult",
    "experiment_configs",
    "modality_config",
    "open_in_browser",
    "run_demo",
]
