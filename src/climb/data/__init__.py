"""climb.data: torch datasets over climb stores, chunk-aware samplers, mixtures, few-shot subsets.

from climb.data import StoreDataset, make_loader
ds = StoreDataset("<root>/stores/ptbxl", split="train", tasks="ecg7", fields="ecg")
for batch in make_loader(ds, 64):           # block-shuffled, whole-chunk reads
    x, y = batch["inputs"]["ecg"], batch["targets"]["ecg7"]
"""

from __future__ import annotations

from climb.data.dataset import StoreDataset, holdout_split, label_array
from climb.data.fewshot import SIZES, few_shot_indices, record_few_shot, resolve_k
from climb.data.loader import make_loader, task_stream
from climb.data.mixture import STRATEGIES, TaskMixture, TaskStream, mixture_weights
from climb.data.samplers import ChunkBatchSampler, epoch_order
from climb.data.transforms import build_transforms

__all__ = [
    "SIZES",
    "STRATEGIES",
    "ChunkBatchSampler",
    "StoreDataset",
    "TaskMixture",
    "TaskStream",
    "build_transforms",
    "epoch_order",
    "few_shot_indices",
    "holdout_split",
    "label_array",
    "make_loader",
    "mixture_weights",
    "record_few_shot",
    "resolve_k",
    "task_stream",
]
