"""PTB-XL: 21,799 clinical 12-lead ECGs (10 s, 500 Hz) from 18,869 patients (PhysioNet)."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.labels import get_label_space
from climb.registry import Dataset, register_dataset

ECG7: tuple[str, ...] = get_label_space("ecg7").names


@register_dataset
class PTBXL(Dataset):
    card = DatasetCard(
        key="ptbxl",
        name="PTB-XL",
        domain="ecg",
        description=(
            "A large publicly available electrocardiography dataset: 21,799 clinical 12-lead ECG "
            "records of 10 s from 18,869 patients, annotated by up to two cardiologists with "
            "SCP-ECG statements, with recommended stratified folds (strat_fold 1-10)."
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
                    "CLIMB's 7 unified ECG classes, multi-hot. CLIMB trains a single label "
                    "(cross-entropy) drawn at random among the positives; climb keeps the "
                    "multi-hot vector and offers the single-label rule with --label-policy climb."
                ),
            ),
            Task(
                name="superdiagnostic",
                type="multilabel",
                classes=("NORM", "MI", "STTC", "CD", "HYP"),
                description="PTB-XL benchmark superdiagnostic classes (scp_statements diagnostic_class).",
            ),
        ),
        samples=21837,
        splits={"train": 17476, "val": 4361},
        patients=18869,
        size_bytes=3_000_000_000,
        licence=Licence(
            "CC-BY-4.0",
            "Creative Commons Attribution 4.0 International",
            "https://creativecommons.org/licenses/by/4.0/",
        ),
        access="open",
        sources=(
            Source(
                kind="physionet",
                id="ptb-xl",
                version="1.0.3",
                notes="Native layout: ptbxl_database.csv, scp_statements.csv, records500/, records100/.",
            ),
            Source(
                kind="physionet",
                id="challenge-2020",
                version="1.0.2",
                include=("training/ptb-xl/*",),
                notes=(
                    "Challenge-2020 copy (HR*.hea/.mat with SNOMED-CT #Dx) whose record ids "
                    "CLIMB's split CSV uses; the adapter maps ecg_id to the same ids, so the "
                    "native copy is enough."
                ),
                alternate=True,
            ),
            Source(
                kind="github",
                id="DDVD233/CLIMB",
                version="0f767b1",
                role="splits",
                include=("src/datasets/ecg/ptbxl_splits.csv",),
                notes="CLIMB's shipped train/val split and 7-class labels.",
            ),
        ),
        homepage="https://physionet.org/content/ptb-xl/1.0.3/",
        citation="""@article{wagner2020ptbxl,
  title={PTB-XL, a large publicly available electrocardiography dataset},
  author={Wagner, Patrick and Strodthoff, Nils and Bousseljot, Ralf-Dieter and Kreiseler, Dieter and Lunze, Fatima I. and Samek, Wojciech and Schaeffter, Tobias},
  journal={Scientific Data},
  volume={7},
  number={1},
  pages={154},
  year={2020},
  doi={10.1038/s41597-020-0495-6}
}""",
        known_issues=(
            "CLIMB's split is record-level (column 'patient' holds the record id), so one patient "
            "can appear in train and val; climb's default splits are the official strat_fold "
            "(1-8 train, 9 val, 10 test), which is patient-level.",
            "CLIMB reduces the multi-hot vector to one random positive class (np.random.seed(row)); "
            "rows are therefore not reproducible from the labels alone.",
            "SNOMED 233917008 ('_AVB') is in no ECG7 group in CLIMB and is dropped.",
        ),
        discrepancies=(
            Discrepancy(
                topic="sample count",
                documented="21,837 (17,476 train / 4,361 test) in Dataset_Info.md",
                code="ptbxl_splits.csv has 21,837 rows (Challenge-2020 copy); PhysioNet 1.0.3 has 21,799 records",
                climb_follows="the source: 21,799 records natively; 21,837 with the climb split policy",
                why="the Challenge-2020 release carries 38 more records than PTB-XL 1.0.3",
            ),
        ),
        original_code="src/datasets/ecg/ptbxl.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (see climb.datasets.ecg._ecg for the standardization rules)."""
        from climb.datasets.ecg._ptbxl_native import PtbxlAdapter

        return PtbxlAdapter()
