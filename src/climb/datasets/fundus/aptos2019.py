"""APTOS 2019 Blindness Detection: 3,662 graded fundus photographs from Aravind Eye Hospital
(Kaggle competition)."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset

DR5 = ("No DR", "Mild", "Moderate", "Severe", "Proliferative")


@register_dataset
class APTOS2019(Dataset):
    card = DatasetCard(
        key="aptos2019",
        name="APTOS 2019 Blindness Detection",
        domain="fundus",
        description=(
            "Colour fundus photographs taken in rural India by Aravind Eye Hospital technicians "
            "with various cameras, graded by clinicians on the 0-4 international DR scale for "
            "the Asia Pacific Tele-Ophthalmology Society 2019 Kaggle competition. CLIMB uses "
            "the 3,662 labelled training images only (the test labels are private)."
        ),
        modalities=(
            Modality(
                name="image",
                kind="image",
                shape=None,
                axes=("height", "width", "channel"),
                dtype="uint8",
                description="RGB PNG fundus photograph; resolution varies by camera.",
            ),
        ),
        tasks=(
            Task(
                name="dr5",
                type="multiclass",
                classes=DR5,
                label_space="dr5",
                description="'diagnosis' 0..4 of train.csv (index = grade).",
            ),
        ),
        samples=3662,
        splits={"train": 2929, "test": 733},
        patients=None,
        size_bytes=None,
        licence=Licence(
            "kaggle-competition-rules",
            "APTOS 2019 Blindness Detection competition rules (Kaggle)",
            "https://www.kaggle.com/competitions/aptos2019-blindness-detection/rules",
        ),
        access="competition",
        sources=(
            Source(
                kind="kaggle",
                id="aptos2019-blindness-detection",
                competition=True,
                notes=(
                    "train.csv (id_code, diagnosis), train_images/<id_code>.png; requires "
                    "accepting the competition rules. The archive is not unzipped by Kaggle."
                ),
            ),
        ),
        homepage="https://www.kaggle.com/competitions/aptos2019-blindness-detection",
        citation="""@misc{aptos2019,
  title={{APTOS} 2019 Blindness Detection},
  author={{Asia Pacific Tele-Ophthalmology Society} and Karthik and Maggie and Dane, Sohier},
  howpublished={Kaggle competition},
  url={https://www.kaggle.com/competitions/aptos2019-blindness-detection},
  year={2019}
}""",
        known_issues=(
            "CLIMB's split is per class int(0.8 * count) with random_state=0 over train.csv; "
            "the k-shot subsets use the same seed on the full per-class frame (a prefix of the "
            "same permutation, so a subset of the 80% train part; GUESS about pandas internals).",
            "No patient identifiers; both eyes of a patient may be in different splits.",
            "Images vary strongly in camera, field of view and quality; CLIMB resizes square "
            "images with Resize(224) first.",
            "The competition has no paper; the citation is the Kaggle competition.",
        ),
        original_code="src/datasets/fundus/aptos.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.fundus._adapters import Aptos2019Adapter

        return Aptos2019Adapter()
