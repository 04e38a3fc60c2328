"""Cholec80: generated videos + phase/tool files in the native layout; per-second labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from climb.datasets.surgical_video._adapters import (
    PHASES,
    Cholec80Adapter,
    climb_split,
    interval_bounds,
    official_split,
    stored_seconds,
)
from climb.io.video import write_video
from climb.prepare.pipeline import prepare
from climb.store import open_store

FPS = 5
SECONDS = 100
NATIVE = ["Preparation", "CalotTriangleDissection", "ClippingCutting", "GallbladderDissection",
          "GallbladderPackaging", "CleaningCoagulation", "GallbladderRetraction"]  # fmt: skip


def _write(root: Path, n: int, *, seconds: int = SECONDS, phase_past_end: bool = False) -> None:
    name = f"video{n:02d}"
    frames = np.zeros((seconds * FPS, 32, 32, 3), dtype=np.uint8)
    for k in range(len(frames)):
        frames[k] = (k // FPS) % 250  # grey level = second
    write_video(root / "videos" / f"{name}.mp4", frames, fps=FPS)
    n_frames = len(frames) + (10 * FPS if phase_past_end else 0)
    lines = ["Frame\tPhase"] + [
        f"{k}\t{NATIVE[min(6, k // (FPS * 15))]}" for k in range(n_frames)
    ]  # phase p during seconds 15p .. 15p + 14
    (root / "phase_annotations" / f"{name}-phase.txt").write_text("\n".join(lines) + "\n")
    tl = ["Frame\tGrasper\tBipolar\tHook\tScissors\tClipper\tIrrigator\tSpecimenBag"]
    for s in range(seconds):
        flags = [int(s >= 50), 0, int(s < 30), 0, 0, 0, 0]
        tl.append("\t".join(map(str, [s * FPS, *flags])))
    (root / "tool_annotations" / f"{name}-tool.txt").write_text("\n".join(tl) + "\n")


def test_split_rules() -> None:
    assert [official_split(n) for n in (1, 40, 41, 48, 49, 80)] == [
        "train", "train", "val", "val", "test", "test"]  # fmt: skip
    ids = [f"video{n:02d}" for n in range(1, 81)]
    s = climb_split(ids)
    assert sum(v == "train" for v in s.values()) == 64 and climb_split(ids[::-1]) == s
    assert stored_seconds(150, 5.0, 30.0) == 30 and stored_seconds(151, 5.0, 30.2) == 31
    assert stored_seconds(0, 0.0, 29.5) == 30
    b = interval_bounds(1800)
    assert len(b) == 90 and b[0] == (0, 20) and b[-1] == (1780, 1800)


def test_per_second_labels_and_bad_inputs(tmp_path: Path) -> None:
    root = tmp_path / "raw" / "cholec80" / "cholec80"
    for d in ("videos", "phase_annotations", "tool_annotations"):
        (root / d).mkdir(parents=True)
    _write(root, 1)
    _write(root, 45, seconds=20, phase_past_end=True)
    _write(root, 60, seconds=20)
    (root / "phase_annotations" / "video60-phase.txt").unlink()
    res = prepare("cholec80", tmp_path, adapter=Cholec80Adapter(size=16))
    reasons = {q["reason"] for q in res.quarantined}
    assert reasons == {
        "cholec80/phase_annotations/video45-phase.txt refers to frame 149, past the end of "
        "cholec80/videos/video45.mp4 (100 frames)",
        "cholec80/phase_annotations/video60-phase.txt missing (labels missing for video60)",
    }
    st = open_store(res.store)
    df = st.samples.set_index("sample_id")
    assert len(df) == 90 and set(df["split"]) == {"train"}  # video01: official train
    assert df["n_frames"].sum() == SECONDS  # every second once, 90 intervals of 1-2 s
    row = df[(df["n_frames"] == 2) & (df["start_s"] >= 40)].iloc[0]
    i = int(row["index"])
    v, ph, tl = (st.read(f, [i])[0] for f in ("video", "phase", "tools"))
    secs = list(range(int(row["start_s"]), int(row["end_s"])))
    assert v.shape == (len(secs), 16, 16, 3)
    # frame k shows second k (grey level = second, +-3 after lossy coding and YUV range)
    np.testing.assert_allclose([float(f.mean()) for f in v], secs, atol=3)
    assert ph.tolist() == [min(6, s // 15) for s in secs]
    assert tl[:, 0].tolist() == [int(s >= 50) for s in secs] and (tl[:, 2] == 0).all()
    assert list(row["label__phases_present"]) == [int(p in ph) for p in range(len(PHASES))]
    assert row["frame_index"] == f"{secs[0] * FPS}:{secs[-1] * FPS + 1}:{FPS}"
    assert st.tasks["phase"]["level"] == "frame" and st.tasks["phase"]["field"] == "phase"
