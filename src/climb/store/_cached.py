"""The zarr store wrapper of :func:`climb.store.fs.CachedStore` (imports zarr, so it lives in
its own module that only remote stores import)."""

from __future__ import annotations

import asyncio
from typing import Any

from zarr.storage import WrapperStore

from climb.store.fs import RETRIES, RETRY_BASE_S, ChunkCache, _transient, chunk_cache


def _is_chunk_key(key: str) -> bool:
    return key.startswith("c/") or "/c/" in key or key.startswith("c.")


class CachedStore(WrapperStore):  # type: ignore[type-arg]
    """A zarr store over another (FsspecStore): ``get`` and ``set`` retried on transient
    network errors; whole-chunk ``get`` served from / kept in the local :class:`ChunkCache`."""

    def __init__(self, store: Any, url: str = "", cache: ChunkCache | None = None) -> None:
        super().__init__(store)
        self._url = url
        self._cache = cache

    def _with_store(self, store: Any) -> Any:
        return type(self)(store, url=self._url, cache=self._cache)

    def __getstate__(self) -> dict[str, Any]:
        return {"store": self._store, "url": self._url, "cache": self._cache is not None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._store = state["store"]
        self._url = state["url"]
        self._cache = chunk_cache() if state["cache"] else None

    async def get(self, key: str, prototype: Any, byte_range: Any = None) -> Any:
        cache = self._cache
        if cache is not None and byte_range is None and _is_chunk_key(key):
            data = cache.get(self._url, key)
            if data is not None:
                return prototype.buffer.from_bytes(data)
            buf = await self._get_retried(key, prototype, byte_range)
            if buf is not None:
                cache.put(self._url, key, buf.to_bytes())
            return buf
        return await self._get_retried(key, prototype, byte_range)

    async def _get_retried(self, key: str, prototype: Any, byte_range: Any) -> Any:
        for i in range(RETRIES):
            try:
                return await self._store.get(key, prototype, byte_range)
            except Exception as exc:
                if i == RETRIES - 1 or not _transient(exc):
                    raise
                await asyncio.sleep(RETRY_BASE_S * 2**i)
        return None  # pragma: no cover

    async def set(self, key: str, value: Any) -> None:
        for i in range(RETRIES):
            try:
                await self._store.set(key, value)
                return
            except Exception as exc:
                if i == RETRIES - 1 or not _transient(exc):
                    raise
                await asyncio.sleep(RETRY_BASE_S * 2**i)

    def __repr__(self) -> str:
        return f"CachedStore({self._url!r})"
