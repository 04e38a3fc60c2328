"""EchoNet-Dynamic: 10,030 apical-4-chamber echocardiography videos (Stanford) with EF and LV tracings."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class EchoNetDynamic(Dataset):
    card = DatasetCard(
        key="echonet_dynamic",
        name="EchoNet-Dynamic",
        domain="ultrasound",
        description=(
            "10,030 apical-4-chamber echocardiography videos from Stanford Health Care, each from "
            "a different patient, with ejection fraction, end-systolic and end-diastolic volumes "
            "and expert left-ventricle tracings at end-systole and end-diastole. Videos are "
            "cropped and downsampled to 112x112; FileList.csv gives the official TRAIN/VAL/TEST split."
        ),
        modalities=(
            Modality(
                name="video",
                kind="video",
                shape=(None, 112, 112, 3),
                axes=("frame", "height", "width", "channel"),
                dtype="uint8",
                description=(
                    "Videos/<FileName>.avi, 112x112, variable number of frames; frame rate per "
                    "video in FileList.csv column FPS (mostly 50)."
                ),
            ),
        ),
        tasks=(
            Task(
                name="ef",
                type="regression",
                unit="%",
                description="Left-ventricular ejection fraction (FileList.csv EF).",
            ),
            Task(
                name="esv",
                type="regression",
                unit="mL",
                description="End-systolic volume (FileList.csv ESV).",
            ),
            Task(
                name="edv",
                type="regression",
                unit="mL",
                description="End-diastolic volume (FileList.csv EDV).",
            ),
            Task(
                name="lv_segmentation",
                type="segmentation",
                classes=("background", "left_ventricle"),
                description=(
                    "Left-ventricle masks rasterised from VolumeTracings.csv at the end-systolic "
                    "and end-diastolic frames."
                ),
            ),
        ),
        samples=10030,
        splits={"train": 7465, "val": 1288, "test": 1277},
        patients=10030,
        size_bytes=None,
        licence=Licence(
            "stanford-research-use",
            "Stanford University Dataset Research Use Agreement",
            "https://echonet.github.io/dynamic/",
        ),
        access="registration",
        sources=(
            Source(
                kind="manual",
                url="https://echonet.github.io/dynamic/",
                instructions=(
                    "Follow the dataset link on the EchoNet-Dynamic page to the Stanford AIMI "
                    "portal, accept the research use agreement and download the archive; extract "
                    "it into the raw folder."
                ),
                expected_layout=(
                    "EchoNet-Dynamic/FileList.csv  # FileName, EF, ESV, EDV, FrameHeight, "
                    "FrameWidth, FPS, NumberOfFrames, Split (one row per video)\n"
                    "EchoNet-Dynamic/VolumeTracings.csv  # FileName, X1, Y1, X2, Y2, Frame "
                    "(left-ventricle tracings at end-systole and end-diastole)\n"
                    "EchoNet-Dynamic/Videos/*.avi  # one 112x112 video per FileList row, named "
                    "<FileName>.avi"
                ),
            ),
        ),
        homepage="https://echonet.github.io/dynamic/",
        citation="""@article{ouyang2020video,
  title={Video-based AI for beat-to-beat assessment of cardiac function},
  author={Ouyang, David and He, Bryan and Ghorbani, Amirata and Yuan, Neal and Ebinger, Joseph and Langlotz, Curtis P. and Heidenreich, Paul A. and Harrington, Robert A. and Liang, David H. and Ashley, Euan A. and Zou, James Y.},
  journal={Nature},
  volume={580},
  number={7802},
  pages={252--256},
  year={2020},
  doi={10.1038/s41586-020-2145-8}
}""",
        known_issues=(
            "CLIMB's loader returns EF/EDV/ESV, tracings and frames but defines no classification "
            "task; there is no CLIMB label mapping to reproduce.",
            "A few FileList rows have videos with fewer frames than NumberOfFrames or missing "
            "tracings; adapters must quarantine them rather than drop them silently.",
            "CLIMB's loader has no downloader (manual AIMI download).",
        ),
        discrepancies=(
            Discrepancy(
                topic="sample count",
                documented="10,247 (8,196 / 2,051) in Dataset_Info.md",
                code="FileList.csv has 10,030 rows: 7,465 TRAIN / 1,288 VAL / 1,277 TEST",
                climb_follows="the source: 10,030 videos with the official split",
                why="Dataset_Info.md's numbers equal the Chapman-Shaoxing split CSV exactly (copy-paste error)",
            ),
        ),
        original_code="src/datasets/ultrasound/echonet_dynamic.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/volumes-video.md)."""
        from climb.datasets.ultrasound._videos import EchoNetAdapter

        return EchoNetAdapter()
