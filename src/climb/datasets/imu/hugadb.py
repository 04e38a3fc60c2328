"""HuGaDB: gait/activity recordings of 18 people with 6 IMUs and 2 EMG sensors on the legs."""

from __future__ import annotations

from climb.card import DatasetCard, Discrepancy, Licence, Modality, Source, Task
from climb.io.hugadb import ACTIVITIES  # the 12 activity ids of the files, in id order
from climb.registry import Dataset, register_dataset


@register_dataset
class HuGaDB(Dataset):
    card = DatasetCard(
        key="hugadb",
        name="HuGaDB (Human Gait Database)",
        domain="imu",
        description=(
            "Continuous recordings (about 10 hours, 2,111,962 samples) of 18 healthy young adults "
            "performing combined activities, from six inertial sensors (3-axis accelerometer + "
            "gyroscope) on both thighs, shins and feet plus two EMG sensors on the quadriceps, "
            "annotated per sample with 12 activities. Version 2 relabels sitting, standing, "
            "sitting down and standing up more precisely."
        ),
        modalities=(
            Modality(
                name="imu_emg",
                kind="signal",
                shape=(None, 38),
                axes=("time", "channel"),
                dtype="int16",
                description=(
                    "38 channels: acc/gyro x,y,z for right foot, right shin, right thigh, left "
                    "foot, left shin, left thigh (36, int16; acc +-2 g, gyro +-2000 deg/s) and "
                    "right/left EMG (uint8). Roughly 60 Hz (2,111,962 samples in 35,903 s); "
                    "tab-separated text with '#Activity', '#ActivityID', '#Date' header lines "
                    "and a per-sample activity column."
                ),
            ),
        ),
        tasks=(
            Task(
                name="activity12",
                type="multiclass",
                classes=ACTIVITIES,
                description="Native activity ids 1-12 (-> 0-11), per sample of the recording.",
            ),
            Task(
                name="activity4",
                type="multiclass",
                classes=("sitting", "standing", "sitting_down", "standing_up"),
                description=(
                    "CLIMB's documented 4-class subset (the activities relabelled in v2); other "
                    "activities are masked."
                ),
            ),
        ),
        samples=364,
        splits={"train": 291, "test": 73},
        patients=18,
        size_bytes=None,
        licence=Licence("unknown", "No licence stated"),
        access="open",
        sources=(
            Source(
                kind="url",
                url="https://www.dropbox.com/s/406z5oqjlr6fcy9/HuGaDB%20v2.zip?dl=1",
                notes=(
                    "HuGaDB v2 archive linked from the repository README (Dropbox; a Google Drive "
                    "copy is also linked). Files HuGaDB_v2_<activity>_<participant>_<counter>.txt."
                ),
            ),
            Source(
                kind="github",
                id="romanchereshnev/HuGaDB",
                version="e429ddd9504176c7f4d14358451fe5adf34d2c5a",
                role="metadata",
                include=("README.md", "Scripts/load_HuGaDB_file.py"),
                notes=(
                    "Pinned to commit e429ddd. The repository also "
                    "holds the v1 archive HumanGaitDataBase.zip."
                ),
            ),
        ),
        homepage="https://github.com/romanchereshnev/HuGaDB",
        citation="""@inproceedings{chereshnev2017hugadb,
  title={HuGaDB: Human Gait Database for Activity Recognition from Wearable Inertial Sensor Networks},
  author={Chereshnev, Roman and Kert{\\'e}sz-Farkas, Attila},
  booktitle={International Conference on Analysis of Images, Social Networks and Texts (AIST 2017)},
  series={Lecture Notes in Computer Science},
  volume={10716},
  pages={131--141},
  year={2017},
  publisher={Springer}
}""",
        known_issues=(
            "CLIMB implements no split; Dataset_Info.md's 291/73 has no code behind it. climb "
            "splits by participant with a recorded seed.",
            "CLIMB's loader returns the raw header dicts and defines no 4-class mapping.",
            "Recordings are continuous multi-activity sequences; a file-level label is ill-defined, "
            "so labels are per time step (or per window).",
            "Some recordings contain corrupted gyroscope segments (see images/corrupted_example.png "
            "in the repository).",
        ),
        discrepancies=(
            Discrepancy(
                topic="number of classes",
                documented="4 classes: Sitting, Standing, Sitting down, Standing up",
                code="12 activities (Walking 1 ... Sitting in Car 12), no 4-class mapping",
                climb_follows="both: activity12 (native) and activity4 (documented subset)",
                why="the 4 classes are a subset of the 12 native ids, so both can be served",
            ),
            Discrepancy(
                topic="split",
                documented="364 (291 / 73)",
                code="no split implemented",
                climb_follows="records 291/73 as CLIMB's documented counts; climb's default is a seeded participant-level split",
                why="file-level random splits leak participants across train and test",
            ),
        ),
        original_code="src/datasets/gait/hugadb.py",
    )

    @classmethod
    def adapter(cls) -> object:
        """HuGaDB v2 text files -> fixed-length windows with the majority activity."""
        from climb.datasets.imu._adapters import HugadbAdapter

        return HugadbAdapter()
