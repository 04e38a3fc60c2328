"""BUSI: 780 breast ultrasound images of 600 women (Baheya Hospital, Cairo) with lesion masks."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class BUSI(Dataset):
    card = DatasetCard(
        key="busi",
        name="BUSI (Breast Ultrasound Images Dataset)",
        domain="ultrasound",
        description=(
            "780 breast ultrasound images collected in 2018 from 600 women aged 25-75 at Baheya "
            "Hospital (Cairo): 133 normal, 437 benign and 210 malignant, each lesion with a "
            "ground-truth mask. CLIMB classifies images into normal, benign and malignant."
        ),
        modalities=(
            Modality(
                name="ultrasound",
                kind="image",
                shape=None,
                axes=("height", "width", "channel"),
                dtype="uint8",
                description="PNG, variable size (about 500x500); '<class> (<n>)_mask*.png' files are masks, not samples.",
            ),
        ),
        tasks=(
            Task(
                name="busi3",
                type="multiclass",
                classes=("normal", "benign", "malignant"),
                description="Folder name of the image (CLIMB: normal 0, benign 1, malignant 2).",
            ),
            Task(
                name="lesion_segmentation",
                type="segmentation",
                classes=("background", "lesion"),
                description="Native lesion masks (some images have several: _mask, _mask_1, ...).",
            ),
        ),
        samples=780,
        splits={"train": 583, "test": 197},
        patients=600,
        size_bytes=None,
        licence=Licence(
            "CC0-1.0",
            "Creative Commons Zero v1.0 Universal (public domain)",
            "https://creativecommons.org/publicdomain/zero/1.0/",
        ),
        access="open",
        sources=(
            Source(
                kind="kaggle",
                id="aryashah2k/breast-ultrasound-images-dataset",
                notes=(
                    "Kaggle API token needed. Images under Dataset_BUSI_with_GT/<benign|malignant|"
                    "normal>/ (CLIMB renames the folder to 'busi'); mask files are excluded."
                ),
            ),
        ),
        homepage="https://www.kaggle.com/datasets/aryashah2k/breast-ultrasound-images-dataset",
        citation="""@article{aldhabyani2020dataset,
  title={Dataset of breast ultrasound images},
  author={Al-Dhabyani, Walid and Gomaa, Mohammed and Khaled, Hussien and Fahmy, Aly},
  journal={Data in Brief},
  volume={28},
  pages={104863},
  year={2020},
  doi={10.1016/j.dib.2019.104863}
}""",
        known_issues=(
            "CLIMB's split takes, per class, the first 75% of files sorted by filename: "
            "deterministic but not random, and not patient-level (patients are not identified, "
            "several images may come from one woman).",
            "Images may contain annotations/markers burnt in by the scanner; near-duplicate images "
            "have been reported in the literature.",
        ),
        original_code="src/datasets/ultrasound/busi.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.ultrasound._adapters import BusiAdapter

        return BusiAdapter()
