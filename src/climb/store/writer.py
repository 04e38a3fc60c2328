"""Write a store: dense zarr v3 arrays (axis 0 = sample), samples.parquet, dataset.json,
quarantine.jsonl. Writes are chunk-aligned, so several processes may each write their own
chunks of the same array at once."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.errors import ClimbError
from climb.core.schema import LIST_LABEL_TYPES, FieldSpec, quantize
from climb.store.fs import Loc, as_loc, is_url

FORMAT = "climb-store"
FORMAT_VERSION = 1


@contextmanager
def quiet_zarr() -> Iterator[None]:
    """Silence zarr's notice that numcodecs codecs (the scale filter of ``codec["scale"]``)
    are not in the zarr v3 spec: zarr-python reads and writes them; say so once, in the docs."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Numcodecs codecs are not in the Zarr")
        yield


def _scale_filter(codec: Mapping[str, Any], dtype: str) -> Any:
    """The scale filter of a field whose codec has ``scale`` (and ``astype``): values are stored
    as ``round(x * scale)`` in ``astype`` (zarr codec ``numcodecs.fixedscaleoffset``, offset 0)
    and read back as ``stored / scale`` in ``dtype``; ``None`` without ``scale``."""
    if codec.get("scale") is None:
        return None
    from zarr.codecs.numcodecs import FixedScaleOffset

    scale = codec["scale"]
    astype = np.dtype(codec.get("astype", "int16"))
    if np.dtype(dtype).kind != "f" or astype.kind not in "iu":
        raise ClimbError(
            f"codec scale needs a float field stored as integers (dtype {dtype}, astype {astype})",
            fix="use a float32/float64 field and astype int8/int16/int32",
        )
    with quiet_zarr():
        return FixedScaleOffset(scale=scale, offset=0, dtype=np.dtype(dtype).str, astype=astype.str)


def _compressor(codec: Mapping[str, Any]) -> Any:
    from zarr.codecs import BloscCodec, ZstdCodec

    name = codec.get("name", "blosc")
    if name == "blosc":
        return BloscCodec(
            cname=codec.get("cname", "zstd"),
            clevel=int(codec.get("clevel", 3)),
            shuffle=codec.get("shuffle", "shuffle"),
        )
    if name == "zstd":
        return ZstdCodec(level=int(codec.get("clevel", 3)))
    if name == "none":
        return None
    raise ClimbError(f"unknown codec {name!r}", fix="use 'blosc', 'zstd' or 'none'")


def create_array(root: Path | str | Loc, spec: FieldSpec, num_samples: int) -> Any:
    """Create (overwrite) ``arrays/<field>.zarr`` for ``num_samples`` samples (``root``: a
    local folder, or a :class:`~climb.store.fs.Loc` / URL of object storage)."""
    import zarr

    path = as_loc(root).join("arrays", f"{spec.name}.zarr").zarr_store()
    comp = _compressor(spec.codec)
    filt = _scale_filter(spec.codec, spec.dtype)
    extra: dict[str, Any] = {"filters": [filt]} if filt is not None else {}
    with quiet_zarr():
        return zarr.create_array(
            store=path,
            shape=(num_samples, *spec.shape),
            chunks=(max(1, min(spec.chunks, max(num_samples, 1))), *spec.shape),
            dtype=spec.dtype,
            compressors=[comp] if comp is not None else None,
            fill_value=0,
            overwrite=True,
            attributes={"climb_field": spec.to_meta()},
            **extra,
        )


def open_array_rw(root: Path | str | Loc, name: str) -> Any:
    import zarr

    with quiet_zarr():
        return zarr.open_array(as_loc(root).join("arrays", f"{name}.zarr").zarr_store(), mode="r+")


def write_samples(
    root: Path | str | Loc, samples: Any, tasks: Mapping[str, Mapping[str, Any]]
) -> None:
    """Write ``samples.parquet`` with the contract's column types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = samples
    cols: dict[str, Any] = {}
    for name in df.columns:
        values = df[name].tolist()
        if name in ("sample_id", "patient_id", "split", "source_path", "native_labels"):
            cols[name] = pa.array([str(v) for v in values], type=pa.string())
        elif name == "index":
            cols[name] = pa.array(values, type=pa.int64())
        elif name.startswith("label__"):
            task = tasks.get(name[len("label__") :], {})
            if task.get("type") in LIST_LABEL_TYPES:
                cols[name] = pa.array([list(v) for v in values], type=pa.list_(pa.int8()))
            elif task.get("type") == "regression":
                cols[name] = pa.array(values, type=pa.float64())
            else:
                cols[name] = pa.array(values, type=pa.int64())
        else:
            cols[name] = pa.array(values)
    table = pa.table(cols)
    loc = as_loc(root)
    if not loc.is_remote:
        pq.write_table(table, str(loc.path / "samples.parquet"), compression="zstd")
        return
    import io

    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    loc.join("samples.parquet").write_bytes(buf.getvalue())


def write_json(path: Path | str | Loc, obj: Any) -> None:
    if is_url(path):  # one PUT: an object is never seen half-written
        text = json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n"
        as_loc(path).write_text(text)
        return
    path = Path(str(path))
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def write_quarantine(root: Path | str | Loc, entries: Iterable[Mapping[str, Any]]) -> None:
    lines = [json.dumps(dict(e), sort_keys=True) for e in entries]
    text = "".join(line + "\n" for line in lines)
    if is_url(root):
        as_loc(root).join("quarantine.jsonl").write_text(text)
        return
    (Path(str(root)) / "quarantine.jsonl").write_text(text, encoding="utf-8")


#: content-hash scheme written by this climb (``dataset.json`` ``content_hash_version``):
#: 2 = each block of rows hashed on its own, the blocks' sha256 digests hashed in order (so the
#: chunks of an array can be hashed in parallel, by whoever writes them); 1 = the blocks' bytes
#: hashed in order (stores written before 2026-11-29; still verified).
HASH_VERSION = 2


def digest_header(shape: Iterable[int], dtype: Any) -> Any:
    """sha256 state after the header of :func:`array_digest` (shape and dtype)."""
    h = hashlib.sha256()
    h.update(json.dumps([[int(x) for x in shape], str(np.dtype(dtype))]).encode())
    return h


def array_digest(arr: Any, step: int | None = None, version: int = HASH_VERSION) -> str:
    """sha256 of an array's decoded content: shape and dtype, then its rows in blocks of
    ``step`` (default: the array's chunk length), C order; see :data:`HASH_VERSION`."""
    h = digest_header(arr.shape, arr.dtype)
    n = arr.shape[0]
    step = step or max(1, int(arr.chunks[0]))
    for start in range(0, n, step):
        block = np.ascontiguousarray(arr[start : min(n, start + step)])
        h.update(hashlib.sha256(block).digest() if version >= 2 else block.tobytes())
    return h.hexdigest()


def combine_block_digests(shape: Iterable[int], dtype: Any, digests: Iterable[bytes]) -> str:
    """:func:`array_digest` (version 2) from the sha256 digests of its blocks, in order."""
    h = digest_header(shape, dtype)
    for d in digests:
        h.update(d)
    return h.hexdigest()


class StoreWriter:
    """Write a complete store in one go (used by prepare's assembly step and by tests).

    ``StoreWriter(path, key=..., fields=[...], num_samples=n)`` creates the arrays;
    ``write(field, start, data)`` fills rows ``start:start+len(data)``; ``finalize(...)`` writes
    samples.parquet, quarantine.jsonl and, last, dataset.json (a store without dataset.json is
    incomplete).
    """

    def __init__(
        self, path: str | Path | Loc, *, key: str, fields: Iterable[FieldSpec], num_samples: int
    ) -> None:
        self.loc = as_loc(path)
        #: the local folder, or the :class:`~climb.store.fs.Loc` of a store on object storage
        self.path: Any = self.loc if self.loc.is_remote else self.loc.path
        self.key = key
        self.fields = {f.name: f for f in fields}
        self.num_samples = int(num_samples)
        self.loc.join("arrays").mkdirs()
        # dataset.json is the commit marker, written last: remove it first, so a store being
        # (re)written never reads as complete
        self.loc.join("dataset.json").rm(recursive=False)
        self.arrays = {
            n: create_array(self.path, f, self.num_samples)
            for n, f in self.fields.items()
            if not getattr(f, "ragged", False)
        }

    def write_ragged(self, field_name: str, arrays: list[np.ndarray]) -> None:
        """Write a whole ragged field (one array per sample, in sample order)."""
        from climb.store.ragged import write_ragged

        if len(arrays) != self.num_samples:
            raise ClimbError(
                f"ragged field {field_name}: {len(arrays)} samples, expected {self.num_samples}"
            )
        write_ragged(self.path, self.fields[field_name], arrays)  # type: ignore[arg-type]

    def write(self, field_name: str, start: int, data: np.ndarray) -> None:
        arr = self.arrays[field_name]
        codec = self.fields[field_name].codec
        if codec.get("scale") is not None:  # round and clip here: the filter would wrap around
            data = quantize(codec, np.asarray(data, dtype=self.fields[field_name].dtype))
        arr[start : start + len(data)] = data

    def finalize(
        self,
        samples: Any,
        *,
        tasks: Mapping[str, Mapping[str, Any]],
        splits: Mapping[str, Any],
        card: Mapping[str, Any] | None = None,
        provenance: Mapping[str, Any] | None = None,
        fingerprint: str = "",
        created_by: Mapping[str, Any] | None = None,
        quarantine: Iterable[Mapping[str, Any]] = (),
        stats: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        array_digests: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        if len(samples) != self.num_samples:
            raise ClimbError(
                f"samples table has {len(samples)} rows but the arrays hold {self.num_samples}",
                where=str(self.path),
            )
        write_samples(self.path, samples, tasks)
        write_quarantine(self.path, quarantine)
        meta = build_meta(
            self.path,
            key=self.key,
            fields=self.fields.values(),
            num_samples=self.num_samples,
            tasks=tasks,
            splits=splits,
            card=card,
            provenance=provenance,
            fingerprint=fingerprint,
            created_by=created_by,
            stats=stats,
            extra=extra,
            array_digests=array_digests,
        )
        if not self.loc.is_remote:  # every file's size and sha256 (climb.store.integrity)
            from climb.store.integrity import write_checksums

            meta["checksums"] = write_checksums(self.loc.path)
        marker = self.loc.join("dataset.json")
        write_json(marker if self.loc.is_remote else marker.path, meta)
        return meta


def content_hash(
    path: str | Path,
    field_names: Iterable[str],
    array_digests: Mapping[str, str] | None = None,
    version: int = HASH_VERSION,
) -> str:
    """sha256 over the decoded content of a store: samples table rows and every array.

    ``array_digests[name]``, when given, is :func:`array_digest` of array ``name`` computed by
    the caller while writing it (prepare does), so the array is not read back and decoded."""
    import pandas as pd
    import zarr

    h = hashlib.sha256()
    loc = as_loc(path)
    if loc.is_remote:
        import io

        df = pd.read_parquet(io.BytesIO(loc.join("samples.parquet").read_bytes()))
    else:
        df = pd.read_parquet(loc.path / "samples.parquet")
    h.update(samples_digest(df).encode())
    for name in sorted(field_names):
        if array_digests and name in array_digests:
            h.update(name.encode())
            h.update(array_digests[name].encode())
            continue
        if (
            not loc.join("arrays", f"{name}.zarr").exists()
            and loc.join("arrays", f"{name}.values.zarr").exists()
        ):
            from climb.store.ragged import ragged_digest

            h.update(name.encode())
            h.update(ragged_digest(loc if loc.is_remote else path, name, version).encode())
            continue
        with quiet_zarr():
            arr = zarr.open_array(loc.join("arrays", f"{name}.zarr").zarr_store(), mode="r")
        h.update(name.encode())
        h.update(array_digest(arr, version=version).encode())
    return h.hexdigest()


def samples_digest(df: Any) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(list(map(str, df.columns))).encode())
    for row in df.itertuples(index=False):
        h.update(json.dumps([_plain(v) for v in row], default=str).encode())
    return h.hexdigest()


def _plain(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and v != v:
        return "NaN"
    return v


def build_meta(
    path: Path,
    *,
    key: str,
    fields: Iterable[FieldSpec],
    num_samples: int,
    tasks: Mapping[str, Mapping[str, Any]],
    splits: Mapping[str, Any],
    card: Mapping[str, Any] | None,
    provenance: Mapping[str, Any] | None,
    fingerprint: str,
    created_by: Mapping[str, Any] | None,
    stats: Mapping[str, Any] | None,
    extra: Mapping[str, Any] | None,
    array_digests: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    fields = list(fields)
    meta: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "key": key,
        "card": dict(card or {}),
        "num_samples": num_samples,
        "fields": {f.name: f.to_meta() for f in fields},
        "tasks": {k: dict(v) for k, v in tasks.items()},
        "splits": dict(splits),
        "provenance": dict(provenance or {}),
        "fingerprint": fingerprint,
        "created_by": dict(created_by or {}),
        "stats": dict(stats or {}),
        "content_hash": content_hash(path, [f.name for f in fields], array_digests),
        "content_hash_version": HASH_VERSION,
    }
    if extra:
        meta.update(extra)
    return meta
