"""Direct chunk-file reads (climb.store.reader.ChunkRows) against zarr, bit for bit."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import zarr

from climb.core.errors import ClimbError
from climb.core.schema import FieldSpec, quantize
from climb.store import StoreWriter, open_store
from climb.store.reader import DIRECT_ENV, ChunkRows
from climb.store.validate import validate

N, CHUNK, SHAPE = 75, 8, (3, 11)  # 10 chunks, the last one partial (3 rows)
INT16_MV = {"name": "none", "scale": 1000, "astype": "int16"}


def _samples(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sample_id": [f"s{i}" for i in range(n)],
            "patient_id": [f"p{i}" for i in range(n)],
            "split": ["train"] * n,
            "index": range(n),
            "source_path": [""] * n,
            "native_labels": ["{}"] * n,
            "label__y": [i % 2 for i in range(n)],
        }
    )


def write_store(path: Path, codec: dict[str, Any], data: np.ndarray) -> None:
    spec = FieldSpec("x", str(data.dtype), data.shape[1:], ("c", "t"), "mV", 500.0, CHUNK, codec)
    w = StoreWriter(path, key="toy", fields=[spec], num_samples=len(data))
    w.write("x", 0, data)
    w.finalize(
        _samples(len(data)),
        tasks={"y": {"type": "binary", "classes": ["a", "b"], "column": "label__y"}},
        splits={"rule": "patient", "seed": 0, "counts": {"train": len(data)}},
    )


def ecg_like(n: int = N, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 2.0, (n, *SHAPE))
    # int16 range ends; a value that rounds to 1 µV; values that round to (negative) zero
    x[0, 0, :5] = [32.767, -32.768, 0.0005, -0.0001, -0.0]
    return x.astype(np.float32)


def index_sets(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [
        np.arange(n),  # everything, in order: whole chunks and the partial last one
        np.arange(CHUNK - 2, 3 * CHUNK + 2),  # runs across chunk boundaries
        np.array([n - 1, n - 2, n - 3, 0]),  # the last partial chunk, reversed
        np.array([5, 5, 6, 5, 70, 70]),  # duplicates
        rng.permutation(n)[:40],  # unsorted
        rng.integers(0, n, 64),  # random with repeats
        np.array([], dtype=np.int64),
    ]


@pytest.mark.parametrize(
    "codec",
    [
        INT16_MV,
        {"name": "none"},
        {"name": "none", "scale": 200, "astype": "int16"},
    ],
    ids=["int16-uV", "float32-raw", "int16-scale200"],
)
def test_direct_read_equals_zarr(tmp_path: Path, codec: dict[str, Any]) -> None:
    data = ecg_like()
    write_store(tmp_path / "s", codec, data)
    st = open_store(tmp_path / "s")
    direct = st.direct_reader("x")
    assert direct is not None
    z = st.array("x")
    expect = quantize(codec, data)  # what the store holds, bit for bit (no -0.0)
    assert z[:].tobytes() == expect.tobytes()
    for idx in index_sets(N):
        got = st.read("x", idx)
        ref = z.get_orthogonal_selection((idx,)) if len(idx) else np.empty((0, *SHAPE))
        assert got.dtype == np.float32 and got.shape == (len(idx), *SHAPE)
        assert got.tobytes() == np.ascontiguousarray(ref, dtype=np.float32).tobytes()
    assert st.read("x", [-1])[0].tobytes() == z[N - 1].tobytes()
    with pytest.raises(IndexError):
        st.read("x", [N])


def test_int16_quantization_error_and_lossless_for_whole_uv(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    raw = rng.uniform(-30, 30, (N, *SHAPE))  # arbitrary (resampled) mV values
    write_store(tmp_path / "a", INT16_MV, raw.astype(np.float32))
    got = open_store(tmp_path / "a").read("x", np.arange(N))
    assert np.abs(got.astype(np.float64) - raw).max() <= 0.5e-3 + 1e-6  # < 0.5 µV + float32
    # whole-µV records (int16 sources at gain 1000, kept at 500 Hz) come back bit for bit
    uv = (rng.integers(-32768, 32768, (N, *SHAPE)) / 1000.0).astype(np.float32)
    write_store(tmp_path / "b", INT16_MV, uv)
    assert open_store(tmp_path / "b").read("x", np.arange(N)).tobytes() == uv.tobytes()
    # out of range: clipped at ±32.767/-32.768 mV, never wrapped around
    big = np.full((N, *SHAPE), 50.0, dtype=np.float32)
    big[1] = -50.0
    write_store(tmp_path / "c", INT16_MV, big)
    out = open_store(tmp_path / "c").read("x", [0, 1])
    assert np.all(out[0] == np.float32(32.767)) and np.all(out[1] == np.float32(-32.768))


def test_dataset_direct_matches_zarr_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from climb.data import StoreDataset

    data = ecg_like()
    write_store(tmp_path / "s", INT16_MV, data)
    ds = StoreDataset(tmp_path / "s", fields="x", tasks="y")
    assert ds._store().direct_reader("x") is not None
    monkeypatch.setenv(DIRECT_ENV, "0")
    ref = StoreDataset(tmp_path / "s", fields="x", tasks="y")
    assert ref._store().direct_reader("x") is None
    for idx in index_sets(N)[:-1]:
        for keep in (True, False):
            a = ds.get_batch(idx, keep_order=keep)
            b = ref.get_batch(idx, keep_order=keep)
            assert a["inputs"]["x"].dtype == b["inputs"]["x"].dtype
            assert a["inputs"]["x"].numpy().tobytes() == b["inputs"]["x"].numpy().tobytes()
            assert a["index"].tolist() == b["index"].tolist()
    one = ds[7]
    assert one["inputs"]["x"].numpy().tobytes() == ref[7]["inputs"]["x"].numpy().tobytes()


def test_compressed_and_unsupported_arrays_fall_back_to_zarr(tmp_path: Path) -> None:
    data = ecg_like()
    write_store(tmp_path / "z", {"name": "blosc", "cname": "zstd", "clevel": 3}, data)
    st = open_store(tmp_path / "z")
    assert st.direct_reader("x") is None
    idx = np.array([74, 3, 3, 40])
    np.testing.assert_array_equal(st.read("x", idx), data[idx])
    # a scale filter followed by a compressor: zarr as well
    write_store(tmp_path / "q", {**INT16_MV, "name": "blosc", "cname": "lz4"}, data)
    st = open_store(tmp_path / "q")
    assert st.direct_reader("x") is None
    np.testing.assert_array_equal(st.read("x", idx), quantize(INT16_MV, data)[idx])
    # sharded and transposed arrays are not read directly
    a = zarr.create_array(
        store=str(tmp_path / "sh.zarr"), shape=(16, 4), chunks=(4, 4), shards=(8, 4),
        dtype="float32", compressors=None, fill_value=0,
    )  # fmt: skip
    a[:] = np.arange(64, dtype=np.float32).reshape(16, 4)
    assert ChunkRows.open(tmp_path / "sh.zarr") is None
    assert ChunkRows.open(tmp_path / "nothing.zarr") is None


def test_chunk_key_encodings_and_byte_order(tmp_path: Path) -> None:
    from zarr.codecs import BytesCodec

    x = np.arange(13 * 6, dtype=np.float32).reshape(13, 2, 3) - 20
    for name, kw in {
        "dot": {"chunk_key_encoding": {"name": "default", "separator": "."}},
        "v2": {"chunk_key_encoding": {"name": "v2", "separator": "."}},
        "big": {"serializer": BytesCodec(endian="big")},
        "int16": {"dtype": "int16"},
    }.items():
        kw = dict(kw)
        dtype = kw.pop("dtype", "float32")
        a = zarr.create_array(
            store=str(tmp_path / f"{name}.zarr"), shape=x.shape, chunks=(4, 2, 3),
            dtype=dtype, compressors=None, fill_value=-1, **kw,
        )  # fmt: skip
        a[:] = x.astype(dtype)
        r = ChunkRows.open(tmp_path / f"{name}.zarr")
        assert r is not None, name
        meta = json.loads((tmp_path / f"{name}.zarr" / "zarr.json").read_text())
        assert r.chunk_file(3).is_file(), (name, meta["chunk_key_encoding"])
        idx = np.array([12, 0, 5, 4, 3, 3, 11])
        assert r.read(idx).tobytes() == a.get_orthogonal_selection((idx,)).tobytes(), name


def test_missing_chunk_reads_as_fill_like_zarr(tmp_path: Path) -> None:
    data = ecg_like()
    data[8:16] = 0.0  # chunk 1 is all fill value: zarr does not write it
    write_store(tmp_path / "s", INT16_MV, data)
    st = open_store(tmp_path / "s")
    r = st.direct_reader("x")
    assert r is not None and not r.chunk_file(1).exists()
    idx = np.array([7, 8, 9, 16, 12])
    assert st.read("x", idx).tobytes() == st.array("x").get_orthogonal_selection((idx,)).tobytes()


def test_damaged_chunk_files_give_climb_errors(tmp_path: Path) -> None:
    data = ecg_like()
    write_store(tmp_path / "s", INT16_MV, data)
    st = open_store(tmp_path / "s")
    r = st.direct_reader("x")
    assert r is not None
    f = r.chunk_file(2)
    f.write_bytes(f.read_bytes()[:100])  # truncated
    with pytest.raises(ClimbError) as ei:
        st.read("x", [17])
    msg = str(ei.value)
    assert "chunk 2" in msg and "100 bytes" in msg and "truncated" in msg
    assert ei.value.where == str(f) and "validate" in (ei.value.fix or "")
    np.testing.assert_array_equal(st.read("x", [0, 30]), quantize(INT16_MV, data)[[0, 30]])
    h = r.chunk_file(3)  # truncated while the store is open (its descriptor is cached)
    h.write_bytes(h.read_bytes()[:-2])
    with pytest.raises(ClimbError, match="changed size"):
        st.read("x", [24])
    assert not validate(tmp_path / "s").ok  # zarr sees the damage too
    # a chunk that is not a file (here: a directory in its place)
    g = r.chunk_file(4)
    g.unlink()
    g.mkdir()
    with pytest.raises(ClimbError) as ei:
        st.read("x", [33])
    assert "chunk 4" in str(ei.value) and "not a regular file" in str(ei.value)
    assert ei.value.where == str(g)


def test_chunk_files_are_unmapped_after_each_read(tmp_path: Path) -> None:
    write_store(tmp_path / "s", INT16_MV, ecg_like())
    st = open_store(tmp_path / "s")
    x = st.read("x", np.arange(N))
    maps = Path("/proc/self/maps")
    if maps.exists():
        assert str(tmp_path / "s") not in maps.read_text()
    assert x.flags.writeable and x.flags.owndata  # a new array, not a view of a mapping
    x[:] = 0  # writing to the result never touches the store
    assert st.read("x", [3])[0].any()


def test_forked_reader_reopens_files(tmp_path: Path) -> None:
    data = ecg_like()
    write_store(tmp_path / "s", INT16_MV, data)
    st = open_store(tmp_path / "s")
    r = st.direct_reader("x")
    assert r is not None
    before = st.read("x", [1, 50])
    r._pid = -1  # as if in a forked worker: descriptors are dropped and reopened
    assert st.read("x", [1, 50]).tobytes() == before.tobytes()
    assert r._pid == os.getpid()
    r.close()
    assert st.read("x", [1, 50]).tobytes() == before.tobytes()


def test_threads_share_a_reader_safely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    data = ecg_like()
    write_store(tmp_path / "s", INT16_MV, data)
    monkeypatch.setattr(ChunkRows, "max_open", 2)  # descriptors closed and reused all the time
    st = open_store(tmp_path / "s")
    expect = quantize(INT16_MV, data)
    rng = np.random.default_rng(5)
    sets = [rng.integers(0, N, 16) for _ in range(200)]

    def ok(idx: np.ndarray) -> bool:
        return st.read("x", idx).tobytes() == expect[idx].tobytes()

    with ThreadPoolExecutor(4) as ex:
        assert all(ex.map(ok, sets))


@pytest.mark.parametrize(
    ("scale", "offset", "astype", "dtype"),
    [(10.1, 1.5, "<i4", "float32"), (1000, 0, "<i2", "float64"), (0.3, -2, "<u2", "float32")],
)
def test_any_scale_filter_matches_numcodecs(
    tmp_path: Path, scale: float, offset: float, astype: str, dtype: str
) -> None:
    from zarr.codecs.numcodecs import FixedScaleOffset

    from climb.store.writer import quiet_zarr

    x = np.random.default_rng(4).uniform(0, 100, (21, 2, 5)).astype(dtype)
    with quiet_zarr():
        filt = FixedScaleOffset(
            scale=scale, offset=offset, dtype=np.dtype(dtype).str, astype=astype
        )
        a = zarr.create_array(
            store=str(tmp_path / "f.zarr"), shape=x.shape, chunks=(4, 2, 5), dtype=dtype,
            filters=[filt], compressors=None, fill_value=0,
        )  # fmt: skip
    a[:] = x
    r = ChunkRows.open(tmp_path / "f.zarr")
    assert r is not None and r._fast_scale is (scale == 1000 and dtype == "float32")
    idx = np.array([20, 3, 4, 5, 5, 0, 16])
    assert r.read(idx).tobytes() == a.get_orthogonal_selection((idx,)).tobytes()
