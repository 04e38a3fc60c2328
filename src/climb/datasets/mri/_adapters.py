"""Adapters of the 2-D MRI datasets (docs/imaging.md): Brain Tumor MRI, Brain MRI yes/no.
1-channel uint8 (the slices are grey; CLIMB feeds them as 3-channel copies)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from climb.core.adapter import PrepareOptions, RecordRef
from climb.datasets._imaging import ImagingAdapter, folder_class_records, ref

TUMOR4 = ("no_tumor", "glioma_tumor", "meningioma_tumor", "pituitary_tumor")


class BrainTumorAdapter(ImagingAdapter):
    key = "brain_tumor"
    channels = 1
    has_official = True
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "tumor_type": {"type": "multiclass", "classes": TUMOR4},
    }
    split_note = (
        "official split: folders Training -> train, Testing -> test (as CLIMB); no patient ids, "
        "so the patient column holds the image path"
    )

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        found = folder_class_records(
            self, raw_dir, task="tumor_type", split_dirs={"Training": "train", "Testing": "test"}
        )
        out = []
        for p, native, cls, split in found:
            rid = p.relative_to(raw_dir).as_posix()
            out.append(
                ref(rid, [p], raw_dir, labels={"tumor_type": TUMOR4.index(cls) if cls else -1},
                    native={"folder": native}, split={"official": split, "climb": split})
            )  # fmt: skip
        return out


def climb_shuffle_split(ids: list[str], seed: int = 42, frac: float = 0.8) -> dict[str, str]:
    """CLIMB's brain_tumor_2 rule: np.random.seed(42); shuffle; first 80% train (ids sorted)."""
    order = sorted(ids)
    np.random.seed(seed)
    np.random.shuffle(order)
    cut = int(frac * len(order))
    return {i: ("train" if k < cut else "test") for k, i in enumerate(order)}


class BrainMriAdapter(ImagingAdapter):
    key = "brain_mri"
    channels = 1
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "tumor": {"type": "binary", "classes": ("no_tumor", "tumor")},
    }
    split_note = (
        "no official split and no patient ids: default split is seeded and image-level; climb: "
        "np.random.seed(42) shuffle of the sorted paths, first 80% train"
    )

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        found = folder_class_records(self, raw_dir, task="tumor", split_dirs=None)
        ids = [p.relative_to(raw_dir).as_posix() for p, *_ in found]
        split = climb_shuffle_split(ids)
        classes = ["no_tumor", "tumor"]
        return [
            ref(i, [p], raw_dir, labels={"tumor": classes.index(c) if c else -1},
                native={"folder": n}, split={"climb": split[i]})
            for i, (p, n, c, _) in zip(ids, found, strict=True)
        ]  # fmt: skip


__all__ = ["TUMOR4", "BrainMriAdapter", "BrainTumorAdapter", "climb_shuffle_split"]
