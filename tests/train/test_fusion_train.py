"""Multi-field inputs through the one trainer: two fields of one store, one encoder per field,
a fusion module, a presence mask for samples without the second field."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from climb.core.errors import ClimbError
from climb.experiment.build import build_model, build_tasks
from climb.experiment.config import from_dict
from climb.train.trainer import train

from .conftest import TINY


def _cfg(root: Path, **over: object) -> dict[str, object]:
    cfg: dict[str, object] = {
        "run": {"name": "fusion", "seed": 0, "device": "cpu"},
        "data": {
            "root": str(root),
            "tasks": [{"dataset": "two", "task": "ml", "fields": ["ecg", "aux"]}],
            "batch_size": 32,
            "eval_batch_size": 64,
        },
        "model": {
            "encoder": "xresnet1d",
            "encoder_kwargs": dict(TINY),
            "encoders": {"aux": {"name": "xresnet1d", "kwargs": {**TINY}}},
            "fusion": "concat",
        },
        "optim": {"lr": 3e-3, "warmup_steps": 4},
        "train": {"max_steps": 40, "eval_every": 20, "select": "val_auroc"},
        "evaluate": {"n_boot": 30},
    }
    for k, v in over.items():
        cfg[k] = {**cfg.get(k, {}), **v}  # type: ignore[dict-item]
    return cfg


def test_two_fields_train_and_evaluate(fusion_root: Path, tmp_path: Path) -> None:
    run = train(from_dict(_cfg(fusion_root)), tmp_path / "run")
    res = pd.read_parquet(run / "results.parquet")
    auc = res[(res.metric == "auroc") & res.class_name.isna() & (res.split == "test")]
    assert len(auc) == 1 and auc.value.iloc[0] > 0.7
    ck = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    groups = {k.split(".")[1] for k in ck["model"] if k.startswith("encoders.")}
    assert groups == {"signal", "aux"}  # ecg -> the signal encoder, aux -> its own
    assert any(k.startswith("fusions.two__ml.") for k in ck["model"])


def test_presence_reaches_the_fusion(fusion_root: Path) -> None:
    cfg = from_dict(_cfg(fusion_root))
    tasks = build_tasks(cfg, None)
    model = build_model(cfg, tasks).eval()
    t = tasks[0]
    batch = t.train.get_batch(list(range(64)))
    pres = batch["present"]["aux"]
    assert pres.dtype == torch.bool and (~pres).any() and pres.any()
    with torch.no_grad():
        out = model(batch["inputs"], t.head_key, batch["present"])
        # an absent field's values never matter: the fusion uses its mask token instead
        x2 = dict(batch["inputs"])
        x2["aux"] = batch["inputs"]["aux"].clone()
        x2["aux"][~pres] = 1e3
        out2 = model(x2, t.head_key, batch["present"])
    torch.testing.assert_close(out[~pres], out2[~pres])
    assert not torch.allclose(out[pres], model(x2, t.head_key, {"aux": ~pres})[pres])


def test_unknown_field_is_named(fusion_root: Path, tmp_path: Path) -> None:
    cfg = _cfg(fusion_root)
    cfg["data"]["tasks"] = [{"dataset": "two", "task": "ml", "fields": ["ecg", "auxx"]}]  # type: ignore[index]
    with pytest.raises(ClimbError, match=r"no field 'auxx'.*did you mean 'aux'"):
        train(from_dict(cfg), tmp_path / "x")
    cfg = _cfg(fusion_root, model={"fusion": "concatt"})
    with pytest.raises(ClimbError, match="concat"):
        train(from_dict(cfg), tmp_path / "y")
