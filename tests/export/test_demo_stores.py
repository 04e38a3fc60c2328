"""Exports of real stores: BUSI (images + a segmentation task) and PTB-XL (12-lead ECG) prepared
by their adapters from the demo corpus's native layouts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from climb.core.errors import ClimbError
from climb.export import export_store


@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from climb.demo import corpus as C
    from climb.prepare.pipeline import prepare

    base = tmp_path_factory.mktemp("demo")
    mirror, root = base / "mirror", base / "root"
    summary: dict = {"datasets": {}, "broken": {}}
    C._busi(mirror, 24, 0, summary)
    C._ptbxl(mirror, 24, 0, summary)
    shutil.copytree(mirror / "kaggle" / C.KAGGLE_BUSI, root / "raw" / "busi")
    shutil.copytree(mirror / "physionet" / "/".join(C.PHYSIONET_PTBXL), root / "raw" / "ptbxl")
    prepare("busi", root)
    prepare("ptbxl", root)
    return root


def _check_climb_row(row: dict, out: Path, kind: str = "images") -> None:
    assert list(row) == ["id", "dataset", "task", kind, "explanation", "conversations"]
    human, gpt = row["conversations"]
    assert (human["from"], gpt["from"]) == ("human", "gpt") and row["explanation"] == ""
    token = "<image>\n" if kind == "images" else "<video>\n"
    assert human["value"].startswith(token * len(row[kind]))
    assert all((out / p).is_file() and not Path(p).is_absolute() for p in row[kind])


def test_busi_qa_jsonl(demo_root: Path, tmp_path: Path) -> None:
    with pytest.raises(ClimbError, match="lesion_segmentation"):
        export_store(demo_root / "stores" / "busi", "qa-jsonl", tmp_path / "x", echo=print)
    warnings: list[str] = []
    res = export_store(
        demo_root / "stores" / "busi",
        "qa-jsonl",
        tmp_path / "busi",
        tasks=["busi3"],
        echo=warnings.append,
    )
    assert not warnings  # CC0, open access
    rows = [
        json.loads(x)
        for s in res.written
        for x in (res.out / f"annotation_{s}.jsonl").read_text().splitlines()
    ]
    assert len(rows) == res.rows > 0
    for r in rows:
        _check_climb_row(r, res.out)
        assert len(r["images"]) == 1  # the mask field (the segmentation target) is not an input
        assert r["conversations"][1]["value"] in ("normal", "benign", "malignant")
        assert (
            "Answer with one word from normal, benign, malignant." in r["conversations"][0]["value"]
        )


@pytest.mark.slow  # ~10-30 s: 12-lead plots and 12 x 5000 arrays
def test_ptbxl_signal_plots_and_hf(demo_root: Path, tmp_path: Path) -> None:
    import datasets

    res = export_store(
        demo_root / "stores" / "ptbxl",
        "qa-jsonl",
        tmp_path / "ecg",
        tasks=["superdiagnostic"],
        echo=print,
    )
    row = json.loads((res.out / "annotation_train.jsonl").read_text().splitlines()[0])
    _check_climb_row(row, res.out)
    assert "Select all that apply from NORM, MI, STTC, CD, HYP" in row["conversations"][0]["value"]
    img = Image.open(res.out / row["images"][0])
    assert img.size[0] == 600 and img.size[1] > 500  # 12 rows
    hf = export_store(demo_root / "stores" / "ptbxl", "hf", tmp_path / "hf", echo=print).out
    dd = datasets.load_from_disk(str(hf))
    ex = dd["train"][0]
    assert np.asarray(ex["ecg"]).shape == (12, 5000) and len(ex["superdiagnostic"]) == 5
