"""ABIDE I (Preprocessed Connectomes Project): resting-state fMRI of autism vs typical controls."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset

ABIDE_S3 = "https://s3.amazonaws.com/fcp-indi/data/Projects/ABIDE_Initiative/"


@register_dataset
class ABIDE(Dataset):
    card = DatasetCard(
        key="abide",
        name="ABIDE I (Autism Brain Imaging Data Exchange), PCP preprocessed",
        domain="brain_network",
        description=(
            "Resting-state fMRI of 1,112 subjects (autism spectrum disorder and typical controls) "
            "from 17 international sites (20 site ids), preprocessed by the Preprocessed "
            "Connectomes Project; 1,035 subjects have derivatives. climb reads the CPAC "
            "filt_noglobal CC200 ROI time series and builds 200x200 correlation networks."
        ),
        modalities=(
            Modality(
                name="roi_timeseries",
                kind="signal",
                shape=(None, 200),
                axes=("time", "roi"),
                dtype="float32",
                description=(
                    "Outputs/cpac/filt_noglobal/rois_cc200/<FILE_ID>_rois_cc200.1D: tab-separated, "
                    "header '#1 ... #200', one row per volume; TR differs by site."
                ),
            ),
            Modality(
                name="connectivity",
                kind="matrix",
                shape=(200, 200),
                axes=("roi", "roi"),
                dtype="float32",
                description="Pearson correlation of the ROI time series (derived at prepare time).",
            ),
        ),
        tasks=(
            Task(
                name="asd",
                type="binary",
                classes=("typical_control", "autism"),
                level="patient",
                description="Phenotype DX_GROUP: 2 (control) -> 0, 1 (autism) -> 1.",
            ),
        ),
        samples=1035,
        splits={},
        patients=1035,
        size_bytes=None,
        licence=Licence(
            "CC-BY-NC-SA-3.0",
            "Creative Commons Attribution-NonCommercial-ShareAlike 3.0 (INDI/ABIDE terms)",
            "https://creativecommons.org/licenses/by-nc-sa/3.0/",
        ),
        access="open",
        sources=(
            Source(
                kind="url",
                url=ABIDE_S3 + "Phenotypic_V1_0b_preprocessed1.csv",
                role="labels",
                notes="Phenotype table (1,112 rows): FILE_ID, SITE_ID, DX_GROUP, AGE_AT_SCAN, SEX.",
            ),
            Source(
                kind="url",
                url=ABIDE_S3 + "Outputs/cpac/filt_noglobal/rois_cc200/",
                notes=(
                    "Public S3 prefix, listed by climb fetch with anonymous S3 ListObjectsV2 "
                    "(sizes and MD5 ETags checked), one file per subject: "
                    "<FILE_ID>_rois_cc200.1D for every FILE_ID != 'no_filename' in the "
                    "phenotype table (1,035 files, about 1 MB each); files land in "
                    "raw/abide/rois_cc200/. climb.io.abide.roi_urls(read_phenotype(csv)) gives "
                    "the same list from the phenotype table. Other pipelines/strategies/atlases: "
                    "Outputs/<cpac|ccs|dparsf|niak>/<filt_global|filt_noglobal|nofilt_*>/rois_<atlas>/."
                ),
            ),
        ),
        homepage="https://fcon_1000.projects.nitrc.org/indi/abide/",
        citation="""@article{dimartino2014autism,
  title={The autism brain imaging data exchange: towards a large-scale evaluation of the intrinsic brain architecture in autism},
  author={Di Martino, Adriana and Yan, Chao-Gan and Li, Qingyang and Denio, Erin and Castellanos, Francisco X. and Alaerts, Kaat and Anderson, Jeffrey S. and Assaf, Michal and Bookheimer, Susan Y. and Dapretto, Mirella and others},
  journal={Molecular Psychiatry},
  volume={19},
  number={6},
  pages={659--667},
  year={2014},
  doi={10.1038/mp.2013.78}
}""",
        known_issues=(
            "CLIMB reads BrainGB's ABIDE.npy (keys corr, label, site), which is not openly hosted; "
            "climb recomputes correlations from the PCP time series, so matrices may differ "
            "slightly from BrainGB's.",
            "Strong site effects: CLIMB stratifies its 70/10/20 split by site (seed 42); climb's "
            "default split rule 'site' is a seeded subject-level 70/10/20 split stratified by "
            "site and label.",
            "77 of the 1,112 phenotype rows have FILE_ID 'no_filename' (no derivatives); prepare "
            "quarantines them with that reason.",
        ),
        discrepancies=(
            Discrepancy(
                topic="sample count",
                documented="1,009 (807 / 202) in Dataset_Info.md (BrainGB's subset)",
                code="ABIDE.npy from braingb.us (not public); PCP phenotype lists 1,035 subjects with derivatives",
                climb_follows="the public PCP release: 1,035 subjects",
                why="BrainGB's subject filter is not published, so its 1,009 cannot be rebuilt from public files",
            ),
            Discrepancy(
                topic="access",
                documented="registration",
                code="no downloader (braingb.us)",
                climb_follows="open: anonymous HTTPS from the public fcp-indi S3 bucket",
                why="the preprocessed derivatives are public; registration applies to NITRC raw data",
            ),
        ),
        original_code="src/datasets/mri/abide.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """PCP .1D time series (or BrainGB ABIDE.npy) -> correlation matrices; see _adapters."""
        from climb.datasets.brain_network._adapters import AbideAdapter

        return AbideAdapter()
