"""CBIS-DDSM: the Curated Breast Imaging Subset of DDSM, scanned-film mammograms with verified
mass and calcification ROIs, BI-RADS assessment and pathology (TCIA)."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class CBISDDSM(Dataset):
    card = DatasetCard(
        key="cbis_ddsm",
        name="CBIS-DDSM",
        domain="mammography",
        description=(
            "An updated and standardised subset of the Digital Database for Screening "
            "Mammography: decompressed scanned-film mammograms (DICOM) of 1,566 participants "
            "with radiologist-verified mass and calcification ROIs, BI-RADS assessment, "
            "pathology and an official train/test split. CLIMB predicts the BI-RADS assessment "
            "per breast view."
        ),
        modalities=(
            Modality(
                name="image",
                kind="image",
                shape=None,
                axes=("height", "width"),
                dtype="uint16",
                description=(
                    "Full mammogram (CC or MLO view), DICOM digitised film, native resolution "
                    "(several thousand px per side); ROI masks and crops are also released."
                ),
            ),
        ),
        tasks=(
            Task(
                name="birads",
                type="multiclass",
                classes=("BI-RADS 1", "BI-RADS 2", "BI-RADS 3", "BI-RADS 4", "BI-RADS 5"),
                description=(
                    "'assessment' 1..5 -> index 0..4; rows with assessment 0 dropped. Breast-view "
                    "label = max assessment over the abnormalities of (patient, side, view). A "
                    "subset of the birads label space."
                ),
            ),
            Task(
                name="pathology",
                type="multiclass",
                classes=("BENIGN_WITHOUT_CALLBACK", "BENIGN", "MALIGNANT"),
                description="Native per-abnormality pathology of the mass/calc description CSVs.",
            ),
        ),
        samples=2825,
        splits={"train": 2230, "test": 595},
        patients=1566,
        size_bytes=163_600_000_000,
        licence=Licence(
            "CC-BY-3.0",
            "Creative Commons Attribution 3.0 Unported",
            "https://creativecommons.org/licenses/by/3.0/",
        ),
        access="open",
        sources=(
            Source(
                kind="tcia",
                id="CBIS-DDSM",
                notes=(
                    "DICOM images plus mass_case_description_{train,test}_set.csv and "
                    "calc_case_description_{train,test}_set.csv (official split)."
                ),
            ),
            Source(
                kind="kaggle",
                id="awsaf49/cbis-ddsm-breast-cancer-image-dataset",
                notes=(
                    "JPEG re-encoding named in the original docstring; an alternative to the "
                    "TCIA DICOMs, not the default."
                ),
                alternate=True,
            ),
        ),
        homepage="https://www.cancerimagingarchive.net/collection/cbis-ddsm/",
        citation="""@article{lee2017cbisddsm,
  title={A curated mammography data set for use in computer-aided detection and diagnosis
         research},
  author={Lee, Rebecca Sawyer and Gimenez, Francisco and Hoogi, Assaf and Miyake, Kanae Kawai
          and Gorovoy, Mia and Rubin, Daniel L.},
  journal={Scientific Data},
  volume={4},
  pages={170177},
  year={2017},
  doi={10.1038/sdata.2017.177}
}""",
        known_issues=(
            "The original code has no downloader; its docstring points to a Kaggle JPEG copy.",
            "BI-RADS assessment 0 (incomplete) rows are dropped by CLIMB.",
            "Breast-view labels take the maximum assessment over several abnormalities, so the "
            "label may not describe every finding in the image.",
        ),
        discrepancies=(
            Discrepancy(
                topic="number of classes",
                documented="6 classes (BI-RADS 0-5) in Dataset_Info.md",
                code="assessment 1..5 -> 0..4; assessment 0 rows dropped (5 classes)",
                climb_follows="the code: 5 classes, BI-RADS 1-5",
                why=(
                    "the shipped counts (2,825 = 2,230 / 595) are those of the code's filtered "
                    "breast-view table, and BI-RADS 0 is not a diagnostic assessment"
                ),
            ),
        ),
        original_code="src/datasets/mammo/cbis.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.mammography._adapters import CbisDdsmAdapter

        return CbisDdsmAdapter()
