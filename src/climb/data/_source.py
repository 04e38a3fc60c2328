"""Opening a store for the data layer: `climb.store.open_store` and nothing else.

Kept in one place so that every reader of the data layer opens stores the same way, and so that
each DataLoader worker opens its own handle (zarr handles are not shared across processes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from climb.core.errors import ClimbError


def open_store(path: str | os.PathLike[str]) -> Any:
    """Open the store at ``path`` with the reference reader, with a clear error if it is absent."""
    p = str(path)
    if "://" not in p and not (Path(p) / "dataset.json").is_file():
        raise ClimbError(
            f"no climb store at {p}",
            where=p,
            fix="run 'climb prepare KEY' to build it, or point data.root / data.tasks[].store at "
            "the directory that holds dataset.json",
        )
    from climb.store import open_store as _open

    return _open(p)
