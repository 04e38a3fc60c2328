"""Direct reads of blosc-compressed chunks (climb.store.compressed): bit-identical to zarr,
only the chunks asked for, clear errors for damaged chunks, manifest checks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from climb.core.errors import ClimbError
from climb.core.schema import RaggedFieldSpec
from climb.store import open_store
from climb.store.compressed import CompressedChunks
from climb.store.ragged import RaggedArray, write_ragged

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
from climb_mf_store import write_mf_store

LZ4 = {"name": "blosc", "cname": "lz4", "clevel": 5, "shuffle": "noshuffle"}
LZ4_SHUFFLE = {"name": "blosc", "cname": "lz4", "clevel": 5, "shuffle": "shuffle"}


def _videos(n: int = 7) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        t = int(rng.integers(1, 40))
        v = rng.integers(0, 255, (t, 6, 5, 3), dtype=np.uint8)
        v[:, :2] = i  # compressible runs
        out.append(v)
    return out


def _volumes(n: int = 5) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(-1024, 2000, (int(rng.integers(3, 30)), 8, 8), dtype=np.int16)
            for _ in range(n)]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "codec", "inner"),
    [(_videos, LZ4, (6, 5, 3)), (_volumes, LZ4_SHUFFLE, (8, 8)), (_volumes, None, (8, 8))],
)
def test_gather_equals_zarr_and_reads_only_needed_chunks(
    tmp_path: Path, make: object, codec: dict[str, object] | None, inner: tuple[int, ...]
) -> None:
    seqs = make()  # type: ignore[operator]
    dtype = str(seqs[0].dtype)
    kw = {"codec": codec} if codec is not None else {}  # None: the store's default (blosc zstd)
    spec = RaggedFieldSpec("v", dtype, inner, rows_per_chunk=8, **kw)  # type: ignore[arg-type]
    write_ragged(tmp_path, spec, seqs)
    r = RaggedArray.open(str(tmp_path), "v")
    assert isinstance(r.direct, CompressedChunks)
    # every row, in a scrambled order with repeats, equals zarr's decode
    allv = np.asarray(r.values[:])
    rows = np.random.default_rng(2).integers(0, len(allv), 200)
    np.testing.assert_array_equal(r.direct.read(rows), allv[rows])
    # gather: steps of samples, padding where take < 0
    samples = np.array([3, 0, 3, len(seqs) - 1])
    take = np.array([[0, 1, 2, -1], [2, 0, 0, 1], [-1, -1, -1, -1], [0, 0, 0, 0]])
    got = r.gather(samples, take)
    assert got.shape == (4, 4, *inner) and got.dtype == seqs[0].dtype
    for i, s in enumerate(samples):
        for j, t in enumerate(take[i]):
            want = seqs[s][t] if t >= 0 else np.zeros(inner, seqs[0].dtype)
            np.testing.assert_array_equal(got[i, j], want)
    # only the chunk files holding the chosen steps are opened
    opened: list[int] = []
    real = r.direct._chunk
    r.direct._chunk = lambda k: (opened.append(k), real(k))[1]  # type: ignore[method-assign]
    off = int(r.offsets[3])
    r.gather([3], np.array([[1, 2]]))
    assert opened == sorted({(off + 1) // 8, (off + 2) // 8})
    with pytest.raises(IndexError, match="past the end"):
        r.gather([0], np.array([[len(seqs[0])]]))


def test_other_codecs_and_switch_off_go_through_zarr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seqs = _volumes()
    spec = RaggedFieldSpec("v", "int16", (8, 8), rows_per_chunk=4, codec={"name": "zstd"})
    write_ragged(tmp_path / "a", spec, seqs)
    r = RaggedArray.open(str(tmp_path / "a"), "v")
    assert r.direct is None  # plain zstd: zarr decodes it
    got = r.gather([1, 2], np.array([[0, 2], [1, -1]]))
    np.testing.assert_array_equal(got[0], seqs[1][[0, 2]])
    np.testing.assert_array_equal(got[1, 0], seqs[2][1])
    assert not got[1, 1].any()
    spec = RaggedFieldSpec("v", "int16", (8, 8), rows_per_chunk=4, codec=LZ4_SHUFFLE)
    write_ragged(tmp_path / "b", spec, seqs)
    monkeypatch.setenv("CLIMB_DIRECT_READ", "0")
    assert RaggedArray.open(str(tmp_path / "b"), "v").direct is None


def test_damaged_chunk_is_a_clear_error_and_missing_chunk_reads_as_fill(tmp_path: Path) -> None:
    seqs = _videos()
    spec = RaggedFieldSpec("v", "uint8", (6, 5, 3), rows_per_chunk=8, codec=LZ4)
    write_ragged(tmp_path, spec, seqs)
    r = RaggedArray.open(str(tmp_path), "v")
    d = r.direct
    assert d is not None
    f = d.chunk_file(1)
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(ClimbError, match=r"chunk 1 of v\.values\.zarr cannot be decoded") as e:
        d.read([8])
    assert e.value.where == str(f)
    f.write_bytes(b"\x00" * 8)  # shorter than a header
    with pytest.raises(ClimbError, match="shorter than a blosc header"):
        d.read([9])
    f.unlink()  # no manifest here: a chunk zarr never wrote is the fill value, as in zarr
    assert not d.read([8]).any()


def test_store_manifest_checks_ragged_chunks(tmp_path: Path) -> None:
    path = tmp_path / "mf"
    raw = write_mf_store(path)
    seqs = raw["seqs"]
    st = open_store(path, verify=True)
    r = st.ragged("seq")
    assert r.direct is not None and r.direct.verifier is st.verifier
    np.testing.assert_array_equal(r.gather([0], np.array([[0, 1]]))[0], seqs[0][:2])  # type: ignore[index]
    chunk = r.direct.chunk_file(0)
    b = bytearray(chunk.read_bytes())
    b[-1] ^= 0xFF  # same size, one flipped byte
    chunk.write_bytes(bytes(b))
    with pytest.raises(ClimbError, match="does not match its recorded sha256"):
        open_store(path, verify=True).ragged("seq").gather([0], np.array([[0]]))
    # a chunk removed while the store is open is an error at read time, never zeros
    r2 = open_store(path).ragged("seq")
    assert r2.direct is not None
    lost = r2.direct.chunk_file(2)
    lost.unlink()
    sample = int(np.searchsorted(r2.offsets, 2 * 64, side="right")) - 1
    step = 2 * 64 - int(r2.offsets[sample])
    with pytest.raises(ClimbError, match="missing"):
        r2.gather([sample], np.array([[step]]))
    with pytest.raises(ClimbError, match="missing"):  # and on opening
        open_store(path)


def test_dense_compressed_field_reads_without_zarr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dense blosc field (the imaging adapters' codec) reads through CompressedChunks: the
    same rows as zarr, a chunk shared by consecutive reads decoded once, flips caught."""
    from climb.data import StoreDataset

    path = tmp_path / "mf"
    raw = write_mf_store(path)
    img = raw["img"]
    st = open_store(path)
    comp = st.compressed_reader("img")
    assert isinstance(comp, CompressedChunks) and st.compressed_reader("ecg") is None
    decoded: list[int] = []
    real = comp._decode
    comp._decode = lambda k, buf: (decoded.append(k), real(k, buf))[1]  # type: ignore[method-assign]
    np.testing.assert_array_equal(comp.read([9, 1, 2, 9]), img[[9, 1, 2, 9]])  # type: ignore[index]
    np.testing.assert_array_equal(comp.read([10, 3]), img[[10, 3]])  # type: ignore[index]
    assert decoded == [0, 1]  # chunks of 8 rows: 0 and 1 once each, then from the cache
    np.testing.assert_array_equal(st.read("img", [-1, 4, 4]), img[[-1, 4, 4]])  # type: ignore[index]
    assert decoded == [0, 1, 2]  # Store.read goes through the same reader
    pos = np.arange(0, 24, 5)
    got = StoreDataset(path, fields=["img"], tasks="y").get_batch(pos)["inputs"]["img"]
    monkeypatch.setenv("CLIMB_DIRECT_READ", "0")
    assert open_store(path).compressed_reader("img") is None
    ref = StoreDataset(path, fields=["img"], tasks="y").get_batch(pos)["inputs"]["img"]
    assert got.dtype == ref.dtype and bool((got == ref).all())
    monkeypatch.delenv("CLIMB_DIRECT_READ")
    chunk = comp.chunk_file(1)
    b = bytearray(chunk.read_bytes())
    b[20] ^= 0x01
    chunk.write_bytes(bytes(b))
    monkeypatch.setenv("CLIMB_VERIFY_STORE", "1")  # what 'climb train --verify' sets
    with pytest.raises(ClimbError, match="does not match its recorded sha256"):
        StoreDataset(path, fields=["img"], tasks="y").get_batch([9])
