"""COVID-19 Detection X-Ray dataset (Kaggle): chest radiographs of normal, bacterial pneumonia,
viral pneumonia and COVID-19 cases."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class Covid19CXR(Dataset):
    card = DatasetCard(
        key="covid19_cxr",
        name="COVID-19 Detection X-Ray Dataset",
        domain="chest_xray",
        description=(
            "A Kaggle collection of chest radiographs in four classes (normal, bacterial "
            "pneumonia, viral pneumonia, COVID-19), shipped with fixed TrainData and ValData "
            "folders. The images are collected from public sources; CLIMB uses the folders as "
            "its train/test split."
        ),
        modalities=(
            Modality(
                name="image",
                kind="image",
                shape=None,
                axes=("height", "width"),
                dtype="uint8",
                description="JPEG/PNG chest radiographs of varying size, read as grayscale.",
            ),
        ),
        tasks=(
            Task(
                name="covid4",
                type="multiclass",
                classes=("Normal", "BacterialPneumonia", "ViralPneumonia", "COVID-19"),
                description="Folder label; index order of the original loader (Normal = 0).",
            ),
        ),
        samples=2990,
        splits={"train": 2002, "test": 988},
        patients=None,
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
                id="darshan1504/covid19-detection-xray-dataset",
                notes="Folders TrainData/ and ValData/, one sub-folder per class.",
            ),
        ),
        homepage="https://www.kaggle.com/datasets/darshan1504/covid19-detection-xray-dataset",
        citation="""@misc{darshan2020covid19xray,
  title={{COVID-19} Detection X-Ray Dataset},
  author={Darshan},
  howpublished={Kaggle dataset darshan1504/covid19-detection-xray-dataset},
  url={https://www.kaggle.com/datasets/darshan1504/covid19-detection-xray-dataset},
  year={2020}
}""",
        known_issues=(
            "The provenance of the images is not documented on the dataset page; they are "
            "probably drawn from the Kermany et al. pediatric pneumonia set and public COVID-19 "
            "image collections (GUESS), so site and age confounding is likely.",
            "No patient identifiers: duplicates or several images of one patient across the "
            "train/test folders cannot be ruled out.",
            "The CLIMB folder split is called 'ValData' but used as the test set.",
            "The Kaggle page names no paper; the citation is the Kaggle dataset itself.",
        ),
        original_code="src/datasets/chest_xray/covid19.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.chest_xray._adapters import Covid19CxrAdapter

        return Covid19CxrAdapter()
