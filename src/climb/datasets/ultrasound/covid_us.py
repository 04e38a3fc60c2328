"""COVID-US (COVIDx-US): lung ultrasound videos from public sources, COVID/pneumonia/normal."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class COVIDUS(Dataset):
    card = DatasetCard(
        key="covid_us",
        name="COVID-US (COVIDx-US lung ultrasound)",
        domain="ultrasound",
        description=(
            "Lung ultrasound videos compiled from public sources (ButterflyNetwork, GrepMed, The "
            "POCUS Atlas, LITFL, Radiopaedia, ...) by the COVID-Net initiative, named "
            "'<id>_<source>_<label>.mp4'. CLIMB uses 99 videos of the classes covid, pneumonia "
            "and normal, dropping 'other'."
        ),
        modalities=(
            Modality(
                name="video",
                kind="video",
                shape=None,
                axes=("frame", "height", "width", "channel"),
                dtype="uint8",
                description="mp4 videos of variable size, length and frame rate (convex and linear probes).",
            ),
        ),
        tasks=(
            Task(
                name="covid_us3",
                type="multiclass",
                classes=("covid", "pneumonia", "normal"),
                description="Label parsed from the file name; 'other' videos are dropped.",
            ),
        ),
        samples=99,
        splits={"train": 74, "test": 25},
        patients=None,
        size_bytes=None,
        licence=Licence(
            "AGPL-3.0-only",
            "GNU Affero General Public License v3.0 (repository); source videos carry their own terms",
            "https://www.gnu.org/licenses/agpl-3.0.html",
        ),
        access="open",
        sources=(
            Source(
                kind="url",
                url="https://drive.google.com/uc?id=16HCezNef_bIyyHOgHqovkOYytpd4uPBM",
                notes=(
                    "CLIMB's videos.zip on Google Drive (gdown id 16HCezNef_bIyyHOgHqovkOYytpd4uPBM); "
                    "no checksum published. The canonical build is the nrc-cnrc/COVID-US "
                    "repository, which downloads and processes the videos from their sources."
                ),
            ),
        ),
        homepage="https://github.com/nrc-cnrc/COVID-US",
        citation="""@article{ebadi2021covidxus,
  title={COVIDx-US: An Open-Access Benchmark Dataset of Ultrasound Imaging Data for AI-Driven COVID-19 Analytics},
  author={Ebadi, Ashkan and Xi, Pengcheng and MacLean, Alexander and others},
  journal={arXiv preprint arXiv:2103.10003},
  year={2021}
}""",
        known_issues=(
            "CLIMB's split is train_test_split(test_size=0.25, random_state=42, stratify=source): "
            "stratified by source site, not by label, and not patient-level (patients are unknown).",
            "The data come from a Google Drive archive without checksum or version; several "
            "videos of one source may show the same patient.",
            "Individual source videos carry their own licences (some CC BY-NC, some unstated).",
        ),
        discrepancies=(
            Discrepancy(
                topic="provenance",
                documented="GitHub, GNU AGPL-3.0 (Dataset_Info.md)",
                code="gdown of videos.zip from Google Drive; filenames '<id>_<source>_<label>.mp4'",
                climb_follows="the Drive archive, identified as a COVIDx-US (nrc-cnrc/COVID-US) build",
                why=(
                    "the file naming, the 'other' class and the AGPL licence match COVIDx-US; the "
                    "fact sheet's guess of a jannisborn/covid19_ultrasound repack does not fit the naming"
                ),
            ),
        ),
        original_code="src/datasets/ultrasound/covid_us.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/volumes-video.md)."""
        from climb.datasets.ultrasound._videos import CovidUSAdapter

        return CovidUSAdapter()
