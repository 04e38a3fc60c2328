"""IIIC: expert-labelled EEG segments of seizures and ictal-interictal-injury continuum patterns
(Massachusetts General Hospital, via the Brain Data Science Platform)."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class IIIC(Dataset):
    card = DatasetCard(
        key="iiic",
        name="IIIC (ictal-interictal-injury continuum) EEG patterns",
        domain="eeg",
        description=(
            "Scalp EEG segments from 2,711 patients, labelled by 124 raters (20 fellowship-"
            "trained experts plus trainees) as seizure, lateralised or generalised periodic "
            "discharges, lateralised or generalised rhythmic delta activity, or other. It is "
            "the data behind SPaRCNet (Jing et al., Neurology 2023) and is distributed by BDSP "
            "under a restricted licence."
        ),
        modalities=(
            Modality(
                name="eeg",
                kind="signal",
                shape=None,
                axes=("channel", "time"),
                unit="uV",
                sampling_rate_hz=200.0,
                dtype="float32",
                description=(
                    "10-s scalp EEG segments at 200 Hz (standard 10-20 electrodes, commonly used "
                    "as a bipolar longitudinal montage); channel count depends on the montage "
                    "chosen at prepare time."
                ),
            ),
        ),
        tasks=(
            Task(
                name="iiic6",
                type="multiclass",
                classes=("SZ", "LPD", "GPD", "LRDA", "GRDA", "Other"),
                description=(
                    "Seizure, lateralised periodic discharges, generalised periodic discharges, "
                    "lateralised rhythmic delta activity, generalised rhythmic delta activity, "
                    "other (none of these). Label = majority of expert votes."
                ),
            ),
        ),
        samples=134450,
        splits={},
        patients=2711,
        size_bytes=None,
        licence=Licence(
            "bdsp-restricted-1.0.0",
            "BDSP Restricted Health Data License 1.0.0",
            "https://bdsp.io/",
        ),
        access="dua",
        sources=(
            Source(
                kind="manual",
                url="https://bdsp.io/",
                instructions=(
                    "Create a BDSP account, complete the required human-subjects training, sign "
                    "the BDSP Restricted Health Data Use Agreement 1.0.0 for the IIIC/SPaRCNet "
                    "dataset, then download it and place its files under <root>/raw/iiic/."
                ),
                expected_layout=(
                    "*.mat  # EEG segments, one MATLAB file each (the public samples: key 'seg', "
                    "20 channels x 10,000 samples at 200 Hz); put the released vote/label tables "
                    "next to them"
                ),
            ),
        ),
        homepage="https://bdsp.io/",
        citation="""@article{jing2023iiic,
  title={Development of Expert-Level Classification of Seizures and Rhythmic and Periodic
         Patterns During {EEG} Interpretation},
  author={Jing, Jin and Ge, Wendong and Hong, Shenda and Fernandes, Marta Bento and
          Lin, Zhen and Yang, Chaoqi and An, Sungtae and Struck, Aaron F. and
          Herlopian, Aline and Karakis, Ioannis and others and Westover, M. Brandon},
  journal={Neurology},
  volume={100},
  number={17},
  pages={e1750--e1762},
  year={2023},
  doi={10.1212/WNL.0000000000207127}
}""",
        known_issues=(
            "Missing from the original CLIMB code: there is no IIIC loader, downloader or "
            "encoder in DDVD233/CLIMB@0f767b1; everything here comes from Dataset_Info.md and "
            "the source.",
            "Dataset_Info.md states a 60/20/20 split by patient groups but gives no counts and "
            "no seed; climb draws a seeded patient-level 60/20/20 split and records it.",
            "The sample count (134,450 segments) is from Dataset_Info.md; the Neurology paper "
            "reports 50,697 expert-labelled segments, so the released segment count depends on "
            "the release and on whether segments with few votes are kept.",
            "The exact BDSP project URL/version is not recorded in the CLIMB sources; the "
            "homepage points to the BDSP portal.",
        ),
        original_code=None,
    )

    @classmethod
    def adapter(cls) -> object:
        """IIIC .mat segments -> the central 10 s in the TCP bipolar montage (docs/eeg.md)."""
        from climb.datasets.eeg._adapters import IiicAdapter

        return IiicAdapter()
