"""RSPECT: RSNA-STR Pulmonary Embolism CT dataset (Kaggle 2020 competition), slice-level labels."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset

EXAM_LABELS = (
    "negative_exam_for_pe",
    "indeterminate",
    "chronic_pe",
    "acute_and_chronic_pe",
    "central_pe",
    "leftsided_pe",
    "rightsided_pe",
    "rv_lv_ratio_gte_1",
    "rv_lv_ratio_lt_1",
)


@register_dataset
class RSPECT(Dataset):
    card = DatasetCard(
        key="rspect",
        name="RSPECT (RSNA-STR Pulmonary Embolism CT)",
        domain="ct",
        description=(
            "The RSNA-STR Pulmonary Embolism CT dataset: CT pulmonary angiograms from five "
            "institutions annotated by subspecialist thoracic radiologists at image and exam "
            "level, released for the 2020 Kaggle competition. CLIMB classifies every slice of the "
            "labelled training studies as no PE, chronic PE or acute PE."
        ),
        modalities=(
            Modality(
                name="ct",
                kind="volume",
                shape=None,
                axes=("slice", "height", "width"),
                unit="HU",
                dtype="int16",
                description=(
                    "Axial DICOM slices (train/<StudyInstanceUID>/<SeriesInstanceUID>/"
                    "<SOPInstanceUID>.dcm, typically 512x512); climb stores one volume per study, "
                    "ordered by ImagePositionPatient. CLIMB windows each slice (width 700, level "
                    "80), applies CLAHE and saves a JPEG."
                ),
            ),
        ),
        tasks=(
            Task(
                name="pe_slice",
                type="multiclass",
                classes=("no_pe", "chronic_pe", "acute_pe"),
                description=(
                    "CLIMB, per slice: pe_present_on_image == 0 -> no_pe; else chronic_pe == 1 "
                    "-> chronic_pe; else acute_pe."
                ),
            ),
            Task(
                name="pe_present_on_image",
                type="binary",
                classes=("no_pe", "pe"),
                description="Native image-level label of train.csv.",
            ),
            Task(
                name="exam_labels",
                type="multilabel",
                classes=EXAM_LABELS,
                level="series",
                description="Native exam-level labels of the competition (one row per study in train.csv, repeated per slice).",
            ),
        ),
        samples=1790594,
        splits={"train": 1342945, "test": 447649},
        patients=None,
        size_bytes=None,
        licence=Licence(
            "kaggle-competition-rules",
            "Kaggle competition rules (RSNA STR Pulmonary Embolism Detection)",
            "https://www.kaggle.com/competitions/rsna-str-pulmonary-embolism-detection/rules",
        ),
        access="competition",
        sources=(
            Source(
                kind="kaggle",
                id="rsna-str-pulmonary-embolism-detection",
                competition=True,
                notes=(
                    "Accept the competition rules on Kaggle first. The competition archive is not "
                    "unzipped by the Kaggle API; only train.csv carries labels."
                ),
            ),
        ),
        homepage="https://www.kaggle.com/competitions/rsna-str-pulmonary-embolism-detection",
        citation="""@article{colak2021rsna,
  title={The RSNA Pulmonary Embolism CT Dataset},
  author={Colak, Errol and Kitamura, Felipe C. and Hobbs, Stephen B. and others},
  journal={Radiology: Artificial Intelligence},
  volume={3},
  number={2},
  pages={e200254},
  year={2021},
  doi={10.1148/ryai.2021200254}
}""",
        known_issues=(
            "CLIMB's split is an unseeded np.random.permutation at slice level: slices of one "
            "study fall in both train and test (leakage) and the split is not reproducible; "
            "climb splits by StudyInstanceUID with a recorded seed.",
            "The competition's test labels were never released; all 1.79 M labelled slices come "
            "from the training studies.",
            "CLIMB's download() is one of only two active downloaders and its build_index iterates "
            "all 1.79 M rows on instantiation.",
        ),
        original_code="src/datasets/ct/rspect.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/volumes-video.md)."""
        from climb.datasets.ct._volumes import RspectAdapter

        return RspectAdapter()
