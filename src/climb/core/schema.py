"""Store schema types: what a field and a task are, independent of how a store is written.

:class:`FieldSpec` (a dense per-sample array), :class:`RaggedFieldSpec` (per-sample arrays whose
first axis varies: graph nodes/edges, variable-length sequences), the store's default codec and
:func:`quantize` (the value a scaled-integer codec stores), the graph field layout
(:func:`graph_fields`, :func:`graph_arrays`), and :data:`TASK_KINDS`, the one task-kind
vocabulary (cards, models, metrics and the training task kinds all use it). Pure data and
numpy: no zarr, no I/O. ``climb.store`` writes and reads what these describe
(docs/store-format.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

import numpy as np

#: the one task-kind vocabulary: a card task's ``type``; training task kinds register these names
TaskKindName = Literal[
    "binary",
    "multiclass",
    "multilabel",
    "regression",
    "segmentation",
    "node",
    "per_frame",
    "qa",
]
TASK_KINDS: tuple[str, ...] = get_args(TaskKindName)
#: the kinds whose label is one per-sample column of samples.parquet (``label__<task>``):
#: what the data layer decodes and the per-sample metrics of climb.evaluate score
SAMPLE_LABEL_KINDS: tuple[str, ...] = ("binary", "multiclass", "multilabel", "regression")

#: task types whose store label is a list (one entry per class)
LIST_LABEL_TYPES = ("multilabel",)

OFFSETS_DTYPE = "int64"


#: the store's default chunk codec (a field or adapter may choose another; docs/store-format.md)
DEFAULT_CODEC: dict[str, Any] = {
    "name": "blosc",
    "cname": "zstd",
    "clevel": 3,
    "shuffle": "shuffle",
}


@dataclass(frozen=True)
class FieldSpec:
    """One dense array field; ``shape`` is per sample, ``chunks`` = samples per chunk."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    axes: tuple[str, ...] = ()
    unit: str | None = None
    sampling_rate_hz: float | None = None
    chunks: int = 32
    codec: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_CODEC))

    def to_meta(self) -> dict[str, Any]:
        d = asdict(self)
        d["shape"] = list(self.shape)
        d["axes"] = list(self.axes)
        d["chunks"] = [self.chunks, *self.shape]
        d["ragged"] = False
        return d


@dataclass(frozen=True)
class RaggedFieldSpec:
    """A ragged field: each sample is an array of shape ``(n_i, *inner_shape)``."""

    name: str
    dtype: str
    inner_shape: tuple[int, ...] = ()
    axes: tuple[str, ...] = ()
    unit: str | None = None
    sampling_rate_hz: float | None = None
    rows_per_chunk: int = 65536
    codec: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_CODEC))
    ragged: bool = field(default=True, init=False)

    @property
    def shape(self) -> tuple[int | None, ...]:
        return (None, *self.inner_shape)

    def to_meta(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("inner_shape")
        d.pop("rows_per_chunk")
        d["shape"] = [None, *self.inner_shape]
        d["axes"] = list(self.axes)
        d["chunks"] = [self.rows_per_chunk, *self.inner_shape]
        d["ragged"] = True
        d["values"] = f"{self.name}.values.zarr"
        d["offsets"] = f"{self.name}.offsets.zarr"
        return d

    def check(self, a: np.ndarray) -> np.ndarray:
        """``a`` as this field's dtype, or :class:`ValueError` with what is wrong."""
        a = np.asarray(a)
        if a.ndim != 1 + len(self.inner_shape) or tuple(a.shape[1:]) != self.inner_shape:
            raise ValueError(
                f"field {self.name} has shape {a.shape}, expected (n, {', '.join(map(str, self.inner_shape))})"
                if self.inner_shape
                else f"field {self.name} has shape {a.shape}, expected (n,)"
            )
        if np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
            raise ValueError(f"field {self.name} has non-finite values")
        return a.astype(self.dtype, copy=False)


def is_ragged(spec: Any) -> bool:
    return bool(getattr(spec, "ragged", False))


def spec_from_meta(name: str, meta: Mapping[str, Any]) -> RaggedFieldSpec:
    return RaggedFieldSpec(
        name=name,
        dtype=str(meta["dtype"]),
        inner_shape=tuple(int(s) for s in meta["shape"][1:]),
        axes=tuple(meta.get("axes", ())),
        unit=meta.get("unit"),
        sampling_rate_hz=meta.get("sampling_rate_hz"),
        rows_per_chunk=int(meta.get("chunks", [65536])[0]),
        codec=dict(meta.get("codec") or {}),
    )


def quantize(codec: Mapping[str, Any], x: np.ndarray) -> np.ndarray:
    """``x`` exactly as a field with ``codec`` stores and reads it back: with ``scale`` (and
    ``astype``), ``round(x * scale) / scale``, clipped to the range of ``astype``, in x's float
    dtype; the array unchanged otherwise. Writing the result stores it without loss, so sums
    and digests taken from it (prepare takes them in-pass) equal those of the decoded store."""
    scale = codec.get("scale")
    if scale is None:
        return x
    info = np.iinfo(np.dtype(codec.get("astype", "int16")))
    q = np.clip(np.round(np.asarray(x, dtype=np.float64) * scale), info.min, info.max)
    q += 0.0  # -0.0 -> +0.0: the stored integer 0 reads back as +0.0
    return (q / scale).astype(x.dtype)


def graph_fields(
    prefix: str, node_dim: int, edge_dim: int | None = None, node_label_dim: int | None = None
) -> list[RaggedFieldSpec]:
    """The ragged fields of a graph: ``<prefix>.x``, ``<prefix>.edge_index`` and optionally
    ``<prefix>.edge_attr`` and ``<prefix>.y`` (node-level labels, int8, -1 = missing)."""
    out = [
        RaggedFieldSpec(f"{prefix}.x", "float32", (node_dim,), axes=("node", "feature")),
        RaggedFieldSpec(
            f"{prefix}.edge_index", "int64", (2,), axes=("edge", "src_dst"), rows_per_chunk=131072
        ),
    ]
    if edge_dim:
        out.append(
            RaggedFieldSpec(f"{prefix}.edge_attr", "float32", (edge_dim,), axes=("edge", "feature"))
        )
    if node_label_dim:
        out.append(
            RaggedFieldSpec(f"{prefix}.y", "int8", (node_label_dim,), axes=("node", "label"))
        )
    return out


def graph_arrays(
    prefix: str,
    x: np.ndarray,
    edge_index: np.ndarray,
    edge_attr: np.ndarray | None = None,
    node_y: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """A graph as the per-sample arrays of :func:`graph_fields` (edge_index stored (E, 2))."""
    ei = np.asarray(edge_index, dtype=np.int64)
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise ValueError(f"edge_index must be (2, E), got {ei.shape}")
    n = int(np.asarray(x).shape[0])
    if ei.size and (ei.min() < 0 or ei.max() >= n):
        raise ValueError(f"edge_index refers to node {int(ei.max())} of a {n}-node graph")
    out = {f"{prefix}.x": np.asarray(x, dtype=np.float32), f"{prefix}.edge_index": ei.T.copy()}
    if edge_attr is not None:
        ea = np.asarray(edge_attr, dtype=np.float32)
        if ea.shape[0] != ei.shape[1]:
            raise ValueError(f"edge_attr has {ea.shape[0]} rows for {ei.shape[1]} edges")
        out[f"{prefix}.edge_attr"] = ea
    if node_y is not None:
        out[f"{prefix}.y"] = np.asarray(node_y, dtype=np.int8)
    return out


def graph_prefixes(fields: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Prefixes of the graphs among a store's fields (those with ``<p>.x`` and ``<p>.edge_index``)."""
    return sorted(
        n[: -len(".edge_index")]
        for n, m in fields.items()
        if n.endswith(".edge_index")
        and m.get("ragged")
        and f"{n[: -len('.edge_index')]}.x" in fields
    )
