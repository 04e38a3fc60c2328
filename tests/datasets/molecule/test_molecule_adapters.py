"""PROTEINS (real, complete) and PPI (generated PyG-layout files) through climb prepare."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from climb.core.errors import ClimbError
from climb.core.splits import check_disjoint, kfold_indices
from climb.prepare.pipeline import prepare
from climb.store import open_store
from climb.store.ragged import read_graphs
from climb.store.validate import validate
from tests.conftest import shared_fixture
from tests.io.test_graphs import write_ppi_pyg, write_tu


def _root_with(tmp_path: Path, key: str, src: Path) -> Path:
    """A data root whose raw/<key> points at ``src`` (read in place, never copied)."""
    (tmp_path / "raw").mkdir(parents=True, exist_ok=True)
    (tmp_path / "raw" / key).symlink_to(src, target_is_directory=True)
    return tmp_path


@pytest.fixture(scope="module")
def proteins_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = _root_with(tmp_path_factory.mktemp("p"), "proteins", shared_fixture("proteins/raw"))
    res = prepare("proteins", root, workers=1)
    assert not res.quarantined
    return res.store


def test_proteins_store(proteins_store: Path) -> None:
    st = open_store(proteins_store)
    df = st.samples
    assert len(df) == 1113
    assert Counter(df["label__enzyme"]) == {0: 663, 1: 450}
    # seeded stratified 80/10/10; each split keeps the label ratio
    assert dict(Counter(df["split"])) == {"train": 891, "val": 111, "test": 111}
    for _, sub in df.groupby("split"):
        assert abs(sub["label__enzyme"].mean() - 450 / 1113) < 0.02
    assert st.meta["splits"]["rule"] == "stratified" and st.meta["splits"]["seed"] == 0
    assert st.meta["splits"]["leakage_check"] == "passed"
    assert st.fields["graph.x"]["ragged"] and st.fields["graph.x"]["shape"] == [None, 3]
    assert int(df["num_nodes"].sum()) == 43471
    g = read_graphs(st, "graph", [0])[0]
    assert g["x"].shape == (42, 3) and g["edge_index"].shape == (2, 162)
    assert validate(proteins_store, deep=False).ok


def test_proteins_ten_fold_protocol(proteins_store: Path) -> None:
    df = open_store(proteins_store).samples
    folds = df["cv_fold"].to_numpy()
    assert sorted(Counter(folds).values()) == [111, 111, 111, 111, 111, 111, 111, 112, 112, 112]
    y = df["label__enzyme"].tolist()
    seen_test: list[int] = []
    for k in range(10):
        parts = kfold_indices(folds, y, k, seed=0)
        check_disjoint(parts)
        assert abs(len(parts["val"]) - 0.1 * (1113 - len(parts["test"]))) <= 1  # sklearn ceil
        ratio = np.mean(np.asarray(y)[parts["val"]])
        assert abs(ratio - 450 / 1113) < 0.03  # stratified inner holdout
        seen_test += parts["test"].tolist()
    assert sorted(seen_test) == list(range(1113))  # each graph tested exactly once


def test_check_disjoint_raises() -> None:
    with pytest.raises(ClimbError, match="in both train and test"):
        check_disjoint({"train": [1, 2], "test": [2, 3]})


def test_proteins_malformed_is_rejected(tmp_path: Path) -> None:
    write_tu(tmp_path / "raw" / "proteins", name="PROTEINS", graph_labels="1\n2\n1\n")
    with pytest.raises(ClimbError, match=r"graph_labels\.txt has 3 rows"):
        prepare("proteins", tmp_path)


def test_ppi_store_official_split(tmp_path: Path) -> None:
    write_ppi_pyg(tmp_path / "raw" / "ppi" / "ppi")
    res = prepare("ppi", tmp_path)
    st = open_store(res.store)
    df = st.samples
    assert dict(Counter(df["split"])) == {"train": 2, "val": 1, "test": 1}
    assert st.meta["splits"]["rule"] == "official"
    assert st.tasks["go_labels"]["level"] == "node"
    g = read_graphs(st, "graph", list(range(4)))
    for gr, n in zip(g, df["num_nodes"], strict=True):
        assert gr["x"].shape == (n, 50) and gr["y"].shape == (n, 121)
        assert set(np.unique(gr["y"])) <= {0, 1}
    assert validate(res.store, deep=True).ok


def test_ppi_bad_labels_quarantined(tmp_path: Path) -> None:
    d = write_ppi_pyg(tmp_path / "raw" / "ppi", n_labels=121)
    lab = np.load(d / "test_labels.npy")
    lab[0, 0] = 7
    np.save(d / "test_labels.npy", lab)
    res = prepare("ppi", tmp_path)
    assert [q["reason"] for q in res.quarantined] == ["node labels are not all 0/1"]
    assert res.counts == {"train": 2, "val": 1}
