"""Graph encoders (torch_geometric): GIN, GCN, GAT and a graph transformer (TransformerConv).

Every encoder takes a torch_geometric ``Batch`` / ``Data`` (``x``, ``edge_index``, optional
``edge_attr`` and ``batch``) and returns

* graph features ``(num_graphs, out_dim)`` with a global pooling (``pool="sum" | "mean" | "max"``),
* node features ``(num_nodes, out_dim)`` with ``pool="none"`` (node-level tasks such as PPI).

``jk="cat"`` concatenates every layer's output (jumping knowledge; GIN's readout in Xu et al.
2019 and in Errica et al. 2020 sums per-layer readouts, which a linear head on the concatenation
reproduces); ``jk="last"`` keeps the last layer only.

Registered under modality ``"graph"``: ``gin`` (default), ``gcn``, ``gat``, ``graph_transformer``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from climb.core.errors import ClimbError
from climb.models._registry import register_encoder

POOLS = ("sum", "mean", "max", "none")


def _pool(name: str) -> Any:
    from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool

    return {"sum": global_add_pool, "mean": global_mean_pool, "max": global_max_pool}[name]


class GraphEncoder(nn.Module):
    """Message-passing layers with BatchNorm, ReLU and dropout, then pooling.

    Subclasses implement :meth:`make_conv` (one layer ``in_dim -> hidden``) and say whether the
    layer uses edge attributes (``uses_edge_attr``) or scalar edge weights (``uses_edge_weight``).
    """

    uses_edge_attr = False
    uses_edge_weight = False

    def __init__(
        self,
        in_channels: int,
        hidden: int = 64,
        layers: int = 3,
        dropout: float = 0.0,
        pool: str = "sum",
        jk: str = "cat",
        edge_dim: int | None = None,
        norm: bool = True,
        **conv_kwargs: Any,
    ) -> None:
        super().__init__()
        if pool not in POOLS:
            raise ClimbError(f"unknown pooling {pool!r}", fix=f"use one of {', '.join(POOLS)}")
        if jk not in ("cat", "last"):
            raise ClimbError(f"unknown jk {jk!r}", fix="use 'cat' or 'last'")
        if layers < 1:
            raise ClimbError(f"a graph encoder needs at least 1 layer, got {layers}")
        self.in_channels = int(in_channels)
        self.hidden = int(hidden)
        self.num_layers = int(layers)
        self.edge_dim = edge_dim
        self.pool = pool
        self.jk = jk
        self.dropout = float(dropout)
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        dim = self.in_channels
        for _ in range(self.num_layers):
            self.convs.append(self.make_conv(dim, self.hidden, edge_dim=edge_dim, **conv_kwargs))
            self.norms.append(nn.BatchNorm1d(self.hidden) if norm else nn.Identity())
            dim = self.hidden
        self.out_dim = self.hidden * (self.num_layers if jk == "cat" else 1)

    def make_conv(self, in_dim: int, out_dim: int, **kw: Any) -> nn.Module:
        raise NotImplementedError

    def _edge_args(self, data: Any) -> dict[str, Tensor]:
        ea = getattr(data, "edge_attr", None)
        if ea is None:
            return {}
        if self.uses_edge_attr and self.edge_dim:
            return {"edge_attr": ea.view(ea.shape[0], -1).float()}
        if self.uses_edge_weight and ea.dim() >= 1 and ea.view(ea.shape[0], -1).shape[1] == 1:
            # GCN normalization needs non-negative weights: use |w| (correlations may be < 0)
            return {"edge_weight": ea.view(-1).float().abs()}
        return {}

    def node_features(self, data: Any) -> Tensor:
        x = data.x.float()
        if x.dim() != 2 or x.shape[1] != self.in_channels:
            raise ClimbError(
                f"{type(self).__name__} expects node features (N, {self.in_channels}), got "
                f"{tuple(x.shape)}",
                fix="set in_channels to the store's node feature size",
            )
        edge_index = data.edge_index
        kw = self._edge_args(data)
        outs = []
        for conv, norm in zip(self.convs, self.norms, strict=True):
            x = conv(x, edge_index, **kw)
            x = torch.relu(norm(x))
            x = nn.functional.dropout(x, self.dropout, self.training)
            outs.append(x)
        return torch.cat(outs, dim=1) if self.jk == "cat" else outs[-1]

    def forward(self, data: Any) -> Tensor:
        h = self.node_features(data)
        if self.pool == "none":
            return h
        batch = getattr(data, "batch", None)
        if batch is None:
            batch = torch.zeros(h.shape[0], dtype=torch.long, device=h.device)
        size = int(getattr(data, "num_graphs", 0) or (int(batch.max()) + 1 if len(batch) else 1))
        return _pool(self.pool)(h, batch, size=size)


class GIN(GraphEncoder):
    """GIN (Xu et al. 2019): MLP(Linear-BN-ReLU-Linear) per layer, trainable epsilon; with
    ``edge_dim`` it becomes GINE (edge attributes added to messages)."""

    def make_conv(self, in_dim: int, out_dim: int, **kw: Any) -> nn.Module:
        from torch_geometric.nn import GINConv, GINEConv

        mlp = nn.Sequential(
            nn.Linear(in_dim, out_dim),
            nn.BatchNorm1d(out_dim),
            nn.ReLU(),
            nn.Linear(out_dim, out_dim),
        )
        edge_dim = kw.get("edge_dim")
        if edge_dim:
            self.uses_edge_attr = True
            return GINEConv(mlp, train_eps=True, edge_dim=edge_dim)
        return GINConv(mlp, train_eps=True)


class GCN(GraphEncoder):
    """GCN (Kipf & Welling 2017); a one-dimensional edge attribute is used as |edge weight|."""

    uses_edge_weight = True

    def make_conv(self, in_dim: int, out_dim: int, **kw: Any) -> nn.Module:
        from torch_geometric.nn import GCNConv

        return GCNConv(in_dim, out_dim, add_self_loops=True)


class GAT(GraphEncoder):
    """GATv1 (Velickovic et al. 2018) with edge attributes (``edge_dim``) and ``heads`` heads
    averaged (``concat=False``) so the width stays ``hidden``."""

    uses_edge_attr = True

    def make_conv(self, in_dim: int, out_dim: int, **kw: Any) -> nn.Module:
        from torch_geometric.nn import GATConv

        return GATConv(
            in_dim, out_dim, heads=int(kw.get("heads", 4)), concat=False,
            edge_dim=kw.get("edge_dim"), dropout=float(kw.get("attn_dropout", 0.0)),
        )  # fmt: skip


class GraphTransformer(GraphEncoder):
    """TransformerConv (Shi et al. 2021) with edge attributes, ``heads`` heads concatenated and
    projected back to ``hidden``, with a root/skip connection (``beta``)."""

    uses_edge_attr = True

    def make_conv(self, in_dim: int, out_dim: int, **kw: Any) -> nn.Module:
        from torch_geometric.nn import TransformerConv

        heads = int(kw.get("heads", 4))
        return _ConvProj(
            TransformerConv(
                in_dim, out_dim, heads=heads, concat=True, beta=True,
                edge_dim=kw.get("edge_dim"), dropout=float(kw.get("attn_dropout", 0.0)),
            ),
            nn.Linear(out_dim * heads, out_dim),
        )  # fmt: skip


class _ConvProj(nn.Module):
    def __init__(self, conv: nn.Module, proj: nn.Module) -> None:
        super().__init__()
        self.conv = conv
        self.proj = proj

    def forward(self, x: Tensor, edge_index: Tensor, **kw: Any) -> Tensor:
        return self.proj(self.conv(x, edge_index, **kw))


def _builder(cls: type[GraphEncoder]) -> Any:
    def build(
        in_channels: int,
        hidden: int = 64,
        layers: int = 3,
        dropout: float = 0.0,
        pool: str = "sum",
        jk: str = "cat",
        edge_dim: int | None = None,
        heads: int = 4,
        **kwargs: Any,
    ) -> GraphEncoder:
        extra = {"heads": heads} if cls in (GAT, GraphTransformer) else {}
        kwargs.pop("seq_len", None)  # the trainer passes it to every encoder
        return cls(
            in_channels, hidden=hidden, layers=layers, dropout=dropout, pool=pool, jk=jk,
            edge_dim=edge_dim, **extra, **kwargs,
        )  # fmt: skip

    build.__name__ = cls.__name__.lower()
    build.__doc__ = cls.__doc__
    return build


gin = register_encoder("graph", "gin", default=True)(_builder(GIN))
gcn = register_encoder("graph", "gcn")(_builder(GCN))
gat = register_encoder("graph", "gat")(_builder(GAT))
graph_transformer = register_encoder("graph", "graph_transformer")(_builder(GraphTransformer))
