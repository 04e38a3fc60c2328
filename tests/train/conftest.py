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


@pytest.fixture(scope="session")
def fusion_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with two input fields: ``ecg`` (3 x 500) and ``aux`` (2 x 50, a summary of the
    same signal), the second absent for a fifth of the samples (``present__aux``)."""
    import json

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    import zarr
    from climb_synth_store import make_store

    root = tmp_path_factory.mktemp("fusion")
    path = make_store(root / "stores" / "two", key="two", n=240, chunk=32, seed=3)
    x = zarr.open_array(str(path / "arrays" / "ecg.zarr"), mode="r")[:]
    rng = np.random.default_rng(0)
    aux = np.abs(np.fft.rfft(x[:, :2], axis=-1))[..., 1:51].astype(np.float32) / 50.0
    present = rng.random(len(aux)) >= 0.2
    aux[~present] = 0.0
    arr = zarr.create_array(store=str(path / "arrays" / "aux.zarr"), shape=aux.shape,
                            chunks=(32, 2, 50), dtype="float32")  # fmt: skip
    arr[:] = aux
    meta = json.loads((path / "dataset.json").read_text())
    meta["fields"]["aux"] = {"dtype": "float32", "shape": [2, 50], "axes": ["lead", "time"],
                             "unit": "a.u.", "sampling_rate_hz": 1.0, "chunks": [32, 2, 50],
                             "ragged": False}  # fmt: skip
    (path / "dataset.json").write_text(json.dumps(meta))
    t = pq.read_table(path / "samples.parquet")
    t = t.append_column("present__aux", pa.array(present))
    pq.write_table(t, path / "samples.parquet")
    return root
