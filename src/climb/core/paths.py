"""Where climb keeps its data: the data root and the folders every stage reads and writes.

    <root>/raw/<key>/     what fetch downloaded (plus .climb-fetch.json)
    <root>/stores/<key>/  what prepare wrote
    <root>/runs/<run>/    what train wrote

``<root>`` is, in order: an explicit argument, ``$CLIMB_ROOT``, else ``~/climb-data``. Nothing is
created here; the stages create what they write.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_ROOT = "~/climb-data"
ROOT_ENV = "CLIMB_ROOT"


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The data root: ``root`` if given, else ``$CLIMB_ROOT``, else ``~/climb-data``."""
    if root is not None and str(root) != "":
        return Path(root).expanduser()
    env = os.environ.get(ROOT_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(DEFAULT_ROOT).expanduser()


def raw_dir(key: str, root: str | os.PathLike[str] | None = None) -> Path:
    """``<root>/raw/<key>/``: where ``climb fetch`` puts dataset ``key``."""
    return data_root(root) / "raw" / key


def stores_dir(key: str, root: str | os.PathLike[str] | None = None) -> Path:
    """``<root>/stores/<key>/``: the unified store of dataset ``key``."""
    return data_root(root) / "stores" / key


def runs_dir(root: str | os.PathLike[str] | None = None) -> Path:
    """``<root>/runs/``: training runs."""
    return data_root(root) / "runs"
