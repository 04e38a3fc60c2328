"""Segmentation masks of the 2-D imaging adapters (BUSI, BCSS, Brain CT Hemorrhage;
docs/imaging.md, "Segmentation masks").

A masked adapter writes a field ``mask`` next to ``image``: ``uint8 (1, size, size)``, axes
``(channel, height, width)``, class codes (0 = background), with the geometry of the stored
image (same resize mode, size, offsets and zero padding) but nearest-neighbour interpolation, so
codes survive. Its segmentation task in ``dataset.json`` names that field (``"field": "mask"``,
``"column": null``): there is no label column in ``samples.parquet`` for it, and prepare
computes no per-channel ``stats`` for it (a task's target field is not an input).

A mask that is missing or unusable (no mask file for a lesion image, a mask whose size differs
from its image, an unreadable file) does not cost the sample its classification labels: where the
dataset has other tasks (BUSI, Hemorrhage) the sample is kept with every mask pixel set to
``MASK_UNKNOWN`` (255, the usual ``ignore_index`` of segmentation losses) and the reason in its
``mask_issue`` column (empty when the mask is fine). Where segmentation is the only task (BCSS)
such a sample is quarantined with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from climb.core.adapter import PrepareOptions, RecordError, Sample
from climb.core.schema import FieldSpec
from climb.io.image import standardize

MASK_FIELD = "mask"
MASK_UNKNOWN = 255


def read_mask(path: Path, *, draft_size: int | None = None) -> tuple[np.ndarray, tuple[int, int]]:
    """A mask file -> ((H, W) uint8 values as stored, (height, width) of the file).

    Grey (``L``), palette (``P``: the palette indices) and 16/32-bit integer masks keep their
    values (an integer mask with a value above 255 raises); ``1`` (bilevel) becomes 0/255; colour
    masks become grey with Pillow's luma. ``draft_size`` lets a JPEG mask be decoded at the
    reduced scale its image is decoded at (same geometry)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            hw = (int(im.size[1]), int(im.size[0]))
            if draft_size and im.format == "JPEG":
                im.draft("L", (draft_size, draft_size))
            im.load()
            if im.mode in ("L", "P"):
                a = np.asarray(im, dtype=np.uint8)
            elif im.mode.startswith("I"):
                b = np.asarray(im)
                if b.size and (b.min() < 0 or b.max() > 255):
                    raise RecordError(
                        f"mask {path.name}: values {b.min()}..{b.max()} do not fit 0..255",
                        stage="decode",
                    )
                a = b.astype(np.uint8)
            else:  # "1", RGB(A), LA, ...
                a = np.asarray(im.convert("L"), dtype=np.uint8)
    except RecordError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise RecordError(f"unreadable mask {path.name}: {exc}", stage="decode") from None
    return np.ascontiguousarray(a), hw


class MaskedImagingMixin:
    """Adds the ``mask`` field and a segmentation task to an
    :class:`~climb.datasets._imaging.ImagingAdapter` (put it first in the bases)."""

    mask_task: ClassVar[str] = "segmentation"
    #: quarantine a sample whose mask is missing/unusable (True: segmentation is its only task);
    #: False: keep it with an all-MASK_UNKNOWN mask and the reason in ``mask_issue``
    mask_required: ClassVar[bool] = False
    mask_classes: ClassVar[tuple[str, ...]] = ("background", "foreground")
    mask_description: ClassVar[str] = ""
    size: int
    resize: str

    def fields(self) -> list[FieldSpec]:
        base: list[FieldSpec] = super().fields()  # type: ignore[misc]
        image = base[0]
        return [
            *base,
            FieldSpec(
                MASK_FIELD,
                "uint8",
                (1, self.size, self.size),
                axes=("channel", "height", "width"),
                unit="class code",
                chunks=image.chunks,  # same axis-0 chunking as the image
                codec={"name": "blosc", "cname": "lz4", "clevel": 5, "shuffle": "noshuffle"},
            ),
        ]

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = super().tasks(raw_dir, options)  # type: ignore[misc]
        out[self.mask_task] = {
            "type": "segmentation",
            "field": MASK_FIELD,
            "classes": list(self.mask_classes),
            "label_space": None,
            "column": None,
            "policy": options.label_policy,
            "description": self.mask_description,
        }
        return out

    def standardize_mask(self, mask: np.ndarray) -> np.ndarray:
        """(H, W) codes -> (1, size, size) uint8 with the image's geometry (nearest)."""
        return standardize(mask, self.size, channels=1, mode=self.resize, resample="nearest")  # type: ignore[arg-type]

    def mask_problem(self, sample: Sample, reason: str) -> Sample:
        """Record a missing/unusable mask: quarantine (``mask_required``) or keep the sample with
        an all-unknown mask and the reason in ``mask_issue``."""
        if self.mask_required:
            raise RecordError(reason, stage="read")
        sample.arrays[MASK_FIELD] = np.full((1, self.size, self.size), MASK_UNKNOWN, np.uint8)
        sample.columns["mask_issue"] = reason
        return sample

    @staticmethod
    def check_mask_size(sample: Sample, hw: tuple[int, int], name: str) -> None:
        """Quarantine a mask whose file size differs from its image's (before any resize)."""
        ih, iw = sample.columns.get("orig_height"), sample.columns.get("orig_width")
        if (ih, iw) != hw:
            raise RecordError(
                f"mask size differs from its image: {name} is {hw[1]}x{hw[0]}, the image {iw}x{ih}",
                stage="read",
            )


__all__ = ["MASK_FIELD", "MASK_UNKNOWN", "MaskedImagingMixin", "read_mask"]
