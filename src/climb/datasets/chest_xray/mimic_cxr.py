"""MIMIC-CXR-JPG 2.0.0: 377,110 chest radiographs (JPEG) of 65,379 patients from Beth Israel
Deaconess Medical Center, with CheXpert-labeler labels (PhysioNet, credentialed)."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.labels import get_label_space
from climb.registry import Dataset, register_dataset

CHEXPERT14: tuple[str, ...] = get_label_space("chexpert14").names
# Column order of mimic-cxr-2.0.0-chexpert.csv.gz, which is CLIMB's label-index order.
MIMIC_CSV_ORDER = (
    "Atelectasis",
    "Cardiomegaly",
    "Consolidation",
    "Edema",
    "Enlarged Cardiomediastinum",
    "Fracture",
    "Lung Lesion",
    "Lung Opacity",
    "No Finding",
    "Pleural Effusion",
    "Pleural Other",
    "Pneumonia",
    "Pneumothorax",
    "Support Devices",
)


@register_dataset
class MIMICCXR(Dataset):
    card = DatasetCard(
        key="mimic_cxr",
        name="MIMIC-CXR-JPG",
        domain="chest_xray",
        description=(
            "377,110 chest radiographs from 227,827 imaging studies of 65,379 patients seen in "
            "the emergency department of Beth Israel Deaconess Medical Center (2011-2016), "
            "converted from DICOM to JPEG, with 14 labels extracted from the reports by the "
            "CheXpert and NegBio labelers and an official train/validate/test split."
        ),
        modalities=(
            Modality(
                name="image",
                kind="image",
                shape=None,
                axes=("height", "width"),
                dtype="uint8",
                description=(
                    "Grayscale JPEG, native resolution (typically around 2,500-3,000 px per "
                    "side); frontal and lateral views."
                ),
            ),
        ),
        tasks=(
            Task(
                name="chexpert14",
                type="multilabel",
                classes=CHEXPERT14,
                label_space="chexpert14",
                description=(
                    "The 14 CheXpert observations in canonical order; uncertain (-1) and blank "
                    "map to 0 (U-Zeros) as in CLIMB."
                ),
            ),
            Task(
                name="chexpert14_uones",
                type="multilabel",
                classes=CHEXPERT14,
                label_space="chexpert14",
                description="The same 14 labels with uncertain (-1) mapped to 1 (U-Ones); blank = 0.",
            ),
            Task(
                name="chexpert14_uignore",
                type="multilabel",
                classes=CHEXPERT14,
                label_space="chexpert14",
                description=(
                    "The same 14 labels with uncertain (-1) masked (U-Ignore): stored as -1 and "
                    "left out of the loss and the metrics; blank = 0."
                ),
            ),
            Task(
                name="chexpert14_csv_order",
                type="multilabel",
                classes=MIMIC_CSV_ORDER,
                description=(
                    "The same 14 labels in the column order of mimic-cxr-2.0.0-chexpert.csv.gz, "
                    "which is the label-index order of the original CLIMB loader (it differs "
                    "from CheXpert's order; a unified head must re-order)."
                ),
            ),
        ),
        samples=356225,
        splits={"train": 348516, "test": 7709},
        patients=65379,
        size_bytes=570_300_000_000,
        licence=Licence(
            "physionet-credentialed-1.5.0",
            "PhysioNet Credentialed Health Data License 1.5.0",
            "https://physionet.org/content/mimic-cxr-jpg/view-license/2.0.0/",
        ),
        access="credentialed",
        sources=(
            Source(
                kind="physionet",
                id="mimic-cxr-jpg",
                version="2.0.0",
                notes=(
                    "files/pXX/pSUBJECT/sSTUDY/DICOM_ID.jpg plus "
                    "mimic-cxr-2.0.0-{chexpert,negbio,metadata,split}.csv.gz. Requires a "
                    "credentialed PhysioNet account, CITI training and the signed DUA."
                ),
            ),
            Source(
                kind="physionet",
                id="mimic-cxr",
                version="2.0.0",
                role="metadata",
                include=("cxr-study-list.csv.gz", "cxr-record-list.csv.gz"),
                notes="Study/record lists used by CLIMB's index; not served by mimic-cxr-jpg.",
            ),
        ),
        homepage="https://physionet.org/content/mimic-cxr-jpg/2.0.0/",
        citation="""@article{johnson2019mimiccxrjpg,
  title={{MIMIC-CXR-JPG}, a large publicly available database of labeled chest radiographs},
  author={Johnson, Alistair E. W. and Pollard, Tom J. and Greenbaum, Nathaniel R. and
          Lungren, Matthew P. and Deng, Chih-ying and Peng, Yifan and Lu, Zhiyong and
          Mark, Roger G. and Berkowitz, Seth J. and Horng, Steven},
  journal={arXiv preprint arXiv:1901.07042},
  year={2019}
}""",
        known_issues=(
            "CLIMB merges the official 'validate' split into test (test = ['test', 'validate']); "
            "climb keeps the official three splits by default.",
            "CLIMB's label order is the chexpert CSV column order (alphabetical), not CheXpert's; "
            "the chexpert14 task re-orders.",
            "CLIMB uses U-Zeros (blank and -1 -> 0); the uncertainty information is lost unless "
            "native labels are kept.",
            "The original downloader does not fetch cxr-study-list.csv.gz (mimic-cxr 2.0.0), "
            "which its build_index needs.",
            "MIMIC_CXR stores finetune_size but never applies it (no few-shot subset).",
            "The original downloader runs one wget per file with the password on the command "
            "line and TLS verification off; it never verifies SHA256SUMS.txt.",
        ),
        discrepancies=(
            Discrepancy(
                topic="sample count",
                documented="356,225 (348,516 train / 7,709 test) in Dataset_Info.md",
                code=(
                    "official split CSV: 377,110 images (368,960 train / 2,991 validate / "
                    "5,159 test); the loader keeps images whose study has CheXpert labels"
                ),
                climb_follows="Dataset_Info.md: 356,225 labelled images, 348,516 / 7,709",
                why=(
                    "the loader's join with the labelled study list yields fewer images than "
                    "the release; the DI counts are the only ones CLIMB reports (not re-derived "
                    "here)"
                ),
            ),
        ),
        original_code="src/datasets/chest_xray/mimic_cxr.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.chest_xray._adapters import MimicCxrAdapter

        return MimicCxrAdapter()
