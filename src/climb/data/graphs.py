"""Graph stores for training: every graph of a store as a torch_geometric ``Data`` (graph
stores are small: PROTEINS, PPI), or brain-network connectivity matrices turned into graphs when
loaded (ABIDE, ABCD, PPMI; ``data.graph`` says how), plus resumable batch streams over them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from climb.core.errors import ClimbError
from climb.data.mixture import TaskStream


@dataclass
class GraphSet:
    """All graphs of one store task, with the per-sample columns training needs."""

    key: str
    task: str
    spec: dict[str, Any]
    level: str  # graph | node
    graphs: list[Any]
    labels: np.ndarray  # graph-level labels (zeros for node tasks)
    split: np.ndarray
    folds: np.ndarray | None
    patient: np.ndarray
    sample_ids: np.ndarray

    @property
    def in_channels(self) -> int:
        return int(self.graphs[0].x.shape[1])

    @property
    def edge_dim(self) -> int | None:
        ea = getattr(self.graphs[0], "edge_attr", None)
        return int(ea.shape[1]) if ea is not None else None


def load_graph_set(store_path: Path, task: str, graph_cfg: Any) -> GraphSet:
    """Read ``task`` of the graph or brain-network store at ``store_path``."""
    from torch_geometric.data import Data

    from climb.core.schema import graph_prefixes
    from climb.io.graphs import corr_to_graph
    from climb.store import open_store
    from climb.store.ragged import read_graphs

    st = open_store(store_path)
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
        for g in read_graphs(st, prefix, idx.tolist()):
            d = Data(
                x=torch.from_numpy(g["x"]).float(),
                edge_index=torch.from_numpy(g["edge_index"]).long(),
            )
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
                g = corr_to_graph(
                    m,
                    method=graph_cfg.method,
                    k=int(graph_cfg.k),
                    threshold=float(graph_cfg.threshold),
                    nan_mask=bool(graph_cfg.nan_mask),
                    pad_to=graph_cfg.pad_to,
                )
                graphs.append(
                    Data(
                        x=torch.from_numpy(g.x),
                        edge_index=torch.from_numpy(g.edge_index),
                        edge_attr=torch.from_numpy(g.edge_attr),
                    )
                )
    else:
        raise ClimbError(
            f"store {st.key!r} has no graph fields",
            where=str(store_path),
            fix="graph training needs graph.* ragged fields or a connectivity matrix",
        )
    col = spec.get("column", f"label__{task}")
    labels = np.asarray(df[col].tolist()) if level == "graph" else np.zeros(n, dtype=np.int64)
    if level == "graph":
        for d, y in zip(graphs, labels, strict=True):
            d.y = torch.tensor(
                [y], dtype=torch.float32 if spec["type"] == "regression" else torch.long
            )
    return GraphSet(
        key=st.key,
        task=task,
        spec=spec,
        level=level,
        graphs=graphs,
        labels=labels,
        split=df["split"].to_numpy(),
        folds=df["cv_fold"].to_numpy() if "cv_fold" in df.columns else None,
        patient=df["patient_id"].to_numpy(),
        sample_ids=df["sample_id"].to_numpy(),
    )


def graph_batches(
    gs: GraphSet,
    positions: np.ndarray,
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int = 0,
    epoch: int = 0,
    start_batch: int = 0,
    drop_singletons: bool = False,
) -> Iterator[dict[str, Any]]:
    """Batches ``{"inputs": {"graph": Batch}, "targets": {task: y}, "present": ...}`` over
    ``positions``, in order or in a permutation seeded by ``(seed, epoch)``."""
    from torch_geometric.data import Batch

    order = np.asarray(positions)
    if shuffle:
        order = order[np.random.default_rng([seed, epoch]).permutation(len(order))]
    for b, s in enumerate(range(0, len(order), batch_size)):
        if b < start_batch:
            continue
        sel = order[s : s + batch_size]
        if drop_singletons and len(sel) < 2 and gs.level == "graph":
            continue  # BatchNorm needs two graphs
        batch = Batch.from_data_list([gs.graphs[i] for i in sel])
        y = batch.y if gs.level == "node" else batch.y.view(-1)
        yield {
            "inputs": {"graph": batch},
            "targets": {gs.task: y},
            "present": {"graph": torch.ones(len(sel), dtype=torch.bool)},
            "index": torch.as_tensor(sel),
        }


def graph_stream(gs: GraphSet, positions: np.ndarray, batch_size: int, seed: int) -> TaskStream:
    """An endless resumable stream of shuffled training batches (epochs follow each other)."""

    def make_iter(epoch: int, start_batch: int) -> Iterator[Any]:
        return graph_batches(
            gs,
            positions,
            batch_size,
            shuffle=True,
            seed=seed,
            epoch=epoch,
            start_batch=start_batch,
            drop_singletons=len(positions) >= 2,
        )

    return TaskStream(make_iter)
