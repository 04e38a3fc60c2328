from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from climb.core.errors import ClimbError
from climb.data import (
    StoreDataset,
    TaskMixture,
    TaskStream,
    few_shot_indices,
    mixture_weights,
    record_few_shot,
)


def test_multiclass_k_per_class_deterministic() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 500)
    y[:20] = -1
    y[y == 3][:] = 3
    for k in (8, 64, "small"):
        a = few_shot_indices(y, "multiclass", k, seed=0)
        b = few_shot_indices(y, "multiclass", k, seed=0)
        np.testing.assert_array_equal(a, b)
        kk = 8 if k == "small" else k
        for c in range(4):
            assert (y[a] == c).sum() == min(kk, (y == c).sum())
        assert (y[a] >= 0).all()
    assert not np.array_equal(
        few_shot_indices(y, "multiclass", 8, 0), few_shot_indices(y, "multiclass", 8, 1)
    )
    # rare class: everything is used
    y2 = np.array([0] * 50 + [1] * 3)
    sel = few_shot_indices(y2, "binary", 8)
    assert (y2[sel] == 1).sum() == 3 and (y2[sel] == 0).sum() == 8


def test_matches_pandas_sample_rule() -> None:
    import pandas as pd

    y = np.random.default_rng(5).integers(0, 3, 300)
    df = pd.DataFrame({"y": y})
    want = sorted(
        np.concatenate(
            [df[df.y == c].sample(min(8, (y == c).sum()), random_state=0).index for c in range(3)]
        )
    )
    np.testing.assert_array_equal(few_shot_indices(y, "multiclass", 8, seed=0), want)


def test_multilabel_greedy_rule() -> None:
    y = np.array(
        [
            [1, 0, 0],  # keep (a=1)
            [1, 1, 0],  # keep (a=2, b=1)
            [1, 0, 0],  # a already 2 -> drop
            [0, 0, 0],  # no positives -> drop
            [1, 1, 1],  # c < 2 -> keep (a=3,b=2,c=1)
            [0, 1, -1],  # b=2 -> drop (missing c ignored)
            [-1, -1, 1],  # c=1 -> keep (c=2)
            [0, 0, 1],  # drop
        ],
        dtype=np.int8,
    )
    np.testing.assert_array_equal(few_shot_indices(y, "multilabel", 2), [0, 1, 4, 6])


def test_multilabel_counts_on_store(synth_store: Path, tmp_path: Path) -> None:
    ds = StoreDataset(synth_store, split="train", tasks="ml")
    y = ds.labels["ml"]
    sel = few_shot_indices(y, "multilabel", 8)
    counts = (y[sel] == 1).sum(0)
    assert (counts >= np.minimum(8, (y == 1).sum(0))).all()
    # every kept sample was needed when it was kept
    running = np.zeros(3, int)
    for i in sel:
        pos = y[i] == 1
        assert (running[pos] < 8).any()
        running[pos] += 1
    sub = StoreDataset(synth_store, split="train", tasks="ml", rows=sel)
    assert len(sub) == len(sel)
    p = record_few_shot(
        tmp_path / "fs.json",
        dataset="synth",
        task="ml",
        k=8,
        seed=0,
        task_type="multilabel",
        sample_ids=sub.sample_ids.tolist(),
        counts={},
    )
    assert "sample_ids" in p.read_text()
    with pytest.raises(ClimbError):
        few_shot_indices(np.zeros(3), "regression", 8)


def test_mixture_weights_formulae() -> None:
    sizes = {"a": 100, "b": 400, "c": 1600}
    assert mixture_weights(sizes, "proportional") == pytest.approx(
        {"a": 1 / 21, "b": 4 / 21, "c": 16 / 21}
    )
    assert mixture_weights(sizes, "uniform") == pytest.approx({k: 1 / 3 for k in sizes})
    w = mixture_weights(sizes, "temperature", 2.0)  # sqrt: 10, 20, 40
    assert w == pytest.approx({"a": 10 / 70, "b": 20 / 70, "c": 40 / 70})
    with pytest.raises(ClimbError, match="did you mean 'uniform'"):
        mixture_weights(sizes, "unifrom")


class _Counter:
    def __init__(self) -> None:
        self.n = 0


def _stream(n_batches: int) -> TaskStream:
    return TaskStream(lambda epoch, start: iter([(epoch, i) for i in range(start, n_batches)]))


@pytest.mark.parametrize(
    "strategy,T", [("proportional", 1.0), ("uniform", 1.0), ("temperature", 3.0)]
)
def test_mixture_empirical_proportions(strategy: str, T: float) -> None:
    sizes = {"a": 100, "b": 400, "c": 1600}
    mix = TaskMixture({k: _stream(3) for k in sizes}, sizes, strategy, T, seed=0)
    n = 20000
    draws = [mix.next_task() for _ in range(n)]
    want = mixture_weights(sizes, strategy, T)
    for k in sizes:
        p = want[k]
        assert abs(draws.count(k) / n - p) < 4 * np.sqrt(p * (1 - p) / n) + 1e-3


def test_round_robin_and_resume() -> None:
    sizes = {"a": 1, "b": 5}
    mix = TaskMixture({k: _stream(2) for k in sizes}, sizes, "round_robin")
    out = [next(mix) for _ in range(6)]
    assert [t for t, _ in out] == ["a", "b"] * 3
    assert [b for t, b in out if t == "a"] == [(0, 0), (0, 1), (1, 0)]  # epochs roll over
    mix2 = TaskMixture({k: _stream(2) for k in sizes}, {"a": 1, "b": 3}, "temperature", 2.0, seed=9)
    [next(mix2) for _ in range(7)]
    state = mix2.state_dict()
    rest = [next(mix2) for _ in range(9)]
    mix3 = TaskMixture({k: _stream(2) for k in sizes}, {"a": 1, "b": 3}, "temperature", 2.0, seed=0)
    mix3.load_state_dict(state)
    assert [next(mix3) for _ in range(9)] == rest
