"""The store's file manifest ``checksums.json``: every file of a store with its size and sha256.

Written by :class:`climb.store.writer.StoreWriter` (so by every ``climb prepare``) just before
``dataset.json``, which records the manifest's own sha256 (``dataset.json`` ``checksums``)::

    {"format": 1, "algo": "sha256",
     "files": {"samples.parquet": [size, "<hex>"], "arrays/x.zarr/c/0/0/0": [size, "<hex>"], ...}}

It lists ``samples.parquet``, ``quarantine.jsonl`` and every file under ``arrays/`` (the
``zarr.json`` files and every chunk file that was written: zarr leaves out chunks that are
entirely fill value, and those are simply not listed). What it gives the reader:

* :func:`check_cheap` (every ``open_store`` of a local store): the manifest matches
  ``dataset.json``, and every listed file exists with its recorded size. One ``stat`` per file,
  no data read. A deleted chunk, a truncated ``samples.parquet``, a shortened chunk are an error
  naming the file, before anything is read.
* :class:`Verifier` (``open_store(path, verify=True)`` or ``CLIMB_VERIFY_STORE=1``): each file's
  sha256 is checked the first time it is read (lazily: a chunk when a batch first needs it),
  so flipped bytes or an edited label are an error naming the file, never silently trained on.
* a listed chunk that disappears after opening is an error at read time (never fill values).

Stores written before this manifest existed have none: they open as before (``climb store
validate`` still decodes every chunk and checks the content hash).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from climb.core.errors import ClimbError

NAME = "checksums.json"
FORMAT = 1
#: environment variable: ``1`` makes every ``open_store`` verify digests (as ``verify=True``)
VERIFY_ENV = "CLIMB_VERIFY_STORE"
_BLOCK = 4 << 20
_FIX = (
    "the store was changed or damaged after 'climb prepare' wrote it: run 'climb store "
    "validate' on it, then rebuild it with 'climb prepare KEY' (or restore the file)"
)


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_BLOCK):
            h.update(chunk)
    return h.hexdigest()


def listed_files(store: Path) -> list[str]:
    """The files the manifest covers (relative posix paths), sorted."""
    out = [n for n in ("samples.parquet", "quarantine.jsonl") if (store / n).is_file()]
    arrays = store / "arrays"
    if arrays.is_dir():
        for dirpath, _dirs, files in os.walk(arrays):
            for f in files:
                out.append((Path(dirpath) / f).relative_to(store).as_posix())
    return sorted(out)


def write_checksums(store: str | Path, workers: int = 4) -> dict[str, Any]:
    """Hash every file of the store into ``checksums.json``; returns what ``dataset.json``
    records about it (``{"file", "sha256", "files"}``)."""
    store = Path(store)
    names = listed_files(store)

    def one(rel: str) -> tuple[str, list[Any]]:
        p = store / rel
        return rel, [p.stat().st_size, _file_sha256(p)]

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        files = dict(pool.map(one, names))
    text = json.dumps({"format": FORMAT, "algo": "sha256", "files": files}, sort_keys=True)
    data = text.encode("utf-8")
    tmp = store / f".{NAME}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, store / NAME)
    return {"file": NAME, "sha256": hashlib.sha256(data).hexdigest(), "files": len(files)}


def load(store: Path, meta: dict[str, Any]) -> dict[str, list[Any]] | None:
    """The manifest's ``files`` (checked against ``dataset.json``), or None for a store
    written without one."""
    rec = meta.get("checksums")
    if not isinstance(rec, dict):
        return None
    path = store / str(rec.get("file", NAME))
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ClimbError(
            f"the store's file manifest {path.name} is missing (dataset.json records it)",
            where=str(path),
            fix=_FIX,
        ) from None
    if hashlib.sha256(data).hexdigest() != rec.get("sha256"):
        raise ClimbError(
            f"the store's file manifest {path.name} differs from the one dataset.json records",
            where=str(path),
            fix=_FIX,
        )
    files = json.loads(data.decode("utf-8")).get("files", {})
    return {str(k): list(v) for k, v in files.items()}


def check_cheap(store: Path, files: dict[str, list[Any]]) -> None:
    """Every listed file exists with its recorded size (one ``stat`` each, nothing read)."""
    for rel, (size, _digest) in files.items():
        p = store / rel
        try:
            got = p.stat().st_size
        except FileNotFoundError:
            raise ClimbError(
                f"the store is incomplete: {rel} is missing",
                where=str(p),
                fix=_FIX,
            ) from None
        if got != size:
            raise ClimbError(
                f"the store is damaged: {rel} is {got:,} bytes, {size:,} when it was written "
                "(truncated or changed)",
                where=str(p),
                fix=_FIX,
            )


class Verifier:
    """Checks each listed file's sha256 once, the first time it is read (thread-safe)."""

    def __init__(self, store: Path, files: dict[str, list[Any]]) -> None:
        self.store = store
        self.files = files
        self.ok: set[str] = set()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:  # picklable (a data-loader worker, spawn)
        return {"store": self.store, "files": self.files, "ok": set(self.ok)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["store"], state["files"])  # type: ignore[misc]
        self.ok = set(state["ok"])

    def expected(self, rel: str) -> bool:
        return rel in self.files

    def missing(self, rel: str) -> ClimbError:
        return ClimbError(
            f"the store is incomplete: {rel} is missing (it was written by prepare; a missing "
            "chunk is never read as zeros)",
            where=str(self.store / rel),
            fix=_FIX,
        )

    def check_bytes(self, rel: str, data: bytes | memoryview) -> None:
        """Compare ``data`` (the whole file ``rel``) with the manifest, once per file."""
        if rel in self.ok or rel not in self.files:
            return
        size, digest = self.files[rel]
        if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
            raise ClimbError(
                f"the store is damaged: {rel} does not match its recorded sha256 (flipped "
                "bytes or an edited file)",
                where=str(self.store / rel),
                fix=_FIX,
            )
        with self._lock:
            self.ok.add(rel)

    def check_file(self, rel: str) -> None:
        if rel in self.ok or rel not in self.files:
            return
        p = self.store / rel
        if not p.is_file():
            raise self.missing(rel)
        size, digest = self.files[rel]
        if p.stat().st_size != size or _file_sha256(p) != digest:
            raise ClimbError(
                f"the store is damaged: {rel} does not match its recorded sha256 (flipped "
                "bytes or an edited file)",
                where=str(p),
                fix=_FIX,
            )
        with self._lock:
            self.ok.add(rel)


def checked_zarr_store(root: Path, prefix: str, verifier: Verifier, verify: bool) -> Any:
    """A read-only zarr ``LocalStore`` of the array at ``root`` that refuses to read a listed
    chunk as fill value when its file is gone, and (``verify``) checks each listed file's
    sha256 the first time zarr reads it whole."""
    from zarr.storage import LocalStore

    class _Checked(LocalStore):
        async def get(  # type: ignore[override]
            self, key: str, prototype: Any = None, byte_range: Any = None
        ) -> Any:
            buf = await super().get(key, prototype, byte_range)
            rel = f"{prefix}/{key}"
            if buf is None:
                if verifier.expected(rel):
                    raise verifier.missing(rel)
                return None
            if verify and byte_range is None and rel not in verifier.ok:
                verifier.check_bytes(rel, buf.to_bytes())
            return buf

    return _Checked(root, read_only=True)


__all__ = ["NAME", "VERIFY_ENV", "Verifier", "check_cheap", "load", "write_checksums"]
