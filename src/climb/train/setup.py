"""Building what a run needs from its config: task data, the model, device, distributed state."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from climb.data import StoreDataset, build_transforms, few_shot_indices, holdout_split
from climb.data.fewshot import record_few_shot, resolve_k, subset_counts
from climb.errors import ClimbError
from climb.train.config import Config, TaskEntry

# ----------------------------------------------------------------------------- runtime


@dataclass
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed() -> Dist:
    """Join the process group when started by ``torchrun`` (``WORLD_SIZE`` > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch.distributed as td

    rank = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not td.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        td.init_process_group(backend=backend)
    return Dist(rank, world, local)


def select_device(spec: str, dist: Dist) -> torch.device:
    """``auto``: cuda > mps > cpu; or the given device (under DDP, ``cuda`` = this local rank's)."""
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", dist.local_rank % max(1, torch.cuda.device_count()))
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(spec)
    except RuntimeError:
        raise ClimbError(
            f"unknown device {spec!r}", where="run.device", fix="auto, cpu, cuda, cuda:N or mps"
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ClimbError(
                "run.device asks for cuda but no CUDA GPU is visible",
                where="run.device",
                fix="use run.device=auto or cpu",
            )
        if dev.index is None:
            dev = torch.device("cuda", dist.local_rank % torch.cuda.device_count())
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ClimbError("run.device asks for mps but MPS is not available", where="run.device")
    return dev


def seed_everything(seed: int, deterministic: bool = False) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def rng_state() -> dict[str, Any]:
    st: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def set_rng_state(st: dict[str, Any]) -> None:
    random.setstate(st["python"])
    np.random.set_state(st["numpy"])
    torch.set_rng_state(st["torch"])
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


# ----------------------------------------------------------------------------- tasks


@dataclass
class TaskData:
    """One task of a run: its datasets per role, type, classes, input field and modality."""

    id: str
    entry: TaskEntry
    type: str
    classes: list[str]
    field: str
    modality: str
    train: StoreDataset
    val: StoreDataset | None
    store_path: Path
    splits: dict[str, str]
    val_fraction: float | None
    transforms: Any = None
    few_shot: dict[str, Any] | None = field(default=None)

    @property
    def head_key(self) -> str:
        return self.id.replace("/", "__").replace(".", "_")

    def dataset(self, role: str) -> StoreDataset | None:
        """Dataset for ``train`` / ``val`` / ``test`` / any store split name."""
        if role == "train":
            return self.train
        if role == "val":
            return self.val
        split = self.splits.get(role, role)
        return _split_dataset(self, split)


def _split_dataset(
    t: TaskData, split: str, rows: np.ndarray | None = None, *, augment: Any = None
) -> StoreDataset:
    transforms = t.transforms
    if augment is not None:  # train only: random augmentation first, then the fixed transforms
        fixed = t.transforms

        def transforms(x: Any) -> Any:
            x = augment(x)
            return fixed(x) if fixed is not None else x

    return StoreDataset(
        t.store_path,
        split=split,
        tasks=[t.entry.task],
        fields=[t.field],
        transforms=transforms,
        rows=rows,
    )


def build_tasks(cfg: Config, run_dir: Path | None, *, is_main: bool = True) -> list[TaskData]:
    out: list[TaskData] = []
    transforms = build_transforms(cfg.data.transforms)
    augment = build_transforms(cfg.data.augment)
    for i, e in enumerate(cfg.data.tasks):
        path = cfg.store_path(e)
        splits = {**cfg.data.splits, **(e.splits or {})}
        vf = e.val_fraction if e.val_fraction is not None else cfg.data.val_fraction
        probe = StoreDataset(path, split=splits["train"], tasks=[e.task], fields=e.field)
        if e.field is None and len(probe.fields) != 1:
            raise ClimbError(
                f"store {e.dataset!r} has {len(probe.fields)} fields; say which one to use",
                where=f"data.tasks[{i}].field",
                fix=f"set field to one of {', '.join(probe.fields)}",
            )
        fld = probe.fields[0]
        spec = probe.task_specs[e.task]
        t = TaskData(
            id=e.id,
            entry=e,
            type=spec["type"],
            classes=list(spec.get("classes") or []),
            field=fld,
            modality=probe.modality(fld),
            train=probe,
            val=None,
            store_path=path,
            splits=splits,
            val_fraction=vf,
            transforms=transforms,
        )
        train_rows: np.ndarray | None = None
        if vf:
            rest, hold = holdout_split(probe.patient_ids, vf, seed=cfg.run.seed)
            train_rows = rest
            t.val = _split_dataset(t, splits["train"], hold)
        else:
            t.val = _split_dataset(t, splits["val"])
            if len(t.val) == 0:
                t.val = None
        if cfg.data.few_shot is not None:
            base = train_rows if train_rows is not None else np.arange(len(probe))
            k = resolve_k(cfg.data.few_shot.k)
            y = probe.labels[e.task][base]
            sel = base[few_shot_indices(y, t.type, k, seed=cfg.data.few_shot.seed)]
            train_rows = sel
            t.few_shot = {"k": k, "seed": cfg.data.few_shot.seed, "n": len(sel)}
        t.train = _split_dataset(t, splits["train"], train_rows, augment=augment)
        if len(t.train) == 0:
            raise ClimbError(
                f"task {e.id}: no training samples in split {splits['train']!r}",
                where=str(path),
                fix="check data.splits / data.tasks[].splits against the store's splits",
            )
        if t.few_shot is not None and run_dir is not None and is_main:
            counts = subset_counts(t.train.labels[e.task], t.type, t.classes)
            rec = record_few_shot(
                run_dir / "few_shot" / f"{t.head_key}.json",
                dataset=e.dataset,
                task=e.task,
                k=t.few_shot["k"],
                seed=t.few_shot["seed"],
                task_type=t.type,
                sample_ids=t.train.sample_ids.tolist(),
                counts=counts,
            )
            t.few_shot["record"] = str(rec)
        out.append(t)
    return out


# ----------------------------------------------------------------------------- model


class MultiTaskModel(nn.Module):
    """One encoder per modality (shared by the tasks of that modality), one head per task."""

    def __init__(
        self,
        encoders: dict[str, nn.Module],
        heads: dict[str, nn.Module],
        task_modality: dict[str, str],
    ) -> None:
        super().__init__()
        self.encoders = nn.ModuleDict(encoders)
        self.heads = nn.ModuleDict(heads)
        self.task_modality = dict(task_modality)

    def forward(self, x: torch.Tensor, head: str) -> torch.Tensor:
        return self.heads[head](self.encoders[self.task_modality[head]](x))


def _input_shape(t: TaskData) -> tuple[int, ...]:
    b = t.train.get_batch([0])
    return tuple(b["inputs"][t.field].shape[1:])


def build_model(cfg: Config, tasks: list[TaskData]) -> MultiTaskModel:
    from climb.models import build_encoder, build_head

    shapes: dict[str, tuple[int, ...]] = {}
    for t in tasks:
        s = _input_shape(t)
        if t.modality in shapes and shapes[t.modality][0] != s[0]:
            raise ClimbError(
                f"tasks of modality {t.modality!r} have inputs of different channel counts "
                f"({shapes[t.modality]} vs {s} for {t.id}); one shared encoder cannot take both",
                where="data.tasks",
                fix="use stores with the same channels/leads, or a transform that makes them agree",
            )
        shapes.setdefault(t.modality, s)
    encoders: dict[str, nn.Module] = {}
    for mod, shape in shapes.items():
        ec = cfg.model.encoders.get(mod)
        name = (ec.name if ec and ec.name else None) or cfg.model.encoder
        kw: dict[str, Any] = dict(cfg.model.encoder_kwargs)
        if ec:
            kw.update(ec.kwargs)
        if mod == "signal":
            kw.setdefault("in_channels", shape[0])
            kw.setdefault("seq_len", shape[-1])
        elif mod == "image":
            kw.setdefault("in_chans", shape[0])
        encoders[mod] = build_encoder(mod, name, **kw)
    heads: dict[str, nn.Module] = {}
    for t in tasks:
        n_out = len(t.classes) if t.classes else 1
        heads[t.head_key] = build_head(
            t.type,
            int(encoders[t.modality].out_dim),
            n_out,
            hidden=cfg.model.head_hidden,
            dropout=cfg.model.head_dropout,
        )
    return MultiTaskModel(encoders, heads, {t.head_key: t.modality for t in tasks})


def resolve_checkpoint(path: str | Path, which: str = "best") -> Path:
    p = Path(path).expanduser()
    if p.is_dir():
        for name in [which, "last"] if which != "last" else ["last"]:
            c = p / "checkpoints" / f"{name}.pt"
            if c.is_file():
                return c
        raise ClimbError(
            f"no checkpoint in run directory {p}",
            where=str(p / "checkpoints"),
            fix="train the run first, or point to a .pt file",
        )
    if not p.is_file():
        raise ClimbError(f"checkpoint not found: {p}", fix="give a .pt file or a run directory")
    return p


def init_encoders(model: MultiTaskModel, cfg: Config) -> list[dict[str, Any]]:
    """Load ``model.init`` into every encoder (a climb checkpoint: by modality; else as is)."""
    from climb.models import load_encoder_weights

    if not cfg.model.init:
        return []
    init = Path(cfg.model.init).expanduser()
    if not init.is_absolute() and not init.exists():
        init = cfg.data_root() / "runs" / init  # a run name under <root>/runs/
    ckpt = resolve_checkpoint(init, "best")
    obj = torch.load(ckpt, map_location="cpu", weights_only=False)
    reports = []
    for mod, enc in model.encoders.items():
        if isinstance(obj, dict) and obj.get("format") == "climb-checkpoint":
            prefix = cfg.model.init_prefix or f"encoders.{mod}."
            state = {k: v for k, v in obj["model"].items()}
            if not any(k.startswith(prefix) for k in state):
                raise ClimbError(
                    f"checkpoint {ckpt} has no encoder for modality {mod!r}",
                    where="model.init",
                    fix=f"its encoders: {sorted({k.split('.')[1] for k in state if k.startswith('encoders.')})}",
                )
            rep = load_encoder_weights(enc, state, prefix=prefix, source=str(ckpt))
        else:
            rep = load_encoder_weights(enc, ckpt, prefix=cfg.model.init_prefix)
        reports.append(
            {
                "modality": mod,
                "source": str(ckpt),
                "loaded": len(rep.get("loaded", [])),
                "missing": len(rep.get("missing", [])),
            }
        )
    return reports
