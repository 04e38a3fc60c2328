from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
torch.set_num_threads(1)

TINY = {"widen": 0.125, "stem_sizes": [8, 8, 16]}


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from climb_synth_store import make_store

    root = tmp_path_factory.mktemp("root")
    make_store(root / "stores" / "synth", key="synth", n=320, chunk=32, seed=0)
    make_store(root / "stores" / "synth2", key="synth2", n=240, chunk=32, seed=5)
    return root


def base_config(root: Path, **over: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "run": {"name": "t", "seed": 0, "device": "cpu"},
        "data": {
            "root": str(root),
            "tasks": [{"dataset": "synth", "task": "ml"}],
            "batch_size": 32,
            "eval_batch_size": 64,
        },
        "model": {"encoder": "xresnet1d", "encoder_kwargs": dict(TINY)},
        "optim": {"lr": 3e-3, "warmup_steps": 4},
        "train": {"max_steps": 30, "eval_every": 15, "checkpoint_every": 10, "log_every": 5},
        "evaluate": {"n_boot": 30, "splits": ["test"]},
    }
    for k, v in over.items():
        cfg[k] = {**cfg.get(k, {}), **v}
    return cfg


def write_config(path: Path, cfg: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path
