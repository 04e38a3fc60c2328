"""verl registration, tested with fake registry / trainer objects shaped like verl's (verl is
not installed here; no cluster)."""

from __future__ import annotations

import types
from enum import Enum
from typing import Any

import numpy as np
import pytest
import torch

from climb.core.errors import ClimbError
from climb.rl import DomainHistory, drpo_advantages
from climb.rl.verl import patch_compute_advantage, register_verl


def fake_core_algos() -> types.SimpleNamespace:
    registry: dict[str, Any] = {}

    def register_adv_est(name_or_enum: Any) -> Any:
        def deco(fn: Any) -> Any:
            name = name_or_enum.value if isinstance(name_or_enum, Enum) else name_or_enum
            if name in registry and registry[name] != fn:
                raise ValueError(f"Adv estimator {name} has already been registered")
            registry[name] = fn
            return fn

        return deco

    return types.SimpleNamespace(
        ADV_ESTIMATOR_REGISTRY=registry,
        register_adv_est=register_adv_est,
        get_adv_estimator_fn=lambda n: registry[n],
    )


def fake_ray_trainer(core: Any) -> types.SimpleNamespace:
    def compute_advantage(data: Any, adv_estimator: Any, config: Any = None) -> Any:
        fn = core.get_adv_estimator_fn(adv_estimator)  # verl's generic branch
        kwargs = {
            "token_level_rewards": data.batch["token_level_rewards"],
            "response_mask": data.batch["response_mask"],
            "config": config,
        }
        if "uid" in data.non_tensor_batch:
            kwargs["index"] = data.non_tensor_batch["uid"]
        data.batch["advantages"], data.batch["returns"] = fn(**kwargs)
        return data

    return types.SimpleNamespace(compute_advantage=compute_advantage)


def data(seed: int) -> types.SimpleNamespace:
    rng = np.random.default_rng(seed)
    r = torch.tensor(rng.uniform(0.05, 1, (12, 1)), dtype=torch.float32) * torch.tensor(
        [[0, 0, 1.0]]
    )
    return types.SimpleNamespace(
        batch={"token_level_rewards": r, "response_mask": torch.ones(12, 3)},
        non_tensor_batch={
            "uid": np.array([f"{seed}-{i // 3}" for i in range(12)], dtype=object),
            "data_source": np.array(["ecg"] * 6 + ["cxr"] * 6, dtype=object),
        },
    )


def test_register_and_run_through_compute_advantage() -> None:
    core = fake_core_algos()
    est = register_verl(core, history=DomainHistory())
    assert core.ADV_ESTIMATOR_REGISTRY["drpo"] is est
    trainer = fake_ray_trainer(core)
    with pytest.raises(ClimbError, match="did not pass it"):
        trainer.compute_advantage(data(0), "drpo")
    patch_compute_advantage(trainer, est)
    patch_compute_advantage(trainer, est)  # idempotent
    ref = DomainHistory()
    for step in range(3):
        d = data(step)
        trainer.compute_advantage(d, "drpo")
        b = d.batch
        expect, _ = drpo_advantages(
            b["token_level_rewards"],
            b["response_mask"],
            d.non_tensor_batch["uid"],
            d.non_tensor_batch["data_source"],
            ref,
        )
        torch.testing.assert_close(b["advantages"], expect, atol=0, rtol=0)
    assert est.history.count("ecg") == 6 and est.history.state_dict() == ref.state_dict()
    bad = data(9)
    del bad.non_tensor_batch["data_source"]
    with pytest.raises(ClimbError, match="no non_tensor_batch"):
        trainer.compute_advantage(bad, "drpo")


def test_registration_errors_and_dict_registry() -> None:
    core = fake_core_algos()
    register_verl(core)
    with pytest.raises(ClimbError, match="refused"):
        register_verl(core)  # a different estimator under the same name
    reg: dict[str, Any] = {}
    est = register_verl(reg, name="drpo_climb")
    d = data(1)
    adv, _ = est(
        d.batch["token_level_rewards"],
        d.batch["response_mask"],
        index=d.non_tensor_batch["uid"],
        data_source=d.non_tensor_batch["data_source"],
    )
    assert torch.isfinite(adv).all()
    with pytest.raises(ClimbError, match="already registered"):
        register_verl(reg, name="drpo_climb")
    with pytest.raises(ClimbError, match="no register_adv_est"):
        register_verl(object())
    with pytest.raises(ClimbError, match="verl is not installed"):
        register_verl()
