"""The training loop: every mode (single-task, multitask, linear probe, fine-tune, few-shot).

Mode follows from the config: several ``data.tasks`` = multitask; ``model.init`` = start the
encoder(s) from a checkpoint (fine-tune), plus ``model.freeze_encoder`` = linear probe;
``data.few_shot`` = train on k samples per class. Everything else is shared.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from climb.data import TaskMixture, make_loader, task_stream
from climb.errors import ClimbError
from climb.train.config import Config, diff_keys, dump_config, load_config
from climb.train.setup import (
    Dist,
    MultiTaskModel,
    TaskData,
    build_model,
    build_tasks,
    init_distributed,
    init_encoders,
    rng_state,
    seed_everything,
    select_device,
    set_rng_state,
)

CKPT_FORMAT = "climb-checkpoint"
# keys that may change between an interrupted run and its resume
RESUME_MUTABLE = (
    "train.stop_after",
    "data.num_workers",
    "run.device",
    "data.root",
    "data.tasks",
    "evaluate",
)


def lr_lambda(step: int, warmup: int, total: int, min_ratio: float) -> float:
    """Linear warm-up to 1, then cosine down to ``min_ratio`` at ``total`` steps."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    span = max(1, total - warmup)
    prog = min(1.0, (step - warmup) / span)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * prog))


def _param_groups(model: nn.Module, wd: float) -> list[dict[str, Any]]:
    decay, no_decay = [], []
    for _, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]


def _atomic_save(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


class MetricsLog:
    """metrics.jsonl (every field) and metrics.csv (fixed columns), appended row by row."""

    COLUMNS = (
        "step",
        "kind",
        "task",
        "loss",
        "lr",
        "metric",
        "value",
        "samples_per_s",
        "elapsed_s",
    )

    def __init__(self, run_dir: Path, enabled: bool) -> None:
        self.enabled = enabled
        self.jsonl = run_dir / "metrics.jsonl"
        self.csv = run_dir / "metrics.csv"
        if enabled and not self.csv.exists():
            with self.csv.open("w", newline="") as fh:
                csv.writer(fh).writerow(self.COLUMNS)

    def write(self, **row: Any) -> None:
        if not self.enabled:
            return
        with self.jsonl.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, default=float) + "\n")
        with self.csv.open("a", newline="") as fh:
            csv.writer(fh).writerow([row.get(c, "") for c in self.COLUMNS])


class Progress:
    """A rich progress bar on a terminal; plain lines otherwise."""

    def __init__(self, total: int, start: int, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = enabled and sys.stderr.isatty()
        self._bar: Any = None
        if self.tty:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RP

            from climb.console import stderr_console

            self._bar = RP(
                TextColumn("train"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[info]}"),
                console=stderr_console(),
            )
            self._bar.start()
            self._id = self._bar.add_task("train", total=total, completed=start, info="")

    def update(self, step: int, info: str, force_line: bool = False) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._id, completed=step, info=info)
        elif force_line:
            print(f"step {step}: {info}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def _amp(cfg: Config, device: torch.device) -> tuple[bool, torch.dtype]:
    on = cfg.run.amp == "on" or (cfg.run.amp == "auto" and device.type == "cuda")
    if not on or device.type != "cuda":
        return False, torch.float32
    return True, torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _to(
    batch: dict[str, Any], t: TaskData, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    nb = device.type == "cuda"
    x = batch["inputs"][t.field].to(device, non_blocking=nb)
    y = batch["targets"][t.entry.task].to(device, non_blocking=nb)
    return x, y


@torch.no_grad()
def predict(
    model: MultiTaskModel,
    t: TaskData,
    ds: Any,
    device: torch.device,
    batch_size: int,
    amp: tuple[bool, torch.dtype] = (False, torch.float32),
    max_batches: int | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """(targets, logits, mean loss) over ``ds`` in dataset order."""
    from climb.models import task_loss

    model.eval()
    ys, outs, losses, ns = [], [], [], []
    loader = make_loader(ds, batch_size, shuffle=False)
    for i, batch in enumerate(loader):
        if max_batches is not None and i >= max_batches:
            break
        x, y = _to(batch, t, device)
        with torch.autocast(device.type, dtype=amp[1], enabled=amp[0]):
            out = model(x, t.head_key)
        out = out.float()
        losses.append(float(task_loss(t.type, out, y)))
        ns.append(len(y))
        ys.append(y.cpu().numpy())
        outs.append(out.cpu().numpy())
    if not ys:
        return np.zeros(0), np.zeros(0), float("nan")
    loss = float(np.average(losses, weights=ns))
    return np.concatenate(ys), np.concatenate(outs), loss


def quick_auroc(task_type: str, y: np.ndarray, logits: np.ndarray) -> float:
    """Macro AUROC over classes with both outcomes observed (for checkpoint selection)."""
    from sklearn.metrics import roc_auc_score

    from climb.models import predict_scores

    s = predict_scores(task_type, logits)
    if task_type == "regression":
        return float("nan")
    if task_type == "binary":
        m = y >= 0
        yy = y[m]
        return float(roc_auc_score(yy, s[m])) if len(np.unique(yy)) == 2 else float("nan")
    if task_type == "multiclass":
        y2 = np.full((len(y), s.shape[1]), -1)
        m = y >= 0
        y2[m] = np.eye(s.shape[1], dtype=int)[y[m]]
        y = y2
    aucs = []
    for c in range(s.shape[1]):
        m = y[:, c] >= 0
        yc = y[m, c]
        if len(np.unique(yc)) == 2:
            aucs.append(roc_auc_score(yc, s[m, c]))
    return float(np.mean(aucs)) if aucs else float("nan")


def _load_ckpt(path: Path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=False)


def prepare_run_dir(cfg: Config, out: Path | None, resume: bool) -> Path:
    if out is None:
        out = cfg.data_root() / "runs" / cfg.run.name
    out = Path(out).expanduser()
    saved = out / "config.yaml"
    if resume:
        if not saved.is_file():
            raise ClimbError(
                f"cannot resume: {out} holds no config.yaml",
                where=str(out),
                fix="give the run directory of an earlier 'climb train --out'",
            )
        old = load_config(saved)
        diffs = [
            k
            for k in diff_keys(old, cfg)
            if not any(k == m or k.startswith(m + ".") for m in RESUME_MUTABLE)
        ]
        if diffs:
            raise ClimbError(
                f"the config differs from the run's saved config in: {', '.join(diffs)}",
                where=str(saved),
                fix="resume with the same config (only train.stop_after, data.num_workers, "
                "data.root, run.device and evaluate.* may change), or start a new --out",
            )
    elif (out / "checkpoints" / "last.pt").exists():
        raise ClimbError(
            f"{out} already holds a trained run",
            where=str(out),
            fix="pass --resume to continue it, or choose another --out",
        )
    return out


def train(
    cfg: Config, out: Path | None = None, *, resume: bool = False, evaluate_at_end: bool = True
) -> Path:
    """Train according to ``cfg`` into a run directory and return it."""
    dist = init_distributed()
    try:
        return _train(cfg, out, resume, evaluate_at_end, dist)
    finally:
        if dist.enabled:
            import torch.distributed as td

            if td.is_initialized():
                td.destroy_process_group()


def _broadcast_path(p: Path | None, dist: Dist) -> Path:
    if not dist.enabled:
        assert p is not None
        return p
    import torch.distributed as td

    obj = [str(p) if p is not None else None]
    td.broadcast_object_list(obj, src=0)
    return Path(str(obj[0]))


def _train(cfg: Config, out: Path | None, resume: bool, evaluate_at_end: bool, dist: Dist) -> Path:
    run_dir = prepare_run_dir(cfg, out, resume) if dist.is_main else None
    run_dir = _broadcast_path(run_dir, dist)
    if dist.is_main:
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        dump_config(cfg, run_dir / "config.yaml")
    if dist.enabled:
        import torch.distributed as td

        td.barrier()
    device = select_device(cfg.run.device, dist)
    seed_everything(cfg.run.seed, cfg.run.deterministic)
    tasks = build_tasks(cfg, run_dir, is_main=dist.is_main)
    by_key = {t.head_key: t for t in tasks}
    model = build_model(cfg, tasks)
    init_reports = init_encoders(model, cfg)
    if cfg.model.freeze_encoder:
        for p in model.encoders.parameters():
            p.requires_grad_(False)
    model.to(device)
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ClimbError(
            "nothing to train: every parameter is frozen", where="model.freeze_encoder"
        )
    ddp_model: nn.Module = model
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ddp_model = DDP(
            model,
            device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=len(tasks) > 1,
        )
    o = cfg.optim
    opt = torch.optim.AdamW(
        _param_groups(model, o.weight_decay), lr=o.lr, betas=(o.betas[0], o.betas[1])
    )
    min_ratio = o.min_lr / o.lr
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: lr_lambda(s, o.warmup_steps, cfg.train.max_steps, min_ratio)
    )
    amp = _amp(cfg, device)
    scaler = torch.amp.GradScaler("cuda", enabled=amp[0] and amp[1] == torch.float16)

    d = cfg.data
    streams = {
        t.head_key: task_stream(
            t.train,
            d.batch_size,
            shuffle=True,
            mode=d.sampling,
            window_chunks=d.window_chunks,
            seed=cfg.run.seed + 1000 * i,
            drop_last=False,
            rank=dist.rank,
            world_size=dist.world_size,
            num_workers=d.num_workers,
            pin_memory=device.type == "cuda",
        )
        for i, t in enumerate(tasks)
    }
    mixture = TaskMixture(
        streams,
        {t.head_key: len(t.train) for t in tasks},
        d.mixture,
        d.temperature,
        seed=cfg.run.seed,
    )
    step = 0
    best: dict[str, Any] = {"score": None, "step": None}
    last = run_dir / "checkpoints" / "last.pt"
    if resume and last.is_file():
        ck = _load_ckpt(last)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        scaler.load_state_dict(ck["scaler"])
        mixture.load_state_dict(ck["data"])
        set_rng_state(ck["rng"][min(dist.rank, len(ck["rng"]) - 1)])
        step = int(ck["step"])
        best = dict(ck["best"])
    log = MetricsLog(run_dir, dist.is_main)
    if dist.is_main:
        _write_run_info(run_dir, cfg, tasks, init_reports, device, dist)

    def checkpoint(path: Path) -> None:
        rngs = [rng_state()]
        if dist.enabled:
            import torch.distributed as td

            gathered: list[Any] = [None] * dist.world_size
            td.all_gather_object(gathered, rngs[0])
            rngs = gathered
        if dist.is_main:
            _atomic_save(
                {
                    "format": CKPT_FORMAT,
                    "step": step,
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(),
                    "scaler": scaler.state_dict(),
                    "data": mixture.state_dict(),
                    "rng": rngs,
                    "best": best,
                    "config_hash": cfg.hash(),
                    "tasks": _task_info(tasks),
                },
                path,
            )

    def validate() -> None:
        scores, row_losses = [], []
        for t in tasks:
            if t.val is None:
                continue
            y, lg, loss = predict(
                model, t, t.val, device, d.eval_batch_size, amp, cfg.train.max_eval_batches
            )
            auc = quick_auroc(t.type, y, lg) if len(y) else float("nan")
            row_losses.append(loss)
            scores.append(auc)
            log.write(
                step=step,
                kind="val",
                task=t.id,
                loss=loss,
                metric="auroc",
                value=auc,
                elapsed_s=round(time.time() - t0, 3),
            )
        model.train()
        if cfg.model.freeze_encoder:
            model.encoders.eval()
        if not row_losses:
            return
        score = (
            -float(np.mean(row_losses))
            if cfg.train.select == "val_loss"
            else float(np.nanmean(scores))
            if not np.all(np.isnan(scores))
            else float("nan")
        )
        if not math.isnan(score) and (best["score"] is None or score > best["score"]):
            best.update(score=score, step=step)
            _atomic_save(
                {
                    "format": CKPT_FORMAT,
                    "step": step,
                    "model": model.state_dict(),
                    "best": best,
                    "config_hash": cfg.hash(),
                    "tasks": _task_info(tasks),
                },
                run_dir / "checkpoints" / "best.pt",
            )

    model.train()
    if cfg.model.freeze_encoder:
        model.encoders.eval()
    from climb.models import task_loss

    t0 = time.time()
    stop_at = cfg.train.max_steps
    if cfg.train.stop_after is not None:
        stop_at = min(stop_at, cfg.train.stop_after)
    bar = Progress(cfg.train.max_steps, step, dist.is_main)
    n_seen, t_last = 0, time.time()
    try:
        while step < stop_at:
            key, batch = next(mixture)
            t = by_key[key]
            x, y = _to(batch, t, device)
            with torch.autocast(device.type, dtype=amp[1], enabled=amp[0]):
                logits = ddp_model(x, key)
            loss = task_loss(t.type, logits.float(), y)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if o.grad_clip:
                scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(trainable, o.grad_clip)
            scaler.step(opt)
            scaler.update()
            sched.step()
            step += 1
            n_seen += len(y)
            loss_v = float(loss.detach())
            if step % cfg.train.log_every == 0 or step == stop_at:
                now = time.time()
                sps = n_seen * dist.world_size / max(1e-9, now - t_last)
                n_seen, t_last = 0, now
                lr = sched.get_last_lr()[0]
                log.write(
                    step=step,
                    kind="train",
                    task=t.id,
                    loss=loss_v,
                    lr=lr,
                    samples_per_s=round(sps, 1),
                    elapsed_s=round(now - t0, 3),
                )
                bar.update(step, f"loss {loss_v:.4f} lr {lr:.2e}", force_line=True)
            else:
                bar.update(step, f"loss {loss_v:.4f}")
            if step % cfg.train.eval_every == 0 or step == cfg.train.max_steps:
                if dist.is_main:
                    validate()
                if dist.enabled:
                    import torch.distributed as td

                    td.barrier()
            if step % cfg.train.checkpoint_every == 0 or step == stop_at:
                checkpoint(last)
    finally:
        bar.close()
        for s in streams.values():
            s.close()
    if dist.is_main and best["score"] is None and step >= cfg.train.max_steps:
        # no validation data: the last weights are the best we have
        _atomic_save(
            {
                "format": CKPT_FORMAT,
                "step": step,
                "model": model.state_dict(),
                "best": best,
                "config_hash": cfg.hash(),
                "tasks": _task_info(tasks),
            },
            run_dir / "checkpoints" / "best.pt",
        )
    finished = step >= cfg.train.max_steps
    if dist.is_main:
        log.write(
            step=step, kind="stop" if not finished else "done", elapsed_s=round(time.time() - t0, 3)
        )
    if finished and evaluate_at_end and dist.is_main:
        from climb.train.evaluation import evaluate_run

        evaluate_run(run_dir, device=str(device))
    if dist.enabled:
        import torch.distributed as td

        td.barrier()
    return run_dir


def _task_info(tasks: list[TaskData]) -> dict[str, Any]:
    return {
        t.head_key: {
            "id": t.id,
            "dataset": t.entry.dataset,
            "task": t.entry.task,
            "type": t.type,
            "classes": t.classes,
            "field": t.field,
            "modality": t.modality,
        }
        for t in tasks
    }


def _write_run_info(
    run_dir: Path,
    cfg: Config,
    tasks: list[TaskData],
    init: list[Any],
    device: torch.device,
    dist: Dist,
) -> None:
    from climb import __version__

    info = {
        "climb_version": __version__,
        "torch": torch.__version__,
        "device": str(device),
        "world_size": dist.world_size,
        "config_hash": cfg.hash(),
        "tasks": {
            t.id: {
                "type": t.type,
                "n_train": len(t.train),
                "n_val": len(t.val) if t.val is not None else 0,
                "few_shot": t.few_shot,
                "store": str(t.store_path),
            }
            for t in tasks
        },
        "init": init,
    }
    (run_dir / "run.json").write_text(json.dumps(info, indent=1, default=str), encoding="utf-8")
