"""Cholec80: 80 laparoscopic cholecystectomy videos with phase and tool annotations (CAMMA, Strasbourg)."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset

PHASES = (
    "preparation",
    "calot_triangle_dissection",
    "clipping_cutting",
    "gallbladder_dissection",
    "gallbladder_packaging",
    "cleaning_coagulation",
    "gallbladder_retraction",
)
TOOLS = ("grasper", "bipolar", "hook", "scissors", "clipper", "irrigator", "specimen_bag")


@register_dataset
class Cholec80(Dataset):
    card = DatasetCard(
        key="cholec80",
        name="Cholec80",
        domain="surgical_video",
        description=(
            "80 videos of laparoscopic cholecystectomy performed by 13 surgeons at the University "
            "Hospital of Strasbourg, recorded at 25 fps, with frame-level annotation of 7 surgical "
            "phases and 1 fps annotation of the presence of 7 tools. CLIMB cuts each video into 90 "
            "equal intervals and asks which phases and tools appear in each."
        ),
        modalities=(
            Modality(
                name="video",
                kind="video",
                shape=None,
                axes=("frame", "height", "width", "channel"),
                sampling_rate_hz=25.0,
                dtype="uint8",
                description="videos/videoXX.mp4 (resolution 854x480 or 1920x1080); a sample is one of 90 equal intervals of a video.",
            ),
        ),
        tasks=(
            Task(
                name="phases_present",
                type="multilabel",
                classes=PHASES,
                level="window",
                description="CLIMB: surgical phases occurring within the interval.",
            ),
            Task(
                name="tools_present",
                type="multilabel",
                classes=TOOLS,
                level="window",
                description="CLIMB: tools visible within the interval (QA answer 'None' when empty).",
            ),
            Task(
                name="phase",
                type="multiclass",
                classes=PHASES,
                description="Native per-frame phase (videoXX-phase.txt, 25 fps).",
            ),
        ),
        samples=7200,
        splits={"train": 5760, "test": 1440},
        patients=80,
        size_bytes=None,
        licence=Licence(
            "CC-BY-NC-SA-4.0",
            "Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International",
            "https://creativecommons.org/licenses/by-nc-sa/4.0/",
        ),
        access="registration",
        sources=(
            Source(
                kind="manual",
                url="https://camma.unistra.fr/datasets/",
                instructions=(
                    "Fill in the Cholec80 request form on the CAMMA datasets page; download the "
                    "archive from the link you receive and extract it into the raw folder."
                ),
                expected_layout=(
                    "cholec80/videos/video*.mp4  # the 80 videos, video01.mp4 to video80.mp4 (25 "
                    "fps)\n"
                    "cholec80/phase_annotations/video*-phase.txt  # Frame, Phase for every frame "
                    "(7 phases)\n"
                    "cholec80/tool_annotations/video*-tool.txt  # Frame, Grasper, Bipolar, Hook, "
                    "Scissors, Clipper, Irrigator, SpecimenBag, once per second"
                ),
            ),
        ),
        homepage="https://camma.unistra.fr/datasets/",
        citation="""@article{twinanda2017endonet,
  title={EndoNet: A Deep Architecture for Recognition Tasks on Laparoscopic Videos},
  author={Twinanda, Andru P. and Shehata, Sherif and Mutter, Didier and Marescaux, Jacques and de Mathelin, Michel and Padoy, Nicolas},
  journal={IEEE Transactions on Medical Imaging},
  volume={36},
  number={1},
  pages={86--97},
  year={2017},
  doi={10.1109/TMI.2016.2593957}
}""",
        known_issues=(
            "CLIMB's split is video-level (random.seed(0), 80% of videos train), not the standard "
            "split of the literature (videos 1-40 train, 41-80 test, or 32/8/40).",
            "Tool annotations are at 1 fps while phases are at 25 fps; interval labels must align "
            "both on time.",
            "CLIMB's loader has no downloader.",
        ),
        discrepancies=(
            Discrepancy(
                topic="split",
                documented="7,200 (5,760 / 1,440): 80 videos x 90 intervals, 80/20 by video",
                code="random.seed(0) shuffle of videos, 64 train / 16 test",
                climb_follows="CLIMB's counts with its seeded video-level rule; the standard 40/40 split as an option",
                why="CLIMB's rule is reproducible and patient-level, but results are not comparable to the literature",
            ),
        ),
        original_code="src/datasets/endoscopic/cholec.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/volumes-video.md)."""
        from climb.datasets.surgical_video._adapters import Cholec80Adapter

        return Cholec80Adapter()
