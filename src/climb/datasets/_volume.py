"""Shared machinery of the CT volume adapters (KiTS23, INSPECT, RSPECT, LNDb);
docs/volumes-video.md documents the layout and every dataset.

A volume is read with :mod:`climb.io.volume` into the LPS ``(slice, row, column)`` convention,
resized in-plane to ``size x size`` (linear; masks nearest) and stored as **int16 HU**, untouched
by any window: windowing (lung, mediastinum, brain, CLIMB's 80/700, ...) is a load-time
transform (``ct_window`` in ``data.transforms``), so one store serves every window. Whole
volumes are a ragged field ``ct`` ``(Z, size, size)`` chunked along slices
(``slices_per_chunk``), so a window of K slices reads only the chunks it spans; fixed-size slice
windows (LNDb) are a dense field ``(K, size, size)``.

Per-sample columns: ``spacing_z/_y/_x`` (mm, of the stored grid), ``orig_spacing_y/_x``,
``orig_shape`` (``"z,y,x"`` of the file after reorientation), ``n_slices``, ``origin``
(``"x,y,z"`` LPS mm), ``source_format`` and ``volume_notes`` (what the reader did, e.g. an
oblique affine reoriented).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from climb.core.adapter import BaseAdapter, RecordError
from climb.core.schema import RaggedFieldSpec
from climb.io.volume import Volume, VolumeReadError, read_volume, resize_slices, to_int16_hu

CT_FIELD = "ct"
MASK_FIELD = "mask"
MASK_UNKNOWN = 255
#: CT voxels: blosc lz4 + byte shuffle. About 25% larger than the store's default zstd on CT
#: noise but ~3x faster to decode, and decoding is what a window loader pays every epoch.
CT_CODEC: dict[str, Any] = {"name": "blosc", "cname": "lz4", "clevel": 5, "shuffle": "shuffle"}


class VolumeAdapter(BaseAdapter):
    key: str = ""
    version: str = "1"
    size: int = 256
    slices_per_chunk: int = 8

    def __init__(self, *, size: int | None = None) -> None:
        if size is not None:
            if isinstance(size, bool) or not isinstance(size, int) or not 16 <= size <= 1024:
                raise ValueError(f"size must be an integer from 16 to 1024 pixels, got {size!r}")
            self.size = size

    def ct_field(self) -> RaggedFieldSpec:
        return RaggedFieldSpec(
            CT_FIELD,
            "int16",
            (self.size, self.size),
            axes=("slice", "row", "column"),
            unit="HU",
            rows_per_chunk=self.slices_per_chunk,
            codec=dict(CT_CODEC),
        )

    def mask_field(self) -> RaggedFieldSpec:
        return RaggedFieldSpec(
            MASK_FIELD,
            "uint8",
            (self.size, self.size),
            axes=("slice", "row", "column"),
            rows_per_chunk=self.slices_per_chunk * 4,
        )

    def fields(self) -> list[Any]:
        return [self.ct_field()]

    def load(self, path: Path, rel: str) -> Volume:
        if not path.exists():
            raise RecordError(f"volume missing: {rel}")
        try:
            return read_volume(path)
        except VolumeReadError as exc:
            reason = exc.reason
            name = Path(rel).name
            if reason.startswith(f"{name}:"):
                reason = rel + reason[len(name) :]
            elif rel not in reason:
                reason = f"{rel}: {reason}"
            raise RecordError(reason) from None

    def standardize(self, v: Volume) -> tuple[np.ndarray, dict[str, Any]]:
        """``(int16 HU (Z, size, size), columns)`` of a read volume."""
        x = resize_slices(v.array.astype(np.float32, copy=False), (self.size, self.size), order=1)
        dz, dy, dx = v.spacing
        z, h, w = v.shape
        cols = {
            "spacing_z": round(float(dz), 6),
            "spacing_y": round(float(dy) * h / self.size, 6),
            "spacing_x": round(float(dx) * w / self.size, 6),
            "orig_spacing_y": round(float(dy), 6),
            "orig_spacing_x": round(float(dx), 6),
            "orig_shape": f"{z},{h},{w}",
            "n_slices": int(z),
            "origin": ",".join(f"{o:.3f}" for o in v.origin),
            "source_format": v.source_format,
            "volume_notes": "; ".join(v.notes),
        }
        return to_int16_hu(x), cols

    def standardize_mask(self, m: np.ndarray) -> np.ndarray:
        return resize_slices(np.asarray(m, dtype=np.uint8), (self.size, self.size), order=0)


__all__ = ["CT_FIELD", "MASK_FIELD", "MASK_UNKNOWN", "VolumeAdapter"]
