"""VinDr-CXR: 18,000 posteroanterior chest radiographs (DICOM) from two Vietnamese hospitals,
labelled by radiologists with 22 local findings and 6 global diagnoses (PhysioNet)."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.labels import get_label_space
from climb.registry import Dataset, register_dataset

# Label columns of annotations/image_labels_{train,test}.csv, from 'Aortic enlargement' onward:
# 22 local findings then 6 global labels (the test file spells 'Other disease').
VINDR28 = (
    "Aortic enlargement",
    "Atelectasis",
    "Calcification",
    "Cardiomegaly",
    "Clavicle fracture",
    "Consolidation",
    "Edema",
    "Emphysema",
    "Enlarged PA",
    "ILD",
    "Infiltration",
    "Lung Opacity",
    "Lung cavity",
    "Lung cyst",
    "Mediastinal shift",
    "Nodule/Mass",
    "Pleural effusion",
    "Pleural thickening",
    "Pneumothorax",
    "Pulmonary fibrosis",
    "Rib fracture",
    "Other lesion",
    "COPD",
    "Lung tumor",
    "Pneumonia",
    "Tuberculosis",
    "Other diseases",
    "No finding",
)
CHEXPERT14: tuple[str, ...] = get_label_space("chexpert14").names


@register_dataset
class VinDrCXR(Dataset):
    card = DatasetCard(
        key="vindr_cxr",
        name="VinDr-CXR",
        domain="chest_xray",
        description=(
            "18,000 posteroanterior chest radiographs from Hospital 108 and Hanoi Medical "
            "University Hospital (Vietnam), 15,000 training images each read independently by "
            "3 radiologists and 3,000 test images labelled by consensus of 5. Each image has "
            "22 local findings (with bounding boxes) and 6 global diagnoses."
        ),
        modalities=(
            Modality(
                name="image",
                kind="image",
                shape=None,
                axes=("height", "width"),
                dtype="uint16",
                description=(
                    "DICOM, native resolution (about 2,000-3,000 px per side); CLIMB converts to "
                    "8-bit JPEG with the DICOM window (min/max fallback)."
                ),
            ),
        ),
        tasks=(
            Task(
                name="findings28",
                type="multilabel",
                classes=VINDR28,
                description=(
                    "The 28 native image-level labels (22 local findings + 6 global labels) in "
                    "the column order of image_labels_*.csv. Training images carry 3 rows (one "
                    "per radiologist); climb aggregates them per image (any-positive by "
                    "default)."
                ),
            ),
            Task(
                name="chexpert14",
                type="multilabel",
                classes=CHEXPERT14,
                label_space="chexpert14",
                description=(
                    "CLIMB's mapping onto the CheXpert 14 (e.g. Aortic enlargement, Enlarged PA, "
                    "Mediastinal shift -> Enlarged Cardiomediastinum; Nodule/Mass, Lung cavity, "
                    "Lung cyst, Other lesion, Lung tumor -> Lung Lesion); Calcification, "
                    "Emphysema, ILD, Pulmonary fibrosis, COPD, Tuberculosis and Other diseases "
                    "are dropped. VinDr-CXR has no support-device label, so that class is never "
                    "observed (masked)."
                ),
            ),
        ),
        samples=18000,
        splits={"train": 15000, "test": 3000},
        patients=None,
        size_bytes=None,
        licence=Licence(
            "physionet-credentialed-1.5.0",
            "PhysioNet Credentialed Health Data License 1.5.0",
            "https://physionet.org/content/vindr-cxr/view-license/1.0.0/",
        ),
        access="credentialed",
        sources=(
            Source(
                kind="physionet",
                id="vindr-cxr",
                version="1.0.0",
                notes=(
                    "{train,test}/<image_id>.dicom and annotations/{annotations,image_labels}_"
                    "{train,test}.csv."
                ),
            ),
        ),
        homepage="https://physionet.org/content/vindr-cxr/1.0.0/",
        citation="""@article{nguyen2022vindrcxr,
  title={{VinDr-CXR}: An open dataset of chest X-rays with radiologist's annotations},
  author={Nguyen, Ha Q. and Lam, Khanh and Le, Linh T. and Pham, Hieu H. and Tran, Dat Q. and
          Nguyen, Dung B. and Le, Dung D. and Pham, Chi M. and Tong, Hang T. T. and
          Dinh, Diep H. and others and Vu, Van},
  journal={Scientific Data},
  volume={9},
  number={1},
  pages={429},
  year={2022},
  doi={10.1038/s41597-022-01498-w}
}""",
        known_issues=(
            "BUG in CLIMB: labels come from the rows of image_labels_train.csv (one row per "
            "radiologist, so about 45,000 rows for 15,000 images) while file names come from "
            "glob() of the JPEG folder, so labels and files are misaligned in length and order; "
            "climb joins on image_id.",
            "BUG in CLIMB: NUM_CLASSES = 14 while the label matrix has 28 columns "
            "(every column from 'Aortic enlargement' onward).",
            "CLIMB's QA conversion skips images with no label mapped to the CheXpert 14.",
            "The global label is 'Other diseases' in the training CSV and 'Other disease' in "
            "the test CSV; climb normalises the name.",
            "The original build_index re-converts all DICOMs when fewer than 15,000 / 3,000 "
            "JPEGs exist, so partial downloads fail.",
            "Patient identifiers are removed from the release, so 'patients' is unknown.",
        ),
        discrepancies=(
            Discrepancy(
                topic="label set",
                documented=(
                    "Dataset_Info.md lists 6 global labels (Lung tumor, Pneumonia, "
                    "Tuberculosis, COPD, Other diseases, No finding)"
                ),
                code="28 label columns (22 local + 6 global), NUM_CLASSES = 14, QA mapped to 14",
                climb_follows="both: native 28-label task and a chexpert14 task",
                why="the native labels are kept beside the unified ones, as climb always does",
            ),
        ),
        original_code="src/datasets/chest_xray/vindr_cxr.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.chest_xray._adapters import VindrCxrAdapter

        return VindrCxrAdapter()
