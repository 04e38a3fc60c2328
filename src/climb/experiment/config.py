"""Run configs: YAML → validated dataclasses, with ``--set key=value`` overrides (the one
override parser of every run: classification, regression, segmentation, graphs, fusion).

Every key is declared below (docs/training.md lists them with their meaning). Validation says
which key is wrong, what is allowed, and the closest match for a misspelt key. The config is read
by ``climb train`` and by ``climb evaluate`` (which does not import the trainer).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import os
import types
import typing
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml

from climb.core.errors import ClimbError


@dataclass
class TaskEntry:
    dataset: str = ""
    task: str = ""
    store: str | None = None  # default <data.root>/stores/<dataset>
    field: str | None = None  # input field; default: the store's only dense field
    fields: list[str] | None = None  # several input fields (fusion); overrides `field`
    splits: dict[str, str] | None = None  # per-store override of data.splits
    val_fraction: float | None = None  # per-store override of data.val_fraction
    options: dict[str, Any] = dataclasses.field(
        default_factory=dict
    )  # task-kind options (loss: l1, ...)
    weight: float = 1.0  # loss weight of this task (multitask)

    @property
    def id(self) -> str:
        return f"{self.dataset}/{self.task}"


@dataclass
class FewShot:
    k: int | str = 8  # samples per class, or small / medium / large (8 / 64 / 256)
    seed: int = 0


@dataclass
class RunCfg:
    name: str = "run"
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    amp: Literal["auto", "on", "off"] = "auto"
    deterministic: bool = False
    threads: int | None = None  # torch intra-op threads (None: torch's default)


def _is_url(p: str | os.PathLike[str]) -> bool:
    s = str(p)
    return "://" in s and not s.startswith("file://")


@dataclass
class DataCfg:
    root: str | None = None
    tasks: list[TaskEntry] = field(default_factory=list)
    batch_size: int = 64
    eval_batch_size: int = 256
    num_workers: int = 0
    sampling: Literal["block", "exact"] = "block"
    window_chunks: int | None = None
    mixture: Literal["proportional", "uniform", "temperature", "round_robin"] = "proportional"
    temperature: float = 2.0
    splits: dict[str, str] = field(
        default_factory=lambda: {"train": "train", "val": "val", "test": "test"}
    )
    val_fraction: float | None = None
    # deterministic transforms: one list for every input field, or {field: [...]}
    transforms: list[dict[str, Any]] | dict[str, list[dict[str, Any]]] = field(default_factory=list)
    # train-only random augmentation, applied before `transforms` (e.g. image_augment)
    augment: list[dict[str, Any]] = field(default_factory=list)
    few_shot: FewShot | None = None
    # train only: horizontal flip of the inputs AND the dense targets (masks) of a sample
    hflip: float = 0.0
    prefetch: int = 2  # batches read ahead in the background (in-process loading)
    graph: GraphCfg = field(default_factory=lambda: GraphCfg())
    cv: CrossValCfg | None = None  # k-fold cross-validation instead of the store's splits
    # ragged fields: collation policy per field (pad / crop / clip; climb.data.collate)
    ragged: dict[str, Any] = field(default_factory=dict)


@dataclass
class GraphCfg:
    """How brain-network matrices become graphs (graph stores are used as they are)."""

    method: Literal["dense", "knn", "threshold"] = "dense"
    k: int = 10
    threshold: float = 0.3
    nan_mask: bool = False
    pad_to: int | None = None


@dataclass
class CrossValCfg:
    folds: int = 10
    val_fraction: float = 0.1  # stratified holdout of each training part (model selection)
    only_folds: int | None = None  # run only the first N folds (smoke tests)


@dataclass
class EncoderCfg:
    name: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class ModelCfg:
    encoder: str | None = None  # encoder name for every modality (default: the modality's default)
    encoder_kwargs: dict[str, Any] = field(default_factory=dict)
    encoders: dict[str, EncoderCfg] = field(default_factory=dict)  # per-modality overrides
    head_hidden: int | None = None
    head_dropout: float = 0.0
    init: str | None = None  # checkpoint file or run directory to start the encoder(s) from
    init_prefix: str | None = None
    freeze_encoder: bool = False  # linear probe
    fusion: str = "concat"  # how several input fields are combined (climb.models.fusion)
    fusion_kwargs: dict[str, Any] = field(default_factory=dict)
    pool: Literal["sum", "mean", "max"] = "mean"  # graph-level readout of node embeddings
    proj_dim: int = 64  # graphs: per-task input projection when node feature sizes differ
    clip_aggregate: Literal["mean", "max"] = "mean"  # dense clips -> one output per sample


@dataclass
class OptimCfg:
    name: Literal["adamw", "adam"] = "adamw"
    schedule: Literal["cosine", "step", "constant"] = "cosine"
    step_size: int = 50  # schedule: step -> multiply the lr by gamma every step_size epochs
    gamma: float = 0.5
    lr: float = 1e-3
    weight_decay: float = 0.01
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    warmup_steps: int = 0
    min_lr: float = 0.0
    grad_clip: float | None = 1.0


@dataclass
class TrainCfg:
    max_steps: int = 1000
    epochs: int | None = None  # when set: max_steps = epochs x batches per epoch, and
    #                            eval/checkpoint every epoch
    patience: int | None = None  # early stop after this many evaluations without improvement
    eval_every: int = 200
    checkpoint_every: int = 200
    log_every: int = 20
    select: Literal["auto", "val_loss", "val_auroc", "val_acc", "val_f1", "val_dice", "val_mae"] = (
        "val_loss"
    )
    grad_accum: int = 1  # micro-batches per optimizer step
    objective: str = "supervised"  # climb.train.objectives
    task_weighting: Literal["uniform", "size", "drpo"] = "uniform"
    stop_after: int | None = None  # stop (like an interruption) after this many steps
    max_eval_batches: int | None = None


@dataclass
class EvaluateCfg:
    splits: list[str] = field(default_factory=lambda: ["test"])
    checkpoint: Literal["best", "last"] = "best"
    n_boot: int = 1000
    ci: float = 0.95
    threshold: str = "youden"
    seed: int = 0


@dataclass
class Config:
    run: RunCfg = field(default_factory=RunCfg)
    data: DataCfg = field(default_factory=DataCfg)
    model: ModelCfg = field(default_factory=ModelCfg)
    optim: OptimCfg = field(default_factory=OptimCfg)
    train: TrainCfg = field(default_factory=TrainCfg)
    evaluate: EvaluateCfg = field(default_factory=EvaluateCfg)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def root_url(self) -> str:
        """The data root as given (``data.root``, ``$CLIMB_ROOT`` or ``~/climb-data``)."""
        return str(self.data.root or os.environ.get("CLIMB_ROOT") or "~/climb-data")

    def remote_root(self) -> bool:
        """True for an fsspec URL root (``s3://bucket/prefix``): stores are read from there
        with range requests; run directories stay on a local file system."""
        return _is_url(self.root_url())

    def data_root(self) -> Path:
        """The local data root (runs live under ``<root>/runs``). A URL root has none: an
        error that says to pass ``--out``."""
        if self.remote_root():
            raise ClimbError(
                f"data.root {self.root_url()} is object storage: run directories (checkpoints, "
                "metrics) are written to a local or shared file system",
                where="data.root",
                fix="pass --out RUN_DIR (and give model.init as a path, not a run name)",
            )
        return Path(self.root_url()).expanduser()

    def store_path(self, t: TaskEntry) -> Path | str:
        """Where the task's store is: ``data.tasks[].store``, else ``<root>/stores/<dataset>``
        (a URL string for an object-storage root or store)."""
        if t.store:
            return str(t.store) if _is_url(t.store) else Path(t.store).expanduser()
        if self.remote_root():
            return f"{self.root_url().rstrip('/')}/stores/{t.dataset}"
        return self.data_root() / "stores" / t.dataset

    def hash(self) -> str:
        """Hash of everything that changes results (not paths, workers, device, stop_after)."""
        d = self.to_dict()
        d["data"].pop("root", None)
        d["data"].pop("num_workers", None)
        for t in d["data"]["tasks"]:
            t.pop("store", None)
        d["run"].pop("device", None)
        d["train"].pop("stop_after", None)
        d["run"].pop("threads", None)
        d["data"].pop("prefetch", None)
        blob = json.dumps(d, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


# ----------------------------------------------------------------------------- validation


def _suggest(word: str, options: list[str]) -> str:
    m = difflib.get_close_matches(word, options, n=1, cutoff=0.5)
    if not m:  # 'lr_rate' -> 'lr', 'batch' -> 'batch_size'
        m = [o for o in options if word.startswith(o + "_") or o.startswith(word)][:1]
    return f" (did you mean '{m[0]}'?)" if m else ""


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp))
    if tp is type(None):
        return "null"
    if origin is not None:
        return getattr(origin, "__name__", str(origin))
    if is_dataclass(tp):
        return "a mapping"
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, where: str) -> Any:
    origin = get_origin(tp)
    bad = ClimbError(
        f"wrong type for '{where}': got {value!r} ({type(value).__name__})",
        where=where,
        fix=f"expected {_type_name(tp)}",
    )
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None:
            if type(None) in args:
                return None
            raise bad
        errors: list[ClimbError] = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, where)
            except ClimbError as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        raise bad
    if origin is Literal:
        allowed = get_args(tp)
        if value in allowed:
            return value
        raise ClimbError(
            f"bad value {value!r} for '{where}'{_suggest(str(value), [str(a) for a in allowed])}",
            where=where,
            fix=f"allowed values: {', '.join(str(a) for a in allowed)}",
        )
    if is_dataclass(tp):
        if not isinstance(value, dict):
            raise bad
        return _build(tp, value, where)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "on", "off"):
            return value.lower() in ("true", "yes", "on")
        raise bad
    if tp is int:
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                f = float(value)
            except ValueError:
                raise bad from None
            if f.is_integer():
                return int(f)
        raise bad
    if tp is float:
        if isinstance(value, bool):
            raise bad
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise bad from None
        raise bad
    if tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise bad
    if origin is list:
        (item,) = get_args(tp) or (Any,)
        if not isinstance(value, list):
            raise bad
        return [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _kt, vt = get_args(tp) or (Any, Any)
        if not isinstance(value, dict):
            raise bad
        return {str(k): _coerce(v, vt, f"{where}.{k}") for k, v in value.items()}
    return value


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    kwargs: dict[str, Any] = {}
    for k, v in data.items():
        key = f"{where}.{k}" if where else str(k)
        if k not in names:
            raise ClimbError(
                f"unknown key '{key}'{_suggest(str(k), names)}",
                where=key,
                fix=f"allowed keys{' in ' + where if where else ''}: {', '.join(names)}",
            )
        kwargs[k] = _coerce(v, hints[k], key)
    return cls(**kwargs)


def validate(cfg: Config) -> Config:
    """Checks beyond types: values that make no sense together."""
    d = cfg.data
    if not d.tasks:
        raise ClimbError(
            "no task to train on",
            where="data.tasks",
            fix="add at least one {dataset: KEY, task: NAME}",
        )
    seen: set[str] = set()
    for i, t in enumerate(d.tasks):
        if not t.dataset or not t.task:
            raise ClimbError(
                "a task needs both 'dataset' and 'task'",
                where=f"data.tasks[{i}]",
                fix="e.g. {dataset: ptbxl, task: ecg7}",
            )
        if t.id in seen:
            raise ClimbError(f"task {t.id} listed twice", where=f"data.tasks[{i}]")
        seen.add(t.id)
    for name, v in (
        ("data.batch_size", d.batch_size),
        ("data.eval_batch_size", d.eval_batch_size),
        ("train.max_steps", cfg.train.max_steps),
        ("train.eval_every", cfg.train.eval_every),
        ("train.checkpoint_every", cfg.train.checkpoint_every),
        ("train.log_every", cfg.train.log_every),
        ("train.grad_accum", cfg.train.grad_accum),
    ):
        if v < 1:
            raise ClimbError(f"'{name}' must be >= 1, got {v}", where=name)
    if d.num_workers < 0:
        raise ClimbError(
            f"'data.num_workers' must be >= 0, got {d.num_workers}", where="data.num_workers"
        )
    if cfg.optim.lr <= 0:
        raise ClimbError(f"'optim.lr' must be > 0, got {cfg.optim.lr}", where="optim.lr")
    if len(cfg.optim.betas) != 2:
        raise ClimbError("'optim.betas' needs two numbers", where="optim.betas")
    for key in d.splits:
        if key not in ("train", "val", "test"):
            raise ClimbError(
                f"unknown key 'data.splits.{key}'{_suggest(key, ['train', 'val', 'test'])}",
                where="data.splits",
                fix="allowed keys: train, val, test (each maps to a split name of the stores)",
            )
    if d.few_shot is not None:
        from climb.data.fewshot import resolve_k

        resolve_k(d.few_shot.k)
    if cfg.model.freeze_encoder and not cfg.model.init:
        raise ClimbError(
            "model.freeze_encoder (linear probe) without model.init trains a head on a random encoder",
            where="model.freeze_encoder",
            fix="set model.init to a checkpoint or run directory, or set freeze_encoder: false",
        )
    if not 0 < cfg.evaluate.ci < 1:
        raise ClimbError(
            f"'evaluate.ci' must be in (0, 1), got {cfg.evaluate.ci}", where="evaluate.ci"
        )
    return cfg


def from_dict(data: dict[str, Any]) -> Config:
    if not isinstance(data, dict):
        raise ClimbError("a train config must be a YAML mapping", fix="see configs/*.yaml")
    if "kind" in data:
        raise ClimbError(
            f"'kind: {data['kind']}' configs are gone: one trainer runs every task kind, and a "
            "task's kind comes from its store",
            where="kind",
            fix="delete the 'kind' key and write the config in the common form (docs/training.md; "
            "configs/proteins_gin.yaml and configs/busi_segmentation.yaml are examples)",
        )
    return validate(_build(Config, data, ""))


# ----------------------------------------------------------------------------- overrides


def apply_override(data: dict[str, Any], item: str) -> None:
    """``a.b.c=value`` (value parsed as YAML; list items by index: ``data.tasks.0.store=...``)."""
    if "=" not in item:
        raise ClimbError(
            f"bad --set {item!r}", fix="use --set key.path=value, e.g. --set optim.lr=3e-4"
        )
    path, raw = item.split("=", 1)
    keys = [k for k in path.strip().split(".") if k]
    if not keys:
        raise ClimbError(f"bad --set {item!r}: empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    node: Any = data
    cls: Any = Config
    for i, k in enumerate(keys):
        last = i == len(keys) - 1
        where = ".".join(keys[: i + 1])
        if isinstance(node, list):
            if not k.isdigit() or int(k) >= len(node):
                raise ClimbError(
                    f"bad list index '{k}' in --set {where}",
                    where=where,
                    fix=f"the list has {len(node)} items (0-based)",
                )
            if last:
                node[int(k)] = value
            else:
                node = node[int(k)]
                cls = _item_cls(cls)
            continue
        if not isinstance(node, dict):
            raise ClimbError(f"--set {where}: '{'.'.join(keys[:i])}' is not a mapping", where=where)
        if cls is not None and is_dataclass(cls):
            names = [f.name for f in fields(cls)]
            if k not in names:
                raise ClimbError(
                    f"unknown key '{where}'{_suggest(k, names)}",
                    where=f"--set {item}",
                    fix=f"allowed keys: {', '.join(names)}",
                )
            cls = _field_cls(cls, k)
        else:
            cls = None
        if last:
            node[k] = value
        else:
            if node.get(k) is None:
                node[k] = {}
            node = node[k]


def _field_cls(cls: type, name: str) -> Any:
    tp = typing.get_type_hints(cls)[name]
    return _unwrap_optional(tp)


def _unwrap_optional(tp: Any) -> Any:
    if get_origin(tp) in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            tp = args[0]
    return tp


def _item_cls(cls: Any) -> Any:
    if get_origin(cls) is list:
        (item,) = get_args(cls)
        return _unwrap_optional(item)
    return None


def load_config(path: str | os.PathLike[str] | None, overrides: list[str] | None = None) -> Config:
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if p.is_dir():
            p = p / "config.yaml"
        if not p.is_file():
            raise ClimbError(
                f"config file not found: {p}", fix="pass the path of a YAML config (see configs/)"
            )
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ClimbError(f"config is not valid YAML: {exc}", where=str(p)) from None
        if not isinstance(data, dict):
            raise ClimbError("a train config must be a YAML mapping", where=str(p))
    for item in overrides or []:
        apply_override(data, item)
    return from_dict(data)


def dump_config(cfg: Config, path: Path) -> None:
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False), encoding="utf-8")
    os.replace(tmp, path)


def diff_keys(a: Config, b: Config, ignore: tuple[str, ...] = ()) -> list[str]:
    """Dotted keys whose values differ (for refusing a resume with a changed config)."""
    out: list[str] = []

    def walk(x: Any, y: Any, prefix: str) -> None:
        if prefix in ignore:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y)):
                walk(x.get(k), y.get(k), f"{prefix}.{k}" if prefix else str(k))
        elif x != y:
            out.append(prefix)

    walk(a.to_dict(), b.to_dict(), "")
    return out


__all__ = [
    "Config",
    "CrossValCfg",
    "DataCfg",
    "EvaluateCfg",
    "FewShot",
    "GraphCfg",
    "ModelCfg",
    "OptimCfg",
    "RunCfg",
    "TaskEntry",
    "TrainCfg",
    "apply_override",
    "dataclasses",
    "diff_keys",
    "dump_config",
    "from_dict",
    "load_config",
]
