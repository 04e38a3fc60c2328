"""Messidor-2: 874 diabetic-retinopathy examinations (1,748 macula-centred fundus images) with
Google's adjudicated 5-level DR grades."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset

DR5 = ("No DR", "Mild", "Moderate", "Severe", "Proliferative")


@register_dataset
class Messidor2(Dataset):
    card = DatasetCard(
        key="messidor2",
        name="Messidor-2",
        domain="fundus",
        description=(
            "874 diabetic-retinopathy screening examinations from Brest University Hospital and "
            "the original Messidor programme, each with two macula-centred 45-degree fundus "
            "photographs (one per eye), 1,748 images in all. Images come from ADCIS; the "
            "5-level DR grades adjudicated by retina specialists (Krause et al. 2018) come from "
            "Google's Kaggle release, which marks 4 images ungradable."
        ),
        modalities=(
            Modality(
                name="image",
                kind="image",
                shape=None,
                axes=("height", "width", "channel"),
                dtype="uint8",
                description=(
                    "RGB colour fundus photograph (PNG/JPG), 1440x960, 2240x1488 or 2304x1536 "
                    "px depending on the camera setting."
                ),
            ),
        ),
        tasks=(
            Task(
                name="dr5",
                type="multiclass",
                classes=DR5,
                label_space="dr5",
                description="adjudicated_dr_grade 0..4 of messidor_data.csv (index = grade).",
            ),
            Task(
                name="dme",
                type="binary",
                classes=("no DME", "DME"),
                description="adjudicated_dme (referable diabetic macular oedema), native column.",
            ),
        ),
        samples=1744,
        splits={"train": 1394, "test": 350},
        patients=None,
        size_bytes=None,
        licence=Licence(
            "messidor2-adcis-terms",
            "Messidor-2 licence agreement (ADCIS; research and teaching use, no redistribution)",
            "https://www.adcis.net/en/third-party/messidor2/",
        ),
        access="registration",
        sources=(
            Source(
                kind="manual",
                url="https://www.adcis.net/en/third-party/messidor2/",
                instructions=(
                    "Fill in the Messidor-2 licence request form on the ADCIS page; you receive "
                    "download links for the image archive (split into several zip parts). "
                    "Unpack all images into <root>/raw/messidor2/IMAGES/."
                ),
                expected_layout=(
                    "IMAGES/*.png  # Messidor-Original: 1,058 images of 529 examinations\n"
                    "IMAGES/*.[Jj][Pp][Gg]  # Messidor-Extension: 690 images of 345 examinations "
                    "(IM*.JPG)"
                ),
            ),
            Source(
                kind="kaggle",
                id="google-brain/messidor2-dr-grades",
                role="labels",
                notes=(
                    "messidor_data.csv: image_id, adjudicated_dr_grade, adjudicated_dme, "
                    "adjudicated_gradable (1,748 rows; 4 ungradable)."
                ),
            ),
        ),
        homepage="https://www.adcis.net/en/third-party/messidor2/",
        citation="""@article{decenciere2014messidor,
  title={Feedback on a publicly distributed image database: the {Messidor} database},
  author={Decenci{\\`e}re, Etienne and Zhang, Xiwei and Cazuguel, Guy and Lay, Bruno and
          Cochener, B{\\'e}atrice and Trone, Caroline and Gain, Philippe and Ordonez, Richard and
          Massin, Pascale and Erginay, Ali and Charton, B{\\'e}atrice and Klein, Jean-Claude},
  journal={Image Analysis \\& Stereology},
  volume={33},
  number={3},
  pages={231--234},
  year={2014},
  doi={10.5566/ias.1155}
}""",
        known_issues=(
            "The original code has no downloader; it expects the ADCIS images and the Kaggle "
            "messidor_data.csv in place.",
            "CLIMB's split is per class int(0.8 * count) with random_state=0, image-level: the "
            "two eyes of one examination can fall in different splits.",
            "The 4 ungradable images have no grade and are excluded (1,748 -> 1,744).",
            "The number of distinct patients is not published (874 examinations), so "
            "'patients' is unknown.",
            "CLIMB pads Messidor-2 images by (0, 37, 0, 38) before resizing.",
        ),
        discrepancies=(
            Discrepancy(
                topic="licence and source",
                documented="Dataset_Info.md: 'CC Public Domain', source Kaggle",
                code="no downloader; images from ADCIS, grades from Kaggle google-brain",
                climb_follows="ADCIS licence terms for the images, Kaggle for the grades",
                why=(
                    "only the grades are on Kaggle; the images are distributed by ADCIS under "
                    "its own licence, which the user must accept"
                ),
            ),
        ),
        original_code="src/datasets/fundus/messidor2.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.fundus._adapters import Messidor2Adapter

        return Messidor2Adapter()
