"""The unified on-disk store (format v1): writer, reader and validator.

See docs/store-format.md for the contract. ``open_store(path)`` reads a store at a local path or
any fsspec URL; :class:`StoreWriter` writes one.
"""

from __future__ import annotations

from climb.store.reader import Store, open_store
from climb.store.writer import FORMAT, FORMAT_VERSION, StoreWriter

__all__ = ["FORMAT", "FORMAT_VERSION", "Store", "StoreWriter", "open_store"]
