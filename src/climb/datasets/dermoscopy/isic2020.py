"""ISIC 2020 (SIIM-ISIC Melanoma Classification): 33,126 dermoscopic images of 2,056 patients
with benign/malignant labels and patient-level context."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class ISIC2020(Dataset):
    card = DatasetCard(
        key="isic2020",
        name="ISIC 2020 Challenge Dataset",
        domain="dermoscopy",
        description=(
            "33,126 dermoscopic images of 2,056 patients from several international centres, "
            "released for the SIIM-ISIC 2020 melanoma classification challenge, each with a "
            "patient id, anatomical site, diagnosis and a benign/malignant target (584 "
            "histopathologically confirmed melanomas). CLIMB uses the training release only."
        ),
        modalities=(
            Modality(
                name="image",
                kind="image",
                shape=None,
                axes=("height", "width", "channel"),
                dtype="uint8",
                description="RGB JPEG dermoscopy image, native resolution varies.",
            ),
        ),
        tasks=(
            Task(
                name="malignant",
                type="binary",
                classes=("benign", "malignant"),
                description="'target' / benign_malignant column of the ground-truth CSV.",
            ),
        ),
        samples=33126,
        splits={"train": 26501, "test": 6625},
        patients=2056,
        size_bytes=23_000_000_000,
        licence=Licence(
            "CC-BY-NC-4.0",
            "Creative Commons Attribution-NonCommercial 4.0 International",
            "https://creativecommons.org/licenses/by-nc/4.0/",
        ),
        access="open",
        sources=(
            Source(
                kind="url",
                url="https://isic-challenge-data.s3.amazonaws.com/2020/ISIC_2020_Training_JPEG.zip",
                role="data",
                notes="Training images (train/ISIC_*.jpg).",
            ),
            Source(
                kind="url",
                url="https://isic-challenge-data.s3.amazonaws.com/2020/ISIC_2020_Training_GroundTruth.csv",
                role="labels",
                notes=(
                    "image_name, patient_id, sex, age_approx, anatom_site_general_challenge, "
                    "diagnosis, benign_malignant, target. Not downloaded by the original code."
                ),
            ),
        ),
        homepage="https://challenge2020.isic-archive.com/",
        citation="""@article{rotemberg2021isic2020,
  title={A patient-centric dataset of images and metadata for identifying melanomas using
         clinical context},
  author={Rotemberg, Veronica and Kurtansky, Nicholas and Betz-Stablein, Brigid and
          Caffery, Liam and Chousakos, Emmanouil and Codella, Noel and Combalia, Marc and
          Dusza, Stephen and Guitera, Pascale and Gutman, David and others and Soyer, H. Peter},
  journal={Scientific Data},
  volume={8},
  number={1},
  pages={34},
  year={2021},
  doi={10.1038/s41597-021-00815-z}
}""",
        known_issues=(
            "CLIMB's split samples 80% per class without a seed and ignores patient_id, so it is "
            "neither reproducible nor patient-level; climb's default split is patient-level and "
            "seeded, and the counts 26,501 / 6,625 are CLIMB's.",
            "The original code downloads only the image zip, not the ground-truth CSV it needs.",
            "Strong class imbalance: about 1.8% malignant.",
            "The release contains near-duplicate images (the challenge later published a "
            "duplicates list and a v2 ground truth); climb reports them.",
        ),
        original_code="src/datasets/derm/isic2020.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.dermoscopy._adapters import Isic2020Adapter

        return Isic2020Adapter()
