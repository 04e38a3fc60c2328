"""Adapter of BUSI breast ultrasound (docs/imaging.md). 1-channel uint8; mask files skipped."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, ClassVar

from climb.datasets._imaging import ImagingAdapter, folder_class_records, ref
from climb.prepare.adapter import PrepareOptions, RecordRef

BUSI3 = ("normal", "benign", "malignant")


def climb_busi_split(paths_by_class: dict[str, list[str]]) -> dict[str, str]:
    """CLIMB: per class, sort file names, first 75% train, the rest test."""
    out: dict[str, str] = {}
    for items in paths_by_class.values():
        items = sorted(items, key=lambda s: Path(s).name)
        cut = int(0.75 * len(items))
        out.update({p: ("train" if k < cut else "test") for k, p in enumerate(items)})
    return out


class BusiAdapter(ImagingAdapter):
    key = "busi"
    channels = 1
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "busi3": {"type": "multiclass", "classes": BUSI3},
    }
    split_note = (
        "no patient ids: default split is seeded and image-level; climb: per class, first 75% of "
        "the sorted file names train; *_mask*.png files are not samples"
    )

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        found = folder_class_records(
            self, raw_dir, task="busi3", split_dirs=None, exclude=lambda p: "_mask" in p.name
        )
        by_cls: dict[str, list[str]] = defaultdict(list)
        for p, _, c, _ in found:
            by_cls[str(c)].append(p.relative_to(raw_dir).as_posix())
        split = climb_busi_split(by_cls)
        out = []
        for p, native, cls, _ in found:
            rid = p.relative_to(raw_dir).as_posix()
            out.append(
                ref(rid, [p], raw_dir, labels={"busi3": BUSI3.index(cls) if cls else -1},
                    native={"folder": native}, split={"climb": split[rid]})
            )  # fmt: skip
        return out


__all__ = ["BUSI3", "BusiAdapter", "climb_busi_split"]
