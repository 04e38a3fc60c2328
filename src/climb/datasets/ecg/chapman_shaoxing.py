"""Chapman-Shaoxing: 12-lead ECGs (10 s, 500 Hz) from Chapman University and Shaoxing People's
Hospital, as released in the PhysioNet/CinC Challenge 2021."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.labels import get_label_space
from climb.registry import Dataset, register_dataset

ECG7: tuple[str, ...] = get_label_space("ecg7").names


@register_dataset
class ChapmanShaoxing(Dataset):
    card = DatasetCard(
        key="chapman_shaoxing",
        name="Chapman-Shaoxing 12-lead ECG",
        domain="ecg",
        description=(
            "12-lead resting ECGs of 10 s at 500 Hz recorded at Shaoxing People's Hospital "
            "(China) and curated with Chapman University, labelled with rhythm and morphology "
            "statements (SNOMED-CT in the PhysioNet releases). CLIMB uses the 10,247-record "
            "Challenge-2021 copy (record ids JS*), grouped into the 7 ECG classes."
        ),
        modalities=(
            Modality(
                name="ecg",
                kind="signal",
                shape=(12, 5000),
                axes=("lead", "time"),
                unit="mV",
                sampling_rate_hz=500.0,
                dtype="float32",
                description="12 leads in standard order I, II, III, aVR, aVL, aVF, V1-V6; 10 s",
            ),
        ),
        tasks=(
            Task(
                name="ecg7",
                type="multilabel",
                classes=ECG7,
                label_space="ecg7",
                description=(
                    "CLIMB's 7 unified ECG classes, multi-hot, from the Chapman abbreviations "
                    "(SB/SR/ST -> normal, AF/AFIB -> afib, MILW -> mi, ...). CLIMB trains one "
                    "random positive class (cross-entropy); climb keeps the multi-hot vector."
                ),
            ),
        ),
        samples=10247,
        splits={"train": 8196, "val": 2051},
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
                kind="physionet",
                id="challenge-2021",
                version="1.0.3",
                include=("training/chapman_shaoxing/*",),
                notes=(
                    "Challenge-2021 copy: JS*.hea/.mat with SNOMED-CT '#Dx' lines; the record "
                    "ids of CLIMB's split CSV resolve against it."
                ),
            ),
            Source(
                kind="physionet",
                id="ecg-arrhythmia",
                version="1.0.0",
                notes=(
                    "Native source: 'A large scale 12-lead electrocardiogram database for "
                    "arrhythmia study' (Chapman-Shaoxing + Ningbo, 45,152 records, WFDBRecords/). "
                    "The original CLIMB code points here (a directory URL, not an archive). A superset "
                    "of the Challenge copy: it also holds Ningbo's records, so a store prepared "
                    "from this copy alone includes them (not checked against CLIMB's id list)."
                ),
                alternate=True,
            ),
            Source(
                kind="github",
                id="DDVD233/CLIMB",
                version="0f767b1",
                role="splits",
                include=("src/datasets/ecg/ChapmanShaoxing_splits.csv",),
                notes="CLIMB's shipped train/val split and 7-class labels (10,247 rows).",
            ),
        ),
        homepage="https://physionet.org/content/challenge-2021/1.0.3/",
        citation="""@article{zheng2020chapman,
  title={A 12-lead electrocardiogram database for arrhythmia research covering more than
         10,000 patients},
  author={Zheng, Jianwei and Zhang, Jianming and Danioko, Sidy and Yao, Hai and
          Guo, Hangyuan and Rakovski, Cyril},
  journal={Scientific Data},
  volume={7},
  number={1},
  pages={48},
  year={2020},
  doi={10.1038/s41597-020-0386-x}
}""",
        known_issues=(
            "CLIMB's split is record-level (column 'patient' holds the record id JS*), "
            "stratified on the 7-bit label combination without a seed; it is reproducible only "
            "through the shipped CSV.",
            "CLIMB reduces the multi-hot vector to one random positive class "
            "(np.random.seed(row)).",
            "Case mismatch in CLIMB's label code: the dict value 'nonspecific BBB' never matches "
            "'Nonspecific BBB' in the cd list, so that statement is dropped.",
            "CLIMB's Chapman dict lookup raises KeyError on a SNOMED code absent from it; climb "
            "maps unknown codes to no group and reports them.",
            "The loader drops recordings whose processed length is not 5000 samples.",
            "ChapmanShaoxing(finetune_size='small') defaults to an 8-shot subset in the original "
            "code; climb's default is the full training split.",
            "The patient count is not published for the Challenge copy (the original Chapman "
            "database has one ECG per patient), so 'patients' is left unknown.",
        ),
        discrepancies=(
            Discrepancy(
                topic="sample count",
                documented="40,258 (38,207 train / 2,051 test) in Dataset_Info.md",
                code="ChapmanShaoxing_splits.csv has 10,247 rows (8,196 train / 2,051 val)",
                climb_follows="the code: 10,247 records, 8,196 / 2,051",
                why=(
                    "the shipped CSV is the only reproducible split and matches the "
                    "Challenge-2021 chapman_shaoxing subset; the DI train count cannot be traced"
                ),
            ),
            Discrepancy(
                topic="source",
                documented="Dataset_Info.md says Kaggle",
                code="https://physionet.org/files/ecg-arrhythmia/1.0.0 (and an old tarball mirror)",
                climb_follows="PhysioNet challenge-2021/1.0.3 training/chapman_shaoxing",
                why="CLIMB's split CSV uses the Challenge record ids (JS*), which only it serves",
            ),
        ),
        original_code="src/datasets/ecg/ChapmanShaoxing.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (see climb.datasets.ecg._ecg for the standardization rules)."""
        from climb.datasets.ecg._challenge import ChallengeAdapter

        return ChallengeAdapter("chapman_shaoxing")
