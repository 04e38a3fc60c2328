"""CoronaHack Chest X-Ray dataset (Kaggle): pediatric pneumonia radiographs with bacterial/viral
sub-labels, including a few COVID-19 cases."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class CoronaHack(Dataset):
    card = DatasetCard(
        key="coronahack",
        name="CoronaHack Chest X-Ray Dataset",
        domain="chest_xray",
        description=(
            "5,910 chest radiographs, mostly the Guangzhou pediatric pneumonia set of Kermany et "
            "al., with a metadata table (Chest_xray_Corona_Metadata.csv) giving Normal/Pnemonia "
            "and bacterial/virus sub-labels and a fixed TRAIN/TEST split. CLIMB keeps three "
            "classes and drops the 'Stress-Smoking' rows."
        ),
        modalities=(
            Modality(
                name="image",
                kind="image",
                shape=None,
                axes=("height", "width"),
                dtype="uint8",
                description="JPEG chest radiographs of varying size, read as grayscale.",
            ),
        ),
        tasks=(
            Task(
                name="pneumonia3",
                type="multiclass",
                classes=("Normal", "BacterialPneumonia", "ViralPneumonia"),
                description=(
                    "Label 'Normal' -> Normal; 'Pnemonia' (sic) with Label_1_Virus_category "
                    "'bacteria' -> BacterialPneumonia, 'Virus' -> ViralPneumonia (COVID-19 cases "
                    "fall in ViralPneumonia); 'Stress-Smoking' rows are excluded."
                ),
            ),
        ),
        samples=5908,
        splits={"train": 5284, "test": 624},
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
                id="praveengovi/coronahack-chest-xraydataset",
                notes=(
                    "Chest_xray_Corona_Metadata.csv (X_ray_image_name, Label, Dataset_type, "
                    "Label_1_Virus_category, Label_2_Virus_category) and "
                    "Coronahack-Chest-XRay-Dataset/{train,test}/ images."
                ),
            ),
        ),
        homepage="https://www.kaggle.com/datasets/praveengovi/coronahack-chest-xraydataset",
        citation="""@article{kermany2018identifying,
  title={Identifying Medical Diagnoses and Treatable Diseases by Image-Based Deep Learning},
  author={Kermany, Daniel S. and Goldbaum, Michael and Cai, Wenjia and Valentim, Carolina C. S.
          and Liang, Huiying and Baxter, Sally L. and McKeown, Alex and Yang, Ge and Wu, Xiaokang
          and Yan, Fangbing and others and Zhang, Kang},
  journal={Cell},
  volume={172},
  number={5},
  pages={1122--1131.e9},
  year={2018},
  doi={10.1016/j.cell.2018.02.010}
}""",
        known_issues=(
            "BUG in CLIMB: NUM_CLASSES = 4 although the loader produces 3 classes.",
            "COVID-19 images are labelled 'Virus' with Label_2_Virus_category 'COVID-19' and "
            "land in ViralPneumonia (GUESS from the metadata structure); there is no COVID class.",
            "No patient identifiers; the pediatric source has several images per child, so the "
            "fixed split may not be patient-disjoint.",
            "The citation is the source of most images (Kermany et al. 2018); the Kaggle "
            "repackaging has no paper of its own.",
        ),
        original_code="src/datasets/chest_xray/coronahack.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.chest_xray._adapters import CoronaHackAdapter

        return CoronaHackAdapter()
