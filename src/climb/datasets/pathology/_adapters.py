"""Adapters of the pathology datasets (docs/imaging.md): LC25000, BCSS. 3-channel (RGB).

BCSS also stores its mask (field ``mask``, native codes 0-21 of ``BCSS_CODES`` kept as they are,
resized with the image's geometry by nearest neighbour); a mask whose size differs from its
image's is quarantined."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from climb.core.adapter import PrepareOptions, RecordError, RecordRef, Sample
from climb.core.errors import ClimbError
from climb.datasets._imaging import (
    ImagingAdapter,
    find_dir,
    folder_class_records,
    is_image,
    native_map,
    ref,
    sklearn_split,
    visible_files,
)
from climb.datasets._masks import MASK_FIELD, MaskedImagingMixin, read_mask
from climb.datasets.pathology.bcss import BCSS_CODES

LC5 = ("colon_aca", "colon_n", "lung_aca", "lung_n", "lung_scc")
BCSS4 = ("tumor", "stroma", "lymphocytic_infiltrate", "necrosis_or_debris")
BCSS_TEST_SITES = frozenset({"OL", "LL", "E2", "EW", "GM", "S3"})


class Lc25000Adapter(ImagingAdapter):
    key = "lc25000"
    channels = 3
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "tissue_type": {"type": "multiclass", "classes": LC5},
    }
    split_note = (
        "no patient/original-image ids (25,000 = augmentations of 1,250 originals): the default "
        "split is seeded and image-level and leaks augmented copies, as CLIMB's; climb: "
        "train_test_split(test_size=0.25, random_state=42, stratify=label) over sorted paths"
    )

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        found = folder_class_records(self, raw_dir, task="tissue_type", split_dirs=None)
        ids = [p.relative_to(raw_dir).as_posix() for p, *_ in found]
        split = sklearn_split(ids, 0.25, 42, stratify=[c for _, _, c, _ in found])
        return [
            ref(i, [p], raw_dir, labels={"tissue_type": LC5.index(c) if c else -1},
                native={"folder": n}, split={"climb": split[i]})
            for i, (p, n, c, _) in zip(ids, found, strict=True)
        ]  # fmt: skip


def bcss_patch_label(mask: np.ndarray) -> tuple[int | None, dict[str, int]]:
    """Dominant mask code of a patch; label = index in BCSS4 when that code is 1-4, else None."""
    counts = Counter(int(v) for v in np.asarray(mask).reshape(-1))
    code = max(sorted(counts), key=lambda k: counts[k])
    mapping = native_map("bcss", "tissue_type")
    cls = mapping.get(str(code))
    return (BCSS4.index(cls) if cls else None), {str(k): v for k, v in sorted(counts.items())}


def tcga_case(name: str) -> tuple[str, str]:
    """'TCGA-A1-A0SK-DX1_xmin...' -> ('TCGA-A1-A0SK', 'A1' = tissue source site)."""
    parts = name.split("-")
    if len(parts) >= 3 and parts[0].upper() == "TCGA":
        return "-".join(parts[:3])[:12], parts[1]
    return name, ""


class BcssAdapter(MaskedImagingMixin, ImagingAdapter):
    key = "bcss"
    channels = 3
    mask_task = "segmentation"
    mask_required = True  # the mask is the sample's only label source (tissue_type comes from it)
    mask_classes = BCSS_CODES
    mask_description = (
        "native mask codes 0-21 (gtruth_codes.tsv; class i = code i); 0 = outside ROI, 7 = exclude"
    )
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "tissue_type": {"type": "multiclass", "classes": BCSS4,
                        "description": "dominant mask code of the patch (1-4 -> 0-3)"},
    }  # fmt: skip
    split_note = (
        "images/ + masks/ (same file names); label = dominant mask code, patches whose dominant "
        "code is not 1-4 are quarantined; default split: seeded by TCGA case; climb: test = "
        "sites {OL, LL, E2, EW, GM, S3}, the rest 90/10 train/val by image (seed 42)"
    )

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        images = find_dir(raw_dir, "images") or find_dir(raw_dir, "rgbs_colorNormalized")
        masks = find_dir(raw_dir, "masks")
        if images is None or masks is None:
            raise ClimbError("BCSS images/ and masks/ folders not found", where=str(raw_dir),
                             fix="place the patches in images/ and their masks in masks/ (docs/imaging.md)")  # fmt: skip
        files = [p for p in visible_files(images) if is_image(p)]
        rest = [
            p.relative_to(raw_dir).as_posix()
            for p in files
            if tcga_case(p.stem)[1] not in BCSS_TEST_SITES
        ]
        inner = sklearn_split(rest, 0.1, 42) if len(rest) > 1 else {r: "train" for r in rest}
        out = []
        for p in files:
            rid = p.relative_to(raw_dir).as_posix()
            case, site = tcga_case(p.stem)
            m = masks / p.relative_to(images)
            if not m.exists():
                m = masks / (p.stem + ".png")
            climb = (
                "test" if site in BCSS_TEST_SITES else {"train": "train", "test": "val"}[inner[rid]]
            )
            out.append(
                ref(rid, [p], raw_dir, labels={}, native={"site": site}, patient=case,
                    split={"climb": climb}, columns={"site": site,
                    "mask_path": m.relative_to(raw_dir).as_posix()})
            )  # fmt: skip
        return out

    def read_record(self, raw_dir: Path, ref_: RecordRef, options: PrepareOptions) -> Sample:
        mrel = ref_.info["columns"]["mask_path"]
        if not (raw_dir / mrel).is_file():
            raise RecordError(f"missing mask: {mrel}")
        mask, hw = read_mask(raw_dir / mrel)
        if int(mask.max(initial=0)) >= len(BCSS_CODES):
            raise RecordError(
                f"mask code {int(mask.max())} is not a BCSS code (0-{len(BCSS_CODES) - 1})",
                stage="labels",
            )
        y, counts = bcss_patch_label(mask)
        if y is None:
            raise RecordError(
                f"dominant mask code {max(counts, key=counts.get)} is not 1-4", stage="labels"
            )  # type: ignore[arg-type]
        s = super().read_record(raw_dir, ref_, options)
        self.check_mask_size(s, hw, Path(mrel).name)
        s.arrays[MASK_FIELD] = self.standardize_mask(mask)
        s.labels = {"tissue_type": y}
        s.native_labels = {**s.native_labels, "mask_code_counts": counts}
        return s


__all__ = ["BCSS4", "LC5", "BcssAdapter", "Lc25000Adapter", "bcss_patch_label", "tcga_case"]
