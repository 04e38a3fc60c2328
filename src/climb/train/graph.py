"""Graph training for ``climb train``: graph-level and node-level tasks on graph stores
(PROTEINS, PPI: ragged ``graph.*`` fields) and brain-network stores (dense ``connectivity``,
turned into graphs when loaded), single-task or multitask, with optional k-fold
cross-validation (reported as mean +- std with per-fold results).

A config routes here with ``kind: graph`` (see configs/proteins_gin.yaml, docs/graphs.md)::

    kind: graph
    run: {name: proteins_gin, seed: 0, threads: 1}
    data:
      root: null                      # default $CLIMB_ROOT / ~/climb-data
      tasks: [{dataset: proteins, task: enzyme}]
      batch_size: 32
      graph: {method: dense, k: 10, threshold: 0.3, nan_mask: false, pad_to: null}
      cv: {folds: 10, val_fraction: 0.1}   # omit for the store's train/val/test split
    model: {encoder: gin, encoder_kwargs: {hidden: 32, layers: 4, dropout: 0.5},
            pool: sum, head_dropout: 0.5, proj_dim: 64}
    optim: {lr: 0.01, weight_decay: 0.0, step_size: 50, gamma: 0.5}
    train: {epochs: 300, patience: 60, select: val_acc}   # val_acc | val_auroc | val_f1
    evaluate: {n_boot: 1000}

Multitask: one shared encoder; a per-dataset input projection (``proj_dim``) when the node
feature sizes differ (as CLIMB's unified graph models); one head per task; batches
round-robin over the tasks (one batch each per step, as CLIMB's unified brain training) until
the largest task's epoch is done; model selection on the mean validation score over tasks.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from climb.errors import ClimbError

DEFAULTS: dict[str, Any] = {
    "kind": "graph",
    "run": {"name": "graph", "seed": 0, "threads": 1, "device": "cpu"},
    "data": {
        "root": None,
        "tasks": [],
        "batch_size": 32,
        "eval_batch_size": 256,
        "graph": {
            "method": "dense",
            "k": 10,
            "threshold": 0.3,
            "nan_mask": False,
            "pad_to": None,
        },
        "cv": None,
    },
    "model": {
        "encoder": "gin",
        "encoder_kwargs": {},
        "pool": "sum",
        "head_dropout": 0.0,
        "head_hidden": None,
        "proj_dim": 64,
    },
    "optim": {"lr": 0.01, "weight_decay": 0.0, "step_size": 50, "gamma": 0.5},
    "train": {"epochs": 100, "patience": 30, "select": "val_auroc"},
    "evaluate": {"n_boot": 1000, "seed": 0},
}


def _merge(base: dict[str, Any], over: dict[str, Any], where: str = "") -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if k not in base:
            raise ClimbError(
                f"unknown key '{where}{k}' in a graph config",
                fix=f"known keys here: {', '.join(sorted(base))}",
            )
        if isinstance(base[k], dict) and isinstance(v, dict) and k not in ("encoder_kwargs",):
            out[k] = _merge(base[k], v, f"{where}{k}.")
        else:
            out[k] = v
    return out


def is_graph_config(path: str | Path) -> bool:
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and data.get("kind") == "graph"


def load_graph_config(
    path: str | Path | dict[str, Any], overrides: list[str] = ()
) -> dict[str, Any]:  # type: ignore[assignment]
    import yaml

    data = path if isinstance(path, dict) else yaml.safe_load(Path(path).read_text("utf-8"))
    for o in overrides:
        key, _, val = o.partition("=")
        node = data
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = yaml.safe_load(val)
    cfg = _merge(DEFAULTS, data)
    if not cfg["data"]["tasks"]:
        raise ClimbError(
            "a graph config needs data.tasks", fix="e.g. [{dataset: proteins, task: enzyme}]"
        )
    if cfg["train"]["select"] not in ("val_acc", "val_auroc", "val_f1", "val_loss"):
        raise ClimbError(f"unknown train.select {cfg['train']['select']!r}",
                         fix="val_acc, val_auroc, val_f1 or val_loss")  # fmt: skip
    return cfg


# ----------------------------------------------------------------------------- data


@dataclass
class GraphTask:
    id: str
    dataset: str
    task: str
    type: str
    level: str  # graph | node
    classes: list[str]
    graphs: list[Any]
    labels: np.ndarray  # graph-level labels (or per-graph placeholder for node tasks)
    split: np.ndarray
    folds: np.ndarray | None
    patient: np.ndarray
    in_channels: int
    parts: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.id.replace("/", "__").replace(".", "_")


def load_task(store_path: Path, entry: dict[str, Any], gcfg: dict[str, Any]) -> GraphTask:
    """All graphs of one store as torch_geometric ``Data`` (graph stores are small; brain
    networks are built from the connectivity matrices here, with ``data.graph``)."""
    from torch_geometric.data import Data

    from climb.io.graphs import corr_to_graph
    from climb.store import open_store
    from climb.store.ragged import graph_prefixes, read_graphs

    st = open_store(store_path)
    task = entry["task"]
    if task not in st.tasks:
        raise ClimbError(
            f"store {st.key!r} has no task {task!r}", fix=f"tasks: {', '.join(st.tasks)}"
        )
    spec = st.tasks[task]
    df = st.samples
    n = len(df)
    level = spec.get("level", "graph")
    idx = df["index"].to_numpy()
    graphs: list[Any] = []
    prefixes = graph_prefixes(st.fields)
    if prefixes:
        prefix = spec.get("graph", prefixes[0])
        raw = read_graphs(st, prefix, idx.tolist())
        for g in raw:
            d = Data(x=torch.from_numpy(g["x"]).float(),
                     edge_index=torch.from_numpy(g["edge_index"]).long())  # fmt: skip
            if "edge_attr" in g:
                d.edge_attr = torch.from_numpy(g["edge_attr"]).float()
            if level == "node":
                d.y = torch.from_numpy(g["y"].astype(np.float32))
            graphs.append(d)
    elif "connectivity" in st.fields:
        # block by block: the graphs (whose node features are the matrix rows) are the only
        # full copy in memory, never the graphs plus every matrix (ABCD: ~5 GB each)
        for start in range(0, len(idx), 256):
            for m in st.read("connectivity", idx[start : start + 256]):
                g = corr_to_graph(m, method=gcfg["method"], k=int(gcfg["k"]),
                                  threshold=float(gcfg["threshold"]), nan_mask=bool(gcfg["nan_mask"]),
                                  pad_to=gcfg.get("pad_to"))  # fmt: skip
                graphs.append(Data(x=torch.from_numpy(g.x), edge_index=torch.from_numpy(g.edge_index),
                                   edge_attr=torch.from_numpy(g.edge_attr)))  # fmt: skip
    else:
        raise ClimbError(f"store {st.key!r} has no graph fields", where=str(store_path),
                         fix="graph training needs graph.* ragged fields or a connectivity matrix")  # fmt: skip
    col = spec.get("column", f"label__{task}")
    labels = np.asarray(df[col].tolist()) if level == "graph" else np.zeros(n, dtype=np.int64)
    if level == "graph":
        for d, y in zip(graphs, labels, strict=True):
            d.y = torch.tensor([int(y)], dtype=torch.long)
    return GraphTask(
        id=f"{entry['dataset']}/{task}",
        dataset=entry["dataset"],
        task=task,
        type=spec["type"],
        level=level,
        classes=list(spec.get("classes") or []),
        graphs=graphs,
        labels=labels,
        split=df["split"].to_numpy(),
        folds=df["cv_fold"].to_numpy() if "cv_fold" in df.columns else None,
        patient=df["patient_id"].to_numpy(),
        in_channels=int(graphs[0].x.shape[1]),
    )


def assign_parts(t: GraphTask, cv: dict[str, Any] | None, fold: int | None, seed: int) -> None:
    from climb.datasets._group_splits import check_disjoint, kfold_indices, stratified_kfold

    if fold is None:
        t.parts = {s: np.flatnonzero(t.split == s) for s in ("train", "val", "test")}
    else:
        folds = t.folds
        k = int(cv["folds"])  # type: ignore[index]
        if folds is None or folds.max() + 1 != k:
            if t.level == "node":
                raise ClimbError(f"{t.id}: k-fold needs graph-level labels")
            # group-level folds: every graph of a patient in one fold
            pl: dict[str, Any] = {}
            for p, y in zip(t.patient, t.labels, strict=True):
                pl.setdefault(str(p), int(y))
            by = stratified_kfold(pl, k, seed)
            folds = np.asarray([by[str(p)] for p in t.patient])
        t.parts = kfold_indices(
            folds, t.labels.tolist(), fold, seed, float(cv.get("val_fraction", 0.1))
        )  # type: ignore[union-attr]
    if t.level == "graph":  # labels missing (-1) are not used
        t.parts = {s: ix[t.labels[ix] >= 0] for s, ix in t.parts.items()}
    check_disjoint(t.parts)
    if len(t.parts["train"]) == 0:
        raise ClimbError(f"{t.id}: no training graphs")


# ----------------------------------------------------------------------------- model


class MultiGraphModel(nn.Module):
    def __init__(self, cfg: dict[str, Any], tasks: list[GraphTask]) -> None:
        super().__init__()
        from climb.models import build_encoder, build_head, num_logits

        m = cfg["model"]
        dims = {t.in_channels for t in tasks}
        self.project = len(dims) > 1
        in_ch = int(m["proj_dim"]) if self.project else dims.pop()
        self.proj = nn.ModuleDict(
            {t.key: nn.Linear(t.in_channels, in_ch) for t in tasks} if self.project else {}
        )
        edge_dims = {int(t.graphs[0].edge_attr.shape[1]) for t in tasks
                     if getattr(t.graphs[0], "edge_attr", None) is not None}  # fmt: skip
        kw = dict(m["encoder_kwargs"])
        if len(edge_dims) == 1 and len(tasks) == sum(
            getattr(t.graphs[0], "edge_attr", None) is not None for t in tasks
        ):
            kw.setdefault("edge_dim", edge_dims.pop())
        kw["pool"] = "none"
        self.encoder = build_encoder("graph", m["encoder"], in_channels=in_ch, **kw)
        self.pool = m["pool"]
        self.heads = nn.ModuleDict(
            {
                t.key: build_head(
                    t.type,
                    self.encoder.out_dim,
                    num_logits(t.type, len(t.classes)) if t.type != "binary" else 1,
                    hidden=m["head_hidden"],
                    dropout=float(m["head_dropout"]),
                )
                for t in tasks
            }
        )
        self.level = {t.key: t.level for t in tasks}

    def forward(self, batch: Any, key: str) -> Tensor:
        from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool

        if self.project:
            batch = batch.clone()
            batch.x = self.proj[key](batch.x.float())
        h = self.encoder(batch)
        if self.level[key] == "graph":
            pool = {"sum": global_add_pool, "mean": global_mean_pool, "max": global_max_pool}[
                self.pool
            ]
            h = pool(h, batch.batch, size=batch.num_graphs)
        return self.heads[key](h)


# ----------------------------------------------------------------------------- loop


def _scores(
    model: MultiGraphModel, t: GraphTask, idx: np.ndarray, bs: int
) -> tuple[np.ndarray, np.ndarray]:
    from torch_geometric.loader import DataLoader

    from climb.models import predict_scores

    model.eval()
    ys, outs = [], []
    with torch.no_grad():
        for b in DataLoader([t.graphs[i] for i in idx], batch_size=bs):
            outs.append(model(b, t.key))
            ys.append(b.y)
    logits = torch.cat(outs)
    return torch.cat(ys).numpy(), predict_scores(t.type, logits)


def micro_f1(y: np.ndarray, s: np.ndarray, thr: float = 0.5) -> float:
    obs = y >= 0
    p = (s >= thr) & obs
    tp = float((p & (y == 1)).sum())
    fp = float((p & (y == 0)).sum())
    fn = float(((~p) & (y == 1) & obs).sum())
    return 2 * tp / max(2 * tp + fp + fn, 1.0)


def val_score(t: GraphTask, y: np.ndarray, s: np.ndarray, select: str) -> float:
    if t.level == "node" or t.type == "multilabel":
        return micro_f1(y, s)
    if select == "val_acc":
        pred = (s >= 0.5).astype(int) if t.type == "binary" else s.argmax(1)
        return float((pred == y).mean())
    from sklearn.metrics import roc_auc_score

    try:
        if t.type == "binary":
            return float(roc_auc_score(y, s))
        return float(roc_auc_score(y, s, multi_class="ovr"))
    except ValueError:
        return float("nan")


def fit(cfg: dict[str, Any], tasks: list[GraphTask], seed: int, log: Any = None) -> MultiGraphModel:
    """Train on each task's ``parts['train']``, select on the mean validation score."""
    from torch_geometric.loader import DataLoader

    from climb.models import task_loss

    torch.manual_seed(seed)
    model = MultiGraphModel(cfg, tasks)
    o = cfg["optim"]
    opt = torch.optim.Adam(
        model.parameters(), lr=float(o["lr"]), weight_decay=float(o["weight_decay"])
    )
    sched = torch.optim.lr_scheduler.StepLR(
        opt, step_size=int(o["step_size"]), gamma=float(o["gamma"])
    )
    bs = int(cfg["data"]["batch_size"])
    gen = torch.Generator().manual_seed(seed)
    loaders = {t.key: DataLoader([t.graphs[i] for i in t.parts["train"]], batch_size=bs,
                                 shuffle=True, generator=gen) for t in tasks}  # fmt: skip
    select = cfg["train"]["select"]
    best: tuple[float, int, dict[str, Tensor] | None] = (-np.inf, -1, None)
    bad = 0
    for epoch in range(int(cfg["train"]["epochs"])):
        model.train()
        iters = {k: iter(v) for k, v in loaders.items()}
        while iters:
            for t in tasks:  # round robin: one batch per task per cycle
                it = iters.get(t.key)
                if it is None:
                    continue
                b = next(it, None)
                if b is None:
                    del iters[t.key]
                    continue
                if b.num_graphs < 2 and t.level == "graph":
                    continue  # BatchNorm needs 2 graphs
                opt.zero_grad()
                y = b.y if t.level == "node" else b.y.view(-1)
                loss = task_loss(t.type, model(b, t.key), y)
                loss.backward()
                opt.step()
        sched.step()
        vals = []
        for t in tasks:
            if len(t.parts["val"]):
                y, s = _scores(model, t, t.parts["val"], int(cfg["data"]["eval_batch_size"]))
                vals.append(val_score(t, y, s, select))
        v = float(np.nanmean(vals)) if vals else -float(epoch)
        if log:
            log(epoch=epoch, val=v)
        if v > best[0]:
            best = (v, epoch, copy.deepcopy(model.state_dict()))
            bad = 0
        else:
            bad += 1
            if bad >= int(cfg["train"]["patience"]):
                break
    if best[2] is not None:
        model.load_state_dict(best[2])
    model.best_val = best[0]  # type: ignore[assignment]
    model.best_epoch = best[1]  # type: ignore[assignment]
    return model


def evaluate(
    model: MultiGraphModel, t: GraphTask, cfg: dict[str, Any], split: str, seed: int
) -> list[dict[str, Any]]:
    """Metric rows (accuracy, AUROC, ... with bootstrap CIs; micro-F1 for node tasks)."""
    from climb.evaluate import compute_metrics

    idx = t.parts.get(split, np.zeros(0, dtype=np.int64))
    if len(idx) == 0:
        return []
    y, s = _scores(model, t, idx, int(cfg["data"]["eval_batch_size"]))
    n_boot = int(cfg["evaluate"]["n_boot"])
    rows: list[dict[str, Any]] = []
    if t.level == "node":
        f1 = micro_f1(y, s)
        rng = np.random.default_rng(seed)
        boots = []
        for _ in range(min(n_boot, 200)):
            j = rng.integers(0, len(y), len(y))
            boots.append(micro_f1(y[j], s[j]))
        lo, hi = np.percentile(boots, [2.5, 97.5]).tolist() if boots else [np.nan, np.nan]
        rows.append({"metric": "micro_f1", "value": f1, "ci_low": lo, "ci_high": hi, "n": len(y),
                     "note": "node-level, threshold 0.5; CI: node bootstrap"})  # fmt: skip
        return rows
    for r in compute_metrics(t.type, y, s, classes=t.classes, n_boot=n_boot, seed=seed):
        if r.class_name is None:
            rows.append({"metric": r.metric, "value": r.value, "ci_low": r.ci_low,
                         "ci_high": r.ci_high, "n": r.n, "note": r.note})  # fmt: skip
    return rows


def train_graph(cfg: dict[str, Any], out: Path | None = None) -> Path:
    """Run a graph config; returns the run directory (config.json, results.json,
    results.parquet, checkpoints/model.pt)."""
    import yaml

    from climb.evaluate import append_results
    from climb.paths import stores_dir

    torch.set_num_threads(int(cfg["run"]["threads"]))
    seed = int(cfg["run"]["seed"])
    root = cfg["data"]["root"]
    if out is None:
        base = Path(root).expanduser() if root else stores_dir("x").parent.parent
        out = base / "runs" / cfg["run"]["name"]
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    t0 = time.perf_counter()
    tasks = []
    for e in cfg["data"]["tasks"]:
        path = Path(e["store"]).expanduser() if e.get("store") else stores_dir(e["dataset"], root)
        tasks.append(load_task(path, e, cfg["data"]["graph"]))
    cv = cfg["data"]["cv"]
    folds = list(range(int(cv["folds"]))) if cv else [None]
    if cv and cv.get("only_folds"):
        folds = folds[: int(cv["only_folds"])]
    per_fold: list[dict[str, Any]] = []
    rows_out: list[dict[str, Any]] = []
    run_id = cfg["run"]["name"]
    for k in folds:
        for t in tasks:
            assign_parts(t, cv, k, seed)
        model = fit(cfg, tasks, seed + (k or 0))
        split_name = "test" if k is None else f"test_fold{k}"
        rec: dict[str, Any] = {"fold": k, "best_epoch": model.best_epoch, "best_val": model.best_val,
                               "tasks": {}}  # fmt: skip
        for t in tasks:
            rows = evaluate(model, t, cfg, "test", seed + (k or 0))
            rec["tasks"][t.id] = {r["metric"]: r for r in rows}
            rows_out += [{**r, "run_id": run_id, "dataset": t.dataset, "task": t.task,
                          "split": split_name} for r in rows]  # fmt: skip
        per_fold.append(rec)
        (out / "checkpoints").mkdir(exist_ok=True)
        torch.save({"model": model.state_dict(), "config": cfg, "fold": k},
                   out / "checkpoints" / ("model.pt" if k is None else f"fold{k}.pt"))  # fmt: skip
    summary: dict[str, Any] = {}
    if cv:
        for t in tasks:
            for metric in ("accuracy", "auroc", "micro_f1"):
                vals = [
                    f["tasks"][t.id][metric]["value"]
                    for f in per_fold
                    if metric in f["tasks"][t.id]
                ]
                if vals:
                    m, sd = float(np.mean(vals)), float(np.std(vals))
                    summary.setdefault(t.id, {})[metric] = {"mean": m, "std": sd, "folds": vals}
                    rows_out.append({"run_id": run_id, "dataset": t.dataset, "task": t.task,
                                     "split": "cv", "metric": f"{metric}_mean", "value": m,
                                     "n": len(vals), "note": f"std {sd:.4f} over {len(vals)} folds"})  # fmt: skip
    result = {
        "per_fold": per_fold,
        "summary": summary,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (out / "results.json").write_text(json.dumps(result, indent=2, default=float), encoding="utf-8")
    if rows_out:
        append_results(out / "results.parquet", rows_out)
    return out
