"""NCBI GEO DataSets (GDS): curated microarray datasets, used by CLIMB as per-sample QA."""

from __future__ import annotations

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class GEO(Dataset):
    card = DatasetCard(
        key="geo",
        name="GEO DataSets (NCBI Gene Expression Omnibus)",
        domain="gene_expression",
        description=(
            "Curated GEO DataSets (GDS): value-normalised microarray expression tables (probes x "
            "samples) with sample subsets such as disease state, genotype/variation, cell type, "
            "strain, tissue or agent. CLIMB asks, for each sample, which subset category it "
            "belongs to given 5 informative genes and the study description."
        ),
        modalities=(
            Modality(
                name="expression",
                kind="table",
                description="GDSxxx.soft.gz: probe rows (ID_REF, IDENTIFIER) x sample columns (GSMxxx).",
            ),
            Modality(
                name="metadata",
                kind="text",
                description="GDS title, description and sample subset annotations.",
            ),
        ),
        tasks=(
            Task(
                name="sample_category",
                type="qa",
                description=(
                    "Per-sample multiple-choice QA. The category column is the first present of: "
                    "cell type, strain, disease state, genotype/variation, tissue (+ development "
                    "stage), agent (+ time -> response category); answers vary per dataset, so "
                    "there is no closed label set."
                ),
            ),
        ),
        samples=126452,
        splits={"train": 101162, "test": 25290},
        patients=None,
        size_bytes=None,
        licence=Licence(
            "ncbi-geo-terms",
            "NCBI GEO data usage terms (no NCBI restrictions; submitters may hold rights)",
            "https://www.ncbi.nlm.nih.gov/geo/info/disclaimer.html",
        ),
        access="open",
        sources=(
            Source(
                kind="url",
                url="https://ftp.ncbi.nlm.nih.gov/geo/datasets/",
                notes=(
                    "GDS SOFT files at GDSnnn/GDSxxxx/soft/GDSxxxx.soft.gz; CLIMB mirrors the "
                    "tree under genom/ftp.ncbi.nlm.nih.gov/geo/datasets/."
                ),
            ),
        ),
        homepage="https://www.ncbi.nlm.nih.gov/geo/",
        citation="""@article{barrett2013ncbi,
  title={NCBI GEO: archive for functional genomics data sets--update},
  author={Barrett, Tanya and Wilhite, Stephen E. and Ledoux, Pierre and others},
  journal={Nucleic Acids Research},
  volume={41},
  number={D1},
  pages={D991--D995},
  year={2013},
  doi={10.1093/nar/gks1193}
}""",
        known_issues=(
            "CLIMB selects the 5 'informative genes' with statistics computed over all samples of "
            "the GDS using their labels, and shows per-category sample counts in the prompt, so "
            "the question leaks label information about the test sample.",
            "The question shows every sample's expression values for the 5 genes, not only the "
            "queried sample's.",
            "CLIMB's split rule for the 101,162/25,290 QA pairs is not in its code.",
        ),
        original_code="src/datasets/genom/geo.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """One series (GDS / GSE) -> samples x genes (log2), train-only gene selection; see _adapters."""
        from climb.datasets.gene_expression._adapters import GeoAdapter

        return GeoAdapter()
