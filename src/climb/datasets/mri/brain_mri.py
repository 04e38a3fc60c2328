"""Brain MRI Images for Brain Tumor Detection: 253 2D MRI images, tumor yes/no (Kaggle)."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class BrainMRI(Dataset):
    card = DatasetCard(
        key="brain_mri",
        name="Brain MRI Images for Brain Tumor Detection",
        domain="mri",
        description=(
            "253 2D brain MRI images in two folders, 'yes' (155 with tumor) and 'no' (98 without), "
            "of mixed formats and sizes. CLIMB (BinaryBrainTumorDataset) shuffles them with seed 42 "
            "and takes 80% for training."
        ),
        modalities=(
            Modality(
                name="mri",
                kind="image",
                shape=None,
                axes=("height", "width", "channel"),
                dtype="uint8",
                description="JPEG/PNG images of variable size; CLIMB resizes to 224x224 with ImageNet normalisation.",
            ),
        ),
        tasks=(
            Task(
                name="tumor",
                type="binary",
                classes=("no_tumor", "tumor"),
                description="Folder name: no -> 0, yes -> 1.",
            ),
        ),
        samples=253,
        splits={"train": 202, "test": 51},
        patients=None,
        size_bytes=None,
        licence=Licence("unknown", "No licence stated"),
        access="open",
        sources=(
            Source(
                kind="kaggle",
                id="jjprotube/brain-mri-images-for-brain-tumor-detection",
                notes=(
                    "Kaggle API token needed. Appears to be a copy of "
                    "navoneel/brain-mri-images-for-brain-tumor-detection; layout <yes|no>/*."
                ),
            ),
        ),
        homepage="https://www.kaggle.com/datasets/jjprotube/brain-mri-images-for-brain-tumor-detection",
        citation="""@misc{chakrabarty2019brainmri,
  title={Brain MRI Images for Brain Tumor Detection},
  author={Chakrabarty, Navoneel},
  year={2019},
  howpublished={Kaggle, \\url{https://www.kaggle.com/datasets/navoneel/brain-mri-images-for-brain-tumor-detection}}
}""",
        known_issues=(
            "CLIMB's split is np.random.seed(42) shuffle then 80/20: reproducible only if the file "
            "listing order is the same (climb sorts file names before shuffling).",
            "No licence is stated and the provenance of the images is undocumented; no patient "
            "identifiers, so near-duplicates may cross splits.",
        ),
        original_code="src/datasets/mri/brain_tumor_2.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.mri._adapters import BrainMriAdapter

        return BrainMriAdapter()
