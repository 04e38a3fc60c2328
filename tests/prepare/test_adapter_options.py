"""Adapter options (`climb prepare KEY -O name=value`): parsed, validated, part of the
fingerprint, recorded in dataset.json, and honoured by `climb store validate`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from climb.cli import main
from climb.core.errors import ClimbError
from climb.prepare._cli import parse_options
from climb.prepare.pipeline import prepare, resolve_adapter
from climb.store.validate import validate


def _busi(root: Path) -> None:
    raw = root / "raw" / "busi"
    rng = np.random.default_rng(0)
    for cls in ("benign", "malignant", "normal"):
        for i in range(1, 4):
            p = raw / cls / f"{cls} ({i}).png"
            p.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (90, 120), dtype=np.uint8)).save(p)
            m = np.zeros((90, 120), dtype=np.uint8)
            m[20:40, 30:60] = 255 if cls != "normal" else 0
            Image.fromarray(m).save(p.with_name(f"{cls} ({i})_mask.png"))


def test_parse_options() -> None:
    assert parse_options(["size=224", "fisher_z=true", "atlas=cc400", "x=1.5", "n="]) == {
        "size": 224,
        "fisher_z": True,
        "atlas": "cc400",
        "x": 1.5,
        "n": "",
    }
    for bad in ("size", "=3", "not a name=1"):
        with pytest.raises(ClimbError, match="bad --option"):
            parse_options([bad])


def test_unknown_and_bad_values_are_clear_errors() -> None:
    with pytest.raises(ClimbError) as e:
        resolve_adapter("busi", {"sise": 224})
    assert "no prepare option 'sise'" in str(e.value) and "size=256" in e.value.render()
    with pytest.raises(ClimbError, match="size must be an integer"):
        resolve_adapter("busi", {"size": "big"})
    with pytest.raises(ClimbError, match="resize must be one of pad, stretch, crop"):
        resolve_adapter("busi", {"resize": "squash"})
    a = resolve_adapter("hugadb", {"window": 32})
    assert a.params() == {"window": 32, "stride": 64}  # type: ignore[attr-defined]


def test_cli_option_changes_store_fingerprint_and_validates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _busi(tmp_path)
    main(
        ["prepare", "busi", "--root", str(tmp_path), "-q", "-O", "size=64", "-O", "resize=stretch"]
    )
    store = tmp_path / "stores" / "busi"
    meta = json.loads((store / "dataset.json").read_text())
    assert meta["fields"]["image"]["shape"] == [1, 64, 64]
    assert meta["fields"]["mask"]["shape"] == [1, 64, 64]
    assert meta["created_by"]["adapter_params"] == {"size": 64, "resize": "stretch"}
    rep = validate(store, raw_dir=tmp_path / "raw" / "busi")
    assert rep.ok and rep.stale is False, (rep.errors, rep.warnings)
    fp64 = meta["fingerprint"]

    # the defaults give another fingerprint and a 256 px store, never a mix of the two
    res = prepare("busi", tmp_path)
    meta = json.loads((res.store / "dataset.json").read_text())
    assert meta["fields"]["image"]["shape"] == [1, 256, 256] and meta["fingerprint"] != fp64

    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(["prepare", "busi", "--root", str(tmp_path), "-q", "-O", "windoww=3"])
    assert e.value.code != 0
    err = capsys.readouterr().err
    assert "no prepare option 'windoww'" in err and "size=256" in err
