"""CPSC 2018: 6,877 12-lead ECGs (6-60 s, 500 Hz) of the China Physiological Signal Challenge,
as re-released in the PhysioNet/CinC Challenge 2020."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.labels import get_label_space
from climb.registry import Dataset, register_dataset

ECG7: tuple[str, ...] = get_label_space("ecg7").names
CPSC9 = ("Normal", "AF", "I-AVB", "LBBB", "RBBB", "PAC", "PVC", "STD", "STE")


@register_dataset
class CPSC2018(Dataset):
    card = DatasetCard(
        key="cpsc2018",
        name="CPSC 2018 (China Physiological Signal Challenge 2018)",
        domain="ecg",
        description=(
            "The training set of the China Physiological Signal Challenge 2018: 6,877 12-lead "
            "ECGs of 6 to 60 s at 500 Hz from 11 hospitals, each with one to three of 9 rhythm "
            "and morphology labels. CLIMB uses the PhysioNet/CinC Challenge 2020 copy (A*) "
            "grouped into its 7 ECG classes and keeps only 10-s crops."
        ),
        modalities=(
            Modality(
                name="ecg",
                kind="signal",
                shape=(12, None),
                axes=("lead", "time"),
                unit="mV",
                sampling_rate_hz=500.0,
                dtype="float32",
                description=(
                    "12 leads in standard order; variable length 3,000-30,000 samples (6-60 s). "
                    "CLIMB crops to the first 5,000 samples (10 s)."
                ),
            ),
        ),
        tasks=(
            Task(
                name="ecg7",
                type="multilabel",
                classes=ECG7,
                label_space="ecg7",
                description=(
                    "CLIMB's 7 unified ECG classes, multi-hot. In CLIMB's grouping AF counts as "
                    "both cd and afib, and LBBB is dropped (so mi and hyp have no positives)."
                ),
            ),
            Task(
                name="cpsc9",
                type="multilabel",
                classes=CPSC9,
                description=(
                    "The 9 native CPSC 2018 classes (Normal, atrial fibrillation, first-degree AV "
                    "block, left/right bundle branch block, premature atrial/ventricular "
                    "contraction, ST depression, ST elevation); up to 3 per record."
                ),
            ),
        ),
        samples=6877,
        splits={"train": 5500, "val": 1377},
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
                include=("training/cpsc_2018/*",),
                notes=(
                    "A*.hea/.mat with SNOMED-CT '#Dx' lines; matches CLIMB's split CSV ids. "
                    "The extra set training/cpsc_2018_extra is not used by CLIMB."
                ),
            ),
            Source(
                kind="github",
                id="DDVD233/CLIMB",
                version="0f767b1",
                role="splits",
                include=("src/datasets/ecg/CPSC_splits.csv",),
                notes="CLIMB's shipped train/val split and 7-class labels (6,877 rows).",
            ),
        ),
        homepage="http://2018.icbeb.org/Challenge.html",
        citation="""@article{liu2018cpsc,
  title={An Open Access Database for Evaluating the Algorithms of Electrocardiogram Rhythm
         and Morphology Abnormality Detection},
  author={Liu, Feifei and Liu, Chengyu and Zhao, Lina and Zhang, Xiangyu and Wu, Xiaoling and
          Xu, Xiaoyan and Liu, Yulin and Ma, Caiyun and Wei, Shoushui and He, Zhiqiang and
          Li, Jianqing and Ng, Eddie Yin Kwee},
  journal={Journal of Medical Imaging and Health Informatics},
  volume={8},
  number={7},
  pages={1368--1373},
  year={2018},
  doi={10.1166/jmihi.2018.2442}
}""",
        known_issues=(
            "BUG in CLIMB: 'left bundle branch block' (SNOMED 164909002) is in no CPSC group and "
            "is dropped, so LBBB records lose their label; climb maps LBBB to cd.",
            "CLIMB puts 'atrial fibrillation' in both cd and afib.",
            "CPSC has no mi and no hyp statements: the 12/5 mi and 18/5 hyp labels in "
            "CPSC_splits.csv come only from the 179 all-zero rows given a uniformly random class.",
            "The loader drops recordings whose processed length is not 5,000 samples (records "
            "shorter than 10 s).",
            "CLIMB's split is record-level and unseeded (reproducible only via the shipped CSV).",
            "The original code downloads an old Challenge-2020 mirror "
            "(pipelineapi.org:9555/.../WFDB_CPSC2018.tar.gz), probably dead; climb uses PhysioNet.",
            "Patient identifiers are not released, so 'patients' is unknown.",
        ),
        discrepancies=(
            Discrepancy(
                topic="sample count",
                documented="6,192 (4,815 train / 1,377 test) in Dataset_Info.md",
                code="CPSC_splits.csv has 6,877 rows (5,500 train / 1,377 val)",
                climb_follows="the code: 6,877 records, 5,500 / 1,377",
                why=(
                    "6,877 is the full CPSC 2018 training set and the shipped CSV is the only "
                    "reproducible split; DI's count may be after the 10-s length filter (GUESS)"
                ),
            ),
        ),
        original_code="src/datasets/ecg/CPSC.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (see climb.datasets.ecg._ecg for the standardization rules)."""
        from climb.datasets.ecg._challenge import ChallengeAdapter

        return ChallengeAdapter("cpsc2018")
