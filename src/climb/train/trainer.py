"""The one training loop, for every task kind and every mode.

Mode follows from the config: several ``data.tasks`` = multitask (a task mixture draws the task
of each step); ``model.init`` = start the encoder(s) from a checkpoint (fine-tune), plus
``model.freeze_encoder`` = linear probe; ``data.few_shot`` = k samples per class; ``data.cv`` =
k-fold cross-validation (one model per fold, mean +- std). The task kind (from the store) decides
targets, head, loss, metrics and selection; the objective (``train.objective``) decides what a
step computes. Devices, mixed precision, DDP and gradient accumulation come from Hugging Face
Accelerate; the loop, the schedule, model selection, early stopping, checkpoints and the exact
resume (data position, RNG states, optimizer, scheduler, scaler) are ours.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from climb.core.errors import ClimbError
from climb.experiment.build import (
    ClimbModel,
    TaskData,
    build_model,
    build_tasks,
    init_encoders,
)
from climb.experiment.checkpoint import (
    CKPT_FORMAT,
    atomic_save,
    load_checkpoint,
    rng_state,
    set_rng_state,
)
from climb.experiment.config import Config, diff_keys, dump_config, load_config
from climb.experiment.runtime import seed_everything, select_device
from climb.train.logs import MetricsLog, Progress
from climb.train.objectives import Objective, build_objective

# keys that may change between an interrupted run and its resume
RESUME_MUTABLE = (
    "train.stop_after",
    "data.num_workers",
    "data.prefetch",
    "run.device",
    "run.threads",
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


def _param_groups(params: list[tuple[str, nn.Parameter]], wd: float) -> list[dict[str, Any]]:
    decay = [p for _, p in params if p.ndim > 1]
    no_decay = [p for _, p in params if p.ndim <= 1]
    return [{"params": decay, "weight_decay": wd}, {"params": no_decay, "weight_decay": 0.0}]


def _warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr, flush=True)


def make_accelerator(cfg: Config, grad_accum: int) -> Any:
    """An :class:`accelerate.Accelerator` for ``cfg.run`` (device, precision, DDP)."""
    import os

    from accelerate import Accelerator, DistributedDataParallelKwargs
    from accelerate.state import AcceleratorState, PartialState

    dev = cfg.run.device
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:  # one process: a fresh state per run (several runs share a test process)
        AcceleratorState._reset_state(True)
        PartialState._reset_state()
    want = select_device(dev, _DistView())  # validates run.device (clear errors)
    cuda = want.type == "cuda"
    mp = "no"
    if cuda and (cfg.run.amp in ("auto", "on")):
        mp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return Accelerator(
        cpu=want.type == "cpu",
        mixed_precision=mp,
        gradient_accumulation_steps=grad_accum,
        step_scheduler_with_optimizer=False,
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )


class _DistView:
    """What :func:`select_device` needs of the process layout (before Accelerate starts)."""

    def __init__(self) -> None:
        import os

        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))


class Trainer:
    """Trains the model of ``cfg`` on its tasks into ``run_dir``."""

    def __init__(
        self,
        cfg: Config,
        run_dir: Path,
        *,
        resume: bool = False,
        fold: int | None = None,
        objective: Objective | None = None,
    ) -> None:
        self.cfg = cfg
        self.run_dir = run_dir
        self.resume = resume
        self.fold = fold
        self.objective = objective or build_objective(cfg.train.objective)

    # ------------------------------------------------------------------ setup
    def setup(self) -> None:
        cfg = self.cfg
        if cfg.run.threads:
            torch.set_num_threads(int(cfg.run.threads))
        self.acc = make_accelerator(cfg, cfg.train.grad_accum)
        self.device = self.acc.device
        self.rank, self.world = self.acc.process_index, self.acc.num_processes
        self.is_main = self.acc.is_main_process
        seed_everything(cfg.run.seed, cfg.run.deterministic)
        self.tasks: list[TaskData] = build_tasks(
            cfg, self.run_dir, is_main=self.is_main, fold=self.fold
        )
        self.by_key = {t.head_key: t for t in self.tasks}
        self.model: ClimbModel = build_model(cfg, self.tasks)
        self.init_reports = init_encoders(self.model, cfg)
        if cfg.model.freeze_encoder:
            for p in self.model.encoders.parameters():
                p.requires_grad_(False)
        self.model.to(self.device)
        named = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        if not named:
            raise ClimbError(
                "nothing to train: every parameter is frozen", where="model.freeze_encoder"
            )
        self.trainable = [p for _, p in named]
        o = cfg.optim
        if o.name == "adam":
            opt: torch.optim.Optimizer = torch.optim.Adam(
                self.trainable, lr=o.lr, betas=(o.betas[0], o.betas[1]), weight_decay=o.weight_decay
            )
        else:
            opt = torch.optim.AdamW(
                _param_groups(named, o.weight_decay), lr=o.lr, betas=(o.betas[0], o.betas[1])
            )
        self.steps_per_epoch = sum(t.batches_per_epoch(cfg.data.batch_size) for t in self.tasks)
        if self.world > 1:
            self.steps_per_epoch = max(1, -(-self.steps_per_epoch // self.world))
        if cfg.train.epochs:
            self.max_steps = int(cfg.train.epochs) * self.steps_per_epoch
            self.eval_every = self.checkpoint_every = self.steps_per_epoch
        else:
            self.max_steps = cfg.train.max_steps
            self.eval_every, self.checkpoint_every = (
                cfg.train.eval_every,
                cfg.train.checkpoint_every,
            )
        total, warm = self.max_steps, o.warmup_steps
        if o.schedule == "cosine":
            min_ratio = o.min_lr / o.lr
            fn = lambda s: lr_lambda(s, warm, total, min_ratio)  # noqa: E731
        elif o.schedule == "step":
            every = max(1, o.step_size * self.steps_per_epoch)
            fn = lambda s: o.gamma ** (s // every)  # noqa: E731
        else:
            fn = lambda s: (s + 1) / warm if warm and s < warm else 1.0  # noqa: E731
        sched = torch.optim.lr_scheduler.LambdaLR(opt, fn)
        self.ddp_model, self.opt = self.acc.prepare(self.model, opt)
        self.sched = sched
        self.task_weights = self._task_weights()
        self._validate_selection()
        pin = self.device.type == "cuda"
        self.streams = {
            t.head_key: t.stream(cfg, i, self.rank, self.world, pin)
            for i, t in enumerate(self.tasks)
        }
        from climb.data import TaskMixture

        d = cfg.data
        self.mixture = TaskMixture(
            self.streams,
            {t.head_key: t.size("train") for t in self.tasks},
            d.mixture,
            d.temperature,
            seed=cfg.run.seed,
        )
        self.flip_gen = torch.Generator().manual_seed(cfg.run.seed + 7)
        self.objective.setup(self)
        self.step = 0
        self.finished = False
        self.best: dict[str, Any] = {"score": None, "step": None, "bad": 0}
        self.log = MetricsLog(self.run_dir, self.is_main)

    def _task_weights(self) -> dict[str, float]:
        """Per-task loss weights: the config's ``weight`` times the ``task_weighting`` scheme.

        ``drpo`` starts from the size term alone (``1 / sqrt(N_t)``, no difficulty is known
        yet); every validation then updates it with the tasks' difficulties
        (:meth:`_update_drpo_weights`).
        """
        mode = self.cfg.train.task_weighting
        w = {t.head_key: float(t.entry.weight) for t in self.tasks}
        if mode == "uniform":
            return w
        from climb.rl.weighting import domain_task_weights

        sizes = {t.head_key: float(t.size("train")) for t in self.tasks}
        if mode == "size":
            dw = domain_task_weights(sizes, scheme="size")
        else:
            dw = domain_task_weights(sizes, scheme="drpo", difficulty_power=0.0)
        return {k: v * float(dw[k]) for k, v in w.items()}

    def _update_drpo_weights(self, rows: list[tuple[TaskData, str, float, float]]) -> None:
        """DRPO weighting from one validation. A task's reward is its selection score where
        that lies in [0, 1] (AUROC, accuracy, F1, Dice) and ``exp(-validation loss)``
        otherwise (for cross-entropy the geometric-mean probability of the true class);
        its difficulty is ``1 - reward``. Tasks without validation data keep difficulty 0
        (size term only)."""
        from climb.rl.weighting import domain_task_weights

        bounded = {"val_auroc", "val_acc", "val_f1", "val_dice"}
        diff = {t.head_key: 0.0 for t in self.tasks}
        for t, m, sc, loss in rows:
            if m in bounded and math.isfinite(sc):
                diff[t.head_key] = min(1.0, max(0.0, 1.0 - sc))
            elif math.isfinite(loss):
                diff[t.head_key] = min(1.0, max(0.0, 1.0 - math.exp(-max(0.0, loss))))
        sizes = {t.head_key: float(t.size("train")) for t in self.tasks}
        dw = domain_task_weights(sizes, diff, scheme="drpo")
        self.task_weights = {
            t.head_key: float(t.entry.weight) * float(dw[t.head_key]) for t in self.tasks
        }
        for t in self.tasks:
            self.log.write(
                step=self.step,
                kind="weight",
                task=t.id,
                metric="weight",
                value=round(self.task_weights[t.head_key], 6),
                difficulty=round(diff[t.head_key], 6),
            )

    def _select_metric(self, t: TaskData) -> str:
        s = self.cfg.train.select
        return t.kind.default_select if s == "auto" else s

    def _validate_selection(self) -> None:
        for t in self.tasks:
            m = self._select_metric(t)
            if m not in t.kind.select_metrics:
                raise ClimbError(
                    f"train.select={m} is not defined for {t.id} (a {t.kind.name} task)",
                    where="train.select",
                    fix=f"use auto or one of {', '.join(t.kind.select_metrics)}",
                )
        no_val = [t.id for t in self.tasks if t.size("val") == 0]
        if no_val and self.is_main:
            _warn(
                f"no validation data for {', '.join(no_val)}: model selection "
                + (
                    "uses the other tasks"
                    if len(no_val) < len(self.tasks)
                    else "uses the last step"
                )
                + " (set data.val_fraction to hold out training patients)"
            )
        if len(no_val) == len(self.tasks) and self.cfg.train.patience:
            raise ClimbError(
                "train.patience (early stopping) needs validation data, and no task has any",
                where="train.patience",
                fix="set data.val_fraction (e.g. 0.1) or remove train.patience",
            )

    def autocast(self) -> Any:
        return self.acc.autocast()

    # ------------------------------------------------------------------ state
    def _state(self, full: bool) -> dict[str, Any]:
        st: dict[str, Any] = {
            "format": CKPT_FORMAT,
            "step": self.step,
            "model": self.model.state_dict(),
            "best": dict(self.best),
            "config_hash": self.cfg.hash(),
            "tasks": _task_info(self.tasks),
            "fold": self.fold,
            "finished": self.finished,
        }
        if full:
            st["task_weights"] = dict(self.task_weights)
            st.update(
                optimizer=self.opt.state_dict(),
                scheduler=self.sched.state_dict(),
                scaler=self.acc.scaler.state_dict() if self.acc.scaler is not None else {},
                data=self.mixture.state_dict(),
                flip=self.flip_gen.get_state(),
                objective=self.objective.state_dict(),
            )
        return st

    def save_last(self) -> None:
        rngs = [rng_state()]
        if self.world > 1:
            import torch.distributed as td

            gathered: list[Any] = [None] * self.world
            td.all_gather_object(gathered, rngs[0])
            rngs = gathered
        if self.is_main:
            st = self._state(full=True)
            st["rng"] = rngs
            atomic_save(st, self.run_dir / "checkpoints" / "last.pt")

    def save_best(self) -> None:
        if self.is_main:
            atomic_save(self._state(full=False), self.run_dir / "checkpoints" / "best.pt")

    def load_last(self) -> bool:
        last = self.run_dir / "checkpoints" / "last.pt"
        if not (self.resume and last.is_file()):
            return False
        ck = load_checkpoint(last)
        self.model.load_state_dict(ck["model"])
        self.opt.load_state_dict(ck["optimizer"])
        self.sched.load_state_dict(ck["scheduler"])
        if self.acc.scaler is not None and ck.get("scaler"):
            self.acc.scaler.load_state_dict(ck["scaler"])
        self.mixture.load_state_dict(ck["data"])
        self.flip_gen.set_state(ck["flip"])
        self.objective.load_state_dict(ck.get("objective") or {})
        set_rng_state(ck["rng"][min(self.rank, len(ck["rng"]) - 1)])
        self.step = int(ck["step"])
        self.best = {"bad": 0, **dict(ck["best"])}
        self.finished = bool(ck.get("finished", False))
        if ck.get("task_weights"):
            self.task_weights = {k: float(v) for k, v in ck["task_weights"].items()}
        return True

    # ------------------------------------------------------------------ steps
    def prepare_batch(self, batch: dict[str, Any], t: TaskData) -> dict[str, Any]:
        """Onto the device; paired horizontal flip (inputs and dense targets) in training."""
        from climb.experiment.predict import move

        p = self.cfg.data.hflip
        if p > 0 and not t.is_graph:
            inputs = batch["inputs"]
            n = len(next(iter(inputs.values())))
            flip = torch.rand(n, generator=self.flip_gen) < p
            if bool(flip.any()):
                new = {}
                for f, x in inputs.items():
                    if isinstance(x, torch.Tensor) and x.ndim == 4:
                        x = x.clone()
                        x[flip] = x[flip].flip(-1)
                    new[f] = x
                batch = {**batch, "inputs": new}
        return move(batch, self.device)

    def train_step(self, key: str, batch: dict[str, Any]) -> tuple[float, int]:
        out = None
        with self.acc.accumulate(self.ddp_model):
            out = self.objective.step(self, key, batch)
            if not self.objective.manual_optimization:
                assert out.loss is not None
                self.acc.backward(out.loss)
                if self.cfg.optim.grad_clip and self.acc.sync_gradients:
                    self.acc.clip_grad_norm_(self.trainable, self.cfg.optim.grad_clip)
                self.opt.step()
                self.opt.zero_grad(set_to_none=True)
        if self.acc.sync_gradients:
            self.sched.step()
        loss = float(out.loss.detach()) if out.loss is not None else float("nan")
        return loss, out.n

    def validate(self, t0: float) -> None:
        from climb.experiment.predict import amp_settings, predict

        amp = amp_settings(self.cfg.run.amp, self.device)
        scores, losses, metrics = [], [], []
        rows: list[tuple[TaskData, str, float, float]] = []
        for t in self.tasks:
            if t.size("val") == 0:
                continue
            c, loss = predict(
                self.model,
                t,
                "val",
                self.device,
                self.cfg.data.eval_batch_size,
                amp,
                self.cfg.train.max_eval_batches,
            )
            metric = self._select_metric(t)
            sc = (
                t.kind.selection_score(metric, c, loss) if len(next(iter(c.values()))) else math.nan
            )
            losses.append(loss)
            scores.append(sc)
            metrics.append(metric)
            rows.append((t, metric, float(sc), float(loss)))
            self.log.write(
                step=self.step,
                kind="val",
                task=t.id,
                loss=loss,
                metric=metric.removeprefix("val_"),
                value=sc,
                elapsed_s=round(time.time() - t0, 3),
            )
        self.model.train()
        if self.cfg.model.freeze_encoder:
            self.model.encoders.eval()
        if rows and self.cfg.train.task_weighting == "drpo":
            self._update_drpo_weights(rows)
        if not losses:
            return
        if all(m == "val_loss" for m in metrics):
            score = -float(np.mean(losses))
        elif np.all(np.isnan(scores)):
            score = math.nan
        else:
            score = float(np.nanmean(scores))
        if math.isnan(score):
            if not self.best.get("warned_nan"):
                _warn(
                    f"step {self.step}: the selection score ({', '.join(sorted(set(metrics)))}) "
                    "is undefined on the validation data (e.g. only one class present); "
                    "this evaluation does not select a checkpoint"
                )
                self.best["warned_nan"] = True
            return
        if self.best["score"] is None or score > self.best["score"]:
            self.best.update(score=score, step=self.step, bad=0)
            self.save_best()
        else:
            self.best["bad"] = int(self.best.get("bad", 0)) + 1

    # ------------------------------------------------------------------ fit
    def fit(self) -> dict[str, Any]:
        self.setup()
        self.load_last()
        if self.resume:  # rows of steps after the checkpoint (or of a run that never wrote one)
            self.log.truncate_after(self.step)
        if self.is_main:
            self._write_run_info()
        cfg = self.cfg
        self.model.train()
        if cfg.model.freeze_encoder:
            self.model.encoders.eval()
        t0 = time.time()
        stop_at = self.max_steps
        if cfg.train.stop_after is not None:
            stop_at = min(stop_at, cfg.train.stop_after)
        bar = Progress(self.max_steps, self.step, self.is_main)
        n_seen, t_last = 0, time.time()
        try:
            while self.step < stop_at and not self.finished:
                key, batch = next(self.mixture)
                t = self.by_key[key]
                batch = self.prepare_batch(batch, t)
                loss_v, n = self.train_step(key, batch)
                self.step += 1
                n_seen += n
                if self.step % cfg.train.log_every == 0 or self.step == stop_at:
                    now = time.time()
                    sps = n_seen * self.world / max(1e-9, now - t_last)
                    n_seen, t_last = 0, now
                    lr = self.sched.get_last_lr()[0]
                    self.log.write(
                        step=self.step,
                        kind="train",
                        task=t.id,
                        loss=loss_v,
                        lr=lr,
                        samples_per_s=round(sps, 1),
                        elapsed_s=round(now - t0, 3),
                    )
                    bar.update(self.step, f"loss {loss_v:.4f} lr {lr:.2e}", force_line=True)
                else:
                    bar.update(self.step, f"loss {loss_v:.4f}")
                if self.step % self.eval_every == 0 or self.step == self.max_steps:
                    if self.is_main:
                        self.validate(t0)
                    self._sync_best()
                    pat = cfg.train.patience
                    if pat and int(self.best.get("bad", 0)) >= pat:
                        self.finished = True
                        self.log.write(
                            step=self.step, kind="early_stop", elapsed_s=round(time.time() - t0, 3)
                        )
                if self.step >= self.max_steps:
                    self.finished = True
                if self.step % self.checkpoint_every == 0 or self.step == stop_at or self.finished:
                    self.save_last()
        finally:
            bar.close()
            for s in self.streams.values():
                s.close()
        if self.is_main and self.finished and self.best["score"] is None:
            # no usable validation score: the last weights are the best we have
            self.best.update(step=self.step, note="last step (no validation score)")
            self.save_best()
        if self.is_main:
            self.log.write(
                step=self.step,
                kind="done" if self.finished else "stop",
                elapsed_s=round(time.time() - t0, 3),
            )
        self.acc.wait_for_everyone()
        return {"finished": self.finished, "step": self.step, "best": self.best}

    def _sync_best(self) -> None:
        if self.world > 1:
            import torch.distributed as td

            obj = [self.best, self.task_weights]
            td.broadcast_object_list(obj, src=0)
            self.best, self.task_weights = obj[0], obj[1]

    def _write_run_info(self) -> None:
        from climb import __version__

        info = {
            "climb_version": __version__,
            "torch": torch.__version__,
            "device": str(self.device),
            "world_size": self.world,
            "mixed_precision": self.acc.mixed_precision,
            "grad_accum": self.cfg.train.grad_accum,
            "objective": self.objective.name,
            "config_hash": self.cfg.hash(),
            "max_steps": self.max_steps,
            "steps_per_epoch": self.steps_per_epoch,
            "fold": self.fold,
            "tasks": {
                t.id: {
                    "type": t.type,
                    "fields": t.fields,
                    "n_train": t.size("train"),
                    "n_val": t.size("val"),
                    "select": self._select_metric(t),
                    "weight": self.task_weights[t.head_key],
                    "few_shot": t.few_shot,
                    "store": str(t.store_path),
                }
                for t in self.tasks
            },
            "init": self.init_reports,
        }
        (self.run_dir / "run.json").write_text(
            json.dumps(info, indent=1, default=str), encoding="utf-8"
        )


def _task_info(tasks: list[TaskData]) -> dict[str, Any]:
    return {
        t.head_key: {
            "id": t.id,
            "dataset": t.entry.dataset,
            "task": t.entry.task,
            "type": t.type,
            "classes": t.classes,
            "fields": t.fields,
            "modalities": t.modalities,
        }
        for t in tasks
    }


# ----------------------------------------------------------------------------- entry point


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
    elif (out / "checkpoints" / "last.pt").exists() or any(
        (out / "folds").glob("fold*/checkpoints/last.pt")
    ):
        raise ClimbError(
            f"{out} already holds a trained run",
            where=str(out),
            fix="pass --resume to continue it, or choose another --out",
        )
    return out


def _broadcast_path(p: Path | None) -> Path:
    import os

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        assert p is not None
        return p
    import torch.distributed as td

    if not td.is_initialized():
        td.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    obj = [str(p) if p is not None else None]
    td.broadcast_object_list(obj, src=0)
    return Path(str(obj[0]))


def train(
    cfg: Config, out: Path | None = None, *, resume: bool = False, evaluate_at_end: bool = True
) -> Path:
    """Train according to ``cfg`` into a run directory (evaluated at the end) and return it."""
    import os

    rank = int(os.environ.get("RANK", "0"))
    run_dir = prepare_run_dir(cfg, out, resume) if rank == 0 else None
    run_dir = _broadcast_path(run_dir)
    if rank == 0:
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        dump_config(cfg, run_dir / "config.yaml")
    folds: list[int | None] = [None]
    if cfg.data.cv is not None:
        folds = list(range(int(cfg.data.cv.folds)))
        if cfg.data.cv.only_folds:
            folds = folds[: int(cfg.data.cv.only_folds)]
    done = True
    for k in folds:
        fdir = run_dir if k is None else run_dir / "folds" / f"fold{k}"
        (fdir / "checkpoints").mkdir(parents=True, exist_ok=True)
        tr = Trainer(cfg, fdir, resume=resume, fold=k)
        res = tr.fit()
        done = done and res["finished"]
        if not res["finished"]:
            break
    with contextlib.suppress(Exception):
        import torch.distributed as td

        if td.is_initialized():
            td.barrier()
    if done and evaluate_at_end and rank == 0:
        from climb.evaluate.run import evaluate_run, write_cv_json

        rows = evaluate_run(run_dir, device=cfg.run.device)
        if cfg.data.cv is not None:
            write_cv_json(run_dir, rows)
    return run_dir
