"""Multi-field batches with presence masks, and ragged fields made dense by the collate policies
(pad / crop / clip), on a tiny store written by climb's own store writer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from climb_mf_store import C, N, write_mf_store

from climb.core.errors import ClimbError
from climb.data import (
    COLLATES,
    StoreDataset,
    build_collate,
    build_transforms,
    make_loader,
    scale_on_device,
)
from climb.data.collate import uniform01


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    p = tmp_path_factory.mktemp("mf") / "mf"
    return p, write_mf_store(p)


def test_multi_field_batch_and_presence(store: tuple[Path, dict[str, object]]) -> None:
    path, raw = store
    ds = StoreDataset(path, fields=["ecg", "img", "seq"], tasks="y", train=False)
    assert ds.dense_fields == ["ecg", "img"] and ds.ragged_fields == ["seq"]
    b = ds.get_batch([0, 1, 2, 3, 4, 9])
    rows = [0, 1, 2, 3, 4, 9]
    assert set(b) >= {"inputs", "targets", "present", "masks", "lengths", "clip_index", "index"}
    np.testing.assert_allclose(b["inputs"]["ecg"].numpy(), raw["ecg"][rows], atol=1e-6)  # type: ignore[index]
    assert b["inputs"]["img"].dtype == torch.uint8
    pres = b["present"]["img"]
    assert pres.dtype == torch.bool and pres.tolist() == [True, False, False, True, True, False]
    assert b["present"]["ecg"].all()  # no presence column: all present
    # absent samples are zeros (stored values were non-zero: never silently data-like)
    assert (b["inputs"]["img"][~pres] == 0).all()
    np.testing.assert_array_equal(b["inputs"]["img"][pres].numpy(), raw["img"][[0, 3, 4]])  # type: ignore[index]
    # an absent ragged sample has no steps: zeros, mask False, length 0
    assert b["present"]["seq"].tolist() == [True, True, True, True, False, True]
    assert b["lengths"]["seq"][4] == 0 and not b["masks"]["seq"][4].any()
    assert (b["inputs"]["seq"][4] == 0).all()


def test_absent_rows_stay_zero_after_transforms(store: tuple[Path, dict[str, object]]) -> None:
    path, _raw = store
    t = build_transforms([{"name": "image_normalize", "mean": 0.5, "std": 0.25}])
    ds = StoreDataset(path, fields=["img"], tasks="y", transforms={"img": t})
    b = ds.get_batch([0, 1, 2])
    x, pres = b["inputs"]["img"], b["present"]["img"]
    assert x.dtype == torch.float32
    assert (x[~pres] == 0).all() and (x[pres] != 0).any()


def test_presence_column_must_be_boolean(tmp_path: Path) -> None:
    write_mf_store(tmp_path / "s", bad_presence=True)
    with pytest.raises(ClimbError, match="must be boolean"):
        StoreDataset(tmp_path / "s", fields=["img"], tasks="y")


def test_pad_policy(store: tuple[Path, dict[str, object]]) -> None:
    path, raw = store
    seqs, lengths = raw["seqs"], raw["lengths"]
    ds = StoreDataset(path, fields=["seq"], tasks="y", ragged={"seq": "pad"})
    pos = [0, 3, 5, 7]
    b = ds.get_batch(pos)
    x, m, n = b["inputs"]["seq"], b["masks"]["seq"], b["lengths"]["seq"]
    t_max = int(max(lengths[pos]))  # type: ignore[index]
    assert x.shape == (4, t_max, C) and m.shape == (4, t_max) and m.dtype == torch.bool
    assert n.tolist() == [int(lengths[p]) for p in pos]  # type: ignore[index]
    for r, p in enumerate(pos):
        t = int(lengths[p])  # type: ignore[index]
        np.testing.assert_array_equal(x[r, :t].numpy(), seqs[p])  # type: ignore[index]
        assert (x[r, t:] == 0).all() and m[r, :t].all() and not m[r, t:].any()
    capped = StoreDataset(path, fields=["seq"], tasks="y", ragged={"seq": {"name": "pad",
                                                                          "max_length": 6}})  # fmt: skip
    c = capped.get_batch(pos)
    assert c["inputs"]["seq"].shape == (4, 6, C)
    np.testing.assert_array_equal(c["inputs"]["seq"][0].numpy(), seqs[0][:6])  # type: ignore[index]


def test_crop_policy_random_in_training_centre_in_eval(
    store: tuple[Path, dict[str, object]],
) -> None:
    path, raw = store
    seqs, lengths = raw["seqs"], raw["lengths"]
    long = [i for i in range(N) if lengths[i] >= 20]  # type: ignore[index]
    spec = {"seq": {"name": "crop", "length": 10}}
    ev = StoreDataset(path, fields=["seq"], tasks="y", ragged=spec, train=False)
    b = ev.get_batch(long)
    assert b["inputs"]["seq"].shape == (len(long), 10, C)
    for r, p in enumerate(long):
        s = (int(lengths[p]) - 10) // 2  # type: ignore[index]
        np.testing.assert_array_equal(b["inputs"]["seq"][r].numpy(), seqs[p][s : s + 10])  # type: ignore[index]
    tr = StoreDataset(path, fields=["seq"], tasks="y", ragged=spec, train=True, seed=3)
    a0, a0b = tr.get_batch(long, epoch=0), tr.get_batch(long[::-1], epoch=0)
    a1 = tr.get_batch(long, epoch=1)
    # deterministic: the same sample gets the same window in an epoch whatever the batch order
    np.testing.assert_array_equal(a0["inputs"]["seq"].numpy(), a0b["inputs"]["seq"].numpy()[::-1])
    assert not torch.equal(a0["inputs"]["seq"], a1["inputs"]["seq"])  # a new draw per epoch
    starts = []
    for r, p in enumerate(long):
        first = float(a0["inputs"]["seq"][r, 0, 0])
        start = int((first - 1000 * p) // C)
        assert 0 <= start <= int(lengths[p]) - 10  # type: ignore[index]
        np.testing.assert_array_equal(a0["inputs"]["seq"][r].numpy(), seqs[p][start : start + 10])  # type: ignore[index]
        starts.append(start)
    assert len(set(starts)) > 1  # not all at the same offset
    # short sequences are padded and masked
    short = tr.get_batch([3, 5])
    assert short["lengths"]["seq"].tolist() == [0, 7]
    assert short["masks"]["seq"][1].tolist() == [True] * 7 + [False] * 3


def test_clip_uniform(store: tuple[Path, dict[str, object]]) -> None:
    path, raw = store
    seqs, lengths = raw["seqs"], raw["lengths"]
    spec = {"seq": {"name": "clip", "frames": 4}}
    ev = StoreDataset(path, fields=["seq"], tasks="y", ragged=spec, train=False)
    b = ev.get_batch([0, 5, 3])
    assert b["inputs"]["seq"].shape == (3, 4, C)
    t = int(lengths[0])  # type: ignore[index]
    want = [int((j + 0.5) * t / 4) for j in range(4)]  # centre of each quarter
    np.testing.assert_array_equal(b["inputs"]["seq"][0].numpy(), seqs[0][want])  # type: ignore[index]
    assert b["masks"]["seq"].tolist()[2] == [False] * 4  # empty sequence: nothing valid
    tr = StoreDataset(path, fields=["seq"], tasks="y", ragged=spec, train=True)
    x = tr.get_batch([0], epoch=2)["inputs"]["seq"][0]
    idx = ((x[:, 0] - 0) // C).long().tolist()
    assert idx == sorted(idx) and all(
        j * t // 4 <= v < (j + 1) * t // 4 + 1 for j, v in enumerate(idx)
    )
    np.testing.assert_array_equal(x.numpy(), tr.get_batch([0], epoch=2)["inputs"]["seq"][0].numpy())


def test_clip_dense_with_clip_index(store: tuple[Path, dict[str, object]]) -> None:
    path, raw = store
    seqs, lengths = raw["seqs"], raw["lengths"]
    spec = {"seq": {"name": "clip", "frames": 8, "mode": "dense", "stride": 4}}
    ds = StoreDataset(path, fields=["seq"], tasks="y", ragged=spec)
    pos = [0, 5, 3, 6]
    b = ds.get_batch(pos)
    ci = b["clip_index"]["seq"]
    x = b["inputs"]["seq"]
    policy = ds.collates["seq"]
    counts = [len(policy.starts(int(lengths[p]))) for p in pos]  # type: ignore[attr-defined,index]
    assert x.shape == (sum(counts), 8, C) and ci.shape == (sum(counts),)
    assert ci.tolist() == [r for r, k in enumerate(counts) for _ in range(k)]
    assert b["targets"]["y"].shape == (4,)  # targets stay per sample
    # the clips of sample 0: windows at stride 4, the last one ending at the last step
    t0 = int(lengths[0])  # type: ignore[index]
    starts = policy.starts(t0)  # type: ignore[attr-defined]
    assert starts[:2] == [0, 4] and starts[-1] == t0 - 8
    for j, s in enumerate(starts):
        np.testing.assert_array_equal(x[j].numpy(), seqs[0][s : s + 8])  # type: ignore[index]
    # a sequence shorter than the window: one padded clip
    r5 = ci.tolist().index(1)
    assert b["lengths"]["seq"][r5] == 7 and b["masks"]["seq"][r5].sum() == 7
    # evaluation aggregates clip scores per sample through clip_index
    scores = torch.arange(len(ci), dtype=torch.float32)
    per = torch.zeros(4).index_add_(0, ci, scores) / torch.bincount(ci, minlength=4)
    assert per.shape == (4,)
    one = ds[0]
    assert one["inputs"]["seq"].shape == (len(starts), 8, C)


def test_policy_registry_and_errors(store: tuple[Path, dict[str, object]]) -> None:
    path, _ = store
    assert {"pad", "crop", "clip"} <= set(COLLATES.names())
    with pytest.raises(ClimbError, match="did you mean: crop"):
        build_collate({"name": "crpo", "length": 3})
    with pytest.raises(ClimbError, match="bad arguments"):
        build_collate({"name": "crop", "size": 3})
    with pytest.raises(ClimbError, match="did you mean: dense"):
        build_collate({"name": "clip", "frames": 2, "mode": "dens"})
    with pytest.raises(ClimbError, match="not a ragged field"):
        StoreDataset(path, fields=["seq"], tasks="y", ragged={"ecg": "pad"})


def test_graph_fields_are_refused(tmp_path: Path) -> None:
    write_mf_store(tmp_path / "g", graphs=True)
    with pytest.raises(ClimbError, match="part of a graph"):
        StoreDataset(tmp_path / "g", fields=["g.x"], tasks="y")
    assert StoreDataset(tmp_path / "g", tasks="y").fields == ["ecg", "img"]


def test_uniform_draws_are_deterministic_and_spread() -> None:
    rows = np.arange(5000)
    u = uniform01(1, 0, rows)
    np.testing.assert_array_equal(u, uniform01(1, 0, rows))
    assert not np.array_equal(u, uniform01(1, 1, rows)) and not np.array_equal(
        u, uniform01(2, 0, rows)
    )
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.02
    assert np.histogram(u, bins=10, range=(0, 1))[0].min() > 400


def test_raw_dtype_and_scale_on_device(store: tuple[Path, dict[str, object]]) -> None:
    path, _ = store
    ref = StoreDataset(path, fields=["ecg", "img"], tasks="y")
    raw = StoreDataset(path, fields=["ecg", "img"], tasks="y", raw_dtype=True)
    assert raw.raw_specs == {"ecg": {"scale": 1000.0, "dtype": "float32", "stored": "int16"}}
    a, b = ref.get_batch(range(10)), raw.get_batch(range(10))
    assert b["inputs"]["ecg"].dtype == torch.int16 and b["inputs"]["img"].dtype == torch.uint8
    assert b["inputs"]["ecg"].nbytes * 2 == a["inputs"]["ecg"].nbytes
    scale_on_device(b, raw.raw_specs)
    assert b["inputs"]["ecg"].dtype == torch.float32
    # bit for bit what the default path serves
    assert b["inputs"]["ecg"].numpy().tobytes() == a["inputs"]["ecg"].numpy().tobytes()
    with pytest.raises(ClimbError, match="raw_dtype"):
        StoreDataset(path, fields=["ecg"], tasks="y", raw_dtype=True,
                     transforms=build_transforms([{"name": "zscore"}]))  # fmt: skip


def test_loader_serves_ragged_batches_with_epoch(store: tuple[Path, dict[str, object]]) -> None:
    path, _ = store
    spec = {"seq": {"name": "crop", "length": 5}}
    ds = StoreDataset(path, split="train", fields=["seq", "ecg"], tasks="y", ragged=spec)
    e0 = [b["inputs"]["seq"] for b in make_loader(ds, 4, seed=0, epoch=0, prefetch=0)]
    e0b = [b["inputs"]["seq"] for b in make_loader(ds, 4, seed=0, epoch=0)]
    e1 = [b["index"] for b in make_loader(ds, 4, seed=0, epoch=1)]
    assert all(torch.equal(x, y) for x, y in zip(e0, e0b, strict=True))
    assert sum(len(i) for i in e1) == len(ds)


@pytest.mark.parametrize(
    "spec",
    [
        "pad",
        {"name": "pad", "max_length": 5},
        {"name": "crop", "length": 9},
        {"name": "clip", "frames": 6, "mode": "uniform"},
        {"name": "clip", "frames": 8, "mode": "dense", "stride": 3},
    ],
)
@pytest.mark.parametrize("train", [False, True])
@pytest.mark.parametrize("direct", ["1", "0"])
def test_planned_reads_equal_whole_sample_collation(
    store: tuple[Path, dict[str, object]],
    spec: object,
    train: bool,
    direct: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The dataset reads only the steps a policy's plan takes (through the direct blosc chunk
    reader, or zarr with CLIMB_DIRECT_READ=0); the batch equals the policy applied to whole
    samples, absent samples included."""
    monkeypatch.setenv("CLIMB_DIRECT_READ", direct)
    path, raw = store
    seqs, has_seq = raw["seqs"], raw["has_seq"]
    ds = StoreDataset(path, fields=["seq"], tasks="y", ragged={"seq": spec}, train=train, seed=7)
    assert (ds._store().array("seq").direct is None) == (direct == "0")
    pos = np.array([4, 0, 5, 3, 6, 0, 17, 23])  # 4: absent, 3: empty, 0 twice
    b = ds.get_batch(pos, epoch=3)
    whole = [
        s if ok else s[:0]
        for s, ok in zip([seqs[i] for i in pos], has_seq[pos], strict=True)  # type: ignore[index]
    ]
    ref = build_collate(spec)(whole, rows=pos, epoch=3, train=train, seed=7)
    np.testing.assert_array_equal(b["inputs"]["seq"].numpy(), ref.values)
    np.testing.assert_array_equal(b["masks"]["seq"].numpy(), ref.mask)
    np.testing.assert_array_equal(b["lengths"]["seq"].numpy(), ref.lengths)
    if ref.clip_index is not None:
        np.testing.assert_array_equal(b["clip_index"]["seq"].numpy(), ref.clip_index)
    # the absent sample has no steps, whatever the policy
    rows_of_absent = [0] if ref.clip_index is None else np.flatnonzero(ref.clip_index == 0).tolist()
    for r in rows_of_absent:
        assert not b["masks"]["seq"][r].any() and not b["inputs"]["seq"][r].any()


def test_a_policy_without_plan_gets_whole_samples(store: tuple[Path, dict[str, object]]) -> None:
    path, raw = store
    seen: list[int] = []

    class Last:
        name = "last"

        def __call__(self, seqs, *, rows, epoch, train, seed):  # type: ignore[no-untyped-def]
            from climb.data import Collated

            seen.extend(len(s) for s in seqs)
            v = np.stack([s[-1:] if len(s) else np.zeros((1, C), np.float32) for s in seqs])
            n = np.array([min(len(s), 1) for s in seqs], dtype=np.int64)
            return Collated(v, n, n[:, None] > 0)

    ds = StoreDataset(path, fields=["seq"], tasks="y", ragged={"seq": Last()})
    b = ds.get_batch([0, 6])
    lengths = raw["lengths"]
    assert seen == [int(lengths[0]), int(lengths[6])]  # type: ignore[index]
    np.testing.assert_array_equal(b["inputs"]["seq"][1, 0].numpy(), raw["seqs"][6][-1])  # type: ignore[index]
