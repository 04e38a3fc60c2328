"""climb.io.graphs: TU format (real PROTEINS + malformed files), PPI layouts, BrainGB files,
graph construction."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from climb.io.graphs import (
    GraphFormatError,
    corr_to_graph,
    read_braingb_abcd,
    read_braingb_mat,
    read_braingb_npy,
    read_ppi,
    read_tu_dataset,
)
from tests.conftest import shared_fixture


def test_real_proteins_tu_format() -> None:
    d = read_tu_dataset(shared_fixture("proteins/raw"))
    assert d.name == "PROTEINS" and d.num_graphs == 1113
    assert np.bincount(d.graph_labels).tolist() == [0, 663, 450]
    assert d.node_graph.shape == (43471,) and d.node_attributes.shape == (43471, 1)
    assert d.node_label_values.tolist() == [0, 1, 2]
    g = d.graph(0)
    assert g.x.shape == (42, 3) and g.x.sum() == 42  # one-hot
    assert g.edge_index.shape == (2, 162) and g.edge_index.min() >= 0 and g.edge_index.max() < 42
    # edges are listed in both directions (undirected)
    e = {tuple(x) for x in g.edge_index.T.tolist()}
    assert all((b, a) in e for a, b in e)
    assert sum(d.graph(i).num_nodes for i in range(d.num_graphs)) == 43471


def write_tu(folder: Path, name: str = "TOY", **override: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "A": "1, 2\n2, 1\n2, 3\n3, 2\n4, 5\n5, 4\n",
        "graph_indicator": "1\n1\n1\n2\n2\n",
        "graph_labels": "1\n2\n",
        "node_labels": "0\n1\n0\n2\n1\n",
        "node_attributes": "0.5\n1.5\n2.0\n3.0\n4.0\n",
    }
    files.update(override)
    for k, v in files.items():
        (folder / f"{name}_{k}.txt").write_text(v)
    return folder


def test_tu_toy_roundtrip(tmp_path: Path) -> None:
    d = read_tu_dataset(write_tu(tmp_path / "t"))
    assert d.num_graphs == 2
    g1 = d.graph(1)
    assert g1.num_nodes == 2 and g1.edge_index.tolist() == [[0, 1], [1, 0]]
    assert g1.x.tolist() == [[0, 0, 1], [0, 1, 0]]
    assert g1.info["node_attributes"][:, 0].tolist() == [3.0, 4.0]


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"graph_labels": "1\n2\n1\n"}, "graph_labels.txt has 3 rows but the indicator names 2"),
        ({"node_labels": "0\n1\n0\n2\n"}, "node_labels.txt has 4 rows but"),
        ({"node_attributes": "0.5\nabc\n2.0\n3.0\n4.0\n"}, "non-numeric row 'abc'"),
        ({"A": "1, 2\n2, 1\n3, 4\n"}, "joins nodes of two different graphs"),
        ({"A": "1, 2\n2, 9\n"}, "points outside nodes 1..5"),
        ({"graph_indicator": "1\n1\n3\n3\n3\n"}, "graph ids are not 1..G"),
        ({"graph_indicator": "1\n2\n1\n2\n2\n"}, "not sorted"),
    ],
)
def test_tu_malformed_rejected(tmp_path: Path, override: dict[str, str], match: str) -> None:
    with pytest.raises(GraphFormatError, match=match) as exc:
        read_tu_dataset(write_tu(tmp_path / "bad", **override))
    assert "TOY" in str(exc.value)  # says which file


def test_tu_nonnumeric_row_has_line_number(tmp_path: Path) -> None:
    with pytest.raises(GraphFormatError, match=r"TOY_node_attributes.txt:2"):
        read_tu_dataset(write_tu(tmp_path / "bad", node_attributes="0.5\nabc\n2\n3\n4\n"))


# ----------------------------------------------------------------------------- PPI


def write_ppi_pyg(folder: Path, seed: int = 0, n_labels: int = 121, feats: int = 50) -> Path:
    """Files in PyG/DGL's ppi.zip layout: 2 train graphs, 1 valid, 1 test."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for split, gids in (("train", [1, 2]), ("valid", [21]), ("test", [23])):
        sizes = [int(rng.integers(5, 9)) for _ in gids]
        n = sum(sizes)
        links, start = [], 0
        gid = []
        for g, s in zip(gids, sizes, strict=True):
            for i in range(s - 1):
                links.append({"source": start + i, "target": start + i + 1})
            gid += [g] * s
            start += s
        graph = {"directed": False, "multigraph": False, "graph": {},
                 "nodes": [{"id": i} for i in range(n)], "links": links}  # fmt: skip
        (folder / f"{split}_graph.json").write_text(json.dumps(graph))
        np.save(folder / f"{split}_feats.npy", rng.normal(size=(n, feats)).astype(np.float32))
        np.save(folder / f"{split}_labels.npy", rng.integers(0, 2, size=(n, n_labels)))
        np.save(folder / f"{split}_graph_id.npy", np.asarray(gid))
    return folder


def test_ppi_pyg_layout(tmp_path: Path) -> None:
    graphs = read_ppi(write_ppi_pyg(tmp_path / "ppi"))
    assert [g.info["split"] for g in graphs] == ["train", "train", "val", "test"]
    for g in graphs:
        assert g.x.shape[1] == 50 and g.y.shape == (g.num_nodes, 121)
        assert g.edge_index.max() < g.num_nodes and g.num_edges == g.num_nodes - 1
    assert len(read_ppi(tmp_path / "ppi", split="val")) == 1


def test_ppi_graphsage_layout(tmp_path: Path) -> None:
    d = tmp_path / "sage"
    d.mkdir()
    nodes = [{"id": i, "val": i in (4, 5), "test": i in (6, 7)} for i in range(8)]
    links = [{"source": i, "target": i + 1} for i in range(7)]
    (d / "ppi-G.json").write_text(json.dumps({"nodes": nodes, "links": links}))
    (d / "ppi-id_map.json").write_text(json.dumps({str(i): i for i in range(8)}))
    (d / "ppi-class_map.json").write_text(json.dumps({str(i): [i % 2] * 121 for i in range(8)}))
    np.save(d / "ppi-feats.npy", np.arange(8 * 50, dtype=np.float32).reshape(8, 50))
    graphs = read_ppi(d)
    assert [(g.info["split"], g.num_nodes) for g in graphs] == [
        ("train", 4),
        ("val", 2),
        ("test", 2),
    ]
    assert graphs[0].num_edges == 3  # edges across splits are dropped
    assert graphs[1].y[:, 0].tolist() == [0, 1]


def test_ppi_inconsistent_lengths(tmp_path: Path) -> None:
    d = write_ppi_pyg(tmp_path / "ppi")
    np.save(d / "valid_labels.npy", np.zeros((2, 121)))
    with pytest.raises(GraphFormatError, match="label rows"):
        read_ppi(d)


# ----------------------------------------------------------------------------- BrainGB


def test_braingb_npy_and_checks(tmp_path: Path) -> None:
    corr = np.random.default_rng(0).normal(size=(4, 6, 6)).astype(np.float32)
    np.save(tmp_path / "ABIDE.npy", {"corr": corr, "label": np.array([0, 1, 0, 1]),
                                      "site": np.array(["A", "A", "B", "B"])})  # fmt: skip
    d = read_braingb_npy(tmp_path / "ABIDE.npy")
    assert d["corr"].shape == (4, 6, 6) and d["site"].tolist() == ["A", "A", "B", "B"]
    np.save(tmp_path / "bad.npy", {"corr": corr, "label": np.array([0, 1])})
    with pytest.raises(GraphFormatError, match="'label' has 2 entries but 'corr' has 4"):
        read_braingb_npy(tmp_path / "bad.npy")
    np.save(tmp_path / "nodict.npy", corr)
    with pytest.raises(GraphFormatError, match="not a BrainGB dict"):
        read_braingb_npy(tmp_path / "nodict.npy")


def test_braingb_mat_and_abcd(tmp_path: Path) -> None:
    from scipy.io import savemat

    X = np.empty((3, 1), dtype=object)
    for i in range(3):
        X[i, 0] = np.random.default_rng(i).random((5, 5, 2))
    savemat(tmp_path / "PPMI.mat", {"X": X, "label": np.array([[-1], [1], [1]])})
    d = read_braingb_mat(tmp_path / "PPMI.mat")
    assert d["corr"].shape == (3, 5, 5) and d["label"].tolist() == [-1, 1, 1]
    np.testing.assert_allclose(d["corr"][1], X[1, 0][:, :, 0], rtol=1e-6)
    with pytest.raises(GraphFormatError, match="expected \\(R, R, V\\) with V > 5"):
        read_braingb_mat(tmp_path / "PPMI.mat", view=5)

    a = tmp_path / "abcd"
    a.mkdir()
    np.save(a / "abcd_rest-pearson-HCP2016.npy", np.zeros((3, 4, 4), np.float32))
    (a / "ids_HCP2016.txt").write_text("s1\ns2\ns3\n")
    (a / "id2sex.txt").write_text("s1 M\ns2 F\n")
    d = read_braingb_abcd(a)
    assert d["id"] == ["s1", "s2", "s3"] and d["sex"] == {"s1": "M", "s2": "F"}
    (a / "ids_HCP2016.txt").write_text("s1\ns2\n")
    with pytest.raises(GraphFormatError, match="has 2 ids but the matrix file has 3"):
        read_braingb_abcd(a)


def test_corr_to_graph_methods() -> None:
    rng = np.random.default_rng(0)
    ts = rng.normal(size=(50, 8))
    c = np.corrcoef(ts.T).astype(np.float32)
    dense = corr_to_graph(c)
    assert dense.num_edges == 64 and dense.x.shape == (8, 8)  # all non-zero, diagonal included
    np.testing.assert_allclose(dense.edge_attr[:, 0], c[dense.edge_index[0], dense.edge_index[1]])
    knn = corr_to_graph(c, method="knn", k=2)
    deg = np.bincount(knn.edge_index[0], minlength=8)
    assert deg.min() >= 2 and (knn.edge_index[0] != knn.edge_index[1]).all()
    e = set(map(tuple, knn.edge_index.T.tolist()))
    assert all((b, a) in e for a, b in e)  # symmetric
    thr = corr_to_graph(c, method="threshold", threshold=0.2)
    assert (np.abs(thr.edge_attr) >= 0.2).all()
    c[0, 1] = np.nan
    g = corr_to_graph(c, nan_mask=True, pad_to=20)
    assert g.x.shape == (8, 20) and g.x[0, 8 + 1] == 1.0 and np.isfinite(g.x).all()
    with pytest.raises(GraphFormatError, match="unknown edge method"):
        corr_to_graph(c, method="mst")  # type: ignore[arg-type]
