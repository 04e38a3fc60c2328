"""Read a store at a local path or an fsspec URL (``s3://``, ``gs://``, ``memory://``, ...)."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from climb.errors import ClimbError
from climb.store.writer import FORMAT, FORMAT_VERSION


def _is_url(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


class Store:
    """A prepared store. ``meta`` (dataset.json), ``samples`` (DataFrame), ``array(field)`` (zarr
    array), ``read(field, indices)`` (batched read), ``len(store)``, ``quarantine()``."""

    def __init__(self, path: str | Path, storage_options: dict[str, Any] | None = None) -> None:
        p = str(path)
        if p.startswith("file://"):
            p = p[len("file://") :]
        self.url = p
        self.is_remote = _is_url(p)
        self.storage_options = dict(storage_options or {})
        self._arrays: dict[str, Any] = {}
        self.meta = self._load_meta()

    # ----------------------------------------------------------------- paths and files
    def _join(self, *parts: str) -> str:
        if self.is_remote:
            return "/".join([self.url.rstrip("/"), *parts])
        return str(Path(self.url, *parts))

    def _open(self, rel: str, mode: str = "rb") -> Any:
        if self.is_remote:
            import fsspec

            return fsspec.open(self._join(rel), mode, **self.storage_options).open()
        return open(self._join(rel), mode)

    def _exists(self, rel: str) -> bool:
        if self.is_remote:
            import fsspec

            fs, p = fsspec.core.url_to_fs(self._join(rel), **self.storage_options)
            return bool(fs.exists(p))
        return Path(self._join(rel)).exists()

    def _load_meta(self) -> dict[str, Any]:
        if not self._exists("dataset.json"):
            raise ClimbError(
                f"no store at {self.url} (dataset.json is missing)",
                where=self.url,
                fix="run 'climb prepare KEY' first; a store without dataset.json is incomplete",
            )
        with self._open("dataset.json") as fh:
            meta = json.loads(fh.read().decode("utf-8"))
        if meta.get("format") != FORMAT:
            raise ClimbError("dataset.json is not a climb store", where=self._join("dataset.json"))
        if int(meta.get("format_version", -1)) > FORMAT_VERSION:
            raise ClimbError(
                f"store format version {meta['format_version']} is newer than this climb "
                f"understands ({FORMAT_VERSION})",
                where=self.url,
                fix="upgrade climb",
            )
        return meta

    # ----------------------------------------------------------------- content
    @property
    def key(self) -> str:
        return str(self.meta["key"])

    @property
    def fields(self) -> dict[str, dict[str, Any]]:
        return dict(self.meta["fields"])

    @property
    def tasks(self) -> dict[str, dict[str, Any]]:
        return dict(self.meta["tasks"])

    def __len__(self) -> int:
        return int(self.meta["num_samples"])

    @cached_property
    def samples(self) -> Any:
        import pandas as pd

        with self._open("samples.parquet") as fh:
            return pd.read_parquet(fh)

    def is_ragged(self, field: str) -> bool:
        return bool(self.meta["fields"].get(field, {}).get("ragged", False))

    def ragged(self, field: str) -> Any:
        """A ragged field (values + offsets) as a :class:`climb.store.ragged.RaggedArray`."""
        if not self.is_ragged(field):
            raise ClimbError(f"field {field!r} of store {self.key!r} is not ragged")
        return self.array(field)

    def array(self, field: str) -> Any:
        """The zarr array of ``field`` (lazy; nothing is read until indexed); for a ragged field
        a :class:`climb.store.ragged.RaggedArray` (offsets in memory, values lazy)."""
        if field not in self.meta["fields"]:
            raise ClimbError(
                f"store {self.key!r} has no field {field!r}",
                fix=f"fields: {', '.join(self.meta['fields'])}",
            )
        if field not in self._arrays and self.is_ragged(field):
            from climb.store.ragged import RaggedArray

            self._arrays[field] = RaggedArray.open(self.url, field, self.storage_options)
        if field not in self._arrays:
            import zarr

            url = self._join("arrays", f"{field}.zarr")
            if self.is_remote:
                self._arrays[field] = zarr.open_array(
                    url, mode="r", storage_options=self.storage_options or None
                )
            else:
                self._arrays[field] = zarr.open_array(url, mode="r")
        return self._arrays[field]

    def read(self, field: str, indices: Any) -> np.ndarray:
        """Rows ``indices`` of ``field`` as one array, in the order given (for a ragged field:
        a list of per-sample arrays).

        Indices are sorted and de-duplicated, each needed chunk is read and decoded once
        (zarr orthogonal selection), then the rows are put back in the requested order.
        """
        arr = self.array(field)
        if self.is_ragged(field):  # a list of per-sample arrays
            return arr.read(np.asarray(indices, dtype=np.int64).reshape(-1).tolist())  # type: ignore[no-any-return]
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size == 0:
            return np.empty((0, *arr.shape[1:]), dtype=arr.dtype)
        n = arr.shape[0]
        if idx.min() < -n or idx.max() >= n:
            raise IndexError(f"index out of range for {n} samples")
        idx = np.where(idx < 0, idx + n, idx)
        uniq, inverse = np.unique(idx, return_inverse=True)
        if uniq.size == uniq[-1] - uniq[0] + 1:
            block = arr[int(uniq[0]) : int(uniq[-1]) + 1]
        else:
            block = arr.oindex[uniq]
        return np.asarray(block)[inverse]

    def quarantine(self) -> list[dict[str, Any]]:
        if not self._exists("quarantine.jsonl"):
            return []
        with self._open("quarantine.jsonl") as fh:
            text = fh.read().decode("utf-8")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"Store({self.url!r}, key={self.key!r}, samples={len(self)})"


def open_store(path: str | Path, storage_options: dict[str, Any] | None = None) -> Store:
    """Open the store at ``path`` (a directory or an fsspec URL)."""
    return Store(path, storage_options)
