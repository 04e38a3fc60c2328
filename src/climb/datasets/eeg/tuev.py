"""TUEV: the Temple University Hospital EEG Events Corpus (6 event classes)."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class TUEV(Dataset):
    card = DatasetCard(
        key="tuev",
        name="TUH EEG Events Corpus (TUEV)",
        domain="eeg",
        description=(
            "A subset of the TUH EEG Corpus with channel- and time-localised annotations of "
            "spike and sharp waves, generalised and periodic lateralised epileptiform "
            "discharges, eye movements, artefacts and background. Official train/eval split by "
            "patient; CLIMB counts annotated event windows as samples."
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
                    "Scalp EEG in EDF (mostly 250/256 Hz), annotated per channel of the TCP "
                    "bipolar montage in 1-s epochs (.rec/.lab files); windows cut around each "
                    "annotated event at prepare time."
                ),
            ),
        ),
        tasks=(
            Task(
                name="events6",
                type="multiclass",
                classes=("SPSW", "GPED", "PLED", "EYEM", "ARTF", "BCKG"),
                description=(
                    "Spike and/or sharp wave, generalised periodic epileptiform discharge, "
                    "periodic lateralised epileptiform discharge, eye movement, artefact, "
                    "background (native codes 1..6 -> index 0..5)."
                ),
                level="window",
            ),
        ),
        samples=111900,
        splits={},
        patients=368,
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
                    "'tuh_eeg_events' corpus (e.g. with rsync from "
                    "nedc-tuh-eeg@www.isip.piconepress.com:data/tuh_eeg/tuh_eeg_events/) and "
                    "place it under <root>/raw/tuev/."
                ),
                expected_layout=(
                    "*edf/train/*.edf  # training recordings, one folder per patient (a version "
                    "folder such as v2.0.1/ may come first)\n"
                    "*edf/train/*.rec  # events of each EDF: channel, start s, stop s, class "
                    "code 1-6\n"
                    "*edf/eval/*.edf  # official evaluation recordings (patient-disjoint)\n"
                    "*edf/eval/*.rec  # events of the evaluation recordings"
                ),
            ),
        ),
        homepage="https://isip.piconepress.com/projects/nedc/html/tuh_eeg/",
        citation="""@inproceedings{harati2015tuev,
  title={Improved {EEG} event classification using differential energy},
  author={Harati, Amir and Golmohammadi, Meysam and Lopez, Silvia and Obeid, Iyad and
          Picone, Joseph},
  booktitle={2015 IEEE Signal Processing in Medicine and Biology Symposium (SPMB)},
  pages={1--4},
  year={2015},
  doi={10.1109/SPMB.2015.7405421}
}""",
        known_issues=(
            "Missing from the original CLIMB code: there is no TUEV loader, downloader or "
            "encoder in DDVD233/CLIMB@0f767b1; classes and counts come from Dataset_Info.md "
            "only (518 sessions, 368 subjects, 111,900 records).",
            "No CLIMB split is given; climb uses the official train/eval folders (patient-"
            "disjoint) and carves validation from train by patient with a recorded seed.",
            "The class distribution is very imbalanced (background and artefact dominate).",
            "The corpus version used by CLIMB is not stated.",
        ),
        original_code=None,
    )

    @classmethod
    def adapter(cls) -> object:
        """TUEV EDF + .rec files -> one 5-s window per annotated event (docs/eeg.md)."""
        from climb.datasets.eeg._adapters import TuevAdapter

        return TuevAdapter()
