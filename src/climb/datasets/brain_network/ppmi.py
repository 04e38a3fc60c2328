"""PPMI structural brain networks (BrainGB processing): Parkinson's disease vs controls."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class PPMI(Dataset):
    card = DatasetCard(
        key="ppmi",
        name="PPMI (Parkinson's Progression Markers Initiative) brain networks",
        domain="brain_network",
        description=(
            "DTI-derived structural brain networks of Parkinson's disease patients and healthy "
            "controls from PPMI, as processed by BrainGB: 84 regions, one matrix per tractography "
            "view. CLIMB uses the first view and classifies control vs Parkinson's disease."
        ),
        modalities=(
            Modality(
                name="connectivity",
                kind="matrix",
                shape=(84, 84),
                axes=("roi", "roi"),
                dtype="float32",
                description=(
                    "PPMI.mat 'X': per subject an 84x84xV stack of networks; CLIMB uses "
                    "X[idx][0][:, :, 0]. Node features = rows; edges = all non-zero entries."
                ),
            ),
        ),
        tasks=(
            Task(
                name="parkinsons",
                type="binary",
                classes=("control", "parkinsons"),
                level="patient",
                description="PPMI.mat 'label' (-1 -> 0 control, 1 -> Parkinson's disease).",
            ),
        ),
        samples=718,
        splits={},
        patients=718,
        size_bytes=None,
        licence=Licence(
            "ppmi-dua",
            "PPMI Data Use Agreement",
            "https://www.ppmi-info.org/access-data-specimens/download-data",
        ),
        access="dua",
        sources=(
            Source(
                kind="manual",
                url="https://www.ppmi-info.org/access-data-specimens/download-data",
                instructions=(
                    "Apply for PPMI data access and sign the PPMI Data Use Agreement. The "
                    "BrainGB-processed PPMI.mat is shared by the BrainGB authors with approved "
                    "users (see https://braingb.us/datasets/); place it in the raw folder."
                ),
                expected_layout=(
                    "PPMI.mat  # variables X (one cell per subject: 84 x 84 x V connectivity "
                    "views) and label (-1 control, 1 Parkinson's disease)"
                ),
            ),
        ),
        homepage="https://www.ppmi-info.org/",
        citation="""@article{marek2011ppmi,
  title={The Parkinson Progression Marker Initiative (PPMI)},
  author={Marek, Kenneth and Jennings, Danna and Lasch, Shirley and Siderowf, Andrew and Tanner, Caroline and Simuni, Tanya and Coffey, Chris and Kieburtz, Karl and Flagg, Emily and Chowdhury, Sohini and others},
  journal={Progress in Neurobiology},
  volume={95},
  number={4},
  pages={629--635},
  year={2011},
  doi={10.1016/j.pneurobio.2011.09.005}
}""",
        known_issues=(
            "CLIMB's graph split draws a fresh unseeded torch.randperm per split object "
            "(70/10/20): train, val and test overlap (leakage) and are not reproducible.",
            "Only the first tractography view is used; the other views are ignored.",
            "models/gcn_ppmi.py is an unrelated exploratory variant (ResNet features of 84x84x3 "
            "'images' + a 5-NN subject graph).",
        ),
        discrepancies=(
            Discrepancy(
                topic="split counts",
                documented="718 (572 / 143) in Dataset_Info.md",
                code="70/10/20 unseeded randperm per split",
                climb_follows="no fixed CLIMB counts; climb's own seeded subject-level split",
                why="572 + 143 = 715, not 718, and the code's split is neither 80/20 nor reproducible",
            ),
        ),
        original_code="src/datasets/mri/ppmi.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """BrainGB PPMI.mat -> connectivity matrices (view 0, as CLIMB)."""
        from climb.datasets.brain_network._adapters import PpmiAdapter

        return PpmiAdapter()
