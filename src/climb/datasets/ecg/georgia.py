"""Georgia 12-lead ECG Challenge database: 10,344 ECGs (10 s, 500 Hz) from Emory University,
released in the PhysioNet/CinC Challenge 2020."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.labels import get_label_space
from climb.registry import Dataset, register_dataset

ECG7: tuple[str, ...] = get_label_space("ecg7").names


@register_dataset
class Georgia(Dataset):
    card = DatasetCard(
        key="georgia",
        name="Georgia 12-lead ECG Challenge Database",
        domain="ecg",
        description=(
            "10,344 12-lead ECGs of 10 s at 500 Hz from a population in the south-eastern "
            "United States (Emory University, Atlanta), released as the 'georgia' training "
            "source of the PhysioNet/CinC Challenge 2020 with SNOMED-CT diagnoses. CLIMB groups "
            "the diagnoses into its 7 ECG classes."
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
                    "CLIMB's 7 unified ECG classes, multi-hot, from the SNOMED-CT '#Dx' codes. "
                    "climb maps codes case-insensitively, so afib is set (it never is in CLIMB)."
                ),
            ),
        ),
        samples=10344,
        splits={"train": 8277, "val": 2067},
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
                id="challenge-2020",
                version="1.0.2",
                include=("training/georgia/*",),
                notes="E*.hea/.mat with SNOMED-CT '#Dx' lines; matches CLIMB's split CSV ids.",
            ),
            Source(
                kind="kaggle",
                id="bjoernjostein/georgia-12lead-ecg-challenge-database",
                notes=("The source named in the original code (version 1); same records."),
                alternate=True,
            ),
            Source(
                kind="github",
                id="DDVD233/CLIMB",
                version="0f767b1",
                role="splits",
                include=("src/datasets/ecg/Ga_splits.csv",),
                notes="CLIMB's shipped train/val split and 7-class labels (10,344 rows).",
            ),
        ),
        homepage="https://physionet.org/content/challenge-2020/1.0.2/",
        citation="""@article{perezalday2020challenge,
  title={Classification of 12-lead {ECGs}: the {PhysioNet/Computing in Cardiology Challenge}
         2020},
  author={Perez Alday, Erick A. and Gu, Annie and Shah, Amit J. and Robichaux, Chad and
          Wong, An-Kwok Ian and Liu, Chengyu and Liu, Feifei and Rad, Ali Bahrami and
          Elola, Andoni and Seyedi, Salman and Li, Qiao and Sharma, Ashish and
          Clifford, Gari D. and Reyna, Matthew A.},
  journal={Physiological Measurement},
  volume={41},
  number={12},
  pages={124003},
  year={2020},
  doi={10.1088/1361-6579/abc960}
}""",
        known_issues=(
            "BUG in CLIMB: afib is never set. The Georgia dict maps 164889003/164890007 to "
            "lowercase 'atrial fibrillation'/'atrial flutter' but the afib list holds "
            "capitalised names and matching is exact-string; the 14/2 afib labels in "
            "Ga_splits.csv come only from all-zero rows given a random class.",
            "The same case mismatch drops 'Bradycardia' (normal); 'Atrial pacing pattern', "
            "'Atrial tachycardia', 'AV block', 'Brady Tachy syndrome', 'Bundle branch block', "
            "'Cardiac dysrhythmia' (cd); 'Atrial hypertrophy' (hyp); 'Acute myocardial "
            "infarction', 'Acute myocardial ischemia', 'Anterior ischemia' (mi); 'Abnormal QRS', "
            "'Atrial bigeminy', 'Blocked premature atrial contraction', 'Brugada syndrome' "
            "(other).",
            "107 rows of Ga_splits.csv have no positive class; CLIMB gives them a uniformly "
            "random label.",
            "CLIMB's split is record-level and unseeded (reproducible only via the shipped CSV).",
            "The loader drops recordings whose processed length is not 5000 samples.",
            "Ga(finetune_size='large') defaults to a 256-shot subset in the original code.",
            "Patient identifiers are not released, so 'patients' is unknown.",
        ),
        discrepancies=(
            Discrepancy(
                topic="sample count",
                documented="20,689 (18,622 train / 2,067 test) in Dataset_Info.md",
                code="Ga_splits.csv has 10,344 rows (8,277 train / 2,067 val)",
                climb_follows="the code: 10,344 records, 8,277 / 2,067",
                why=(
                    "10,344 is the full Challenge-2020 Georgia set and the shipped CSV is the "
                    "only reproducible split; the DI train count cannot be traced"
                ),
            ),
            Discrepancy(
                topic="licence",
                documented="'CC Public Domain' in Dataset_Info.md",
                code="n/a",
                climb_follows="CC-BY-4.0, the licence of PhysioNet challenge-2020 1.0.2",
                why="the PhysioNet release that climb fetches states CC BY 4.0",
            ),
        ),
        original_code="src/datasets/ecg/Ga.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (see climb.datasets.ecg._ecg for the standardization rules)."""
        from climb.datasets.ecg._challenge import ChallengeAdapter

        return ChallengeAdapter("georgia")
