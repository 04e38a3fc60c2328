"""Checkpoints that cannot run code: written with ``torch.save`` from tensors, numbers, strings,
lists and dicts only, and read with ``torch.load(weights_only=True)``, which refuses anything
else (a crafted pickle gets a clear error, never executed). RNG states are converted to
tensors and plain ints on the way in and back on the way out.
"""

from __future__ import annotations

import os
import pickle
import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from climb.core.errors import ClimbError

CKPT_FORMAT = "climb-checkpoint"


def atomic_save(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path, *, require_climb: bool = True) -> Any:
    """Read a checkpoint with ``weights_only=True``; a clear error for a file that is not a
    checkpoint, is truncated, or holds objects other than tensors and plain data."""
    p = Path(path)
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ClimbError(
            f"refused to load {p}: it holds objects other than tensors and plain data "
            f"({str(exc).splitlines()[0][:200]})",
            where=str(p),
            fix="only climb checkpoints and plain state dicts are loaded; a checkpoint that needs "
            "arbitrary unpickling could run code and is never opened",
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ClimbError(
            f"cannot read checkpoint {p}: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}",
            where=str(p),
            fix="the file is truncated or not a torch checkpoint; re-train or point to another file",
        ) from None
    if require_climb and not (isinstance(obj, dict) and obj.get("format") == CKPT_FORMAT):
        raise ClimbError(
            f"{p} is not a climb checkpoint",
            where=str(p),
            fix="give a checkpoint written by 'climb train' (checkpoints/best.pt or last.pt)",
        )
    return obj


def rng_state() -> dict[str, Any]:
    """Python, numpy and torch RNG states as tensors / ints (loadable with weights_only)."""
    py = random.getstate()
    npst = np.random.get_state(legacy=False)
    st: dict[str, Any] = {
        "python": [int(py[0]), torch.tensor(py[1], dtype=torch.int64), py[2]],
        "numpy": {
            "key": torch.from_numpy(np.asarray(npst["state"]["key"], dtype=np.int64)),
            "pos": int(npst["state"]["pos"]),
            "has_gauss": int(npst["has_gauss"]),
            "gauss": float(npst["gauss"]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def set_rng_state(st: dict[str, Any]) -> None:
    v, inner, gauss = st["python"]
    random.setstate((int(v), tuple(int(x) for x in inner.tolist()), gauss))
    n = st["numpy"]
    np.random.set_state(
        {
            "bit_generator": "MT19937",
            "state": {"key": n["key"].numpy().astype(np.uint32), "pos": int(n["pos"])},
            "has_gauss": int(n["has_gauss"]),
            "gauss": float(n["gauss"]),
        }
    )
    torch.set_rng_state(st["torch"])
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])
