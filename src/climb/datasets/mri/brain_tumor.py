"""Brain Tumor Classification (MRI): 3,264 2D MRI slices in 4 classes (Kaggle, Bhuvaji et al.)."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class BrainTumor(Dataset):
    card = DatasetCard(
        key="brain_tumor",
        name="Brain Tumor Classification (MRI)",
        domain="mri",
        description=(
            "3,264 2D brain MRI images (JPEG) sorted into glioma, meningioma, pituitary tumor and "
            "no tumor, with fixed Training (2,870) and Testing (394) folders. CLIMB uses the "
            "folders as its split."
        ),
        modalities=(
            Modality(
                name="mri",
                kind="image",
                shape=None,
                axes=("height", "width", "channel"),
                dtype="uint8",
                description="JPEG slices of mixed sequence/plane and size; CLIMB resizes to 224x224 with ImageNet normalisation.",
            ),
        ),
        tasks=(
            Task(
                name="tumor_type",
                type="multiclass",
                classes=("no_tumor", "glioma_tumor", "meningioma_tumor", "pituitary_tumor"),
                description="Folder name (CLIMB order: no_tumor 0, glioma 1, meningioma 2, pituitary 3).",
            ),
        ),
        samples=3264,
        splits={"train": 2870, "test": 394},
        patients=None,
        size_bytes=None,
        licence=Licence("MIT", "MIT License", "https://opensource.org/licenses/MIT"),
        access="open",
        sources=(
            Source(
                kind="kaggle",
                id="sartajbhuvaji/brain-tumor-classification-mri",
                notes="Kaggle API token needed. Layout Training|Testing/<class>/*.jpg.",
            ),
        ),
        homepage="https://www.kaggle.com/datasets/sartajbhuvaji/brain-tumor-classification-mri",
        citation="""@misc{bhuvaji2020brain,
  title={Brain Tumor Classification (MRI)},
  author={Bhuvaji, Sartaj and Kadam, Ankita and Bhumkar, Prajakta and Dedge, Sameer and Kanchan, Swati},
  year={2020},
  publisher={Kaggle},
  doi={10.34740/KAGGLE/DSV/1183165}
}""",
        known_issues=(
            "No patient identifiers: slices of one patient may be in both Training and Testing.",
            "The Testing folder has a different class balance from Training (e.g. few no_tumor "
            "vs many glioma-labelled images), and label noise in Testing has been reported by users.",
        ),
        original_code="src/datasets/mri/brain_tumor.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.mri._adapters import BrainTumorAdapter

        return BrainTumorAdapter()
