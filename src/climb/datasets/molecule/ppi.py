"""PPI: 24 tissue protein-protein interaction graphs, node-level 121-label gene-ontology prediction."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset

GO_LABELS = tuple(f"go_{i:03d}" for i in range(121))


@register_dataset
class PPI(Dataset):
    card = DatasetCard(
        key="ppi",
        name="PPI (protein-protein interaction, GraphSAGE release)",
        domain="molecule",
        description=(
            "24 protein-protein interaction graphs, one per human tissue (Zitnik & Leskovec 2017), "
            "as released with GraphSAGE: 56,944 proteins with 50 features (positional gene sets, "
            "motif gene sets, immunological signatures) and 121 gene-ontology labels each. The "
            "standard inductive split is 20 training, 2 validation and 2 test graphs."
        ),
        modalities=(
            Modality(
                name="graph",
                kind="graph",
                description=(
                    "Per graph about 2,373 nodes; 50 float node features; undirected edges "
                    "(818,716 in total). Files: ppi-G.json, ppi-feats.npy, ppi-class_map.json, "
                    "ppi-id_map.json, ppi-walks.txt (GraphSAGE layout)."
                ),
            ),
        ),
        tasks=(
            Task(
                name="go_labels",
                type="multilabel",
                classes=GO_LABELS,
                level="node",
                description=(
                    "121 binary gene-ontology set memberships per protein (node). The release "
                    "does not name the GO terms, so classes are numbered go_000..go_120 in "
                    "class-map order."
                ),
            ),
        ),
        samples=56944,
        splits={"train": 44906, "val": 6514, "test": 5524},
        patients=None,
        size_bytes=None,
        licence=Licence(
            "MIT", "MIT License (GraphSAGE release)", "https://opensource.org/licenses/MIT"
        ),
        access="open",
        sources=(
            Source(
                kind="url",
                url="https://data.dgl.ai/dataset/ppi.zip",
                notes=(
                    "PyG/DGL mirror of the GraphSAGE PPI release; the split is by graph "
                    "(train 20 graphs, valid 2, test 2)."
                ),
            ),
        ),
        homepage="http://snap.stanford.edu/graphsage/",
        citation="""@article{zitnik2017predicting,
  title={Predicting multicellular function through multi-layer tissue networks},
  author={Zitnik, Marinka and Leskovec, Jure},
  journal={Bioinformatics},
  volume={33},
  number={14},
  pages={i190--i198},
  year={2017},
  doi={10.1093/bioinformatics/btx252}
}
@inproceedings{hamilton2017inductive,
  title={Inductive Representation Learning on Large Graphs},
  author={Hamilton, William L. and Ying, Rex and Leskovec, Jure},
  booktitle={Advances in Neural Information Processing Systems},
  volume={30},
  year={2017}
}""",
        known_issues=(
            "Samples are nodes, but the natural unit of an example is a graph (24 graphs); the "
            "node counts per split are those of the official graph split.",
            "CLIMB uses PyG's PPI(split=...) inside models/graphs/unified_protein.py; there is no "
            "dataset loader.",
        ),
        discrepancies=(
            Discrepancy(
                topic="split counts",
                documented="56,944 (45,555 / 11,389) in Dataset_Info.md",
                code="PyG PPI official splits: 20/2/2 graphs = 44,906 / 6,514 / 5,524 nodes",
                climb_follows="the official graph split (as the code)",
                why="the documented 80/20 node counts match no split used by the code",
            ),
        ),
        original_code="models/graphs/unified_protein.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """PyG/DGL or GraphSAGE PPI files -> one graph sample per tissue graph."""
        from climb.datasets.molecule._adapters import PpiAdapter

        return PpiAdapter()
