from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import zarr

from climb.core.errors import ClimbError
from climb.data import StoreDataset, build_transforms, holdout_split, make_loader


def _raw(store: Path) -> tuple[np.ndarray, pd.DataFrame]:
    x = zarr.open_array(str(store / "arrays" / "ecg.zarr"), mode="r")[:]
    return np.asarray(x), pd.read_parquet(store / "samples.parquet")


def test_split_fields_tasks_and_labels(synth_store: Path) -> None:
    x, df = _raw(synth_store)
    ds = StoreDataset(synth_store, split="train", tasks=["ml", "bin", "reg"])
    assert len(ds) == int((df["split"] == "train").sum())
    assert ds.fields == ["ecg"] and ds.modality("ecg") == "signal"
    b = ds.get_batch([3, 0, 7])
    rows = df[df["split"] == "train"].sort_values("index").iloc[[3, 0, 7]]
    b2 = ds[[3, 0, 7]]  # sampler batches come back in array order, with their positions
    assert b2["index"].tolist() == [0, 3, 7]
    np.testing.assert_array_equal(b2["inputs"]["ecg"].numpy()[1], b["inputs"]["ecg"].numpy()[0])
    np.testing.assert_array_equal(b["inputs"]["ecg"].numpy(), x[rows["index"].to_numpy()])
    ml = np.stack(rows["label__ml"].to_numpy()).astype(np.float32)
    np.testing.assert_array_equal(b["targets"]["ml"].numpy(), ml)
    assert b["targets"]["bin"].dtype == torch.int64
    # missing labels stay masked (-1 / NaN), never zero-filled
    all_ml = StoreDataset(synth_store, tasks="ml").labels["ml"]
    assert (all_ml == -1).any()
    reg = StoreDataset(synth_store, tasks="reg").labels["reg"]
    assert np.isnan(reg).any()
    one = ds[5]
    assert one["inputs"]["ecg"].shape == (3, 500)


def test_batched_read_matches_any_order(synth_store: Path) -> None:
    x, _df = _raw(synth_store)
    ds = StoreDataset(synth_store, tasks="ml")
    rng = np.random.default_rng(1)
    for _ in range(5):
        pos = rng.permutation(len(ds))[:37]
        got = ds.get_batch(pos)["inputs"]["ecg"].numpy()
        np.testing.assert_array_equal(got, x[ds.array_index[pos]])
        b = ds[pos]
        np.testing.assert_array_equal(
            b["inputs"]["ecg"].numpy(), x[ds.array_index[b["index"].numpy()]]
        )
        assert sorted(b["index"].tolist()) == sorted(pos.tolist())


def test_one_read_per_chunk_run(synth_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = StoreDataset(synth_store, tasks="ml", cache_chunks=False)
    arr = ds._store().array("ecg")
    reads: list[tuple[int, int]] = []

    class Spy:
        shape = arr.shape
        dtype = arr.dtype
        chunks = arr.chunks

        def __getitem__(self, sl: slice) -> np.ndarray:
            reads.append((sl.start, sl.stop))
            return arr[sl]

    monkeypatch.setattr(ds._st, "array", lambda f: Spy())
    # positions in chunks 0, 1 (one run) and 5 (another run)
    ds.get_batch([1, 17, 20, 85, 3])
    assert reads == [(0, 32), (80, 96)]


def test_transforms_and_errors(synth_store: Path) -> None:
    t = build_transforms([{"name": "crop", "length": 200}, {"name": "zscore"}])
    ds = StoreDataset(synth_store, tasks="ml", transforms=t)
    x = ds[[0, 1]]["inputs"]["ecg"]
    assert x.shape == (2, 3, 200)
    assert torch.allclose(x.mean(-1), torch.zeros(2, 3), atol=1e-4)
    with pytest.raises(ClimbError, match="did you mean 'ml'"):
        StoreDataset(synth_store, tasks="mll")
    with pytest.raises(ClimbError, match="no dense field"):
        StoreDataset(synth_store, fields="eeg")
    with pytest.raises(ClimbError, match="did you mean 'crop'"):
        build_transforms([{"name": "crap"}])
    with pytest.raises(ClimbError, match="no climb store"):
        StoreDataset(synth_store.parent / "nope")


def test_holdout_is_patient_level(synth_store: Path) -> None:
    ds = StoreDataset(synth_store, split="train", tasks="ml")
    rest, hold = holdout_split(ds.patient_ids, 0.25, seed=3)
    assert len(rest) + len(hold) == len(ds) and len(hold) > 0
    assert not set(ds.patient_ids[rest]) & set(ds.patient_ids[hold])
    _rest2, hold2 = holdout_split(ds.patient_ids, 0.25, seed=3)
    np.testing.assert_array_equal(hold, hold2)


def test_loader_with_workers_covers_split(synth_store: Path) -> None:
    ds = StoreDataset(synth_store, split="train", tasks="ml")
    seen: list[int] = []
    for b in make_loader(ds, 16, num_workers=2, seed=0):
        assert b["inputs"]["ecg"].shape[1:] == (3, 500)
        seen += b["index"].tolist()
    assert sorted(seen) == list(range(len(ds)))


def test_to_float_scales_without_touching_its_input() -> None:
    f = build_transforms([{"name": "to_float", "scale": 1 / 255}])
    assert f is not None
    u8 = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16)
    assert torch.equal(f(u8), u8.float() * (1 / 255)) and f(u8).dtype == torch.float32
    x = torch.rand(2, 3)
    x0 = x.clone()
    assert torch.equal(f(x), x0 * (1 / 255)) and torch.equal(x, x0)  # float input: a new tensor
