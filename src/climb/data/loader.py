"""DataLoaders over a :class:`StoreDataset` driven by a :class:`ChunkBatchSampler`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader

from climb.data.dataset import StoreDataset
from climb.data.mixture import TaskStream
from climb.data.samplers import ChunkBatchSampler, Mode


def make_loader(
    dataset: StoreDataset,
    batch_size: int,
    *,
    shuffle: bool = True,
    mode: Mode = "block",
    window_chunks: int | None = None,
    seed: int = 0,
    drop_last: bool = False,
    rank: int = 0,
    world_size: int = 1,
    num_workers: int = 0,
    pin_memory: bool = False,
    epoch: int = 0,
    start_batch: int = 0,
) -> DataLoader[Any]:
    """A DataLoader that yields whole batches read chunk-by-chunk by the dataset."""
    sampler = ChunkBatchSampler(
        dataset.chunk_ids,
        batch_size,
        shuffle=shuffle,
        mode=mode,
        window_chunks=window_chunks,
        seed=seed,
        drop_last=drop_last,
        rank=rank,
        world_size=world_size,
    )
    sampler.load_state_dict({"epoch": epoch, "start_batch": start_batch})
    # an own generator: creating an iterator must not consume the global torch RNG (which
    # drives dropout), or a resumed run would diverge from an uninterrupted one
    gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(epoch))
    return DataLoader(
        dataset,
        sampler=sampler,
        batch_size=None,
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=False,
        prefetch_factor=2 if num_workers > 0 else None,
        generator=gen,
    )


def task_stream(dataset: StoreDataset, batch_size: int, **kw: Any) -> TaskStream:
    """An endless resumable stream of training batches (epochs follow each other)."""

    def make_iter(epoch: int, start_batch: int) -> Iterator[Any]:
        return iter(make_loader(dataset, batch_size, epoch=epoch, start_batch=start_batch, **kw))

    return TaskStream(make_iter)
