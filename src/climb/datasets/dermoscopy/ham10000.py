"""HAM10000: 10,015 dermoscopic images of pigmented skin lesions in 7 diagnostic categories
(ISIC 2018 Task 3 training set)."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset

DERM5 = ("MEL", "NV", "BCC", "AKIEC", "OTHER")


@register_dataset
class HAM10000(Dataset):
    card = DatasetCard(
        key="ham10000",
        name="HAM10000 (Human Against Machine with 10000 training images)",
        domain="dermoscopy",
        description=(
            "10,015 dermoscopic images of pigmented lesions from the ViDIR group (Medical "
            "University of Vienna) and Cliff Rosendahl's practice (Queensland), in 7 categories "
            "confirmed by histopathology, follow-up, expert consensus or in-vivo confocal "
            "microscopy. It is the training set of ISIC 2018 Task 3."
        ),
        modalities=(
            Modality(
                name="image",
                kind="image",
                shape=(450, 600, 3),
                axes=("height", "width", "channel"),
                dtype="uint8",
                description="RGB JPEG dermoscopy image, 600x450 px.",
            ),
        ),
        tasks=(
            Task(
                name="derm5",
                type="multiclass",
                classes=DERM5,
                label_space="derm5",
                description="CLIMB's 5 classes: OTHER = BKL + DF + VASC.",
            ),
            Task(
                name="dx7",
                type="multiclass",
                classes=("MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC"),
                description="The 7 native diagnoses, column order of the ISIC 2018 GT CSV.",
            ),
        ),
        samples=10015,
        splits={"train": 8012, "test": 2003},
        patients=None,
        size_bytes=None,
        licence=Licence(
            "CC-BY-NC-SA-4.0",
            "Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International",
            "https://creativecommons.org/licenses/by-nc-sa/4.0/",
        ),
        access="open",
        sources=(
            Source(
                kind="url",
                url="https://isic-challenge-data.s3.amazonaws.com/2018/ISIC2018_Task3_Training_Input.zip",
                role="data",
                notes="ISIC2018_Task3_Training_Input/ISIC_*.jpg (10,015 images).",
            ),
            Source(
                kind="url",
                url="https://isic-challenge-data.s3.amazonaws.com/2018/ISIC2018_Task3_Training_GroundTruth.zip",
                role="labels",
                notes=(
                    "One-hot CSV (image, MEL, NV, BCC, AKIEC, BKL, DF, VASC). Not downloaded by "
                    "the original code."
                ),
            ),
        ),
        homepage="https://doi.org/10.7910/DVN/DBW86T",
        citation="""@article{tschandl2018ham10000,
  title={The {HAM10000} dataset, a large collection of multi-source dermatoscopic images of
         common pigmented skin lesions},
  author={Tschandl, Philipp and Rosendahl, Cliff and Kittler, Harald},
  journal={Scientific Data},
  volume={5},
  pages={180161},
  year={2018},
  doi={10.1038/sdata.2018.161}
}""",
        known_issues=(
            "CLIMB's split samples 80% per class without a seed and ignores lesion_id, so images "
            "of the same lesion can fall in both splits; climb's default split is lesion-level "
            "(HAM10000_metadata lesion_id) and seeded.",
            "The original code downloads only the image zip, not the ground-truth it needs.",
            "Patient identifiers are not released (only lesion ids), so 'patients' is unknown.",
        ),
        discrepancies=(
            Discrepancy(
                topic="source",
                documented="Dataset_Info.md says Kaggle",
                code="ISIC 2018 Task 3 S3 zip (https://isic-challenge-data.s3.amazonaws.com/2018/)",
                climb_follows="the code: the ISIC 2018 S3 files, plus the ground-truth zip",
                why="direct, versioned files that need no account",
            ),
        ),
        original_code="src/datasets/derm/HAM10000.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.dermoscopy._adapters import Ham10000Adapter

        return Ham10000Adapter()
