from __future__ import annotations

import numpy as np
import pytest

from climb.core.errors import ClimbError
from climb.data import ChunkBatchSampler, epoch_order

CHUNKS = np.repeat(np.arange(13), 16)[:203]  # 203 positions in 13 chunks of 16


@pytest.mark.parametrize("mode", ["block", "exact"])
@pytest.mark.parametrize("bs", [1, 16, 50])
def test_every_index_once_per_epoch(mode: str, bs: int) -> None:
    s = ChunkBatchSampler(CHUNKS, bs, mode=mode, seed=4)
    for epoch in range(3):
        s.set_epoch(epoch)
        got = np.concatenate([np.asarray(b) for b in s])
        assert sorted(got.tolist()) == list(range(len(CHUNKS)))
        assert len(list(s)) == len(s)


def test_block_order_reads_whole_chunks_and_changes_per_epoch() -> None:
    s = ChunkBatchSampler(CHUNKS, 32, mode="block", window_chunks=2, seed=0)
    batches = s.batches(0)
    # a batch of 32 from windows of 2 chunks spans at most 2 windows = 4 chunks
    assert max(len(np.unique(CHUNKS[b])) for b in batches) <= 4
    assert np.mean([len(np.unique(CHUNKS[b])) for b in batches]) <= 3.1
    assert not np.array_equal(s.rank_order(0), s.rank_order(1))
    np.testing.assert_array_equal(
        s.rank_order(0), ChunkBatchSampler(CHUNKS, 32, window_chunks=2).rank_order(0)
    )
    exact = ChunkBatchSampler(CHUNKS, 32, mode="exact").batches(0)
    assert np.mean([len(np.unique(CHUNKS[b])) for b in exact]) > 8


def test_sequential() -> None:
    np.testing.assert_array_equal(epoch_order(CHUNKS, shuffle=False), np.arange(203))


@pytest.mark.parametrize("mode", ["block", "exact"])
@pytest.mark.parametrize("world", [2, 3])
def test_distributed_equal_counts_and_cover(mode: str, world: int) -> None:
    per_rank = []
    for r in range(world):
        s = ChunkBatchSampler(CHUNKS, 8, mode=mode, seed=1, rank=r, world_size=world)
        per_rank.append(np.concatenate([np.asarray(b) for b in s]))
    sizes = {len(p) for p in per_rank}
    assert len(sizes) == 1  # equal counts per rank
    allpos = np.concatenate(per_rank)
    assert set(allpos.tolist()) == set(range(203))
    assert len(allpos) - 203 < world  # only the wrap-around padding repeats
    # divisible case: exactly once
    even = np.repeat(np.arange(12), 16)
    parts = [
        np.concatenate(
            [np.asarray(b) for b in ChunkBatchSampler(even, 8, mode=mode, rank=r, world_size=4)]
        )
        for r in range(4)
    ]
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(even)))


def test_resume_position() -> None:
    s = ChunkBatchSampler(CHUNKS, 16, seed=2)
    s.set_epoch(1)
    full = [list(b) for b in s]
    s.load_state_dict({"epoch": 1, "start_batch": 5})
    assert [list(b) for b in s] == full[5:]
    assert [list(b) for b in s] == full  # start_batch applies once


def test_bad_args() -> None:
    with pytest.raises(ClimbError):
        ChunkBatchSampler(CHUNKS, 0)
    with pytest.raises(ClimbError, match="sampling mode"):
        ChunkBatchSampler(CHUNKS, 4, mode="random")  # type: ignore[arg-type]
