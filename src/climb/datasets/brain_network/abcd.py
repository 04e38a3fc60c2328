"""ABCD resting-state functional connectomes (BrainGB processing); CLIMB's code predicts sex."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class ABCD(Dataset):
    card = DatasetCard(
        key="abcd",
        name="ABCD (Adolescent Brain Cognitive Development) functional connectomes",
        domain="brain_network",
        description=(
            "Resting-state fMRI functional connectivity networks of children aged 9-10 from the "
            "ABCD study, as processed by BrainGB: one Pearson-correlation matrix per subject over "
            "the 360 regions of the HCP-MMP 2016 parcellation. CLIMB's documentation calls the "
            "task Normal/Abnormal, but its code predicts sex."
        ),
        modalities=(
            Modality(
                name="connectivity",
                kind="matrix",
                shape=(360, 360),
                axes=("roi", "roi"),
                dtype="float32",
                description=(
                    "abcd_rest-pearson-HCP2016.npy: Pearson correlation between ROI time series. "
                    "CLIMB builds a graph: node features = matrix rows, edges = all non-zero "
                    "entries (dense, with diagonal), edge_attr = correlation."
                ),
            ),
        ),
        tasks=(
            Task(
                name="sex",
                type="binary",
                classes=("male", "female"),
                level="patient",
                description="id2sex.txt: M -> 0, F -> 1 (the label CLIMB's code actually trains on).",
            ),
        ),
        samples=9563,
        splits={},
        patients=9563,
        size_bytes=None,
        licence=Licence(
            "nda-dua",
            "NIMH Data Archive Data Use Certification (ABCD)",
            "https://nda.nih.gov/abcd",
        ),
        access="dua",
        sources=(
            Source(
                kind="manual",
                url="https://nda.nih.gov/abcd",
                instructions=(
                    "Obtain an NDA Data Use Certification for ABCD. The BrainGB-processed "
                    "connectomes used by CLIMB are shared by the BrainGB authors with approved "
                    "users (see https://braingb.us/datasets/); place the three files in the raw folder."
                ),
                expected_layout=(
                    "abcd_rest-pearson-HCP2016.npy  # N x 360 x 360 Pearson connectivity "
                    "matrices (HCP-2016 parcellation)\n"
                    "ids_HCP2016.txt  # the N subject ids, in the matrices' order\n"
                    "id2sex.txt  # 'subject-id M|F' per line (9,557 labelled ids), the label "
                    "CLIMB trains on; an optional id2site.txt enables site splits"
                ),
            ),
        ),
        homepage="https://abcdstudy.org/",
        citation="""@article{casey2018abcd,
  title={The Adolescent Brain Cognitive Development (ABCD) study: Imaging acquisition across 21 sites},
  author={Casey, B. J. and Cannonier, Tariq and Conley, May I. and Cohen, Alexandra O. and Barch, Deanna M. and Heitzeg, Mary M. and others},
  journal={Developmental Cognitive Neuroscience},
  volume={32},
  pages={43--54},
  year={2018},
  doi={10.1016/j.dcn.2018.03.001}
}
@article{cui2023braingb,
  title={BrainGB: A Benchmark for Brain Network Analysis with Graph Neural Networks},
  author={Cui, Hejie and Dai, Wei and Zhu, Yanqiao and Kan, Xuan and Gu, Antonio Aodong Chen and Lukemire, Joshua and Zhan, Liang and He, Lifang and Guo, Ying and Yang, Carl},
  journal={IEEE Transactions on Medical Imaging},
  volume={42},
  number={2},
  pages={493--506},
  year={2023},
}""",
        known_issues=(
            "CLIMB's graph split draws a fresh unseeded torch.randperm for each split object "
            "(70/10/20), so train, val and test overlap (leakage) and are not reproducible; climb "
            "draws one seeded subject-level split.",
            "6 of the 9,563 subjects have no entry in id2sex.txt and cannot be labelled.",
            "Sex prediction from connectomes is not a clinical 'abnormality' task; results are "
            "not comparable to Dataset_Info.md's description.",
        ),
        discrepancies=(
            Discrepancy(
                topic="label",
                documented="binary Normal / Abnormal",
                code="sex from id2sex.txt: {'M': 0, 'F': 1}",
                climb_follows="the code (sex)",
                why="the distributed files carry no normal/abnormal label",
            ),
            Discrepancy(
                topic="split counts",
                documented="9,563 (7,650 / 1,613)",
                code="70/10/20 unseeded randperm per split",
                climb_follows="no fixed CLIMB counts; climb's own seeded split",
                why="7,650 + 1,613 = 9,263, not 9,563 (likely a typo for 1,913), and the code's split is not 80/20",
            ),
        ),
        original_code="src/datasets/mri/abcd.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """BrainGB ABCD files -> connectivity matrices, label = sex (as CLIMB)."""
        from climb.datasets.brain_network._adapters import AbcdAdapter

        return AbcdAdapter()
