"""Vital: fetched from the loopback Hugging Face Hub emulator through the fetch engine, prepared
into a store with a qa task, exported as qa-jsonl with the conversations intact."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from climb.prepare.pipeline import prepare
from climb.registry import get_card
from climb.store import open_store
from tests.fetch.conftest import emu, env, root  # noqa: F401  (fixtures)
from tests.fetch.emulators import Emulator
from tests.fetch.helpers import fetch

REPO = ("dataset", "mao1207/BioMed-VITAL", "main")


def _jpg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (40 + seed, 30, 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def _conv(i: int, rounds: int = 1) -> list[dict[str, str]]:
    out = []
    for r in range(rounds):
        q = f"<image>\nWhat does panel {i} show?" if r == 0 else f"And detail {r}?"
        out += [{"from": "human", "value": q}, {"from": "gpt", "value": f"answer {i}.{r}"}]
    return out


def hub_files() -> dict[str, bytes]:
    train = [
        {
            "id": f"t{i}",
            "image": f"PMC{1000 + i // 2}_fig{i}.jpg",
            "conversations": _conv(i, 1 + i % 2),
        }
        for i in range(8)
    ]
    train.append({"id": "nocv", "image": "PMC1000_fig0.jpg", "conversations": []})
    train.append({"id": "gone", "image": "PMC9999_missing.jpg", "conversations": _conv(99)})
    test = [
        json.dumps(
            {"id": f"e{i}", "image": f"images/PMC20{i}_a.jpg", "conversations": _conv(50 + i)}
        )
        for i in range(3)
    ]
    test.append("{not json")
    files = {
        "BioMed-VITAL-train.json": json.dumps(train).encode(),
        "BioMed-VITAL-test.jsonl": ("\n".join(test) + "\n").encode(),
    }
    for i in range(8):
        files[f"images/PMC{1000 + i // 2}_fig{i}.jpg"] = _jpg(i)
    for i in range(3):
        files[f"images/PMC20{i}_a.jpg"] = _jpg(20 + i)
    return files


def test_fetch_prepare_export(emu: Emulator, env: dict, root: Path, tmp_path: Path) -> None:  # noqa: F811
    files = hub_files()
    emu.hf[REPO] = {"files": files, "lfs": {p for p in files if p.endswith(".jpg")}}
    fetch(get_card("vital"), root)
    raw = root / "raw" / "vital"
    assert (raw / "BioMed-VITAL-train.json").read_bytes() == files["BioMed-VITAL-train.json"]
    assert emu.requests("/hf/cdn/")  # LFS images through the CDN redirect

    from climb.datasets.multimodal._vital import VitalAdapter

    res = prepare("vital", root, adapter=VitalAdapter(size=32))
    reasons = sorted(q["reason"] for q in res.quarantined)
    assert len(reasons) == 3
    assert "entry 3: line 4 is not JSON" in reasons[0]
    assert "entry 8: no conversation" in reasons[1]
    assert "entry 9: image not in the download: PMC9999_missing.jpg" in reasons[2]
    st = open_store(res.store)
    df = st.samples.set_index("sample_id")
    assert len(df) == 11 and st.meta["tasks"]["instruction_following"]["type"] == "qa"
    assert st.meta["splits"]["rule"] == "official"
    assert (df["split"] == "test").sum() == 3 and (df["split"] == "train").sum() == 8
    assert df.loc["BioMed-VITAL-train:t3", "label__instruction_following"] == 2
    assert df.loc["BioMed-VITAL-train:t2", "patient_id"] == "PMC1001"
    native = json.loads(df.loc["BioMed-VITAL-train:t3", "native_labels"])
    assert native["conversations"] == _conv(3, 2)
    assert st.read("image", [0]).shape == (1, 3, 32, 32)

    from climb.export import export_store

    warnings: list[str] = []
    out = export_store(st, "qa-jsonl", tmp_path / "qa", echo=warnings.append).out
    rows = [json.loads(x) for x in (out / "annotation_train.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and not warnings  # Apache-2.0, open access: nothing to warn about
    by_id = {r["id"].split("/")[0]: r for r in rows}
    r3 = by_id["BioMed-VITAL-train:t3"]
    assert r3["conversations"] == _conv(3, 2) and len(r3["images"]) == 1
    assert Image.open(out / r3["images"][0]).size == (32, 32)
    lic = json.loads((out / "climb-export.json").read_text())["licence"]
    assert lic["id"] == "Apache-2.0"
    import datasets

    hf = datasets.load_from_disk(str(export_store(st, "hf", tmp_path / "hf", echo=print).out))
    ex = hf["test"][0]
    assert ex["instruction_following"] == _conv(50) and "Apache-2.0" in hf["test"].info.license


def test_no_split_names_gives_group_split(tmp_path: Path) -> None:
    raw = tmp_path / "raw" / "vital"
    (raw / "images").mkdir(parents=True)
    items = []
    for i in range(12):
        (raw / "images" / f"PMC{i // 3}_f{i}.jpg").write_bytes(_jpg(i))
        items.append({"id": str(i), "image": f"PMC{i // 3}_f{i}.jpg", "conversations": _conv(i)})
    (raw / "instructions.json").write_text(json.dumps(items))
    from climb.datasets.multimodal._vital import VitalAdapter

    res = prepare("vital", tmp_path, adapter=VitalAdapter(size=16))
    st = open_store(res.store)
    assert st.meta["splits"]["leakage_check"] == "passed"
    df = st.samples
    assert df.groupby("patient_id")["split"].nunique().max() == 1  # one article, one split
    with pytest.raises(Exception, match="official"):
        prepare("vital", tmp_path, adapter=VitalAdapter(size=16), splits="official")
