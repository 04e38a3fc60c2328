"""Jichi Medical University DR dataset: 9,939 posterior-pole fundus photographs of 2,740
patients graded on the modified Davis scale (Takahashi et al., PLOS ONE 2017)."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class Jichi(Dataset):
    card = DatasetCard(
        key="jichi",
        name="Jichi DR (Davis grading)",
        domain="fundus",
        description=(
            "9,939 45-degree posterior-pole colour fundus photographs of 2,740 diabetic "
            "patients from Jichi Medical University (Japan), graded by retina specialists on "
            "the modified Davis scale (no DR, simple DR, pre-proliferative DR, proliferative "
            "DR). Released on figshare with the paper of Takahashi et al. (2017)."
        ),
        modalities=(
            Modality(
                name="image",
                kind="image",
                shape=None,
                axes=("height", "width", "channel"),
                dtype="uint8",
                description="RGB JPEG fundus photograph (one figure per image).",
            ),
        ),
        tasks=(
            Task(
                name="davis4",
                type="multiclass",
                classes=("ndr", "sdr", "ppdr", "pdr"),
                description=(
                    "Modified Davis grade of one figure (list.csv column "
                    "'Davis_grading_of_one_figure'): ndr 0, sdr 1, ppdr 2, pdr 3. CLIMB's QA "
                    "names: No DR, Mild DR, Severe DR, Proliferative DR. Not the dr5 scale."
                ),
            ),
        ),
        samples=9939,
        splits={"train": 7950, "test": 1989},
        patients=2740,
        size_bytes=None,
        licence=Licence(
            "CC-BY-4.0",
            "Creative Commons Attribution 4.0 International",
            "https://creativecommons.org/licenses/by/4.0/",
        ),
        access="open",
        sources=(
            Source(
                kind="url",
                url="https://figshare.com/ndownloader/articles/4879853/versions/1",
                role="data",
                notes=(
                    "figshare article 4879853 v1, 'Davis Grading of One and Concatenated "
                    "Figures': list.csv and the image folder ('dmr'). The bulk-download "
                    "endpoint returns one zip of all files (endpoint form is a GUESS; the "
                    "article page is the fallback)."
                ),
            ),
        ),
        homepage="https://figshare.com/articles/figure/Davis_Grading_of_One_and_Concatenated_Figures/4879853/1",
        citation="""@article{takahashi2017davis,
  title={Applying artificial intelligence to disease staging: Deep learning for improved
         staging of diabetic retinopathy},
  author={Takahashi, Hidenori and Tampo, Hironobu and Arai, Yusuke and Inoue, Yuji and
          Kawashima, Hidetoshi},
  journal={PLOS ONE},
  volume={12},
  number={6},
  pages={e0179790},
  year={2017},
  doi={10.1371/journal.pone.0179790}
}""",
        known_issues=(
            "The original code calls the dataset 'Jinchi' (src/datasets/fundus/jinchi.py); "
            "climb's key is 'jichi' after Jichi Medical University.",
            "The original code has no downloader: the 'dmr' folder must be downloaded by hand.",
            "CLIMB's split is per class int(0.8 * count) with seed 0 and image-level, so images "
            "of one patient can be in both splits.",
            "CLIMB's alignment helpers (jinchi_align, align_jinchi_labels) merge predicted "
            "classes between the 5-level and 4-level scales; Davis grades do not map 1:1 to the "
            "international DR scale.",
        ),
        discrepancies=(
            Discrepancy(
                topic="number of classes",
                documented="3 classes (SDR, PPDR, PDR) in Dataset_Info.md",
                code="NUM_CLASSES = 4: ndr 0, sdr 1, ppdr 2, pdr 3",
                climb_follows="the code: 4 modified-Davis classes including no DR",
                why="list.csv contains 'ndr' images and the 9,939-sample count includes them",
            ),
        ),
        original_code="src/datasets/fundus/jinchi.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.fundus._adapters import JichiAdapter

        return JichiAdapter()
