"""The demo corpus generator: determinism, layouts read by the real adapters, quarantine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from climb.demo.corpus import CorpusSizes, generate_corpus, tree_digest
from climb.demo.ecg import Patient, synth_ecg

TINY = CorpusSizes(
    ptbxl=40, cpsc2018=24, georgia=24, chexpert_patients=12, busi=18, brain_tumor=20, tuab=4
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    d = tmp_path_factory.mktemp("corpus")
    return d, generate_corpus(d, seed=3, sizes=TINY)


def test_deterministic_for_a_seed(corpus: tuple[Path, dict], tmp_path: Path) -> None:
    d, _ = corpus
    again = generate_corpus(tmp_path / "a", seed=3, sizes=TINY)
    assert tree_digest(tmp_path / "a") == tree_digest(d)
    other = generate_corpus(tmp_path / "b", seed=4, sizes=TINY)
    assert tree_digest(tmp_path / "b") != tree_digest(d)
    kinds = {k: [b["kind"] for b in v] for k, v in again["broken"].items()}
    assert kinds == {k: [b["kind"] for b in v] for k, v in other["broken"].items()}


def test_ecg_classes_carry_their_signature() -> None:
    rng = np.random.default_rng(0)
    p = Patient(scale=1.0, gains=np.ones(12), hr=70.0)
    normal = synth_ecg({"normal"}, 500, 10, rng, p)
    mi = synth_ecg({"mi"}, 500, 10, rng, p)
    cd = synth_ecg({"cd"}, 500, 10, rng, p)
    assert normal.shape == (5000, 12)
    # wide QRS: more energy of lead II spread around the R peaks than a normal record
    assert np.abs(np.diff(cd[:, 1])).mean() != pytest.approx(np.abs(np.diff(normal[:, 1])).mean())
    assert np.ptp(mi) > 0 and np.isfinite(mi).all()


def _prepare(corpus_dir: Path, root: Path, key: str, kind: str, rel: str) -> object:
    """Place the mirror's files as fetch would and run the real adapter on them."""
    import shutil

    from climb.prepare.pipeline import prepare, resolve_adapter

    raw = root / "raw" / key
    shutil.copytree(corpus_dir / kind / rel, raw, dirs_exist_ok=True)
    adapter = resolve_adapter(key)
    if hasattr(adapter, "size"):
        adapter.size = 32  # type: ignore[attr-defined]
    return prepare(key, root, adapter=adapter)


@pytest.mark.parametrize(
    ("key", "kind", "rel"),
    [
        ("ptbxl", "physionet", "ptb-xl/1.0.3"),
        ("cpsc2018", "physionet", "challenge-2020/1.0.2/training/cpsc_2018"),
        ("chexpert", "manual", "chexpert"),
        ("busi", "kaggle", "aryashah2k/breast-ultrasound-images-dataset"),
        ("brain_tumor", "kaggle", "sartajbhuvaji/brain-tumor-classification-mri"),
        ("tuab", "manual", "tuab"),
    ],
)
def test_layouts_readable_and_broken_records_quarantined(
    corpus: tuple[Path, dict], tmp_path: Path, key: str, kind: str, rel: str
) -> None:
    d, summary = corpus
    res = _prepare(d, tmp_path, key, kind, rel)
    broken = summary["broken"][key]
    n = sum(res.counts.values())  # type: ignore[attr-defined]
    assert n > 0
    assert len(res.quarantined) == len(broken), res.reasons  # type: ignore[attr-defined]
    if key == "ptbxl":
        assert n + len(broken) == summary["datasets"]["ptbxl"]["records"]
        quarantined = {q["record"] for q in res.quarantined}  # type: ignore[attr-defined]
        assert quarantined == {b["record"] for b in broken}
    from climb.store import open_store

    s = open_store(tmp_path / "stores" / key)
    df = s.samples
    assert df["patient_id"].nunique() <= len(df)
    if key in ("ptbxl", "chexpert"):  # several samples per patient
        assert df["patient_id"].nunique() < len(df)
    task = next(iter(s.meta["tasks"]))
    assert df[f"label__{task}"].notna().all()
