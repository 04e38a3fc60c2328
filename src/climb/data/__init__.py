"""climb.data: torch datasets over climb stores, chunk-aware samplers, mixtures, few-shot subsets.

from climb.data import StoreDataset, make_loader
ds = StoreDataset("<root>/stores/ptbxl", split="train", tasks="ecg7", fields="ecg")
for batch in make_loader(ds, 64):           # block-shuffled, whole-chunk reads, prefetched
    batch = to_device(batch, device)         # non_blocking from pinned memory on CUDA
    x, y = batch["inputs"]["ecg"], batch["targets"]["ecg7"]
"""

from __future__ import annotations

from climb.data.collate import COLLATES, Collated, build_collate
from climb.data.dataset import (
    PRESENT_PREFIX,
    BatchRequest,
    StoreDataset,
    holdout_split,
    label_array,
    presence_column,
    scale_on_device,
)
from climb.data.fewshot import SIZES, few_shot_indices, record_few_shot, resolve_k
from climb.data.loader import BatchLoader, make_loader, pin_batch, task_stream, to_device
from climb.data.mixture import STRATEGIES, TaskMixture, TaskStream, mixture_weights
from climb.data.samplers import ChunkBatchSampler, epoch_order
from climb.data.transforms import build_transforms
from climb.data.verify import verify_env

__all__ = [
    "COLLATES",
    "PRESENT_PREFIX",
    "SIZES",
    "STRATEGIES",
    "BatchLoader",
    "BatchRequest",
    "ChunkBatchSampler",
    "Collated",
    "StoreDataset",
    "TaskMixture",
    "TaskStream",
    "build_collate",
    "build_transforms",
    "epoch_order",
    "few_shot_indices",
    "holdout_split",
    "label_array",
    "make_loader",
    "mixture_weights",
    "pin_batch",
    "presence_column",
    "record_few_shot",
    "resolve_k",
    "scale_on_device",
    "task_stream",
    "to_device",
    "verify_env",
]
