"""KiTS23: contrast-enhanced abdominal CTs of 489 nephrectomy patients with kidney/tumor/cyst masks."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class KiTS23(Dataset):
    card = DatasetCard(
        key="kits23",
        name="KiTS23 (2023 Kidney and Kidney Tumor Segmentation Challenge)",
        domain="ct",
        description=(
            "Corticomedullary-phase abdominal CT scans of patients who underwent partial or radical "
            "nephrectomy for suspected renal malignancy, with expert segmentations of kidney, tumor "
            "and cyst and clinical metadata in kits23.json (489 public training cases). CLIMB "
            "classifies each case as benign or malignant from the 'malignant' field."
        ),
        modalities=(
            Modality(
                name="ct",
                kind="volume",
                shape=None,
                axes=("slice", "height", "width"),
                unit="HU",
                dtype="float32",
                description=(
                    "dataset/case_XXXXX/imaging.nii.gz, variable size. CLIMB windows it (width 700, "
                    "level 80), applies CLAHE and encodes axis-0 slices as a 10 fps mp4."
                ),
            ),
        ),
        tasks=(
            Task(
                name="malignancy",
                type="binary",
                classes=("benign", "malignant"),
                level="patient",
                description=(
                    "kits23.json 'malignant' (False -> benign, True -> malignant); cases with "
                    "malignant == null are excluded."
                ),
            ),
            Task(
                name="segmentation",
                type="segmentation",
                classes=("background", "kidney", "tumor", "cyst"),
                level="series",
                description="Native KiTS23 segmentation.nii.gz labels 0-3.",
            ),
        ),
        samples=478,
        splits={"train": 361, "test": 117},
        patients=489,
        size_bytes=None,
        licence=Licence(
            "CC-BY-NC-SA-4.0",
            "Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International",
            "https://creativecommons.org/licenses/by-nc-sa/4.0/",
        ),
        access="open",
        sources=(
            Source(
                kind="github",
                id="neheller/kits23",
                version="e2822085ffddefb73652ebf78802e6134ebe0566",
                notes=(
                    "Pinned to commit e282208 (holds dataset/kits23.json). The repository holds "
                    "kits23.json and segmentations; the imaging.nii.gz files are fetched by the "
                    "repository's kits23_download_data script from the challenge's file server."
                ),
            ),
        ),
        homepage="https://kits-challenge.org/kits23/",
        citation="""@article{heller2023kits21,
  title={The KiTS21 Challenge: Automatic segmentation of kidneys, renal tumors, and renal cysts in corticomedullary-phase CT},
  author={Heller, Nicholas and Isensee, Fabian and others},
  journal={arXiv preprint arXiv:2307.01984},
  year={2023}
}""",
        known_issues=(
            "CLIMB sets NUM_CLASSES=4 for a binary task (BUG); climb uses 2 classes.",
            "CLIMB's split is the first 75% of kits23.json cases in file order (not random, not "
            "stratified; benign cases are only ~9%).",
            "CLIMB's build_index re-encodes every NIfTI to mp4 on each instantiation.",
            "Strong class imbalance: 439 malignant vs 43 benign among labelled cases in the "
            "current kits23.json.",
        ),
        discrepancies=(
            Discrepancy(
                topic="number of classes",
                documented="binary: Benign / Malignant",
                code="NUM_CLASSES = 4",
                climb_follows="binary (2 classes)",
                why="the label is the boolean 'malignant'; 4 outputs leave two dead logits",
            ),
            Discrepancy(
                topic="sample count",
                documented="478 (361 / 117) in Dataset_Info.md",
                code="kits23.json lists 489 cases, 482 with a non-null 'malignant' (439 True, 43 False)",
                climb_follows="Dataset_Info.md counts for the CLIMB split; 482 labelled cases natively",
                why="CLIMB's count presumably reflects an earlier kits23.json or dropped cases (unverified)",
            ),
        ),
        original_code="src/datasets/ct/kits23.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/volumes-video.md)."""
        from climb.datasets.ct._volumes import Kits23Adapter

        return Kits23Adapter()
