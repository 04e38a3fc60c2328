"""Adapter of BUSI breast ultrasound (docs/imaging.md). 1-channel uint8 image + lesion mask.

Masks: ``<class> (<n>)_mask.png`` and, for images with several lesions, ``..._mask_1.png``,
``..._mask_2.png`` next to the image. The stored ``mask`` is their union, binary lesion (1) vs
background (0) (a mask pixel > 127 is lesion). A benign/malignant image without a mask file is
quarantined; a normal image without one gets an all-background mask (normal = no lesion; the
Kaggle release ships an empty mask for every normal image).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from climb.core.adapter import PrepareOptions, RecordError, RecordRef, Sample
from climb.datasets._imaging import ImagingAdapter, folder_class_records, ref
from climb.datasets._masks import MASK_FIELD, MaskedImagingMixin, read_mask

BUSI3 = ("normal", "benign", "malignant")
_MASK_RE = re.compile(r"^(?P<stem>.+)_mask(?:_\d+)?$", re.IGNORECASE)


def busi_mask_files(image: Path, names: list[str]) -> list[str]:
    """Names (among ``names``, the files of the image's folder) of the masks of ``image``:
    ``<stem>_mask<.ext>`` and ``<stem>_mask_<k><.ext>``, sorted."""
    out = []
    for n in names:
        m = _MASK_RE.match(Path(n).stem)
        if m and m.group("stem") == image.stem:
            out.append(n)
    return sorted(out)


def climb_busi_split(paths_by_class: dict[str, list[str]]) -> dict[str, str]:
    """CLIMB: per class, sort file names, first 75% train, the rest test."""
    out: dict[str, str] = {}
    for items in paths_by_class.values():
        items = sorted(items, key=lambda s: Path(s).name)
        cut = int(0.75 * len(items))
        out.update({p: ("train" if k < cut else "test") for k, p in enumerate(items)})
    return out


class BusiAdapter(MaskedImagingMixin, ImagingAdapter):
    key = "busi"
    channels = 1
    mask_task = "lesion_segmentation"
    mask_classes = ("background", "lesion")
    mask_description = (
        "union of the image's native masks (_mask, _mask_1, ...): 1 = lesion, 0 = background; "
        "normal images: all background"
    )
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "busi3": {"type": "multiclass", "classes": BUSI3},
    }
    split_note = (
        "no patient ids: default split is seeded and image-level; climb: per class, first 75% of "
        "the sorted file names train; *_mask*.png files are not samples: their union is the "
        "sample's lesion mask (normal without a mask file: empty mask; benign/malignant without "
        "one: quarantined)"
    )

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        found = folder_class_records(
            self, raw_dir, task="busi3", split_dirs=None, exclude=lambda p: "_mask" in p.name
        )
        by_cls: dict[str, list[str]] = defaultdict(list)
        for p, _, c, _ in found:
            by_cls[str(c)].append(p.relative_to(raw_dir).as_posix())
        split = climb_busi_split(by_cls)
        listing: dict[Path, list[str]] = {}
        out = []
        for p, native, cls, _ in found:
            rid = p.relative_to(raw_dir).as_posix()
            if p.parent not in listing:
                listing[p.parent] = sorted(q.name for q in p.parent.iterdir() if q.is_file())
            masks = busi_mask_files(p, listing[p.parent])
            r = ref(rid, [p], raw_dir, labels={"busi3": BUSI3.index(cls) if cls else -1},
                    native={"folder": native}, split={"climb": split[rid]},
                    columns={"mask_files": len(masks)})  # fmt: skip
            r.info["masks"] = [(p.parent / m).relative_to(raw_dir).as_posix() for m in masks]
            r.info["normal"] = cls == "normal"
            out.append(r)
        return out

    def read_record(self, raw_dir: Path, ref_: RecordRef, options: PrepareOptions) -> Sample:
        s = super().read_record(raw_dir, ref_, options)  # the image first: its errors win
        masks: list[str] = list(ref_.info.get("masks", []))
        s.columns["mask_issue"] = ""
        if not masks and not ref_.info.get("normal"):
            name = Path(ref_.source_path)
            return self.mask_problem(
                s, f"missing mask: no {name.stem}_mask*.png next to {name.name}"
            )
        h, w = int(s.columns["orig_height"]), int(s.columns["orig_width"])
        union = np.zeros((h, w), dtype=np.uint8)
        for rel in masks:
            try:
                a, hw = read_mask(raw_dir / rel)
                self.check_mask_size(s, hw, Path(rel).name)
            except RecordError as exc:
                return self.mask_problem(s, exc.reason)
            union |= (a > 127).astype(np.uint8)
        s.arrays[MASK_FIELD] = self.standardize_mask(union)
        return s


__all__ = ["BUSI3", "BusiAdapter", "busi_mask_files", "climb_busi_split"]
