"""DRPO in TRL: :class:`DRPOTrainer`, a ``trl.GRPOTrainer`` whose advantages are DRPO's.

TRL 1.x computes GRPO advantages inline in ``GRPOTrainer._generate_and_score_completions``
(group mean/std over ``num_generations`` consecutive completions, gathered over processes). This
subclass keeps everything else of TRL (generation, reward functions, loss, logging) and, in
training mode only:

1. records the gathered reward matrix in ``_calculate_rewards`` (the hook TRL calls once per
   generation batch) and the domain of each completion (the dataset column ``domain_column``,
   e.g. the ``dataset`` key of a climb qa-jsonl export), gathered the same way;
2. after TRL's own scoring, replaces ``advantages`` with :func:`climb.rl.drpo_advantages` of
   the weighted reward sum (TRL's ``reward_weights``), questions = consecutive groups of
   ``num_generations``, then keeps this process's slice.

A completion for which every reward function returned None gets reward 0 (TRL excludes it from
its baseline; DRPO needs a finite reward). The :class:`~climb.rl.DomainHistory` is saved into
every checkpoint (``drpo_history.json``) and loaded on ``train(resume_from_checkpoint=...)``.
Evaluation keeps TRL's advantages (they are only logged there).

Usage::

    from climb.rl import DomainHistory
    from climb.rl.trl import DRPOTrainer
    trainer = DRPOTrainer(model=model, reward_funcs=[reward], args=GRPOConfig(...),
                          train_dataset=ds, processing_class=tok, domain_column="dataset",
                          history=DomainHistory(max_per_domain=2048))
"""

from __future__ import annotations

import json
import os
from collections import deque
from typing import Any

from climb.core.errors import ClimbError
from climb.rl.advantages import DomainHistory, drpo_advantages

try:
    import torch
    from accelerate.utils import gather_object
    from transformers import TrainerCallback
    from trl import GRPOTrainer
except ImportError as exc:  # pragma: no cover - trl is an optional extra
    raise ClimbError(
        f"climb.rl.trl needs TRL ({exc.name} is not installed)",
        fix="pip install 'climb[vlm]' (trl, transformers, datasets, webdataset)",
    ) from exc

HISTORY_FILE = "drpo_history.json"


class _SaveHistory(TrainerCallback):  # type: ignore[misc]
    def __init__(self, trainer: DRPOTrainer) -> None:
        self.trainer = trainer

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        ckpt = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
        os.makedirs(ckpt, exist_ok=True)
        with open(os.path.join(ckpt, HISTORY_FILE), "w", encoding="utf-8") as fh:
            json.dump(self.trainer.drpo_history.state_dict(), fh)


class DRPOTrainer(GRPOTrainer):  # type: ignore[misc]
    """``trl.GRPOTrainer`` with DRPO advantages (see the module docstring)."""

    def __init__(
        self,
        *args: Any,
        domain_column: str = "domain",
        history: DomainHistory | None = None,
        eps: float = 1e-6,
        keep_log: int = 64,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.domain_column = domain_column
        self.drpo_history = history if history is not None else DomainHistory()
        self.drpo_eps = float(eps)
        #: the last ``keep_log`` DRPO steps: rewards, domains, advantages (all processes)
        self.drpo_log: deque[dict[str, Any]] = deque(maxlen=keep_log)
        self._drpo_pending: tuple[Any, list[str]] | None = None
        self.add_callback(_SaveHistory(self))

    # ------------------------------------------------------------------ hooks
    def _calculate_rewards(self, inputs: Any, prompts: Any, completions: Any, ids: Any) -> Any:
        rewards = super()._calculate_rewards(inputs, prompts, completions, ids)
        if self.model.training:
            missing = [i for i, x in enumerate(inputs) if self.domain_column not in x]
            if missing:
                raise ClimbError(
                    f"DRPOTrainer: {len(missing)} training examples have no "
                    f"{self.domain_column!r} column",
                    where="train_dataset",
                    fix="add the domain of each question (a climb qa-jsonl export has 'dataset') "
                    "or pass domain_column=...",
                )
            domains = gather_object([str(x[self.domain_column]) for x in inputs])
            self._drpo_pending = (rewards, domains)
        return rewards

    def _generate_and_score_completions(self, inputs: Any) -> Any:
        out = super()._generate_and_score_completions(inputs)
        if not self.model.training or self._drpo_pending is None:
            return out
        rewards_per_func, domains = self._drpo_pending
        self._drpo_pending = None
        weights = self.reward_weights.to(rewards_per_func.device).unsqueeze(0)
        unscorable = torch.isnan(rewards_per_func).all(dim=1)
        rewards = (rewards_per_func * weights).nansum(dim=1)
        rewards[unscorable] = 0.0
        n = self.num_generations
        step = int(self.state.global_step)
        index = [f"{step}:{i // n}" for i in range(rewards.shape[0])]
        r = rewards.detach().float().cpu()[:, None]
        adv, _ = drpo_advantages(
            r, torch.ones_like(r), index, domains, self.drpo_history, eps=self.drpo_eps
        )
        adv = adv[:, 0]
        self.drpo_log.append(
            {
                "step": step,
                "rewards": r[:, 0].tolist(),
                "domains": list(domains),
                "advantages": adv.tolist(),
            }
        )
        local = len(inputs)
        lo = self.accelerator.process_index * local
        out["advantages"] = adv[lo : lo + local].to(
            out["advantages"].device, out["advantages"].dtype
        )
        metrics = self._metrics["train"]
        for d, st in self.drpo_history.last_stats.items():
            metrics[f"drpo/{d}/T_d"].append(float(st["T_d"]))
            metrics[f"drpo/{d}/k"].append(float(st["k"]))
        return out

    # ------------------------------------------------------------------ resume
    def _load_from_checkpoint(self, resume_from_checkpoint: str, model: Any = None) -> None:
        super()._load_from_checkpoint(resume_from_checkpoint, model)
        path = os.path.join(resume_from_checkpoint, HISTORY_FILE)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                self.drpo_history.load_state_dict(json.load(fh))


__all__ = ["HISTORY_FILE", "DRPOTrainer"]
