"""TUAB: the Temple University Hospital Abnormal EEG Corpus (normal vs abnormal clinical EEG)."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class TUAB(Dataset):
    card = DatasetCard(
        key="tuab",
        name="TUH EEG Abnormal Corpus (TUAB)",
        domain="eeg",
        description=(
            "A subset of the TUH EEG Corpus in which each clinical EEG session is labelled "
            "normal or abnormal from the neurologist's report, with an official train/eval "
            "split by patient. Recordings are EDF files, mostly at 250-256 Hz in the averaged "
            "or linked-ears reference; CLIMB counts 10-s windows as samples."
        ),
        modalities=(
            Modality(
                name="eeg",
                kind="signal",
                shape=None,
                axes=("channel", "time"),
                unit="uV",
                sampling_rate_hz=None,
                dtype="float32",
                description=(
                    "Scalp EEG, 10-20 system (about 21 EEG channels plus auxiliary ones), "
                    "sampling rate varies by session (mostly 250 or 256 Hz); windowed into 10-s "
                    "samples at prepare time."
                ),
            ),
        ),
        tasks=(
            Task(
                name="abnormal",
                type="binary",
                classes=("Normal", "Abnormal"),
                description="Session-level normal/abnormal label, inherited by every window.",
            ),
        ),
        samples=409500,
        splits={},
        patients=None,
        size_bytes=None,
        licence=Licence(
            "tuh-eeg-dua",
            "Temple University Hospital EEG Corpus data use agreement",
            "https://isip.piconepress.com/projects/nedc/html/tuh_eeg/",
        ),
        access="dua",
        sources=(
            Source(
                kind="manual",
                url="https://isip.piconepress.com/projects/nedc/html/tuh_eeg/",
                instructions=(
                    "Fill in and e-mail the TUH EEG data request form (signed DUA) from the NEDC "
                    "page; you receive a username/password for the NEDC server. Download the "
                    "'tuh_eeg_abnormal' corpus (e.g. with rsync from "
                    "nedc-tuh-eeg@www.isip.piconepress.com:data/tuh_eeg/tuh_eeg_abnormal/) and "
                    "place it under <root>/raw/tuab/."
                ),
                expected_layout=(
                    "*edf/train/normal/*.edf  # training sessions whose report is normal (a "
                    "version folder such as v3.0.1/ may come first)\n"
                    "*edf/train/abnormal/*.edf  # training sessions whose report is abnormal\n"
                    "*edf/eval/normal/*.edf  # official evaluation set (patient-disjoint), "
                    "normal\n"
                    "*edf/eval/abnormal/*.edf  # official evaluation set, abnormal"
                ),
            ),
        ),
        homepage="https://isip.piconepress.com/projects/nedc/html/tuh_eeg/",
        citation="""@article{obeid2016tuh,
  title={The {Temple University Hospital EEG} Data Corpus},
  author={Obeid, Iyad and Picone, Joseph},
  journal={Frontiers in Neuroscience},
  volume={10},
  pages={196},
  year={2016},
  doi={10.3389/fnins.2016.00196}
}""",
        known_issues=(
            "Missing from the original CLIMB code: there is no TUAB loader, downloader or "
            "encoder in DDVD233/CLIMB@0f767b1; windowing (10 s) and counts come from "
            "Dataset_Info.md only.",
            "No CLIMB split is given; climb uses the official train/eval folders (patient-"
            "disjoint) and carves validation from train by patient with a recorded seed.",
            "The corpus version used by CLIMB is not stated; TUAB v2.0.0 and v3.x differ in "
            "layout and file naming.",
        ),
        discrepancies=(
            Discrepancy(
                topic="subjects and sessions",
                documented="'276 sessions / 253 subjects' and 409,500 records in Dataset_Info.md",
                code="no code",
                climb_follows="all sessions of the corpus (train + eval); patients left unknown",
                why=(
                    "276 sessions / 253 subjects describe the eval set only, while 409,500 "
                    "windows can only come from train + eval"
                ),
            ),
        ),
        original_code=None,
    )

    @classmethod
    def adapter(cls) -> object:
        """TUAB EDF files -> 10-s windows in the TCP bipolar montage at 200 Hz (docs/eeg.md)."""
        from climb.datasets.eeg._adapters import TuabAdapter

        return TuabAdapter()
