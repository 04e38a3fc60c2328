"""DRPO as a verl advantage estimator (``algorithm.adv_estimator: drpo``), without a fork.

verl keeps advantage estimators in a registry (``verl.trainer.ppo.core_algos``:
``register_adv_est(name)`` / ``get_adv_estimator_fn(name)``) and calls a registered estimator
from ``ray_trainer.compute_advantage`` with ``token_level_rewards``, ``response_mask``,
``config`` and ``index`` (the ``uid`` of each response). It does **not** pass the domain of each
response, which DRPO needs, so there are two pieces:

* :func:`register_verl` registers an estimator bound to one :class:`~climb.rl.DomainHistory`;
  it takes the domains from a ``domain_info=`` / ``data_source=`` keyword when the caller passes
  one (some verl forks do), else from what :func:`patch_compute_advantage` set;
* :func:`patch_compute_advantage` wraps ``ray_trainer.compute_advantage`` so that, for this
  estimator, the domains are read from ``data.non_tensor_batch[domain_key]`` (verl's datasets put
  the dataset name in ``data_source``) before the original runs.

Usage, in the driver process before the trainer is built::

    import verl.trainer.ppo.ray_trainer as ray_trainer
    from climb.rl import DomainHistory
    from climb.rl.verl import patch_compute_advantage, register_verl

    est = register_verl(history=DomainHistory(max_per_domain=4096))
    patch_compute_advantage(ray_trainer, est, domain_key="data_source")

verl is an optional dependency; nothing here imports it unless no registry is passed. Save
``est.history.state_dict()`` with verl's checkpoints to resume DRPO exactly.
"""

from __future__ import annotations

import functools
from typing import Any

from climb.core.errors import ClimbError
from climb.rl.advantages import DomainHistory, drpo_advantages


class VerlDRPOEstimator:
    """A verl-callable DRPO estimator bound to one :class:`DomainHistory`."""

    def __init__(self, history: DomainHistory | None = None, eps: float = 1e-6) -> None:
        self.history = history if history is not None else DomainHistory()
        self.eps = float(eps)
        self.domains: Any = None  # set per call by patch_compute_advantage

    def __call__(
        self,
        token_level_rewards: Any,
        response_mask: Any,
        index: Any = None,
        config: Any = None,
        domain_info: Any = None,
        data_source: Any = None,
        **_: Any,
    ) -> tuple[Any, Any]:
        domains = domain_info if domain_info is not None else data_source
        if domains is None:
            domains, self.domains = self.domains, None
        if index is None:
            raise ClimbError(
                "verl did not pass the question ids (non_tensor_batch['uid'])",
                fix="DRPO groups rollouts by question: keep verl's uid column",
            )
        if domains is None:
            raise ClimbError(
                "DRPO needs the domain of each response and verl did not pass it",
                where="verl compute_advantage",
                fix="call climb.rl.verl.patch_compute_advantage(ray_trainer, estimator) before "
                "building the trainer (it reads non_tensor_batch['data_source'])",
            )
        eps = self.eps
        if config is not None:
            eps = float(getattr(config, "drpo_eps", eps) or eps)
        return drpo_advantages(
            token_level_rewards, response_mask, index, domains, self.history, eps
        )


def register_verl(
    registry: Any = None,
    *,
    name: str = "drpo",
    history: DomainHistory | None = None,
    eps: float = 1e-6,
) -> VerlDRPOEstimator:
    """Register DRPO under ``name`` in verl's advantage-estimator registry and return the
    estimator. ``registry`` is an object with verl's ``register_adv_est(name)`` decorator (default:
    ``verl.trainer.ppo.core_algos``), or a plain dict ``{name: fn}``."""
    if registry is None:
        try:
            from verl.trainer.ppo import core_algos as registry  # type: ignore[no-redef]
        except ImportError as exc:
            raise ClimbError(
                "verl is not installed",
                fix="pip install verl (see docs/rl.md); or pass your registry object",
            ) from exc
    est = VerlDRPOEstimator(history, eps)
    if isinstance(registry, dict):
        if name in registry and registry[name] is not est:
            raise ClimbError(
                f"an advantage estimator {name!r} is already registered",
                fix="pass another name=... or remove the old one",
            )
        registry[name] = est
        return est
    register = getattr(registry, "register_adv_est", None)
    if register is None:
        raise ClimbError(
            f"{registry!r} has no register_adv_est",
            fix="pass verl.trainer.ppo.core_algos (verl >= 0.4) or a dict",
        )
    try:
        register(name)(est)
    except ValueError as exc:  # verl refuses a second, different estimator under one name
        raise ClimbError(
            f"verl refused to register {name!r}: {exc}", fix="pass another name=..."
        ) from exc
    return est


def patch_compute_advantage(
    ray_trainer_module: Any,
    estimator: VerlDRPOEstimator,
    *,
    name: str = "drpo",
    domain_key: str = "data_source",
) -> None:
    """Wrap ``ray_trainer_module.compute_advantage`` so that, when the estimator is ``name``,
    ``estimator`` gets the domains from ``data.non_tensor_batch[domain_key]``. Idempotent."""
    original = ray_trainer_module.compute_advantage
    if getattr(original, "_climb_drpo", False):
        return

    @functools.wraps(original)
    def compute_advantage(data: Any, adv_estimator: Any, *args: Any, **kwargs: Any) -> Any:
        key = getattr(adv_estimator, "value", adv_estimator)
        if key == name:
            batch = getattr(data, "non_tensor_batch", {})
            if domain_key not in batch:
                raise ClimbError(
                    f"DRPO: the batch has no non_tensor_batch[{domain_key!r}]",
                    fix=f"put each sample's domain in {domain_key!r} (verl datasets: data_source)",
                )
            estimator.domains = batch[domain_key]
        return original(data, adv_estimator, *args, **kwargs)

    compute_advantage._climb_drpo = True  # type: ignore[attr-defined]
    ray_trainer_module.compute_advantage = compute_advantage


__all__ = ["VerlDRPOEstimator", "patch_compute_advantage", "register_verl"]
