"""Expression Atlas (EMBL-EBI): curated gene-expression experiments, used by CLIMB as QA."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class ExpressionAtlas(Dataset):
    card = DatasetCard(
        key="expression_atlas",
        name="Expression Atlas",
        domain="gene_expression",
        description=(
            "EMBL-EBI's Expression Atlas: curated and re-analysed RNA-seq and microarray "
            "experiments (E-XXXX-n) across species, with expression matrices, condensed sample "
            "annotations (SDRF), differential-expression statistics and GSEA results. CLIMB turns "
            "experiments into question-answer pairs about gene expression."
        ),
        modalities=(
            Modality(
                name="expression",
                kind="table",
                description=(
                    "Per experiment: genes x samples/assay groups (<E>-tpms.tsv / -fpkms.tsv for "
                    "RNA-seq; <E>_<array>-normalized-expressions.tsv and -analytics.tsv for "
                    "microarrays), plus bedGraph log2 fold changes and p-values."
                ),
            ),
            Modality(
                name="metadata",
                kind="text",
                description="<E>.condensed-sdrf.tsv sample annotations and <E>-configuration.xml.",
            ),
        ),
        tasks=(
            Task(
                name="qa",
                type="qa",
                level="series",
                description=(
                    "Free-text question answering over an experiment's expression data and "
                    "metadata (one sample = one experiment); no closed label set."
                ),
            ),
        ),
        samples=4506,
        splits={"train": 3605, "test": 901},
        patients=None,
        size_bytes=None,
        licence=Licence(
            "CC-BY-NC-ND-4.0",
            "Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 International (as stated by CLIMB)",
            "https://creativecommons.org/licenses/by-nc-nd/4.0/",
        ),
        access="open",
        sources=(
            Source(
                kind="url",
                url="https://ftp.ebi.ac.uk/pub/databases/microarray/data/atlas/experiments/",
                notes=(
                    "One folder per experiment (E-XXXX-n/); CLIMB expects them under "
                    "genom/expression_atlas/experiments/. Also browsable via "
                    "https://www.ebi.ac.uk/gxa/download."
                ),
            ),
        ),
        homepage="https://www.ebi.ac.uk/gxa/home",
        citation="""@article{moreno2022expression,
  title={Expression Atlas update: gene and protein expression in multiple species},
  author={Moreno, Pablo and Fexova, Silvie and George, Nancy and others},
  journal={Nucleic Acids Research},
  volume={50},
  number={D1},
  pages={D129--D140},
  year={2022},
  doi={10.1093/nar/gkab1030}
}""",
        known_issues=(
            "CLIMB's loader only reads files; the QA generation and the 3,605/901 split are not "
            "in its code, so the CLIMB QA set cannot be rebuilt exactly.",
            "CLIMB hard-codes the microarray design A-AFFY-2 in file names, so most microarray "
            "experiments load without expression data.",
            "Licence: Dataset_Info.md states CC BY-NC-ND 4.0; check EMBL-EBI's terms of use "
            "before redistribution.",
        ),
        original_code="src/datasets/genom/expression_atlas.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """One experiment -> samples x genes (log2), train-only gene selection; see _adapters."""
        from climb.datasets.gene_expression._adapters import ExpressionAtlasAdapter

        return ExpressionAtlasAdapter()
