"""Adapters for PROTEINS (TUDataset raw text format) and PPI (PyG/DGL or GraphSAGE layout).

Both write graphs as ragged fields (climb.store.ragged): ``graph.x``, ``graph.edge_index``
(+ ``graph.node_attr`` for PROTEINS, ``graph.y`` node labels for PPI).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.adapter import BaseAdapter, PrepareOptions, RecordError, RecordRef, Sample
from climb.core.errors import ClimbError
from climb.core.schema import RaggedFieldSpec, graph_arrays, graph_fields
from climb.core.splits import describe, stratified_group_split, stratified_kfold
from climb.io.graphs import GraphFormatError, TUDataset, find_tu_prefix, ppi_layout, read_ppi
from climb.io.graphs import read_tu_dataset as _read_tu

_TU_CACHE: dict[tuple[str, float], TUDataset] = {}


def cached_tu(folder: Path) -> TUDataset:
    """Parse a TU dataset once per process (workers read many graphs of the same files)."""
    d, name = find_tu_prefix(folder)
    key = (str(d / name), os.stat(d / f"{name}_A.txt").st_mtime)
    if key not in _TU_CACHE:
        _TU_CACHE.clear()
        _TU_CACHE[key] = _read_tu(d, name)
    return _TU_CACHE[key]


class ProteinsAdapter(BaseAdapter):
    """PROTEINS: one sample per graph; x = one-hot node label (helix/sheet/turn, 3 features,
    as PyG's TUDataset and Errica et al.), the continuous node attribute in ``graph.node_attr``.

    Split rules: ``stratified`` (default; seeded, stratified by label, 80/10/10) and ``patient``
    (hash of the graph id). Every sample also carries ``cv_fold`` (stratified 10-fold, seeded) for
    the 10-fold protocol (:func:`climb.core.splits.kfold_indices`).
    """

    key = "proteins"
    version = "1"
    extra_split_rules = ("stratified",)
    n_node_labels = 3
    n_folds = 10

    def fields(self) -> list[Any]:
        return [
            *graph_fields("graph", node_dim=self.n_node_labels),
            RaggedFieldSpec("graph.node_attr", "float32", (1,), axes=("node", "feature")),
        ]

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        return {
            "enzyme": {
                "type": "binary",
                "classes": ["enzyme", "non_enzyme"],
                "label_space": None,
                "column": "label__enzyme",
                "policy": options.label_policy,
                "level": "graph",
                "graph": "graph",
                "description": "PROTEINS_graph_labels.txt 1 -> 0, 2 -> 1 (as PyG)",
            }
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["stratified", "patient"]

    def default_split_rule(self, raw_dir: Path) -> str:
        return "stratified"

    def describe_split(self, rule: str, seed: int) -> dict[str, Any]:
        return describe(
            rule,
            seed,
            "seeded split stratified by graph label: train 80% / val 10% / test 10%; "
            f"column cv_fold = stratified {self.n_folds}-fold (sklearn StratifiedKFold, shuffle, "
            "random_state=seed) for the 10-fold protocol of Errica et al. 2020",
            cv_folds=self.n_folds,
        )

    def _dataset(self, raw_dir: Path) -> TUDataset:
        try:
            return cached_tu(raw_dir)
        except GraphFormatError as exc:
            raise ClimbError(exc.what, where=exc.where, fix=exc.fix) from None

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        d = self._dataset(raw_dir)
        labels = {f"graph_{g + 1:04d}": int(d.graph_labels[g]) for g in range(d.num_graphs)}
        split = stratified_group_split(labels, options.seed)
        folds = stratified_kfold(labels, self.n_folds, options.seed)
        rel = (d.folder / f"{d.name}_A.txt").relative_to(raw_dir).as_posix()
        return [
            RecordRef(rid, rel, {"g": i, "split": split[rid], "fold": folds[rid]})
            for i, rid in enumerate(sorted(labels))
        ]

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        d = self._dataset(raw_dir)
        g = int(ref.info["g"])
        gr = d.graph(g)
        if gr.x.shape[1] != self.n_node_labels:
            raise RecordError(
                f"{gr.x.shape[1]} node label values in the dataset, expected {self.n_node_labels}"
            )
        native = int(d.graph_labels[g])
        if native not in (1, 2):
            raise RecordError(f"graph label {native} is not 1 or 2")
        arrays = graph_arrays("graph", gr.x, gr.edge_index)
        attr = gr.info.get("node_attributes")
        arrays["graph.node_attr"] = (
            attr[:, :1] if attr is not None else np.zeros((gr.num_nodes, 1), np.float32)
        )
        return Sample(
            sample_id=ref.record_id,
            patient_id=ref.record_id,
            source_path=ref.source_path,
            arrays=arrays,
            labels={"enzyme": native - 1},
            native_labels={"graph_label": native},
            columns={
                "cv_fold": int(ref.info["fold"]),
                "num_nodes": gr.num_nodes,
                "num_edges": gr.num_edges,
            },
            split_hint={"stratified": str(ref.info["split"])},
        )


_PPI_CACHE: dict[str, list[Any]] = {}


class PpiAdapter(BaseAdapter):
    """PPI: one sample per tissue graph (24), node features (50), node-level labels (121) in the
    ragged field ``graph.y``; the official graph split (20 / 2 / 2)."""

    key = "ppi"
    version = "1"
    n_features = 50
    n_labels = 121

    def fields(self) -> list[Any]:
        return graph_fields("graph", node_dim=self.n_features, node_label_dim=self.n_labels)

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        return {
            "go_labels": {
                "type": "multilabel",
                "classes": [f"go_{i:03d}" for i in range(self.n_labels)],
                "label_space": None,
                "column": "label__go_labels",
                "policy": options.label_policy,
                "level": "node",
                "graph": "graph",
                "node_field": "graph.y",
                "description": "121 GO-set memberships per node, in graph.y (nodes, 121) int8; "
                "the graph-level column is all -1 (labels are per node)",
            }
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["official"]

    def _graphs(self, raw_dir: Path) -> list[Any]:
        key = str(raw_dir)
        if key not in _PPI_CACHE:
            try:
                _PPI_CACHE.clear()
                _PPI_CACHE[key] = read_ppi(raw_dir)
            except GraphFormatError as exc:
                raise ClimbError(exc.what, where=exc.where, fix=exc.fix) from None
        return _PPI_CACHE[key]

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        layout, d = ppi_layout(raw_dir)
        graphs = self._graphs(raw_dir)
        order = {"train": 0, "val": 1, "test": 2}
        refs = []
        for i, g in enumerate(graphs):
            split = g.info["split"]
            prefix = {"train": "train", "val": "valid", "test": "test"}[split]
            src = d / (f"{prefix}_graph.json" if layout == "pyg" else "ppi-G.json")
            rid = f"{split}_{order[split]}_{int(g.info['graph_id']):03d}"
            refs.append(RecordRef(rid, src.relative_to(raw_dir).as_posix(), {"i": i}))
        return sorted(refs, key=lambda r: r.record_id)

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        g = self._graphs(raw_dir)[int(ref.info["i"])]
        if g.x.shape[1] != self.n_features:
            raise RecordError(f"{g.x.shape[1]} node features, expected {self.n_features}")
        y = np.asarray(g.y)
        if y.ndim != 2 or y.shape[1] != self.n_labels:
            raise RecordError(f"node labels of shape {y.shape}, expected (nodes, {self.n_labels})")
        if not np.isin(y, (0, 1)).all():
            raise RecordError("node labels are not all 0/1")
        return Sample(
            sample_id=ref.record_id,
            patient_id=ref.record_id,
            source_path=ref.source_path,
            arrays=graph_arrays("graph", g.x, g.edge_index, node_y=y),
            labels={},
            native_labels={"graph_id": int(g.info["graph_id"]), "split": g.info["split"]},
            columns={"num_nodes": g.num_nodes, "num_edges": g.num_edges},
            split_hint={"official": g.info["split"]},
        )
