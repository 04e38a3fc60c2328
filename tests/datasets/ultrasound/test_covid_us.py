"""COVID-US: classes from file names, video-level splits (generated mp4s)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from climb.datasets.ultrasound._videos import CovidUSAdapter
from climb.io.video import write_video
from climb.prepare.pipeline import prepare
from climb.store import open_store


def test_names_labels_and_video_level_split(tmp_path: Path) -> None:
    d = tmp_path / "raw" / "covid_us" / "videos"
    d.mkdir(parents=True)
    frames = np.zeros((6, 40, 40, 3), dtype=np.uint8)
    names = []
    for i in range(12):
        src = ("pocus", "butterfly", "litfl")[i % 3]
        lab = ("covid", "pneumonia", "normal")[i % 3 if i < 9 else 0]
        names.append(f"{i:03d}_{src}_{lab}.mp4")
    names += ["100_pocus_other.mp4", "badname.mp4"]
    for n in names:
        write_video(d / n, frames + len(n), fps=10)
    (d / "101_pocus_covid.mp4").write_bytes(b"")  # zero-byte video
    res = prepare("covid_us", tmp_path, adapter=CovidUSAdapter(size=32), splits="climb")
    reasons = sorted(q["reason"] for q in res.quarantined)
    assert len(reasons) == 3
    assert "videos/100_pocus_other.mp4: class 'other' is not one of" in reasons[0]
    assert "videos/101_pocus_covid.mp4: " in reasons[1]
    assert "videos/badname.mp4: file name is not" in reasons[2]
    st = open_store(res.store)
    df = st.samples
    assert len(df) == 12 and set(df["split"]) == {"train", "test"}
    # CLIMB's call over the 13 named, labelled videos (the zero-byte one included)
    from sklearn.model_selection import train_test_split

    ids = sorted(Path(n).stem for n in [*names[:12], "101_pocus_covid.mp4"])
    srcs = [i.split("_")[1] for i in ids]
    _, test = train_test_split(ids, test_size=0.25, random_state=42, stratify=srcs)
    assert sorted(df[df["split"] == "test"]["sample_id"]) == sorted(set(test) - {"101_pocus_covid"})
    assert (df.groupby("source")["split"].apply(lambda s: (s == "test").sum()) >= 1).all()
    lab = dict(zip(df["sample_id"], df["label__covid_us3"], strict=True))
    assert lab["001_butterfly_pneumonia"] == 1 and lab["011_litfl_covid"] == 0
    assert st.read("video", [0])[0].shape == (6, 32, 32, 1)
    # default rule: seeded, one group per video (no video's frames in two splits)
    res2 = prepare("covid_us", tmp_path, adapter=CovidUSAdapter(size=32))
    assert open_store(res2.store).meta["splits"]["leakage_check"] == "passed"
