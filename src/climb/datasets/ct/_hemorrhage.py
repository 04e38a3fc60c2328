"""Adapter of the Brain CT Hemorrhage dataset (Kaggle vbookshelf/computed-tomography-ct-images;
docs/imaging.md). One sample per slice with two pixel-aligned views on the ``view`` axis:
the brain-window JPEG and the bone-window JPEG (1 channel each).

Hemorrhage mask (field ``mask``, 1 = hemorrhage, 0 = background): the release's
``Patients_CT/<patient>/brain/<slice>_HGE_Seg.jpg``, shipped for slices with hemorrhage only;
a JPEG, so binarized at > 127 (as the dataset authors' code does) after a nearest resize with the
image's geometry. A slice labelled No_Hemorrhage without a mask file gets an all-background mask;
a hemorrhage (or unlabelled) slice without one is quarantined."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from climb.core.adapter import PrepareOptions, RecordError, RecordRef, Sample
from climb.datasets._imaging import ImagingAdapter, find_dir, find_file, need, read_table, ref
from climb.datasets._masks import MASK_FIELD, MaskedImagingMixin, read_mask

SUBTYPES = ("Intraventricular", "Intraparenchymal", "Subarachnoid", "Epidural", "Subdural")


def _flag(v: Any) -> int:
    s = str(v).strip()
    return -1 if s == "" else int(float(s) != 0)


def climb_patient_split(patients: list[str], seed: int = 42) -> dict[str, str]:
    """CLIMB: train_test_split(patients, test_size=0.2, random_state=42), patients in CSV order."""
    from sklearn.model_selection import train_test_split

    tr, te = train_test_split(patients, test_size=0.2, random_state=seed)
    return {**{p: "train" for p in tr}, **{p: "test" for p in te}}


class BrainCtHemorrhageAdapter(MaskedImagingMixin, ImagingAdapter):
    key = "brain_ct_hemorrhage"
    channels = 1
    views = ("brain", "bone")
    mask_task = "segmentation"
    mask_classes = ("background", "hemorrhage")
    mask_description = (
        "brain/<slice>_HGE_Seg.jpg > 127 -> 1 (hemorrhage); slices labelled No_Hemorrhage "
        "without a mask file: all background"
    )
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "hemorrhage": {"type": "binary", "classes": ("no_hemorrhage", "hemorrhage"),
                       "description": "0 if No_Hemorrhage == 1 else 1 (CLIMB)"},
        "hemorrhage_type": {"type": "multilabel",
                            "classes": tuple(s.lower() for s in SUBTYPES)},
        "fracture": {"type": "binary", "classes": ("no_fracture", "fracture")},
    }  # fmt: skip
    split_note = (
        "views: brain window, bone window (same slice); default split: seeded patient-level; "
        "climb: train_test_split(patients, test_size=0.2, random_state=42); mask = "
        "brain/<slice>_HGE_Seg.jpg (hemorrhage slices without one are quarantined)"
    )

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        csv_path = need(find_file(raw_dir, "hemorrhage_diagnosis.csv", "hemorrhage_diagnosis_raw_ct.csv"),
                        "hemorrhage_diagnosis.csv", raw_dir, "climb fetch brain_ct_hemorrhage")  # fmt: skip
        root = find_dir(raw_dir, "Patients_CT") or csv_path.parent / "Patients_CT"
        rows = read_table(csv_path).to_dict("records")
        patients = list(dict.fromkeys(str(int(float(r["PatientNumber"]))) for r in rows))
        split = climb_patient_split(patients)
        out = []
        for r in rows:
            pid, sl = int(float(r["PatientNumber"])), int(float(r["SliceNumber"]))
            pdir = root / f"{pid:03d}"
            if not pdir.is_dir() and (root / str(pid)).is_dir():
                pdir = root / str(pid)
            files: list[Path | None] = [pdir / "brain" / f"{sl}.jpg", pdir / "bone" / f"{sl}.jpg"]
            no_h = _flag(r["No_Hemorrhage"])
            out.append(
                ref(f"{pid:03d}_{sl:03d}", files, raw_dir,
                    labels={"hemorrhage": -1 if no_h < 0 else 1 - no_h,
                            "hemorrhage_type": [_flag(r.get(s, "")) for s in SUBTYPES],
                            "fracture": _flag(r.get("Fracture_Yes_No", ""))},
                    native={k: str(v) for k, v in r.items()}, patient=str(pid),
                    split={"climb": split[str(pid)]}, columns={"slice": sl})
            )  # fmt: skip
            m = pdir / "brain" / f"{sl}_HGE_Seg.jpg"
            out[-1].info["mask"] = m.relative_to(raw_dir).as_posix() if m.is_file() else None
        return out

    def read_record(self, raw_dir: Path, ref_: RecordRef, options: PrepareOptions) -> Sample:
        s = super().read_record(raw_dir, ref_, options)  # the images first: their errors win
        rel = ref_.info.get("mask")
        s.columns["mask_issue"] = ""
        if rel is None:
            if s.labels.get("hemorrhage") != 0:
                return self.mask_problem(
                    s,
                    f"missing mask: no brain/{s.columns.get('slice')}_HGE_Seg.jpg for a slice "
                    "not labelled No_Hemorrhage",
                )
            s.arrays[MASK_FIELD] = np.zeros((1, self.size, self.size), dtype=np.uint8)
            return s
        try:
            a, hw = read_mask(raw_dir / rel, draft_size=self.size)  # the brain JPEG's draft scale
            self.check_mask_size(s, hw, Path(rel).name)
        except RecordError as exc:
            return self.mask_problem(s, exc.reason)
        s.arrays[MASK_FIELD] = (self.standardize_mask(a) > 127).astype(np.uint8)
        return s


__all__ = ["SUBTYPES", "BrainCtHemorrhageAdapter", "climb_patient_split"]
