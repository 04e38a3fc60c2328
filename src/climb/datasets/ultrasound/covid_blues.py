"""COVID-BLUES: 362 BLUE-protocol lung ultrasound videos of 63 patients (Maastricht UMC+)."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.registry import Dataset, register_dataset


@register_dataset
class COVIDBLUES(Dataset):
    card = DatasetCard(
        key="covid_blues",
        name="COVID-BLUES (COVID Bluepoint Lung Ultrasound)",
        domain="ultrasound",
        description=(
            "A prospective study (February-May 2021) of 63 patients with symptoms of a lung "
            "infection (33 COVID-positive, 30 negative by PCR): lung ultrasound videos at the six "
            "BLUE points (362 videos, 31,746 frames, Philips Lumify convex probe), clinical "
            "variables and expert severity scores. CLIMB predicts the patient's PCR result from a video."
        ),
        modalities=(
            Modality(
                name="video",
                kind="video",
                shape=None,
                axes=("frame", "height", "width", "channel"),
                dtype="uint8",
                description="lus_videos/patient_<id>_<L1..R3>[_2].mp4, 60-100 frames each.",
            ),
            Modality(
                name="clinical",
                kind="table",
                description="clinical_variables.csv: one row per patient (symptoms, vitals, blood tests, PCR).",
            ),
        ),
        tasks=(
            Task(
                name="cov_test",
                type="binary",
                classes=("no_covid", "covid"),
                level="sample",
                description="Patient PCR result (clinical_variables.csv cov_test), assigned to each of the patient's videos.",
            ),
            Task(
                name="age",
                type="regression",
                unit="years",
                description="Patient age (pat_age); CLIMB has an age QA variant.",
            ),
            Task(
                name="severity",
                type="multiclass",
                classes=("score_0", "score_1", "score_2", "score_3"),
                description="Native per-video severity score 0-3 (Soldati et al. 2020) from severity.csv.",
            ),
        ),
        samples=362,
        splits={"train": 266, "test": 96},
        patients=63,
        size_bytes=None,
        licence=Licence(
            "CC-BY-NC-ND-4.0",
            "Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 International",
            "https://creativecommons.org/licenses/by-nc-nd/4.0/",
        ),
        access="open",
        sources=(
            Source(
                kind="github",
                id="NinaWie/COVID-BLUES",
                version="8c7147244f5966dde0bb83b86962732f0d4f027e",
                notes=(
                    "Pinned to commit 8c71472 (no release tag exists). "
                    "Holds lus_videos/, clinical_variables.csv, severity.csv, variable_explanations.csv."
                ),
            ),
        ),
        homepage="https://github.com/NinaWie/COVID-BLUES",
        citation="""@article{wiedemann2025covid,
  title={COVID-BLUeS - A Prospective Study on the Value of AI in Lung Ultrasound Analysis},
  author={Wiedemann, Nina and de Korte-de Boer, Dianne and Richter, Matthias and van de Weijer, Sjors and Buhre, Charlotte and Eggert, Franz A. M. and Aarnoudse, Sophie and Grevendonk, Lotte and R{\\"o}ber, Steffen and Remie, Carlijn M. E. and Buhre, Wolfgang and Henry, Ronald and Born, Jannis},
  journal={IEEE Journal of Biomedical and Health Informatics},
  volume={29},
  number={9},
  pages={6301--6310},
  year={2025},
  doi={10.1109/JBHI.2025.3543686}
}""",
        known_issues=(
            "CLIMB's split is patient-level but not random: sorted patient ids, first 75% train.",
            "The label is the patient's PCR result, not a per-video finding: videos of a "
            "COVID-positive patient may look normal.",
            "The 'no derivatives' clause of CC BY-NC-ND 4.0 makes redistribution of processed "
            "videos questionable; climb stores derived arrays only locally.",
        ),
        discrepancies=(
            Discrepancy(
                topic="licence",
                documented="CC-BY-NC-ND 4.0 (Dataset_Info.md, current README and LICENSE)",
                code="an earlier README of the repository stated CC BY-ND 4.0",
                climb_follows="CC-BY-NC-ND-4.0",
                why="the current LICENSE file and README state it",
            ),
        ),
        original_code="src/datasets/ultrasound/covid_blue.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """Raw files -> samples (docs/volumes-video.md)."""
        from climb.datasets.ultrasound._videos import CovidBluesAdapter

        return CovidBluesAdapter()
