"""VinDr-Mammo: 5,000 four-view full-field digital mammography exams (20,000 DICOM images) from
Vietnam with breast-level BI-RADS and density and finding-level boxes (PhysioNet, restricted)."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class VinDrMammo(Dataset):
    card = DatasetCard(
        key="vindr_mammo",
        name="VinDr-Mammo",
        domain="mammography",
        description=(
            "5,000 screening and diagnostic mammography exams (four views each, 20,000 images) "
            "from Hospital 108 and Hanoi Medical University Hospital, double-read with "
            "arbitration, with breast-level BI-RADS assessment and density and finding-level "
            "bounding boxes. An official split puts 4,000 exams in training and 1,000 in test."
        ),
        modalities=(
            Modality(
                name="image",
                kind="image",
                shape=None,
                axes=("height", "width"),
                dtype="uint16",
                description=(
                    "DICOM full-field digital mammogram (CC or MLO view of one breast), native "
                    "resolution; CLIMB converts to 8-bit JPEG."
                ),
            ),
        ),
        tasks=(
            Task(
                name="birads",
                type="multiclass",
                classes=("BI-RADS 1", "BI-RADS 2", "BI-RADS 3", "BI-RADS 4", "BI-RADS 5"),
                description=(
                    "Breast-level BI-RADS assessment of the image's breast (breast_birads), "
                    "index = category - 1 as in CLIMB (int(label[-1]) - 1). A subset of the "
                    "birads label space (categories 1-5)."
                ),
            ),
            Task(
                name="density",
                type="multiclass",
                classes=("DENSITY A", "DENSITY B", "DENSITY C", "DENSITY D"),
                description="Breast composition (ACR density A-D), native breast_density column.",
            ),
        ),
        samples=20000,
        splits={"train": 16000, "test": 4000},
        patients=None,
        size_bytes=None,
        licence=Licence(
            "physionet-restricted-1.5.0",
            "PhysioNet Restricted Health Data License 1.5.0",
            "https://physionet.org/content/vindr-mammo/view-license/1.0.0/",
        ),
        access="dua",
        sources=(
            Source(
                kind="physionet",
                id="vindr-mammo",
                version="1.0.0",
                notes=(
                    "images/<study_id>/<image_id>.dicom, breast-level_annotations.csv (split "
                    "'training'/'test'), finding_annotations.csv, metadata.csv. Requires a "
                    "PhysioNet account and the signed restricted-access DUA."
                ),
            ),
        ),
        homepage="https://physionet.org/content/vindr-mammo/1.0.0/",
        citation="""@article{nguyen2023vindrmammo,
  title={{VinDr-Mammo}: A large-scale benchmark dataset for computer-aided diagnosis in
         full-field digital mammography},
  author={Nguyen, Hieu T. and Nguyen, Ha Q. and Pham, Hieu H. and Lam, Khanh and Le, Linh T. and
          Dao, Minh and Vu, Van},
  journal={Scientific Data},
  volume={10},
  number={1},
  pages={277},
  year={2023},
  doi={10.1038/s41597-023-02100-7}
}""",
        known_issues=(
            "One sample per image: the four views of an exam and both views of a breast share "
            "the breast-level label, so images are not independent.",
            "CLIMB's original image list comes from finding_annotations.csv (required_files[3]), "
            "which has one row per finding rather than per image.",
            "CLIMB's gdown test-annotation id for VinDr-Mammo is the MIMIC-CXR one (copy-paste "
            "BUG), so the prebuilt test JSONL is wrong.",
            "The original build_index deletes and rebuilds the JPEG folder whenever it does not "
            "hold exactly 20,000 files.",
            "Patient identifiers are removed from the release, so 'patients' is unknown "
            "(5,000 exams).",
        ),
        original_code="src/datasets/mammo/vindr.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.mammography._adapters import VindrMammoAdapter

        return VindrMammoAdapter()
