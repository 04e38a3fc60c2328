"""geo and expression_atlas adapters: real GDS / GSE files, generated Atlas experiments,
train-only gene selection (leakage test), bad input."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import zarr

from climb.core.errors import ClimbError
from climb.datasets.gene_expression._adapters import ExpressionAtlasAdapter, GeoAdapter
from climb.io.geo import read_gds_soft, read_series_matrix
from climb.prepare.pipeline import prepare
from tests.conftest import shared_fixture


def _root_with(tmp: Path, key: str, files: list[Path]) -> Path:
    raw = tmp / "raw" / key
    raw.mkdir(parents=True)
    for f in files:
        os.symlink(f, raw / f.name)
    return tmp


def _store(root: Path, key: str) -> tuple[pd.DataFrame, dict, np.ndarray]:
    s = root / "stores" / key
    df = pd.read_parquet(s / "samples.parquet")
    meta = json.loads((s / "dataset.json").read_text())
    x = zarr.open(str(s / "arrays" / "expression.zarr"))[:]
    return df, meta, x


def test_read_gds507() -> None:
    g = read_gds_soft(shared_fixture("geo") / "GDS507.soft.gz")
    assert g.accession == "GDS507"
    assert g.table.values.shape == (17, 22645)
    ds = {s["description"]: s["samples"] for s in g.subsets if s["type"] == "disease state"}
    assert len(ds["RCC"]) == 9 and len(ds["normal"]) == 8
    i = g.table.samples.index("GSM11815")
    j = g.table.genes.index("200000_s_at")
    assert g.table.values[i, j] == pytest.approx(4254.0)
    assert g.table.symbols[j] == "PRPF8"


def test_prepare_gds507(tmp_path: Path) -> None:
    soft = shared_fixture("geo") / "GDS507.soft.gz"
    root = _root_with(tmp_path, "geo", [soft])
    prepare("geo", root, adapter=GeoAdapter(genes=500))
    df, meta, x = _store(root, "geo")
    g = read_gds_soft(soft)
    assert len(df) == 17 and x.shape == (17, 500)
    assert meta["tasks"]["phenotype"]["classes"] == ["RCC", "normal"]
    ds = {sid: s["description"] for s in g.subsets if s["type"] == "disease state"
          for sid in s["samples"]}  # fmt: skip
    for sid, y in zip(df.sample_id, df.label__phenotype, strict=True):
        assert y == ["RCC", "normal"].index(ds[sid])
    # the tumour and normal samples of one individual share a patient id and a split
    ind = {sid: s["description"] for s in g.subsets if s["type"] == "individual"
           for sid in s["samples"]}  # fmt: skip
    assert all(p == ind.get(s, s) for s, p in zip(df.sample_id, df.patient_id, strict=True))
    assert meta["splits"]["leakage_check"] == "passed"
    # stored values are log2(x + 1) of the selected probes, in the recorded order
    sel = meta["splits"]["feature_selection"]
    assert sel["fitted_on"] == "train" and len(sel["genes"]) == 500
    cols = [g.table.genes.index(p) for p in sel["genes"]]
    rows = [g.table.samples.index(s) for s in df.sample_id]
    want = np.log2(np.clip(g.table.values[np.ix_(rows, cols)], 0, None) + 1)
    np.testing.assert_allclose(x, want, rtol=1e-5)
    # selection = top training variance
    train = df.split.to_numpy() == "train"
    full = np.log2(np.clip(g.table.values[rows], 0, None) + 1)
    var = full[train].var(axis=0)
    assert var[cols].min() >= np.sort(var)[-500] - 1e-9
    # per-gene train statistics are stored for load-time scaling
    st = meta["stats"]["expression"]
    assert st["split"] == "train"
    np.testing.assert_allclose(st["mean"], x[train].mean(axis=0), atol=1e-5)


def _rewrite_gds(src: Path, dst: Path, sample: str, value: str) -> None:
    """Copy a SOFT file with every value of one sample's column replaced."""
    lines = gzip.decompress(src.read_bytes()).decode().splitlines()
    start = lines.index("!dataset_table_begin") + 1
    col = lines[start].split("\t").index(sample)
    for i in range(start + 1, len(lines)):
        if lines[i].startswith("!dataset_table_end"):
            break
        cells = lines[i].split("\t")
        cells[col] = value
        lines[i] = "\t".join(cells)
    with gzip.open(dst, "wt") as fh:
        fh.write("\n".join(lines) + "\n")


def test_gene_selection_uses_train_only(tmp_path: Path) -> None:
    """Extreme values in a test sample change no selected gene and no stored train/val value;
    the same change in a training sample does change the selection (positive control)."""
    soft = shared_fixture("geo") / "GDS507.soft.gz"
    root_a = _root_with(tmp_path / "a", "geo", [soft])
    prepare("geo", root_a, adapter=GeoAdapter(genes=300))
    df_a, meta_a, x_a = _store(root_a, "geo")
    test_sample = df_a.sample_id[df_a.split == "test"].iloc[0]
    train_sample = df_a.sample_id[df_a.split == "train"].iloc[0]
    for name, sample in (("b", test_sample), ("c", train_sample)):
        raw = tmp_path / name / "raw" / "geo"
        raw.mkdir(parents=True)
        # a noisy extreme profile: huge variance in every gene for that one sample
        _rewrite_gds(soft, raw / "GDS507.soft.gz", sample, "1e9")
    prepare("geo", tmp_path / "b", adapter=GeoAdapter(genes=300))
    df_b, meta_b, x_b = _store(tmp_path / "b", "geo")
    assert list(df_b.sample_id) == list(df_a.sample_id)
    assert list(df_b.split) == list(df_a.split)
    assert meta_b["splits"]["feature_selection"] == meta_a["splits"]["feature_selection"]
    other = (df_a.sample_id != test_sample).to_numpy()
    np.testing.assert_array_equal(x_a[other], x_b[other])
    assert meta_b["stats"]["expression"] == meta_a["stats"]["expression"]
    prepare("geo", tmp_path / "c", adapter=GeoAdapter(genes=300))
    _, meta_c, _ = _store(tmp_path / "c", "geo")
    assert meta_c["stats"]["expression"] != meta_a["stats"]["expression"]


def test_gse_series_matrix_with_counts(tmp_path: Path) -> None:
    d = shared_fixture("geo_gse")
    m = read_series_matrix(d / "gse201926_series_matrix.txt.gz")
    assert m.accession == "GSE201926" and len(m.samples) == 12 and m.table is None
    assert m.characteristics[0]["phenotype"] == "progestin insensitivity"
    root = _root_with(tmp_path, "geo", sorted(d.iterdir()))
    res = prepare("geo", root, adapter=GeoAdapter(label="phenotype", genes=200))
    df, meta, x = _store(root, "geo")
    assert len(df) == 12 and x.shape == (12, 200)
    assert meta["tasks"]["phenotype"]["classes"] == [
        "progestin insensitivity",
        "progestin sensitivity",
    ]
    assert any("tpm" in n for n in res.notes)  # TPM preferred over raw counts
    tpm = pd.read_csv(d / "gse201926_tpm_counts.tsv.gz", sep="\t", index_col=0)
    genes = meta["splits"]["feature_selection"]["genes"]
    want = np.log2(tpm.loc[[int(g) for g in genes], df.sample_id].to_numpy().T + 1)
    np.testing.assert_allclose(x, want, rtol=1e-5)
    with pytest.raises(ClimbError, match="no sample characteristic 'stage'"):
        prepare("geo", root, adapter=GeoAdapter(label="stage"))


def test_geo_bad_inputs(tmp_path: Path) -> None:
    soft = shared_fixture("geo") / "GDS507.soft.gz"
    raw = tmp_path / "raw" / "geo"
    raw.mkdir(parents=True)
    lines = gzip.decompress(soft.read_bytes()).decode().splitlines()
    keep, skip = [], False
    for ln in lines:  # drop every ^SUBSET block
        if ln.startswith("^SUBSET"):
            skip = True
            continue
        if skip and ln.startswith("!subset_"):
            continue
        skip = False
        keep.append(ln)
    with gzip.open(raw / "GDS507.soft.gz", "wt") as fh:
        fh.write("\n".join(keep) + "\n")
    with pytest.raises(ClimbError, match="GDS507 has no subsets"):
        prepare("geo", tmp_path)
    shutil.copy(soft, raw / "GDS508.soft.gz")
    with pytest.raises(ClimbError, match="2 GDS SOFT / GSE series-matrix files"):
        prepare("geo", tmp_path)
    with pytest.raises(ClimbError, match="fewer than genes=50000"):
        prepare("geo", tmp_path, adapter=GeoAdapter(series="GDS508", genes=50000))


def _atlas(root: Path, acc: str = "E-MTAB-0001", n: int = 24, genes: int = 80) -> Path:
    rng = np.random.default_rng(0)
    d = root / acc
    d.mkdir(parents=True)
    runs = [f"ERR{100000 + i}" for i in range(n)]
    counts = rng.poisson(50, (genes, n))
    counts[:5, : n // 2] += 400  # 5 genes differ by condition
    ids = [f"ENSG{i:011d}" for i in range(genes)]
    with open(d / f"{acc}-raw-counts.tsv", "w") as fh:
        fh.write("Gene ID\tGene Name\t" + "\t".join(runs) + "\n")
        for g, row in zip(ids, counts, strict=True):
            fh.write(f"{g}\tG{g[-3:]}\t" + "\t".join(map(str, row)) + "\n")
    with open(d / f"{acc}.condensed-sdrf.tsv", "w") as fh:
        for i, r in enumerate(runs):
            cond = "disease" if i < n // 2 else "normal"
            fh.write(f"{acc}\t\t{r}\tcharacteristic\torganism\tHomo sapiens\thttp://x\n")
            fh.write(f"{acc}\t\t{r}\tcharacteristic\tindividual\tdonor{i // 2}\n")
            fh.write(f"{acc}\t\t{r}\tfactor\tdisease\t{cond}\thttp://y\n")
    return d


def test_expression_atlas(tmp_path: Path) -> None:
    d = _atlas(tmp_path / "raw" / "expression_atlas")
    prepare("expression_atlas", tmp_path, adapter=ExpressionAtlasAdapter(genes=20))
    df, meta, x = _store(tmp_path, "expression_atlas")
    assert len(df) == 24 and x.shape == (24, 20)
    assert meta["tasks"]["phenotype"]["classes"] == ["disease", "normal"]
    assert (df.label__phenotype[df.sample_id.str[-2:].astype(int) < 12] == 0).all()
    # runs of one donor share a patient id and a split
    assert df.groupby("patient_id").split.nunique().max() == 1
    assert df.patient_id.nunique() == 12
    # the 5 condition genes have the highest variance: they are selected first
    sel = meta["splits"]["feature_selection"]["genes"]
    assert set(sel[:5]) == {f"ENSG{i:011d}" for i in range(5)}
    counts = pd.read_csv(d / "E-MTAB-0001-raw-counts.tsv", sep="\t", index_col=0)
    want = np.log2(counts.loc[sel, df.sample_id].to_numpy(dtype=float).T + 1)
    np.testing.assert_allclose(x, want, rtol=1e-5)


def test_expression_atlas_bad_inputs(tmp_path: Path) -> None:
    d = _atlas(tmp_path / "raw" / "expression_atlas")
    (d / "E-MTAB-0001-raw-counts.tsv").unlink()
    with pytest.raises(ClimbError, match="no per-assay expression file"):
        prepare("expression_atlas", tmp_path, adapter=ExpressionAtlasAdapter(genes=10))
    shutil.rmtree(d)
    with pytest.raises(ClimbError, match="no Expression Atlas experiment files"):
        prepare("expression_atlas", tmp_path)
