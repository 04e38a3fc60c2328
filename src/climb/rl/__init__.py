"""Reinforcement learning on climb's QA exports, without a trainer dependency.

``from climb.rl import DomainHistory, drpo_advantages, grpo_advantages``: outcome-advantage
estimators in verl's signature family (:mod:`climb.rl.advantages`); rewards for classification
QA (:mod:`climb.rl.rewards`); DRPO-style task weights for supervised multitask training
(:mod:`climb.rl.weighting`); integrations with TRL (:mod:`climb.rl.trl`) and verl
(:mod:`climb.rl.verl`). See docs/rl.md.
"""

from climb.rl.advantages import ClusterInfo, DomainHistory, drpo_advantages, grpo_advantages
from climb.rl.rewards import answer_f1, format_reward, length_reward, medical_reward
from climb.rl.weighting import domain_task_weights

__all__ = [
    "ClusterInfo",
    "DomainHistory",
    "answer_f1",
    "domain_task_weights",
    "drpo_advantages",
    "format_reward",
    "grpo_advantages",
    "length_reward",
    "medical_reward",
]
