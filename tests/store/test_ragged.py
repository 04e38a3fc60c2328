"""Ragged fields (values + offsets): write, per-sample read, store integration, validation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from climb.core.schema import FieldSpec, RaggedFieldSpec, graph_arrays, graph_fields
from climb.store import StoreWriter, open_store
from climb.store.ragged import RaggedArray, read_graphs, write_ragged
from climb.store.validate import validate


def _seqs(n: int, c: int = 3, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(int(rng.integers(0, 40)), c)).astype(np.float32) for _ in range(n)]


def test_write_read_small_chunks(tmp_path: Path) -> None:
    seqs = _seqs(50)
    spec = RaggedFieldSpec("seq", "float32", (3,), axes=("time", "channel"), rows_per_chunk=16)
    write_ragged(tmp_path, spec, seqs)
    r = RaggedArray.open(str(tmp_path), "seq")
    assert len(r) == 50 and r.offsets[0] == 0 and r.offsets[-1] == sum(len(s) for s in seqs)
    for i in (0, 7, 49, -1):
        np.testing.assert_array_equal(r[i], seqs[i])
    got = r.read([5, 3, 4, 40, 5])
    for i, a in zip([5, 3, 4, 40, 5], got, strict=True):
        np.testing.assert_array_equal(a, seqs[i])
    assert (tmp_path / "arrays" / "seq.values.zarr").is_dir()
    assert (tmp_path / "arrays" / "seq.offsets.zarr").is_dir()
    with pytest.raises(IndexError):
        r[50]


def test_spec_check_rejects_bad_shapes() -> None:
    spec = RaggedFieldSpec("x", "float32", (3,))
    with pytest.raises(ValueError, match=r"expected \(n, 3\)"):
        spec.check(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        spec.check(np.array([[np.nan, 0, 0]]))
    with pytest.raises(ValueError, match="node 5 of a 3-node graph"):
        graph_arrays("g", np.zeros((3, 2)), np.array([[0, 5], [1, 2]]))


def _graph_store(path: Path, n: int = 30) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(1)
    graphs = []
    for _ in range(n):
        nn = int(rng.integers(2, 12))
        ne = int(rng.integers(0, 20))
        graphs.append(
            graph_arrays(
                "graph",
                rng.normal(size=(nn, 4)),
                rng.integers(0, nn, size=(2, ne)),
                edge_attr=rng.normal(size=(ne, 1)),
            )
        )
    fields = [*graph_fields("graph", 4, edge_dim=1), FieldSpec("dense", "float32", (2,))]
    w = StoreWriter(path, key="toy", fields=fields, num_samples=n)
    for f in graph_fields("graph", 4, edge_dim=1):
        w.write_ragged(f.name, [g[f.name] for g in graphs])
    w.write("dense", 0, np.ones((n, 2), np.float32))
    df = pd.DataFrame(
        {
            "sample_id": [f"s{i:03d}" for i in range(n)],
            "patient_id": [f"s{i:03d}" for i in range(n)],
            "split": ["train"] * (n - 10) + ["test"] * 10,
            "index": list(range(n)),
            "source_path": ["x"] * n,
            "native_labels": ["{}"] * n,
        }
    )
    w.finalize(df, tasks={}, splits={"rule": "patient", "counts": {"test": 10, "train": n - 10}})
    return graphs


def test_store_with_graph_fields(tmp_path: Path) -> None:
    graphs = _graph_store(tmp_path / "s")
    st = open_store(tmp_path / "s")
    meta = st.fields["graph.x"]
    assert meta["ragged"] is True and meta["shape"] == [None, 4]
    assert meta["values"] == "graph.x.values.zarr" and meta["offsets"] == "graph.x.offsets.zarr"
    assert st.is_ragged("graph.edge_index") and not st.is_ragged("dense")
    xs = st.read("graph.x", [3, 1])
    np.testing.assert_array_equal(xs[0], graphs[3]["graph.x"])
    g = read_graphs(st, "graph", [2])[0]
    np.testing.assert_array_equal(g["edge_index"], graphs[2]["graph.edge_index"].T)
    np.testing.assert_array_equal(g["edge_attr"], graphs[2]["graph.edge_attr"])
    rep = validate(tmp_path / "s")
    assert rep.ok, rep.errors
    assert any("ragged field graph.x" in c for c in rep.checks)


def test_validate_detects_broken_offsets_and_content_change(tmp_path: Path) -> None:
    import zarr

    _graph_store(tmp_path / "s")
    off = zarr.open_array(str(tmp_path / "s" / "arrays" / "graph.x.offsets.zarr"), mode="r+")
    o = np.asarray(off[:])
    o[5], o[6] = o[6], o[5] + 0  # make it decrease somewhere
    o[6] = o[5] - 1
    off[:] = o
    rep = validate(tmp_path / "s")
    assert not rep.ok
    assert any("offsets decrease" in e for e in rep.errors)
    assert any("content hash differs" in e for e in rep.errors)


def test_dataset_json_marks_ragged(tmp_path: Path) -> None:
    _graph_store(tmp_path / "s")
    meta = json.loads((tmp_path / "s" / "dataset.json").read_text())
    assert {k for k, v in meta["fields"].items() if v["ragged"]} == {
        "graph.x",
        "graph.edge_index",
        "graph.edge_attr",
    }
