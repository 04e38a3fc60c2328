"""PAD-UFES-20: 2,298 smartphone clinical images of skin lesions with patient metadata
(Universidade Federal do Espirito Santo, Brazil)."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset

DERM5 = ("MEL", "NV", "BCC", "AKIEC", "OTHER")


@register_dataset
class PADUFES20(Dataset):
    card = DatasetCard(
        key="pad_ufes_20",
        name="PAD-UFES-20",
        domain="dermoscopy",
        description=(
            "2,298 clinical (non-dermoscopic) photographs of 1,641 skin lesions from 1,373 "
            "patients, taken with smartphones in the Dermatological and Surgical Assistance "
            "Program of UFES, Brazil, with up to 21 clinical features per image and 6 "
            "diagnoses (all cancers biopsy-proven)."
        ),
        modalities=(
            Modality(
                name="image",
                kind="image",
                shape=None,
                axes=("height", "width", "channel"),
                dtype="uint8",
                description="RGB PNG smartphone photograph, size varies by device.",
            ),
        ),
        tasks=(
            Task(
                name="derm5",
                type="multiclass",
                classes=DERM5,
                label_space="derm5",
                description=(
                    "CLIMB's 5 classes: NEV -> NV, AKIEC = ACK + SCC (BOD is already merged into "
                    "SCC), SEK -> OTHER. CLIMB's own code spells the second class 'NEV'."
                ),
            ),
            Task(
                name="diagnostic6",
                type="multiclass",
                classes=("ACK", "BCC", "MEL", "NEV", "SCC", "SEK"),
                description=(
                    "Native 'diagnostic' column: actinic keratosis, basal cell carcinoma, "
                    "melanoma, nevus, squamous cell carcinoma (incl. Bowen's disease), "
                    "seborrheic keratosis."
                ),
            ),
        ),
        samples=2298,
        splits={"train": 1839, "test": 459},
        patients=1373,
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
                url="https://prod-dcd-datasets-cache-zipfiles.s3.eu-west-1.amazonaws.com/zr7vgbcyr2-1.zip",
                role="data",
                notes=(
                    "Mendeley Data zr7vgbcyr2 version 1: metadata.csv and images/imgs_part_{1,2,3}"
                    " zips (PAT_<patient>_<lesion>_<img>.png)."
                ),
            ),
        ),
        homepage="https://data.mendeley.com/datasets/zr7vgbcyr2/1",
        citation="""@article{pacheco2020padufes20,
  title={{PAD-UFES-20}: A skin lesion dataset composed of patient data and clinical images
         collected from smartphones},
  author={Pacheco, Andre G. C. and Lima, Gustavo R. and Salom{\\~a}o, Amanda S. and
          Krohling, Breno and Biral, Igor P. and de Angelo, Gabriel G. and
          Alves Jr, F{\\'a}bio C. R. and Esgario, Jos{\\'e} G. M. and Simora, Alana C. and
          Castro, Pedro B. C. and others and Krohling, Renato A.},
  journal={Data in Brief},
  volume={32},
  pages={106221},
  year={2020},
  doi={10.1016/j.dib.2020.106221}
}""",
        known_issues=(
            "CLIMB's split samples 80% per class without a seed and is image-level, not patient-"
            "level (patients have several images); climb's default split is patient-level and "
            "seeded.",
            "Clinical smartphone photographs, not dermoscopy, although CLIMB files them under "
            "dermatology with the dermoscopic datasets.",
            "The Mendeley S3 cache URL is the one in the original code; Mendeley may change it.",
        ),
        discrepancies=(
            Discrepancy(
                topic="source",
                documented="Dataset_Info.md says Kaggle",
                code="Mendeley Data zip zr7vgbcyr2-1",
                climb_follows="the code: Mendeley Data zr7vgbcyr2 version 1",
                why="it is the authors' official, versioned release",
            ),
        ),
        original_code="src/datasets/derm/pad_ufes_20.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/imaging.md)."""
        from climb.datasets.dermoscopy._adapters import PadUfes20Adapter

        return PadUfes20Adapter()
