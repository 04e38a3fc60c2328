"""INSPECT: 23,248 CT pulmonary angiograms of 19,402 Stanford patients with impressions and EHR."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset

PE_TYPES = (
    "no_pe",
    "acute_subsegmental_only_pe",
    "acute_pe",
    "subsegmental_only_pe",
    "chronic_pe",
)


@register_dataset
class INSPECT(Dataset):
    card = DatasetCard(
        key="inspect",
        name="INSPECT",
        domain="ct",
        description=(
            "A multimodal dataset for pulmonary embolism diagnosis and prognosis from Stanford "
            "Medicine: CT pulmonary angiography (CTPA) volumes paired with radiology report "
            "impressions and longitudinal EHR. CLIMB classifies each CTPA into 5 PE categories "
            "derived from the impression labels."
        ),
        modalities=(
            Modality(
                name="ct",
                kind="volume",
                shape=None,
                axes=("slice", "height", "width"),
                unit="HU",
                dtype="int16",
                description=(
                    "One CTPA volume per study (NIfTI, variable number of slices). CLIMB windows "
                    "it (width 700, level 80: -270..430 HU), applies CLAHE (clip 1.5, 8x8) and "
                    "encodes the axial slices as a 10 fps mp4."
                ),
            ),
            Modality(
                name="impression",
                kind="text",
                description="Radiology report impression of the study (not used by CLIMB).",
            ),
        ),
        tasks=(
            Task(
                name="pe_type",
                type="multiclass",
                classes=PE_TYPES,
                description=(
                    "CLIMB's 5 classes: pe_positive==0 -> no_pe; else pe_acute and "
                    "pe_subsegmentalonly -> acute_subsegmental_only_pe; else pe_acute -> acute_pe; "
                    "else pe_subsegmentalonly -> subsegmental_only_pe; else chronic_pe."
                ),
            ),
            Task(
                name="pe",
                type="binary",
                classes=("no_pe", "pe"),
                description="Native pe_positive label from Final_Impressions_labels.csv.",
            ),
            Task(
                name="mortality_12_month",
                type="binary",
                classes=("alive", "dead"),
                level="patient",
                description=(
                    "Native INSPECT prognosis label (also 1- and 6-month variants); needs the "
                    "INSPECT EHR part, not used by CLIMB."
                ),
            ),
            Task(
                name="readmission_12_month",
                type="binary",
                classes=("no_readmission", "readmission"),
                level="patient",
                description="Native INSPECT prognosis label (also 1- and 6-month variants); not used by CLIMB.",
            ),
            Task(
                name="pulmonary_hypertension_12_month",
                type="binary",
                classes=("no_ph", "ph"),
                level="patient",
                description="Native INSPECT prognosis label; not used by CLIMB.",
            ),
        ),
        samples=23240,
        splits={"train": 17434, "test": 5806},
        patients=19402,
        size_bytes=None,
        licence=Licence(
            "stanford-research-use",
            "Stanford University Dataset Research Use Agreement",
            "https://stanfordaimi.azurewebsites.net/",
        ),
        access="registration",
        sources=(
            Source(
                kind="manual",
                url="https://stanfordaimi.azurewebsites.net/",
                instructions=(
                    "Sign in to the Stanford AIMI shared-datasets portal, find INSPECT, accept the "
                    "Stanford research use agreement and download the CTPA volumes and the "
                    "impression label table; place them in the raw folder."
                ),
                expected_layout=(
                    "CTPA/*.nii.gz  # one CT pulmonary angiogram per study, named "
                    "<impression_id>.nii.gz\n"
                    "Final_Impressions_labels.csv  # impression_id, pe_positive, pe_acute, "
                    "pe_subsegmentalonly, ... (one row per study)"
                ),
                notes=(
                    "The EHR part (for the prognosis tasks) is distributed separately; see the "
                    "INSPECT_public repository for the current access route."
                ),
            ),
        ),
        homepage="https://github.com/som-shahlab/INSPECT_public",
        citation="""@inproceedings{huang2023inspect,
  title={INSPECT: A Multimodal Dataset for Pulmonary Embolism Diagnosis and Prognosis},
  author={Huang, Shih-Cheng and Huo, Zepeng and Steinberg, Ethan and Chiang, Chia-Chun and Lungren, Matthew P. and Langlotz, Curtis P. and Yeung, Serena and Shah, Nigam H. and Fries, Jason A.},
  booktitle={Advances in Neural Information Processing Systems, Datasets and Benchmarks Track},
  year={2023},
  eprint={2311.10798},
  archivePrefix={arXiv}
}""",
        known_issues=(
            "CLIMB's split is the first 75% of Final_Impressions_labels.csv rows: not random and "
            "not patient-level (19,402 patients have 23k+ studies, so patients cross splits); "
            "climb's default split is patient-level.",
            "CLIMB converts every volume to a lossy mp4v video before training.",
            "CLIMB's loader has no downloader (manual AIMI download).",
        ),
        discrepancies=(
            Discrepancy(
                topic="sample count",
                documented="23,240 (17,434 / 5,806) in Dataset_Info.md",
                code="rows of Final_Impressions_labels.csv; the INSPECT paper reports 23,248 CTPA studies",
                climb_follows="Dataset_Info.md (23,240) for the CLIMB split; the source count otherwise",
                why="the 8 missing studies are presumably studies without a readable volume (unverified)",
            ),
        ),
        original_code="src/datasets/ct/inspect.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/volumes-video.md)."""
        from climb.datasets.ct._volumes import InspectAdapter

        return InspectAdapter()
