"""EchoNet-Dynamic: the real FileList.csv (official split, EF) with generated 112x112 AVIs."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from climb.io.video import write_video
from climb.prepare.pipeline import prepare
from climb.store import open_store
from tests.conftest import shared_fixture

N_FRAMES = 24


def _rows() -> tuple[list[str], list[dict[str, str]]]:
    with (shared_fixture("echonet") / "FileList.csv").open(newline="") as f:
        r = csv.DictReader(f)
        rows = list(r)
        return list(r.fieldnames or []), rows


def _pick(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Two rows per official split, one of them with EF < 40 when the split has one."""
    out = []
    for split in ("TRAIN", "VAL", "TEST"):
        sub = [r for r in rows if r["Split"] == split]
        low = [r for r in sub if float(r["EF"]) < 40][:1]
        out += low + [r for r in sub if float(r["EF"]) >= 40][: 2 - len(low)]
    return out


def _video(path: Path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 200, (112, 112, 1), dtype=np.uint8)
    frames = np.stack([np.repeat(np.clip(base + 2 * k, 0, 255), 3, axis=2) for k in range(n)])
    write_video(path, frames.astype(np.uint8), fps=50)


def test_official_split_ef_tracings_and_bad_inputs(tmp_path: Path) -> None:
    header, rows = _rows()
    assert len(rows) == 10030
    picked = _pick(rows)
    root = tmp_path / "raw" / "echonet_dynamic" / "EchoNet-Dynamic"
    (root / "Videos").mkdir(parents=True)
    bad_count, past_end, no_video = (dict(r) for r in rows[100:103])
    table = []
    for i, r in enumerate([*picked, bad_count, past_end]):
        r = dict(r)
        r["NumberOfFrames"] = str(N_FRAMES + (5 if i == len(picked) else 0))  # bad_count
        _video(root / "Videos" / f"{r['FileName']}.avi", N_FRAMES, i)
        table.append(r)
    no_video["NumberOfFrames"] = str(N_FRAMES)
    table.append(no_video)
    with (root / "FileList.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(table)
    with (root / "VolumeTracings.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["FileName", "X1", "Y1", "X2", "Y2", "Frame"])
        for r in picked:
            for frame in (3, 17):  # ES first, ED last
                for k in range(4):
                    w.writerow([f"{r['FileName']}.avi", 40 + k, 30, 70 - k, 80, frame])
        w.writerow([f"{past_end['FileName']}.avi", 1, 2, 3, 4, N_FRAMES + 3])
    res = prepare("echonet_dynamic", tmp_path)
    reasons = sorted(q["reason"] for q in res.quarantined)
    assert len(reasons) == 3, reasons
    assert any(
        f"{bad_count['FileName']}.avi: decoded 24 frames but FileList.csv" in x for x in reasons
    )
    assert any(f"frame {N_FRAMES + 3} of " in x and past_end["FileName"] in x for x in reasons)
    assert any(
        f"video file missing: EchoNet-Dynamic/Videos/{no_video['FileName']}.avi" in x
        for x in reasons
    )
    st = open_store(res.store)
    df = st.samples.set_index("sample_id")
    assert st.meta["splits"]["rule"] == "official"
    for r in picked:
        s = df.loc[r["FileName"]]
        assert s["split"] == {"TRAIN": "train", "VAL": "val", "TEST": "test"}[r["Split"]]
        assert s["label__ef"] == float(r["EF"]) and s["label__edv"] == float(r["EDV"])
        assert s["label__ef_low"] == int(float(r["EF"]) < 40)
        assert (s["es_frame"], s["ed_frame"], s["tracing_issue"]) == (3, 17, "")
    assert df["label__ef_low"].sum() >= 1
    assert st.tasks["ef"]["type"] == "regression" and st.tasks["ef"]["unit"] == "%"
    i = int(df.loc[picked[0]["FileName"], "index"])
    v = st.read("video", [i])[0]
    tr = st.read("lv_tracing", [i])[0]
    assert v.shape == (N_FRAMES, 112, 112, 3) and tr.shape == (8, 5)
    assert tr[:4, 0].tolist() == [3] * 4 and tr[0, 1:].tolist() == [40, 30, 70, 80]


def test_without_volume_tracings(tmp_path: Path) -> None:
    """No VolumeTracings.csv: a clear error naming the option that prepares without it."""
    import pytest

    from climb.core.errors import ClimbError
    from climb.datasets.ultrasound._videos import EchoNetAdapter

    header, rows = _rows()
    root = tmp_path / "raw" / "echonet_dynamic" / "EchoNet-Dynamic"
    (root / "Videos").mkdir(parents=True)
    table = [dict(r, NumberOfFrames=str(N_FRAMES)) for r in rows[:3]]
    for i, r in enumerate(table):
        _video(root / "Videos" / f"{r['FileName']}.avi", N_FRAMES, i)
    with (root / "FileList.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(table)
    with pytest.raises(ClimbError, match="-O tracings=false"):
        prepare("echonet_dynamic", tmp_path)
    res = prepare("echonet_dynamic", tmp_path, adapter=EchoNetAdapter(tracings=False))
    st = open_store(res.store)
    assert len(st.samples) == 3 and "lv_tracing" not in st.fields
    assert (st.samples["tracing_issue"] == "no VolumeTracings.csv").all()
