"""Graph encoders: pooling, node-level output, edge attributes used, a tiny task learned."""

from __future__ import annotations

import pytest
import torch

from climb.core.errors import ClimbError
from climb.models import build_encoder, build_head, default_encoder, list_encoders
from climb.tasks import get_kind

torch.set_num_threads(1)


def _batch(n_graphs: int = 3, feat: int = 4, seed: int = 0):  # type: ignore[no-untyped-def]
    from torch_geometric.data import Batch, Data

    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n_graphs):
        n = 3 + i
        ei = torch.stack([torch.arange(n), (torch.arange(n) + 1) % n])
        out.append(Data(x=torch.randn(n, feat, generator=g), edge_index=ei,
                        edge_attr=torch.rand(n, 1, generator=g)))  # fmt: skip
    return Batch.from_data_list(out)


def test_registry_lists_graph_encoders() -> None:
    assert default_encoder("graph") == "gin"
    assert {n for _, n in list_encoders("graph")} == {"gin", "gcn", "gat", "graph_transformer"}


@pytest.mark.parametrize("name", ["gin", "gcn", "gat", "graph_transformer"])
@pytest.mark.parametrize("pool", ["sum", "mean", "max"])
def test_graph_level_shapes(name: str, pool: str) -> None:
    enc = build_encoder("graph", name, in_channels=4, hidden=8, layers=2, pool=pool, edge_dim=1)
    assert enc(_batch()).shape == (3, enc.out_dim) == (3, 16)


def test_node_level_output_for_ppi_style_tasks() -> None:
    enc = build_encoder("graph", "gat", in_channels=4, hidden=8, layers=2, pool="none", jk="last")
    b = _batch()
    h = enc(b)
    assert h.shape == (b.num_nodes, 8)
    head = build_head("multilabel", enc.out_dim, 121)
    y = torch.randint(0, 2, (b.num_nodes, 121))
    y[0, :5] = -1  # missing entries are masked
    loss = get_kind("multilabel").loss(head(h), y)
    loss.backward()
    assert torch.isfinite(loss)


@pytest.mark.parametrize("name", ["gat", "graph_transformer", "gcn"])
def test_edge_attributes_change_the_output(name: str) -> None:
    torch.manual_seed(0)
    enc = build_encoder("graph", name, in_channels=4, hidden=8, layers=2, edge_dim=1).eval()
    b = _batch()
    a = enc(b)
    b.edge_attr = b.edge_attr * 5 + 1
    assert not torch.allclose(a, enc(b))


def test_bad_inputs_have_clear_errors() -> None:
    enc = build_encoder("graph", "gin", in_channels=5)
    with pytest.raises(ClimbError, match=r"expects node features \(N, 5\)"):
        enc(_batch(feat=4))
    with pytest.raises(ClimbError, match="unknown pooling"):
        build_encoder("graph", "gin", in_channels=4, pool="attention")


def test_gin_learns_a_structural_task() -> None:
    """Cycles vs paths with identical node features: only the structure tells them apart."""
    from torch_geometric.data import Batch, Data

    torch.manual_seed(0)
    data = []
    for i in range(40):
        n = 4 + i % 5
        src = torch.arange(n - 1)
        ei = torch.stack([src, src + 1])
        cyc = i % 2 == 0
        if cyc:
            ei = torch.cat([ei, torch.tensor([[n - 1], [0]])], 1)
        ei = torch.cat([ei, ei.flip(0)], 1)
        data.append(Data(x=torch.ones(n, 1), edge_index=ei, y=torch.tensor([float(cyc)])))
    b = Batch.from_data_list(data)
    enc = build_encoder("graph", "gin", in_channels=1, hidden=16, layers=3)
    head = build_head("binary", enc.out_dim, 1)
    opt = torch.optim.Adam([*enc.parameters(), *head.parameters()], lr=0.01)
    for _ in range(150):
        opt.zero_grad()
        get_kind("binary").loss(head(enc(b)), b.y.long()).backward()
        opt.step()
    enc.eval()
    acc = ((head(enc(b)).view(-1) > 0).float() == b.y).float().mean()
    assert acc >= 0.9
