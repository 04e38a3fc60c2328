"""MIMIC-IV linked with MIMIC-CXR-JPG and MIMIC-IV-ECG: CLIMB's multimodal admission-level cohort."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class MIMICIV(Dataset):
    card = DatasetCard(
        key="mimic_iv",
        name="MIMIC-IV (+ MIMIC-CXR-JPG + MIMIC-IV-ECG)",
        domain="multimodal",
        description=(
            "De-identified EHR of patients admitted to Beth Israel Deaconess Medical Center "
            "(MIMIC-IV 2.2), linked with chest X-rays (MIMIC-CXR-JPG 2.0.0) and 12-lead ECGs "
            "(MIMIC-IV-ECG 1.0). CLIMB builds one sample per hospital admission of patients with "
            ">=1 CXR and >=1 ECG, fusing a text summary of the admission, a CXR image and an ECG "
            "to predict diagnoses, in-hospital survival and length of stay."
        ),
        modalities=(
            Modality(
                name="ehr",
                kind="signal",
                shape=(96, 48),
                axes=("channel", "time"),
                dtype="float32",
                description=(
                    "Hourly bins over the observation window (default the first 48 h of the "
                    "admission) of 32 documented items (20 labs from hosp/labevents, 12 vitals "
                    "from icu/chartevents; docs/mimic.md): values (last observation carried "
                    "forward), masks and hours since the last value, stacked as 3 x 32 channels."
                ),
            ),
            Modality(
                name="static",
                kind="table",
                shape=(14,),
                axes=("feature",),
                dtype="float32",
                description="Age at admission, gender, admission type (one-hot), ICU stay begun "
                "before the prediction time.",
            ),
            Modality(
                name="ehr_text",
                kind="text",
                description=(
                    "CLIMB's format_patient_history: ' | '-joined demographics (gender, "
                    "anchor_age), admission type and location, the most recent value of every lab "
                    "and of the documented chart items charted before the prediction time "
                    "(samples.parquet column ehr_text)."
                ),
            ),
            Modality(
                name="cxr",
                kind="image",
                shape=(1, 224, 224),
                axes=("channel", "height", "width"),
                dtype="uint8",
                description=(
                    "Latest MIMIC-CXR-JPG study of the admission taken before the prediction "
                    "time, PA view preferred (files/pXX/pSUBJ/sSTUDY/DICOM_ID.jpg); zeros with "
                    "present__cxr = False when there is none."
                ),
            ),
            Modality(
                name="ecg",
                kind="signal",
                shape=(12, 5000),
                axes=("lead", "time"),
                unit="mV",
                sampling_rate_hz=500.0,
                dtype="float32",
                description=(
                    "Latest MIMIC-IV-ECG record of the admission taken before the prediction "
                    "time, 10 s, 12 leads (WFDB); zeros with present__ecg = False when there is none."
                ),
            ),
        ),
        tasks=(
            Task(
                name="in_hospital_mortality",
                type="binary",
                classes=("survived", "died"),
                level="admission",
                description=(
                    "died = deathtime set or hospital_expire_flag = 1, predicted at 48 h after "
                    "admittime (admissions that end before are excluded). CLIMB trains on "
                    "'survived' (1 = survived), the same label inverted: label policy 'climb'."
                ),
            ),
            Task(
                name="length_of_stay",
                type="regression",
                unit="days",
                level="admission",
                description="(dischtime - admittime) in days (float); CLIMB trains with MSE.",
            ),
            Task(
                name="los_gt7d",
                type="binary",
                classes=("le_7d", "gt_7d"),
                level="admission",
                description="Length of stay > 7 days, predicted at 48 h.",
            ),
            Task(
                name="diagnosis",
                type="qa",
                level="admission",
                description=(
                    "ICD-9/ICD-10 diagnosis codes of the admission (hosp/diagnoses_icd). The "
                    "prepared store holds a multilabel task over the 50 most frequent codes of "
                    "the training split (icd_top_k), ICD-9 and ICD-10 kept apart; listed as qa "
                    "here because the vocabulary depends on the data and the split."
                ),
            ),
        ),
        samples=207769,
        splits={"train": 166215, "val": 41554},
        patients=None,
        size_bytes=None,
        licence=Licence(
            "physionet-credentialed-1.5.0",
            "PhysioNet Credentialed Health Data License 1.5.0",
            "https://physionet.org/content/mimiciv/view-license/2.2/",
        ),
        access="credentialed",
        sources=(
            Source(
                kind="physionet",
                id="mimiciv",
                version="2.2",
                include=("hosp/*", "icu/*"),
                notes="Credentialed access + CITI training + signed DUA on PhysioNet.",
            ),
            Source(
                kind="physionet",
                id="mimic-iv-demo",
                version="2.2",
                alternate=True,
                notes=(
                    "The open MIMIC-IV Clinical Database Demo (100 patients, 275 admissions, ODbL "
                    "1.0, no credentials): the same hosp/ and icu/ layout. 'climb fetch mimic_iv "
                    "--source mimic-iv-demo' then 'climb prepare mimic_iv' runs the whole "
                    "pipeline without credentials (no ECG or CXR)."
                ),
            ),
            Source(
                kind="physionet",
                id="mimic-iv-ecg",
                version="1.0",
                notes="record_list.csv, machine_measurements.csv, waveform_note_links.csv and files/ (WFDB).",
            ),
            Source(
                kind="physionet",
                id="mimic-cxr-jpg",
                version="2.0.0",
                notes="mimic-cxr-2.0.0-metadata.csv.gz and files/ (JPEG); only the images of cohort patients are needed.",
            ),
            Source(
                kind="physionet",
                id="mimic-cxr",
                version="2.0.0",
                role="metadata",
                include=("cxr-study-list.csv.gz",),
                notes="Study list linking subject_id and study_id.",
            ),
        ),
        homepage="https://physionet.org/content/mimiciv/2.2/",
        citation="""@article{johnson2023mimic,
  title={MIMIC-IV, a freely accessible electronic health record dataset},
  author={Johnson, Alistair E. W. and Bulgarelli, Lucas and Shen, Lu and Gayles, Alvin and Shammout, Ayad and Horng, Steven and Pollard, Tom J. and Hao, Sicheng and Moody, Benjamin and Gow, Brian and Lehman, Li-wei H. and Celi, Leo A. and Mark, Roger G.},
  journal={Scientific Data},
  volume={10},
  number={1},
  pages={1},
  year={2023},
  doi={10.1038/s41597-022-01899-x}
}""",
        known_issues=(
            "CLIMB's split is the first 80% of sorted hadm_id (train) vs the rest (valid/test): "
            "not patient-level, so one patient's admissions fall in both; climb splits by "
            "subject_id.",
            "CLIMB pairs each admission with the patient's first CXR and last ECG at any time, "
            "not restricted to the admission window (temporal leakage); climb takes the latest "
            "of each within the admission and before the prediction time, under both label "
            "policies.",
            "CLIMB's inputs cover the whole admission (labs and charts up to discharge) while "
            "predicting its outcome; climb predicts at 48 h after admission by default, the "
            "'climb' label policy reproduces the whole-admission window.",
            "CLIMB's '48_ihm' label is inverted (1 = survived 48 h) and unused.",
            "CLIMB's diagnosis head has 100 outputs while the label vector has one entry per ICD "
            "code in icd_code_to_description.json, whose order depends on processing order.",
            "CLIMB's fusion collate assumes an ECG is present for every admission.",
        ),
        discrepancies=(
            Discrepancy(
                topic="sample count",
                documented="full 800,000 (640,000 / 160,000); multimodal subset 207,769 (166,215 / 41,554)",
                code="one sample per admission with >=1 ICD code for patients with >=1 CXR and >=1 ECG",
                climb_follows="the multimodal subset (207,769)",
                why="it is the cohort CLIMB's code builds and trains on; the 800,000 figure has no code behind it",
            ),
            Discrepancy(
                topic="task",
                documented="48 h in-hospital mortality (binary)",
                code="diagnosis (multilabel ICD), survival (binary), length of stay (regression)",
                climb_follows="all four tasks, with in-hospital mortality as the primary binary task",
                why="the documented task exists only as an inverted unused field in the code",
            ),
        ),
        original_code="src/datasets/multimodal/mimic_iv.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Admissions -> EHR time series + static + text, ECG and CXR of the window; see _mimic."""
        from climb.datasets.multimodal._mimic import MimicIVAdapter

        return MimicIVAdapter()
