"""Brain CT hemorrhage: 2,501 head-CT slices of 82 patients (Hssayeni et al.), Kaggle copy."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class BrainCTHemorrhage(Dataset):
    card = DatasetCard(
        key="brain_ct_hemorrhage",
        name="Computed Tomography Images for Intracranial Hemorrhage Detection and Segmentation",
        domain="ct",
        description=(
            "Non-contrast head CT scans of 82 patients (Al Hilla Teaching Hospital, Iraq) with "
            "slice-level labels for five hemorrhage subtypes and fracture, plus hemorrhage masks. "
            "The Kaggle copy ships every slice as a brain-window and a bone-window JPEG; CLIMB "
            "predicts whether a slice shows any hemorrhage from both images."
        ),
        modalities=(
            Modality(
                name="brain_window",
                kind="image",
                shape=None,
                axes=("height", "width"),
                dtype="uint8",
                description="Patients_CT/<patient>/brain/<slice>.jpg, grayscale brain window.",
            ),
            Modality(
                name="bone_window",
                kind="image",
                shape=None,
                axes=("height", "width"),
                dtype="uint8",
                description="Patients_CT/<patient>/bone/<slice>.jpg, grayscale bone window.",
            ),
        ),
        tasks=(
            Task(
                name="hemorrhage",
                type="binary",
                classes=("no_hemorrhage", "hemorrhage"),
                description="CLIMB: 0 if No_Hemorrhage == 1 else 1 (hemorrhage_diagnosis.csv).",
            ),
            Task(
                name="hemorrhage_type",
                type="multilabel",
                classes=(
                    "intraventricular",
                    "intraparenchymal",
                    "subarachnoid",
                    "epidural",
                    "subdural",
                ),
                description="Native subtype columns of hemorrhage_diagnosis.csv.",
            ),
            Task(
                name="fracture",
                type="binary",
                classes=("no_fracture", "fracture"),
                description="Native Fracture_Yes_No column.",
            ),
            Task(
                name="segmentation",
                type="segmentation",
                classes=("background", "hemorrhage"),
                description="Native hemorrhage masks for positive slices.",
            ),
        ),
        samples=2501,
        splits={"train": 1986, "test": 515},
        patients=82,
        size_bytes=None,
        licence=Licence(
            "CC-BY-4.0",
            "Creative Commons Attribution 4.0 International",
            "https://creativecommons.org/licenses/by/4.0/",
        ),
        access="open",
        sources=(
            Source(
                kind="kaggle",
                id="vbookshelf/computed-tomography-ct-images",
                notes=(
                    "Kaggle API token needed. The original release (NIfTI volumes) is PhysioNet "
                    "'ct-ich' (Hssayeni et al.)."
                ),
            ),
        ),
        homepage="https://www.kaggle.com/datasets/vbookshelf/computed-tomography-ct-images",
        citation="""@article{hssayeni2020intracranial,
  title={Intracranial Hemorrhage Segmentation Using A Deep Convolutional Model},
  author={Hssayeni, Murtadha D. and Croock, Muayad S. and Salman, Aymen D. and Al-khafaji, Hassan Falah and Yahya, Zakaria A. and Ghoraani, Behnaz},
  journal={Data},
  volume={5},
  number={1},
  pages={14},
  year={2020},
  doi={10.3390/data5010014}
}""",
        known_issues=(
            "CLIMB's split is patient-level (train_test_split over patients, test_size=0.2, "
            "random_state=42): reproducible given the same patient order.",
            "Each sample carries two images of the same slice (brain and bone window); models "
            "must accept 2 images.",
            "Only ~12% of slices are positive; 82 patients make estimates noisy.",
        ),
        original_code="src/datasets/ct/hemorrhage.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.ct._hemorrhage import BrainCtHemorrhageAdapter

        return BrainCtHemorrhageAdapter()
