"""CMMD: the Chinese Mammography Database, biopsy-confirmed benign/malignant mammograms of 1,775
patients (TCIA)."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class CMMD(Dataset):
    card = DatasetCard(
        key="cmmd",
        name="CMMD (The Chinese Mammography Database)",
        domain="mammography",
        description=(
            "3,728 full-field digital mammograms (CC and MLO) of 1,775 patients from South China "
            "with biopsy-confirmed benign or malignant tumours, plus molecular subtypes for part "
            "of the malignant cases. The clinical table has one row per patient and breast; "
            "CLIMB makes one sample of all images of a row."
        ),
        modalities=(
            Modality(
                name="images",
                kind="image",
                shape=None,
                axes=("view", "height", "width"),
                dtype="uint16",
                description=(
                    "A variable number of DICOM mammograms (usually CC + MLO of one breast) per "
                    "sample; CLIMB converts to 8-bit."
                ),
            ),
        ),
        tasks=(
            Task(
                name="malignancy",
                type="binary",
                classes=("Benign", "Malignant"),
                description="'classification' column of CMMD_clinicaldata_revision.xlsx.",
            ),
        ),
        samples=1872,
        splits={"train": 1404, "test": 468},
        patients=1775,
        size_bytes=None,
        licence=Licence(
            "CC-BY-4.0",
            "Creative Commons Attribution 4.0 International",
            "https://creativecommons.org/licenses/by/4.0/",
        ),
        access="open",
        sources=(
            Source(
                kind="tcia",
                id="CMMD",
                notes=(
                    "DICOM tree CMMD/<patient ID>/... and CMMD_clinicaldata_revision.xlsx "
                    "(ID1, LeftRight, Age, number, abnormality, classification, subtype)."
                ),
            ),
        ),
        homepage="https://www.cancerimagingarchive.net/collection/cmmd/",
        citation="""@misc{cui2021cmmd,
  title={The {Chinese Mammography Database (CMMD)}: An online mammography database with biopsy
         confirmed types for machine diagnosis of breast},
  author={Cui, Chunyan and Li, Li and Cai, Hongmin and Fan, Zhihao and Zhang, Ling and
          Dan, Tingting and Li, Jiao and Wang, Jinghua},
  howpublished={The Cancer Imaging Archive},
  year={2021},
  doi={10.7937/tcia.eqde-4b16}
}""",
        known_issues=(
            "CLIMB's split is the first 75% of the clinical-table rows (no shuffling), which is "
            "row-ordered by patient id and not stratified; a patient with both breasts listed "
            "could straddle the split boundary. climb's default split is patient-level and "
            "seeded.",
            "The original code has no downloader; it expects the TCIA DICOM tree "
            "'The-Chinese-Mammography-Database/CMMD/<ID>'.",
        ),
        original_code="src/datasets/mammo/cmmd.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.mammography._adapters import CmmdAdapter

        return CmmdAdapter()
