"""CheXpert v1.0: 224,316 chest radiographs of 65,240 patients from Stanford Hospital with 14
report-derived labels including uncertainty (Stanford AIMI, research-use agreement)."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.labels import get_label_space
from climb.registry import Dataset, register_dataset

CHEXPERT14: tuple[str, ...] = get_label_space("chexpert14").names


@register_dataset
class CheXpert(Dataset):
    card = DatasetCard(
        key="chexpert",
        name="CheXpert",
        domain="chest_xray",
        description=(
            "224,316 chest radiographs of 65,240 patients from Stanford Hospital (2002-2017), "
            "with 14 observations extracted from the reports by the CheXpert labeler as "
            "positive, negative or uncertain. The public release has a training set and a "
            "radiologist-labelled validation set of 234 images (200 patients)."
        ),
        modalities=(
            Modality(
                name="image",
                kind="image",
                shape=None,
                axes=("height", "width"),
                dtype="uint8",
                description=(
                    "Grayscale JPEG, frontal and lateral views; native resolution varies "
                    "(CheXpert-v1.0-small is downsampled to about 390x320)."
                ),
            ),
        ),
        tasks=(
            Task(
                name="chexpert14",
                type="multilabel",
                classes=CHEXPERT14,
                label_space="chexpert14",
                description=(
                    "The 14 observations in CheXpert's order (train.csv columns 5..18); blank and "
                    "uncertain (-1) map to 0 (U-Zeros) as in CLIMB."
                ),
            ),
            Task(
                name="chexpert14_uones",
                type="multilabel",
                classes=CHEXPERT14,
                label_space="chexpert14",
                description="The same 14 labels with uncertain (-1) mapped to 1 (U-Ones); blank = 0.",
            ),
            Task(
                name="chexpert14_uignore",
                type="multilabel",
                classes=CHEXPERT14,
                label_space="chexpert14",
                description=(
                    "The same 14 labels with uncertain (-1) masked (U-Ignore): stored as -1 and "
                    "left out of the loss and the metrics; blank = 0."
                ),
            ),
        ),
        samples=223648,
        splits={"train": 223414, "valid": 234},
        patients=65240,
        size_bytes=439_000_000_000,
        licence=Licence(
            "stanford-research-use",
            "Stanford University School of Medicine CheXpert Dataset Research Use Agreement",
            "https://stanfordmlgroup.github.io/competitions/chexpert/",
        ),
        access="registration",
        sources=(
            Source(
                kind="manual",
                url="https://stanfordaimi.azurewebsites.net/datasets/8cbd9ed4-2eb9-4565-affc-111cf4f7ebe2",
                instructions=(
                    "Register on the Stanford AIMI shared-datasets portal, accept the CheXpert "
                    "Research Use Agreement and download 'CheXpert-v1.0' (full resolution) or "
                    "'CheXpert-v1.0-small'. Unpack it under <root>/raw/chexpert/."
                ),
                expected_layout=(
                    "CheXpert-v1.0*/train.csv  # Path, Sex, Age, Frontal/Lateral, AP/PA and the "
                    "14 observations (1, 0, -1 uncertain, blank); CheXpert-v1.0-small/ works too\n"
                    "CheXpert-v1.0*/valid.csv  # the radiologist-labelled validation studies "
                    "(climb's test split), same columns\n"
                    "CheXpert-v1.0*/train/patient*/study*/view*.jpg  # training images, e.g. "
                    "train/patient00001/study1/view1_frontal.jpg\n"
                    "CheXpert-v1.0*/valid/patient*/study*/view*.jpg  # validation images"
                ),
            ),
        ),
        homepage="https://stanfordmlgroup.github.io/competitions/chexpert/",
        citation="""@inproceedings{irvin2019chexpert,
  title={{CheXpert}: A Large Chest Radiograph Dataset with Uncertainty Labels and Expert
         Comparison},
  author={Irvin, Jeremy and Rajpurkar, Pranav and Ko, Michael and Yu, Yifan and
          Ciurea-Ilcus, Silviana and Chute, Chris and Marklund, Henrik and Haghgoo, Behzad and
          Ball, Robyn and Shpanskaya, Katie and others and Ng, Andrew Y.},
  booktitle={Proceedings of the AAAI Conference on Artificial Intelligence},
  volume={33},
  number={01},
  pages={590--597},
  year={2019},
  doi={10.1609/aaai.v33i01.3301590}
}""",
        known_issues=(
            "BUG in CLIMB: CHEXPERT_LABELS_IDX starts with 8 (Atelectasis) instead of 0, so "
            "'No Finding' is lost and Atelectasis is duplicated; climb keeps all 14 columns.",
            "CLIMB uses U-Zeros (blank and -1 -> 0).",
            "The original code has no downloader: it prints the CheXpert page and expects "
            "CheXpert-v1.0[.zip] in place.",
            "The official test set (668 studies, labelled by radiologist consensus) is not part "
            "of the public training release.",
        ),
        discrepancies=(
            Discrepancy(
                topic="sample count",
                documented="212,498 (212,243 train / 225 test) in Dataset_Info.md",
                code="the loader reads every row of train.csv (223,414) and valid.csv (234)",
                climb_follows="the code/source: 223,648 images, 223,414 train / 234 valid",
                why=(
                    "the DI counts match no file of the public release and cannot be "
                    "reproduced from the code"
                ),
            ),
        ),
        original_code="src/datasets/chest_xray/chexpert_full.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.chest_xray._adapters import ChexpertAdapter

        return ChexpertAdapter()
