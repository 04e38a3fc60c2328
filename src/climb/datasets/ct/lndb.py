"""LNDb: 294 chest CTs from CHUSJ (Porto) with lung nodule annotations; CLIMB uses 24-slice windows."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class LNDb(Dataset):
    card = DatasetCard(
        key="lndb",
        name="LNDb (Lung Nodule Database)",
        domain="ct",
        description=(
            "294 chest CT scans acquired at Centro Hospitalar e Universitário de São João (Porto, "
            "Portugal) between 2016 and 2018, read by up to 5 radiologists who segmented nodules "
            ">=3 mm and marked nodules <3 mm and non-nodules. CLIMB cuts each annotated scan into "
            "24-slice windows (stride 12) labelled by the size of the nodules they overlap."
        ),
        modalities=(
            Modality(
                name="ct",
                kind="volume",
                shape=(24, 256, 256),
                axes=("slice", "height", "width"),
                unit="HU",
                dtype="float32",
                description=(
                    "24 consecutive axial slices (stride 12 between windows), each resized to "
                    "256x256; CLIMB applies a lung window (centre -600 HU, width 1500 HU) and "
                    "scales to [0, 1]. Native scans are MetaImage .mhd/.raw volumes of variable size."
                ),
            ),
        ),
        tasks=(
            Task(
                name="nodule_size",
                type="multilabel",
                classes=("small_nodule", "big_nodule"),
                level="window",
                description=(
                    "CLIMB's window label [small, big]: a component is 1 when at least 2 slices of "
                    "the window overlap a nodule whose equivalent diameter is <=3 mm (small) or "
                    ">3 mm (big); findings need radiologist agreement >=1; small nodules span "
                    "their centre slice +-2."
                ),
            ),
            Task(
                name="has_nodule",
                type="binary",
                classes=("no_nodule", "nodule"),
                level="window",
                description="CLIMB's QA view: 'has nodule' iff big_nodule == 1, else 'no nodule'.",
            ),
            Task(
                name="nodule_segmentation",
                type="segmentation",
                classes=("background", "nodule"),
                level="series",
                description="Native per-radiologist masks of nodules >=3 mm (masks/LNDb-XXXX_radY.mhd).",
            ),
        ),
        samples=5561,
        splits={"train": 4130, "test": 1431},
        patients=None,
        size_bytes=None,
        licence=Licence(
            "CC-BY-4.0",
            "Creative Commons Attribution 4.0 International",
            "https://creativecommons.org/licenses/by/4.0/",
        ),
        access="open",
        sources=(
            Source(
                kind="manual",
                url="https://lndb.grand-challenge.org/Data/",
                instructions=(
                    "Download the LNDb training data (CT archives data0..dataN, masks, "
                    "trainNodules.csv, trainNodules_gt.csv) from the links on the LNDb challenge "
                    "data page (hosted on Zenodo) and extract them into the raw folder."
                ),
                expected_layout=(
                    "data/LNDb-*.mhd  # CT header per scan (LNDb-0001.mhd, ...), from all the "
                    "data archives\n"
                    "data/LNDb-*.raw  # the voxels each .mhd points to\n"
                    "masks/LNDb-*_rad*.mhd  # nodule segmentation per scan and radiologist "
                    "(LNDb-0001_rad1.mhd, ...)\n"
                    "masks/LNDb-*_rad*.raw  # the voxels of each mask\n"
                    "trainNodules.csv  # LNDbID, RadID, FindingID, x, y, z, Nodule, Volume, Text "
                    "(one row per radiologist finding; trainNodules_gt.csv, the merged findings "
                    "with AgrLevel, can sit next to it)"
                ),
                notes=(
                    "The Zenodo record id is not pinned here (not verified); CLIMB's own loader "
                    "only says 'Visit XXXX'."
                ),
            ),
        ),
        homepage="https://lndb.grand-challenge.org/",
        citation="""@article{pedrosa2019lndb,
  title={LNDb: A Lung Nodule Database on Computed Tomography},
  author={Pedrosa, Jo{\\~a}o and Aresta, Guilherme and Ferreira, Carlos and Rodrigues, M{\\'a}rcio and Leit{\\~a}o, Patr{\\'i}cia and Carvalho, Andr{\\'e} Silva and Rebelo, Jo{\\~a}o and Negr{\\~a}o, Eduardo and Ramos, Isabel and Cunha, Ant{\\'o}nio and Campilho, Aur{\\'e}lio},
  journal={arXiv preprint arXiv:1911.08434},
  year={2019}
}""",
        known_issues=(
            "CLIMB splits by sorted LNDbID: the first 75% of scan ids are train, the rest test "
            "(deterministic and scan-level, but not random or stratified).",
            "The number of windows per scan is (n_slices - 24) // 12, so trailing slices of every "
            "scan are never used.",
            "Small/big uses the equivalent diameter from the segmented volume at 3 mm, while "
            "radiologists annotated '<3 mm' by greatest in-plane dimension; the two definitions "
            "disagree near the threshold.",
            "Only scans listed in trainNodules.csv are windowed; the challenge test scans have no "
            "public labels.",
            "CLIMB's loader has no downloader (error text says 'Visit XXXX').",
        ),
        discrepancies=(
            Discrepancy(
                topic="task type",
                documented="QA: binary 'has nodule' (big nodule) vs 'no nodule'",
                code="training label is a 2-dim multi-hot [small, big] per window (NUM_CLASSES=2)",
                climb_follows="both: nodule_size (multilabel) and has_nodule (binary) tasks",
                why="the QA view is derivable from the multi-hot label, not the other way round",
            ),
        ),
        original_code="src/datasets/ct/lndb.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/volumes-video.md)."""
        from climb.datasets.ct._volumes import LndbAdapter

        return LndbAdapter()
