"""PROTEINS (TUDataset): 1,113 protein graphs, enzyme vs non-enzyme."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class PROTEINS(Dataset):
    card = DatasetCard(
        key="proteins",
        name="PROTEINS (TUDataset)",
        domain="molecule",
        description=(
            "1,113 proteins from the Dobson & Doig collection as graphs (Borgwardt et al. 2005): "
            "nodes are secondary-structure elements (helix, sheet, turn) linked when they are "
            "neighbours in the amino-acid sequence or in 3D space. The task is to tell enzymes "
            "from non-enzymes (663 vs 450 graphs)."
        ),
        modalities=(
            Modality(
                name="graph",
                kind="graph",
                description=(
                    "Undirected graph, about 39 nodes and 73 edges on average; node label in "
                    "{helix, sheet, turn} (one-hot, 3 features) plus 1 continuous node attribute. "
                    "TU raw text format: PROTEINS_A, _graph_indicator, _graph_labels, "
                    "_node_labels, _node_attributes."
                ),
            ),
        ),
        tasks=(
            Task(
                name="enzyme",
                type="binary",
                classes=("enzyme", "non_enzyme"),
                description=(
                    "PROTEINS_graph_labels.txt: 1 -> 0, 2 -> 1 (as PyG). The names are inferred "
                    "from the class sizes (663 label-1 graphs match the enzyme majority of "
                    "Dobson & Doig); the TU README does not name the labels."
                ),
            ),
        ),
        samples=1113,
        splits={"train": 890, "test": 223},
        patients=None,
        size_bytes=None,
        licence=Licence("unknown", "No licence stated"),
        access="open",
        sources=(
            Source(
                kind="url",
                url="https://www.chrsmrrs.com/graphkerneldatasets/PROTEINS.zip",
                notes="TUDataset zip (the same file PyG's TUDataset(name='PROTEINS') downloads).",
            ),
        ),
        homepage="https://chrsmrrs.github.io/datasets/",
        citation="""@article{borgwardt2005protein,
  title={Protein function prediction via graph kernels},
  author={Borgwardt, Karsten M. and Ong, Cheng Soon and Sch{\\"o}nauer, Stefan and Vishwanathan, S. V. N. and Smola, Alex J. and Kriegel, Hans-Peter},
  journal={Bioinformatics},
  volume={21},
  number={suppl\\_1},
  pages={i47--i56},
  year={2005},
  doi={10.1093/bioinformatics/bti1007}
}""",
        known_issues=(
            "CLIMB splits with torch random_split 80/10/10 without a seed: not reproducible; "
            "climb uses a seeded stratified split and records 10-fold assignments (cv_fold).",
            "The graph-level head is trained jointly with PPI's node-level head in "
            "models/graphs/unified_protein.py.",
        ),
        discrepancies=(
            Discrepancy(
                topic="split",
                documented="1,113 (890 / 223) train/test",
                code="random_split 80/10/10, unseeded (train/val/test)",
                climb_follows="a seeded split stratified by label, 80/10/10 (891/111/111), plus a "
                "cv_fold column (stratified 10-fold, seeded) for the 10-fold protocol of Errica "
                "et al. 2020 (10% stratified inner validation)",
                why="the code's split is not reproducible, and PROTEINS results are only comparable "
                "under the standard 10-fold protocol",
            ),
        ),
        original_code="models/graphs/unified_protein.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """TU raw text files -> one graph sample each (climb.datasets.molecule._adapters)."""
        from climb.datasets.molecule._adapters import ProteinsAdapter

        return ProteinsAdapter()
