from __future__ import annotations

from pathlib import Path

import pytest

from climb.core.errors import ClimbError
from climb.experiment.config import apply_override, from_dict, load_config

from .conftest import base_config, write_config


def test_defaults_and_overrides(tmp_path: Path) -> None:
    p = write_config(tmp_path / "c.yaml", base_config(tmp_path))
    cfg = load_config(
        p,
        [
            "optim.lr=1e-4",
            "data.batch_size=8",
            "model.freeze_encoder=false",
            "data.tasks.0.store=/x/y",
            "data.few_shot={k: small}",
            "optim.grad_clip=null",
        ],
    )
    assert cfg.optim.lr == 1e-4 and isinstance(cfg.optim.lr, float)
    assert cfg.data.batch_size == 8
    assert cfg.data.tasks[0].store == "/x/y"
    assert cfg.data.few_shot is not None and cfg.data.few_shot.k == "small"
    assert cfg.optim.grad_clip is None
    assert cfg.data.tasks[0].id == "synth/ml"
    # YAML 1.1 reads 3e-3 as a string: coerced to float
    assert load_config(p).optim.lr == 3e-3


def test_unknown_key_with_suggestion(tmp_path: Path) -> None:
    cfg = base_config(tmp_path)
    cfg["optim"]["learning_rate"] = 1.0
    with pytest.raises(ClimbError, match=r"unknown key 'optim.learning_rate'") as e:
        from_dict(cfg)
    assert "allowed keys" in e.value.render() and "lr" in e.value.render()
    cfg = base_config(tmp_path)
    cfg["trian"] = {}
    with pytest.raises(ClimbError, match=r"did you mean 'train'"):
        from_dict(cfg)
    with pytest.raises(ClimbError, match=r"did you mean 'batch_size'"):
        apply_override(base_config(tmp_path), "data.batchsize=3")


def test_wrong_types_and_values(tmp_path: Path) -> None:
    cfg = base_config(tmp_path)
    cfg["data"]["batch_size"] = "many"
    with pytest.raises(ClimbError, match=r"wrong type for 'data.batch_size'") as e:
        from_dict(cfg)
    assert "expected int" in e.value.render()
    cfg = base_config(tmp_path)
    cfg["data"]["mixture"] = "unifrom"
    with pytest.raises(ClimbError, match=r"did you mean 'uniform'"):
        from_dict(cfg)
    cfg = base_config(tmp_path)
    cfg["data"]["tasks"] = []
    with pytest.raises(ClimbError, match="no task"):
        from_dict(cfg)
    cfg = base_config(tmp_path)
    cfg["model"]["freeze_encoder"] = True
    with pytest.raises(ClimbError, match="linear probe"):
        from_dict(cfg)
    with pytest.raises(ClimbError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_example_configs_validate(tmp_path: Path) -> None:
    configs = Path(__file__).parents[2] / "configs"
    names = sorted(p.name for p in configs.glob("*.yaml"))
    assert {"ptbxl_superdiagnostic.yaml", "ecg7_multitask.yaml", "ecg7_fewshot.yaml"} <= set(names)
    for name in names:  # one schema for every config (graphs, segmentation, fusion, ...)
        cfg = load_config(configs / name, [f"data.root={tmp_path}"])
        assert cfg.data_root() == tmp_path
        assert all(cfg.store_path(t) == tmp_path / "stores" / t.dataset for t in cfg.data.tasks)
    mt = load_config(configs / "ecg7_multitask.yaml")
    assert [t.dataset for t in mt.data.tasks] == [
        "ptbxl",
        "cpsc2018",
        "georgia",
        "chapman_shaoxing",
    ]
