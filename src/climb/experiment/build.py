"""What a run is made of, built from its config: the tasks (their data per role, kind, input
fields) and the model (encoders per field -> fusion -> one head per task).

Used by the trainer and by ``climb evaluate`` alike, so evaluating a run rebuilds exactly the
model that was trained. Two data sources exist: stores read through
:class:`climb.data.StoreDataset` (dense and ragged fields, several fields per task) and graph
stores read into torch_geometric graphs (:mod:`climb.data.graphs`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from climb.core.errors import ClimbError
from climb.experiment.config import Config, TaskEntry
from climb.tasks import TaskKind, TaskSpec, get_kind

GRAPH = "graph"


# ----------------------------------------------------------------------------- tasks


@dataclass
class TaskData:
    """One task of a run: its kind, input fields and data per role."""

    id: str
    entry: TaskEntry
    spec: TaskSpec
    kind: TaskKind
    fields: list[str]
    modalities: dict[str, str]  # input field -> modality
    store_path: Path | str
    splits: dict[str, str]
    train: Any = None  # StoreDataset | graph positions
    val: Any = None
    few_shot: dict[str, Any] | None = None
    transforms: Any = None
    graphs: Any = None  # climb.data.graphs.GraphSet for graph tasks
    parts: dict[str, np.ndarray] = field(default_factory=dict)  # graph tasks: positions per role
    fold: int | None = None
    ragged: dict[str, Any] = field(default_factory=dict)  # collation policy per ragged field
    seed: int = 0

    @property
    def head_key(self) -> str:
        return self.id.replace("/", "__").replace(".", "_")

    @property
    def type(self) -> str:
        return self.kind.name

    @property
    def classes(self) -> list[str]:
        return self.spec.classes

    @property
    def is_graph(self) -> bool:
        return self.graphs is not None

    # -- data per role ------------------------------------------------------------------------
    def dataset(self, role: str) -> Any:
        """StoreDataset for ``train`` / ``val`` / ``test`` / any store split name (store tasks)."""
        if self.is_graph:
            raise ClimbError(f"{self.id}: graph tasks have no StoreDataset")
        if role == "train":
            return self.train
        if role == "val":
            return self.val
        return _split_dataset(self, self.splits.get(role, role))

    def size(self, role: str) -> int:
        if self.is_graph:
            return len(self.parts.get(role, ()))
        ds = self.dataset(role)
        return 0 if ds is None else len(ds)

    def groups(self, role: str) -> np.ndarray | None:
        if self.is_graph:
            if self.type == "node":
                return None
            return self.graphs.patient[self.parts[role]]
        ds = self.dataset(role)
        return None if ds is None else ds.patient_ids

    def batches(self, role: str, batch_size: int) -> Iterator[dict[str, Any]]:
        """Batches of ``role`` in a fixed order (evaluation)."""
        if self.is_graph:
            from climb.data.graphs import graph_batches

            yield from graph_batches(
                self.graphs, self.parts.get(role, np.zeros(0, int)), batch_size
            )
            return
        from climb.data import make_loader

        ds = self.dataset(role)
        if ds is None or len(ds) == 0:
            return
        yield from make_loader(ds, batch_size, shuffle=False)

    def stream(self, cfg: Config, i: int, rank: int, world: int, pin: bool) -> Any:
        """The endless, resumable training stream of this task."""
        seed = cfg.run.seed + 1000 * i
        if self.is_graph:
            from climb.data.graphs import graph_stream

            pos = self.parts["train"]
            if world > 1:
                pos = pos[rank::world]
            return graph_stream(self.graphs, pos, cfg.data.batch_size, seed)
        from climb.data import task_stream

        d = cfg.data
        return task_stream(
            self.train,
            d.batch_size,
            shuffle=True,
            mode=d.sampling,
            window_chunks=d.window_chunks,
            seed=seed,
            drop_last=False,
            rank=rank,
            world_size=world,
            num_workers=d.num_workers,
            pin_memory=pin,
            prefetch=d.prefetch,
        )

    def batches_per_epoch(self, batch_size: int) -> int:
        n = self.size("train")
        return max(1, -(-n // batch_size))

    def sample_batch(self) -> dict[str, Any]:
        if self.is_graph:
            from climb.data.graphs import graph_batches

            return next(graph_batches(self.graphs, self.parts["train"][:2], 2))
        return self.train.get_batch([0])


def _split_dataset(
    t: TaskData,
    split: str,
    rows: np.ndarray | None = None,
    *,
    augment: Any = None,
    train: bool = False,
) -> Any:
    from climb.data import StoreDataset

    transforms = t.transforms
    if augment is not None:  # train only: random augmentation first, then the fixed transforms
        fixed = t.transforms

        def chain(f: str) -> Any:
            fx = fixed.get(f) if isinstance(fixed, dict) else fixed

            def fn(x: Any) -> Any:
                x = augment(x)
                return fx(x) if fx is not None else x

            return fn

        transforms = {f: chain(f) for f in t.fields}
    fields = list(t.fields)
    if t.spec.target_field and t.spec.target_field not in fields:
        fields.append(t.spec.target_field)
    kw: dict[str, Any] = {}
    if t.ragged:
        kw["ragged"] = {f: _ragged_policy(p, train) for f, p in t.ragged.items() if f in fields}
    soft = t.spec.options.get("soft_labels")
    if soft and train:  # training only: selection and metrics use the hard labels
        kw["soft_targets"] = {t.entry.task: str(soft)}
    return StoreDataset(
        t.store_path,
        split=split,
        tasks=[] if t.spec.target_field else [t.entry.task],
        fields=fields,
        transforms=transforms,
        rows=rows,
        train=train,
        seed=t.seed,
        **kw,
    )


def _ragged_policy(policy: Any, train: bool) -> Any:
    """A field's ``data.ragged`` policy for training or for evaluation: an ``eval:`` entry
    (a whole policy, e.g. dense clips over all frames) replaces the rest outside training."""
    if not isinstance(policy, dict) or "eval" not in policy:
        return policy
    rest = {k: v for k, v in policy.items() if k != "eval"}
    ev = policy["eval"]
    if not isinstance(ev, dict) or "name" not in ev:
        raise ClimbError(
            f"data.ragged eval policy must be a policy with a name, got {ev!r}",
            where="data.ragged.<field>.eval",
            fix="e.g. eval: {name: clip, frames: 32, mode: dense, stride: 32}",
        )
    return rest if train else dict(ev)


def _store_meta(path: Path | str, dataset: str) -> dict[str, Any]:
    import json

    if isinstance(path, str):  # object storage: through the data layer (clear remote errors)
        from climb.data._source import open_store

        return dict(open_store(path).meta)
    f = path / "dataset.json"
    if not f.is_file():
        raise ClimbError(
            f"no store at {path}",
            where="data.tasks",
            fix=f"climb prepare {dataset} (or set data.root / data.tasks[].store)",
        )
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClimbError(
            f"cannot read {f}: {exc}", where=str(f), fix=f"re-run climb prepare {dataset}"
        ) from None


def _fixed_transforms(cfg: Config, path: Path | str, fields: list[str]) -> Any:
    from climb.data import build_transforms

    if not cfg.data.transforms:
        return None
    out: dict[str, Any] = {}
    per_field = isinstance(cfg.data.transforms, dict)
    for f in fields:
        specs = []
        chain = cfg.data.transforms.get(f, []) if per_field else cfg.data.transforms
        for s in chain:
            s = dict(s)
            if s.get("store") == "self":  # statistics of this task's store and field
                s["store"] = str(path)
                s.setdefault("field", f)
            specs.append(s)
        out[f] = build_transforms(specs)
    return out


def build_tasks(
    cfg: Config, run_dir: Path | None, *, is_main: bool = True, fold: int | None = None
) -> list[TaskData]:
    """Every task of ``cfg`` with its training/validation data (``fold`` for k-fold runs)."""
    from climb.data import build_transforms

    out: list[TaskData] = []
    augment = build_transforms(cfg.data.augment)
    for i, e in enumerate(cfg.data.tasks):
        path = cfg.store_path(e)
        meta = _store_meta(path, e.dataset)
        tasks = meta.get("tasks") or {}
        if e.task not in tasks:
            from climb.experiment.config import _suggest

            raise ClimbError(
                f"store {e.dataset!r} has no task {e.task!r}{_suggest(e.task, list(tasks))}",
                where=f"data.tasks[{i}].task",
                fix=f"tasks of this store: {', '.join(tasks) or '(none)'}",
            )
        tspec = tasks[e.task]
        # node-level tasks of graph stores (PPI: multilabel per node) are the ``node`` kind,
        # frame-level tasks of videos (Cholec80 phases) the ``per_frame`` kind
        level = tspec.get("level")
        kind = get_kind(
            "node"
            if level == "node"
            else "per_frame"
            if level == "frame"
            else str(tspec.get("type"))
        )
        if kind.features == "nodes" or _is_graph_store(meta):
            out.append(_graph_task(cfg, i, e, path, tspec, kind, fold))
        else:
            out.append(_store_task(cfg, i, e, path, meta, tspec, kind, augment, run_dir, is_main))
    return out


def _is_graph_store(meta: dict[str, Any]) -> bool:
    fields = meta.get("fields") or {}
    return any(str(f).startswith("graph.") for f in fields) or "connectivity" in fields


def _spec(e: TaskEntry, tspec: dict[str, Any], kind: TaskKind, key: str) -> TaskSpec:
    options = dict(e.options)
    for name in options:
        if name not in kind.options:
            from climb.experiment.config import _suggest

            raise ClimbError(
                f"unknown option {name!r} for {e.id} (a {kind.name} task)"
                + _suggest(name, list(kind.options)),
                where=f"data.tasks[{e.id}].options.{name}",
                fix=f"options of {kind.name} tasks: {', '.join(kind.options) or '(none)'}",
            )
    if kind.name == "per_frame":
        options.setdefault("frame_type", tspec.get("type"))
        if tspec.get("ignore_index") is not None:
            options.setdefault("ignore_index", tspec["ignore_index"])
    field_target = kind.features in ("dense", "frames") and tspec.get("field")
    return TaskSpec(
        key=key,
        name=e.task,
        kind=kind.name,
        classes=[str(c) for c in tspec.get("classes") or []],
        target_field=str(tspec["field"]) if field_target else None,
        options=options,
    )


def _store_task(
    cfg: Config,
    i: int,
    e: TaskEntry,
    path: Path | str,
    meta: dict[str, Any],
    tspec: dict[str, Any],
    kind: TaskKind,
    augment: Any,
    run_dir: Path | None,
    is_main: bool,
) -> TaskData:
    from climb.data import few_shot_indices, holdout_split
    from climb.data.fewshot import record_few_shot, resolve_k, subset_counts

    key = TaskEntry(e.dataset, e.task).id.replace("/", "__").replace(".", "_")
    spec = _spec(e, tspec, kind, key)
    store_fields = list((meta.get("fields") or {}).keys())
    if e.fields:
        fields = list(e.fields)
    elif e.field:
        fields = [e.field]
    else:
        # fields that hold some task's targets (masks, per-frame labels) are not inputs
        targets = {
            str(ts.get("field")) for ts in (meta.get("tasks") or {}).values() if ts.get("field")
        }
        cands = [f for f in store_fields if f not in targets]
        if len(cands) != 1:
            raise ClimbError(
                f"store {e.dataset!r} has {len(cands)} input fields; say which one(s) to use",
                where=f"data.tasks[{i}].field",
                fix=f"set field (or fields: [...]) to some of {', '.join(cands)}",
            )
        fields = cands
    for f in fields:
        if f not in store_fields:
            from climb.experiment.config import _suggest

            raise ClimbError(
                f"store {e.dataset!r} has no field {f!r}{_suggest(f, store_fields)}",
                where=f"data.tasks[{i}].fields",
                fix=f"fields of this store: {', '.join(store_fields)}",
            )
    splits = {**cfg.data.splits, **(e.splits or {})}
    vf = e.val_fraction if e.val_fraction is not None else cfg.data.val_fraction
    t = TaskData(
        id=e.id,
        entry=e,
        spec=spec,
        kind=kind,
        fields=fields,
        modalities={},
        store_path=path,
        splits=splits,
        transforms=_fixed_transforms(cfg, path, fields),
        ragged=dict(cfg.data.ragged),
        seed=cfg.run.seed,
    )
    probe = _split_dataset(t, splits["train"])
    t.modalities = {f: probe.modality(f) for f in fields}
    t.train = probe
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
        if spec.target_field:
            raise ClimbError(
                f"few-shot subsets need class labels; {e.id} is a {kind.name} task",
                where="data.few_shot",
            )
        base = train_rows if train_rows is not None else np.arange(len(probe))
        k = resolve_k(cfg.data.few_shot.k)
        y = probe.labels[e.task][base]
        sel = base[few_shot_indices(y, kind.name, k, seed=cfg.data.few_shot.seed)]
        train_rows = sel
        t.few_shot = {"k": k, "seed": cfg.data.few_shot.seed, "n": len(sel)}
    t.train = _split_dataset(t, splits["train"], train_rows, augment=augment, train=True)
    if len(t.train) == 0:
        raise ClimbError(
            f"task {e.id}: no training samples in split {splits['train']!r}",
            where=str(path),
            fix="check data.splits / data.tasks[].splits against the store's splits",
        )
    if t.few_shot is not None and run_dir is not None and is_main:
        counts = subset_counts(t.train.labels[e.task], kind.name, t.classes)
        rec = record_few_shot(
            run_dir / "few_shot" / f"{t.head_key}.json",
            dataset=e.dataset,
            task=e.task,
            k=t.few_shot["k"],
            seed=t.few_shot["seed"],
            task_type=kind.name,
            sample_ids=t.train.sample_ids.tolist(),
            counts=counts,
        )
        t.few_shot["record"] = str(rec)
    return t


def _graph_task(
    cfg: Config,
    i: int,
    e: TaskEntry,
    path: Path | str,
    tspec: dict[str, Any],
    kind: TaskKind,
    fold: int | None,
) -> TaskData:
    from climb.data.graphs import load_graph_set

    if cfg.data.few_shot is not None:
        raise ClimbError(
            "few-shot subsets are not supported for graph tasks", where="data.few_shot"
        )
    gs = load_graph_set(path, e.task, cfg.data.graph)
    key = e.id.replace("/", "__").replace(".", "_")
    t = TaskData(
        id=e.id,
        entry=e,
        spec=_spec(e, tspec, kind, key),
        kind=kind,
        fields=[GRAPH],
        modalities={GRAPH: GRAPH},
        store_path=path,
        splits={**cfg.data.splits, **(e.splits or {})},
        graphs=gs,
        fold=fold,
    )
    t.parts = graph_parts(gs, cfg, fold, t.splits)
    t.train = t.parts["train"]
    t.val = t.parts["val"] if len(t.parts["val"]) else None
    if len(t.parts["train"]) == 0:
        raise ClimbError(f"{e.id}: no training graphs", where=str(path))
    return t


def graph_parts(
    gs: Any, cfg: Config, fold: int | None, splits: dict[str, str]
) -> dict[str, np.ndarray]:
    """Positions per role: the store's splits, or outer fold ``fold`` of ``data.cv`` with a
    stratified holdout of its training part as validation (Errica et al.'s protocol)."""
    from climb.core.splits import check_disjoint, kfold_indices, stratified_kfold

    cv = cfg.data.cv
    if fold is None or cv is None:
        parts = {r: np.flatnonzero(gs.split == splits[r]) for r in ("train", "val", "test")}
        vf = cfg.data.val_fraction
        if vf and len(parts["train"]):
            from climb.data import holdout_split

            rest, hold = holdout_split(gs.patient[parts["train"]], vf, seed=cfg.run.seed)
            parts["val"] = parts["train"][hold]
            parts["train"] = parts["train"][rest]
    else:
        folds = gs.folds
        k = int(cv.folds)
        if folds is None or folds.max() + 1 != k:
            if gs.level == "node":
                raise ClimbError(
                    f"{gs.key}/{gs.task}: k-fold needs graph-level labels", where="data.cv"
                )
            # group-level folds: every graph of a patient in one fold
            pl: dict[str, Any] = {}
            for p, y in zip(gs.patient, gs.labels, strict=True):
                pl.setdefault(str(p), int(y))
            by = stratified_kfold(pl, k, cfg.run.seed)
            folds = np.asarray([by[str(p)] for p in gs.patient])
        parts = kfold_indices(folds, gs.labels.tolist(), fold, cfg.run.seed, float(cv.val_fraction))
    if gs.level == "graph":  # labels missing (-1) are not used
        parts = {s: ix[np.asarray(gs.labels)[ix] >= 0] for s, ix in parts.items()}
    check_disjoint(parts)
    return parts


# ----------------------------------------------------------------------------- model


class ClimbModel(nn.Module):
    """Encoders (one per encoder group: by default a modality, shared by the tasks of that
    modality; a field named in ``model.encoders`` gets its own), an optional fusion per
    multi-field task, and one head per task. ``forward(inputs, head, present)`` maps a batch's
    input dict to the outputs of one task's head."""

    def __init__(
        self,
        encoders: dict[str, nn.Module],
        heads: dict[str, nn.Module],
        routes: dict[str, list[tuple[str, str]]],
        *,
        fusions: dict[str, nn.Module] | None = None,
        adapters: dict[str, nn.Module] | None = None,
        features: dict[str, str] | None = None,
        pool: str = "mean",
        clip_aggregate: str = "mean",
    ) -> None:
        super().__init__()
        import inspect

        self.clip_aggregate = clip_aggregate
        #: encoder groups whose forward takes a mask of valid steps (ragged fields)
        self.mask_groups = {
            g for g, e in encoders.items() if "mask" in inspect.signature(e.forward).parameters
        }
        self.encoders = nn.ModuleDict(encoders)
        self.heads = nn.ModuleDict(heads)
        self.fusions = nn.ModuleDict(fusions or {})
        self.adapters = nn.ModuleDict(adapters or {})
        self.routes = {k: list(v) for k, v in routes.items()}  # head -> [(field, group)]
        self.features = dict(features or {})  # head -> pooled | nodes | dense
        self.pool = pool

    def encode(self, head: str, fld: str, group: str, x: Any, mask: Tensor | None = None) -> Tensor:
        if group.startswith(GRAPH) and hasattr(x, "edge_index"):
            if head in self.adapters:
                x = x.clone()
                x.x = self.adapters[head](x.x.float())
            h = self.encoders[group](x)
            if self.features.get(head, "pooled") == "pooled":
                from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool

                fn = {"sum": global_add_pool, "mean": global_mean_pool, "max": global_max_pool}
                h = fn[self.pool](h, x.batch, size=x.num_graphs)
            return h
        enc = self.encoders[group]
        if self.features.get(head) == "frames":
            if not hasattr(enc, "forward_frames"):
                raise ClimbError(
                    f"task {head}: per-frame labels need an encoder with per-frame features, "
                    f"{type(enc).__name__} pools over time",
                    where="model.encoders",
                    fix="use an encoder with forward_frames, e.g. video: frame_pool",
                )
            return enc.forward_frames(x)
        if mask is not None and group in self.mask_groups:
            return enc(x, mask)
        return enc(x)

    def forward(
        self,
        inputs: dict[str, Any],
        head: str,
        present: dict[str, Tensor] | None = None,
        masks: dict[str, Tensor] | None = None,
        clip_index: dict[str, Tensor] | None = None,
    ) -> Tensor:
        """Outputs of ``head`` for a batch's ``inputs``. ``masks``: valid steps of ragged fields
        (passed to encoders that take a mask); ``clip_index``: for dense clips of a field, the
        sample of each clip: the clip outputs are aggregated per sample (``model.clip_aggregate``)."""
        route = self.routes[head]
        masks = masks or {}
        if len(route) == 1:
            f, g = route[0]
            out = self.heads[head](self.encode(head, f, g, inputs[f], masks.get(f)))
            if clip_index and f in clip_index:
                out = aggregate_clips(out, clip_index[f], self.clip_aggregate)
            return out
        if clip_index:
            raise ClimbError(
                f"task {head}: dense clips (one row per clip) of a multi-field task",
                where="data.ragged",
                fix="use the uniform clip or crop policy for fields of fusion tasks",
            )
        if present is None:
            present = {}
        # A field absent from every sample of the batch (no ECG in any admission of it) is not
        # encoded: every fusion replaces absent features by its mask token, so they would never
        # be used (the outputs are the same; its encoder just gets no batch-norm update from
        # zeros and no zero gradient). Its placeholder features are zeros.
        feats: dict[str, Tensor] = {}
        skipped: list[str] = []
        for f, g in route:
            p = present.get(f)
            if p is not None and len(p) and not bool(p.any()):
                skipped.append(f)
                continue
            feats[f] = self.encode(head, f, g, inputs[f], masks.get(f))
        if skipped:
            ref = next(iter(feats.values()), None)
            for f in skipped:
                p = present[f]
                dim = int(self.fusions[head].dims[f])
                dtype, dev = (
                    (ref.dtype, ref.device) if ref is not None else (torch.float32, p.device)
                )
                feats[f] = torch.zeros(len(p), dim, dtype=dtype, device=dev)
            feats = {f: feats[f] for f, _ in route}  # the route's field order
        pres = {
            f: present.get(f, torch.ones(len(v), dtype=torch.bool, device=v.device))
            for f, v in feats.items()
        }
        return self.heads[head](self.fusions[head](feats, pres))


def aggregate_clips(out: Tensor, clip_index: Tensor, how: str = "mean") -> Tensor:
    """Per-sample aggregate (``mean`` or ``max``) of per-clip outputs ``(N_clips, ...)``;
    ``clip_index[i]`` is the batch row of clip ``i`` -> ``(B, ...)`` with B = max index + 1."""
    b = int(clip_index.max()) + 1 if len(clip_index) else 0
    idx = clip_index.long().view(-1, *([1] * (out.ndim - 1))).expand_as(out)
    if how == "max":
        agg = out.new_full((b, *out.shape[1:]), float("-inf"))
        return agg.scatter_reduce(0, idx, out, reduce="amax", include_self=True)
    if how != "mean":
        raise ClimbError(
            f"unknown clip aggregation {how!r}", where="model.clip_aggregate", fix="mean or max"
        )
    agg = out.new_zeros((b, *out.shape[1:])).scatter_add(0, idx, out)
    n = torch.bincount(clip_index.long(), minlength=b).clamp_min(1).to(out.dtype)
    return agg / n.view(-1, *([1] * (out.ndim - 1)))


def _input_kwargs(modality: str, shape: tuple[int, ...], spec: dict[str, Any]) -> dict[str, Any]:
    """Encoder arguments that follow from a field's stored shape (braindecode-style standard
    arguments: channels, length, sampling rate), through the models registry."""
    from climb.models import input_kwargs

    return input_kwargs(modality, shape, spec)


def build_model(cfg: Config, tasks: list[TaskData]) -> ClimbModel:
    from climb.models import build_encoder

    m = cfg.model
    groups: dict[str, dict[str, Any]] = {}  # group -> {modality, shape, field}
    routes: dict[str, list[tuple[str, str]]] = {}
    encoders: dict[str, nn.Module] = {}
    heads: dict[str, nn.Module] = {}
    adapters: dict[str, nn.Module] = {}
    features: dict[str, str] = {}
    dims: dict[str, int] = {}
    sample = {t.head_key: t.sample_batch() for t in tasks}
    graph_in = {t.head_key: t.graphs.in_channels for t in tasks if t.is_graph}
    project = len(set(graph_in.values())) > 1
    for t in tasks:
        features[t.head_key] = t.kind.features
        route = []
        for f in t.fields:
            mod = t.modalities[f]
            if t.kind.features == "dense":
                group = f"{f}@{t.head_key}"  # a dense network per segmentation task
            elif f in m.encoders:
                group = f
            else:
                group = mod
            route.append((f, group))
            if t.is_graph:
                shape = (int(m.proj_dim) if project else t.graphs.in_channels,)
                spec: dict[str, Any] = {"edge_dim": t.graphs.edge_dim}
            else:
                x = sample[t.head_key]["inputs"][f]
                shape = tuple(x.shape[1:])
                spec = dict(t.train.field_spec(f)) if hasattr(t.train, "field_spec") else {}
                spec["batch_dtype"] = str(x.dtype)
            prev = groups.get(group)
            if prev is not None and not t.is_graph and prev["shape"][:1] != shape[:1]:
                raise ClimbError(
                    f"tasks of modality {mod!r} have inputs of different channel counts "
                    f"({prev['shape']} vs {shape} for {t.id}); one shared encoder cannot take both",
                    where="data.tasks",
                    fix="use stores with the same channels/leads, a transform that makes them "
                    "agree, or a per-field encoder (model.encoders.<field>)",
                )
            if prev is None:
                groups[group] = {"modality": mod, "shape": shape, "spec": spec, "task": t}
            elif t.is_graph and prev["spec"].get("edge_dim") != spec.get("edge_dim"):
                prev["spec"]["edge_dim"] = None
        if t.is_graph and project:
            adapters[t.head_key] = nn.Linear(t.graphs.in_channels, int(m.proj_dim))
        routes[t.head_key] = route
    for group, g in groups.items():
        mod = g["modality"]
        ec = m.encoders.get(group) or m.encoders.get(mod)
        name = (ec.name if ec and ec.name else None) or m.encoder
        kw: dict[str, Any] = dict(m.encoder_kwargs)
        if ec:
            kw.update(ec.kwargs)
        t = g["task"]
        if t.kind.features == "dense":
            encoders[group] = t.kind.build_dense(t.spec, int(g["shape"][0]), name, **kw)
            continue
        if mod == GRAPH:
            kw["pool"] = "none"
            kw.setdefault("in_channels", int(g["shape"][0]))
            if g["spec"].get("edge_dim"):
                kw.setdefault("edge_dim", int(g["spec"]["edge_dim"]))
        else:
            for k, v in _input_kwargs(mod, g["shape"], g["spec"]).items():
                kw.setdefault(k, v)
        encoders[group] = build_encoder(mod, name, **kw)
    fusions: dict[str, nn.Module] = {}
    for t in tasks:
        route = routes[t.head_key]
        if len(route) == 1:
            in_dim = int(getattr(encoders[route[0][1]], "out_dim", 0) or 0)
        else:
            from climb.models.fusion import build_fusion

            dims = {f: int(encoders[g].out_dim) for f, g in route}
            fusions[t.head_key] = build_fusion(m.fusion, dims, **m.fusion_kwargs)
            in_dim = int(fusions[t.head_key].out_dim)
        heads[t.head_key] = t.kind.build_head(
            t.spec, in_dim, hidden=m.head_hidden, dropout=m.head_dropout
        )
        labels = getattr(t.train, "labels", None)
        t.kind.init_head(
            heads[t.head_key], labels.get(t.entry.task) if isinstance(labels, dict) else None
        )
    return ClimbModel(
        encoders,
        heads,
        routes,
        fusions=fusions,
        adapters=adapters,
        features=features,
        pool=m.pool,
        clip_aggregate=m.clip_aggregate,
    )


# ----------------------------------------------------------------------------- checkpoints


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


def init_encoders(model: ClimbModel, cfg: Config) -> list[dict[str, Any]]:
    """Load ``model.init`` into every encoder (a climb checkpoint: by group; else as is)."""
    from climb.experiment.checkpoint import load_checkpoint
    from climb.models import load_encoder_weights

    if not cfg.model.init:
        return []
    init = Path(cfg.model.init).expanduser()
    if not init.is_absolute() and not init.exists():
        init = cfg.data_root() / "runs" / init  # a run name under <root>/runs/
    ckpt = resolve_checkpoint(init, "best")
    obj = load_checkpoint(ckpt, require_climb=False)
    reports = []
    for group, enc in model.encoders.items():
        if isinstance(obj, dict) and obj.get("format") == "climb-checkpoint":
            prefix = cfg.model.init_prefix or f"encoders.{group}."
            state = dict(obj["model"])
            if not any(k.startswith(prefix) for k in state):
                have = sorted({k.split(".")[1] for k in state if k.startswith("encoders.")})
                raise ClimbError(
                    f"checkpoint {ckpt} has no encoder for {group!r}",
                    where="model.init",
                    fix=f"its encoders: {have}",
                )
            rep = load_encoder_weights(enc, state, prefix=prefix, source=str(ckpt))
        else:
            rep = load_encoder_weights(enc, ckpt, prefix=cfg.model.init_prefix)
        reports.append(
            {
                "modality": group,
                "source": str(ckpt),
                "loaded": len(rep.get("loaded", [])),
                "missing": len(rep.get("missing", [])),
            }
        )
    return reports
