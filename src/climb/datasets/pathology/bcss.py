"""BCSS: Breast Cancer Semantic Segmentation ROIs from TCGA; CLIMB classifies 4 tissue types in patches."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset

BCSS_CODES = (
    "outside_roi",
    "tumor",
    "stroma",
    "lymphocytic_infiltrate",
    "necrosis_or_debris",
    "glandular_secretions",
    "blood",
    "exclude",
    "metaplasia_nos",
    "fat",
    "plasma_cells",
    "other_immune_infiltrate",
    "mucoid_material",
    "normal_acinus_or_duct",
    "lymphatics",
    "undetermined",
    "nerve",
    "skin_adnexa",
    "blood_vessel",
    "angioinvasion",
    "dcis",
    "other",
)


@register_dataset
class BCSS(Dataset):
    card = DatasetCard(
        key="bcss",
        name="BCSS (Breast Cancer Semantic Segmentation)",
        domain="pathology",
        description=(
            "Over 20,000 crowdsourced tissue-region annotations in 151 H&E regions of interest "
            "from 151 TCGA breast-cancer whole-slide images, with pixel masks of 21 tissue "
            "classes (Amgad et al. 2019). CLIMB tiles the ROIs into patches and classifies the "
            "four main classes: tumor, stroma, lymphocytic infiltrate and necrosis/debris."
        ),
        modalities=(
            Modality(
                name="histology",
                kind="image",
                shape=None,
                axes=("height", "width", "channel"),
                dtype="uint8",
                description=(
                    "RGB patches cut from the ROI images; native ROIs are PNGs named "
                    "TCGA-<site>-<patient>-...png with matching masks."
                ),
            ),
        ),
        tasks=(
            Task(
                name="tissue_type",
                type="multiclass",
                classes=("tumor", "stroma", "lymphocytic_infiltrate", "necrosis_or_debris"),
                description="CLIMB: mask codes 1-4 -> 0-3; patches of other classes are not used.",
            ),
            Task(
                name="segmentation",
                type="segmentation",
                classes=BCSS_CODES,
                description="Native mask codes 0-21 (gtruth_codes.tsv); 0 = outside ROI, 7 = exclude.",
            ),
        ),
        samples=5264,
        splits={"train": 4211, "test": 1053},
        patients=151,
        size_bytes=None,
        licence=Licence(
            "CC0-1.0",
            "Creative Commons Zero v1.0 Universal (public domain)",
            "https://creativecommons.org/publicdomain/zero/1.0/",
        ),
        access="open",
        sources=(
            Source(
                kind="manual",
                url="https://github.com/PathologyDataScience/BCSS",
                instructions=(
                    "Follow the repository's download instructions (download script or the "
                    "linked Google Drive folder) to get the ROI images and masks, then place them "
                    "in the raw folder."
                ),
                expected_layout=(
                    "images/*.png  # RGB ROIs named after their TCGA slide (the BCSS Google "
                    "Drive calls this folder rgbs_colorNormalized/: rename it to images/)\n"
                    "masks/*.png  # one mask per ROI, same file name, uint8 codes 0-21 (1 "
                    "tumour, 2 stroma, 3 lymphocytic infiltrate, 4 necrosis/debris)"
                ),
                notes=(
                    "CLIMB expects images/ and masks/ and 5,264 patches; how CLIMB tiled the ROIs "
                    "into patches is not documented in its repository."
                ),
            ),
        ),
        homepage="https://github.com/PathologyDataScience/BCSS",
        citation="""@article{amgad2019structured,
  title={Structured crowdsourcing enables convolutional segmentation of histology images},
  author={Amgad, Mohamed and Elfandy, Habiba and Hussein, Hagar and others},
  journal={Bioinformatics},
  volume={35},
  number={18},
  pages={3461--3467},
  year={2019},
  doi={10.1093/bioinformatics/btz083}
}""",
        known_issues=(
            "CLIMB's test set is the slides from sites {OL, LL, E2, EW, GM, S3} (site-level, "
            "leak-free); the remainder is split 90/10 by image with seed 42, so patches of one "
            "ROI can fall in both train and validation.",
            "The patch-level label rule (dominant class of the mask patch) and patch size are not "
            "stated in CLIMB's documentation.",
            "CLIMB's loader has no downloader.",
        ),
        original_code="src/datasets/pathology/bcss.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.pathology._adapters import BcssAdapter

        return BcssAdapter()
