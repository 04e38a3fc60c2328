"""TUAB, TUEV and IIIC adapters: generated TUH trees (pyedflib, 250/256 Hz, every bad input),
the real TUH EDFs and the real IIIC segments, options, and stored values vs hand computation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import zarr

from climb.cli import main
from climb.core.errors import ClimbError
from climb.demo.eeg import BROKEN_TUAB, BROKEN_TUEV, write_tuab_tree, write_tuev_tree
from climb.io.montage import resample
from climb.prepare.pipeline import prepare, resolve_adapter
from climb.store.writer import quiet_zarr
from tests.conftest import shared_fixture

OFF = {"bandpass": "off", "notch": "off"}


def _store(res: object) -> tuple[pd.DataFrame, np.ndarray, dict]:
    store = res.store  # type: ignore[attr-defined]
    df = pd.read_parquet(store / "samples.parquet")
    with quiet_zarr():
        x = np.asarray(zarr.open_array(store / "arrays" / "eeg.zarr", mode="r")[:])
    return df, x, json.loads((store / "dataset.json").read_text())


@pytest.fixture(scope="module")
def tuab_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("tuab")
    files = write_tuab_tree(root / "raw" / "tuab", subjects=8, seconds=24.0)
    return root, files


def test_tuab_prepare_labels_splits_and_quarantine(tuab_root: tuple[Path, dict[str, str]]) -> None:
    root, files = tuab_root
    res = prepare("tuab", root)
    df, x, meta = _store(res)
    good = {k: v for k, v in files.items() if v in ("normal", "abnormal")}
    assert len(df) == 2 * len(good)  # 24 s -> two 10-s windows per file
    assert x.shape == (len(df), 16, 2000) and x.dtype == np.float32
    for rel, label in good.items():
        rows = df[df["source_path"] == rel]
        assert len(rows) == 2 and set(rows["label__abnormal"]) == {int(label == "abnormal")}
        official = "test" if "/eval/" in rel else {"train", "val"}
        assert set(rows["split"]) <= (official if isinstance(official, set) else {official})
    assert meta["splits"]["leakage_check"] == "passed"
    assert set(df["split"]) == {"train", "val", "test"}
    assert set(df["reference"]) == {"REF", "LE"} and set(df["orig_fs"]) == {250.0, 256.0}
    # every bad input: one entry naming the file and what is wrong
    q = {Path(e["source_path"]).stem: e["reason"] for e in res.quarantined}
    for stem, what in BROKEN_TUAB.items():
        assert stem in q, stem
        assert f"{stem}.edf" in q[stem] and what in q[stem], q[stem]
    assert "T7 (or T3), F8" in q["zzmissing_s001_t000"]
    # reasons start with what is wrong, so the summary groups them by kind, not by file
    assert set(res.reasons) == {
        "broken EDF header",
        "EDF+D (discontinuous) file",
        "missing channels for the tcp_bipolar montage",
        "too short",
        "flat channels",
        "unsupported sampling rate",
    }
    # recorded protocol
    assert (
        meta["fields"]["eeg"]["unit"] == "uV" and meta["fields"]["eeg"]["sampling_rate_hz"] == 200
    )
    assert meta["fields"]["eeg"]["codec"] == {"name": "none", "scale": 10, "astype": "int16"}
    assert meta["created_by"]["adapter_params"] == {
        "montage": "tcp_bipolar",
        "bandpass": "0.1-75",
        "notch": 60.0,
        "window_s": 10.0,
        "stride_s": 10.0,
    }
    assert any("FP1-F7" in n and "0.1 µV" in n for n in meta["notes"])
    assert any("val = 20% of the train subjects" in n and "seed 0" in n for n in meta["notes"])


def test_tuab_values_match_hand_computation(tuab_root: tuple[Path, dict[str, str]]) -> None:
    import pyedflib

    root, files = tuab_root
    a = resolve_adapter("tuab", {**OFF, "window_s": 5, "stride_s": 2.5})
    res = prepare("tuab", root, adapter=a)
    df, x, _ = _store(res)
    rel = next(k for k in files if "aaaaa000" in k)  # 256 Hz
    rows = df[df["source_path"] == rel].sort_values("start_s")
    assert list(rows["start_s"]) == [0, 2.5, 5, 7.5, 10, 12.5, 15, 17.5]  # 17.5 + 5 <= 24
    with pyedflib.EdfReader(str(root / "raw" / "tuab" / rel)) as r:
        labels = r.getSignalLabels()
        sig = {lab: r.readSignal(i) for i, lab in enumerate(labels)}
    fs = 256.0
    t3 = resample(sig["EEG T3-LE"], fs, 200.0)
    fp1 = resample(sig["EEG FP1-LE"], fs, 200.0)
    f7 = resample(sig["EEG F7-LE"], fs, 200.0)
    row = rows.iloc[3]  # 7.5 s
    s = 1500
    got = x[int(row["index"])]
    assert np.max(np.abs(got[0] - (fp1 - f7)[s : s + 1000])) <= 0.05 + 1e-4  # FP1-F7
    assert np.max(np.abs(got[1] - (f7 - t3)[s : s + 1000])) <= 0.05 + 1e-4  # F7-T7 (T3)


def test_tuab_options(
    tuab_root: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _ = tuab_root
    a = resolve_adapter("tuab", {"montage": "referential", "bandpass": "0.5-40", "notch": 50})
    assert a.fields()[0].shape == (19, 2000)  # type: ignore[attr-defined]
    assert a.params() == {  # type: ignore[attr-defined]
        "montage": "referential",
        "bandpass": "0.5-40",
        "notch": 50.0,
        "window_s": 10.0,
        "stride_s": 10.0,
    }
    assert resolve_adapter("tuab", {"notch": False}).params()["notch"] == "off"  # type: ignore[attr-defined]
    with pytest.raises(ClimbError, match="no prepare option 'windows'") as e:
        resolve_adapter("tuab", {"windows": 5})
    assert "window_s=10.0" in e.value.render() and "montage='tcp_bipolar'" in e.value.render()
    for bad, msg in (
        ({"montage": "banana"}, "montage must be one of tcp_bipolar, referential"),
        ({"bandpass": "75-0.1"}, "LOW < HIGH"),
        ({"bandpass": "0.1-120"}, "below 100 Hz"),
        ({"notch": "sixty"}, "notch must be"),
        ({"window_s": 0}, "window_s must be"),
        ({"stride_s": 0.001}, "multiple of 1/200"),
    ):
        with pytest.raises(ClimbError, match=msg):
            resolve_adapter("tuab", bad)
    with pytest.raises(SystemExit):
        main(["prepare", "tuab", "--root", str(root), "-q", "-O", "montag=referential"])
    assert "no prepare option 'montag'" in capsys.readouterr().err


def test_tuab_on_the_real_tuh_edfs(tmp_path: Path) -> None:
    src = shared_fixture("tuh_edf")
    d = tmp_path / "raw" / "tuab" / "edf" / "train" / "normal" / "01_tcp_ar"
    d.mkdir(parents=True)
    for f in sorted(src.rglob("*.edf")):
        (d / f.name).symlink_to(f)  # read in place
    res = prepare("tuab", tmp_path, splits="patient")
    df, x, _ = _store(res)
    assert not res.quarantined
    # 17 s -> 1 window, 22 s -> 2 windows; one TUH subject (00009578)
    assert sorted(df["recording"].value_counts().tolist()) == [1, 2]
    assert set(df["patient_id"]) == {"00009578"} and set(df["orig_fs"]) == {250.0, 256.0}
    assert np.all(np.isfinite(x)) and 5 < float(np.abs(x).mean()) < 200  # µV scale


@pytest.fixture(scope="module")
def tuev_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("tuev")
    events = write_tuev_tree(root / "raw" / "tuev", subjects=6, seconds=30.0)
    return root, events


def test_tuev_one_sample_per_event(tuev_root: tuple[Path, dict]) -> None:
    root, events = tuev_root
    res = prepare("tuev", root)
    df, x, meta = _store(res)
    good = {k: v for k, v in events.items() if v}
    assert len(df) == sum(len(v) for v in good.values())
    assert x.shape == (len(df), 16, 1000)
    for rel, evs in good.items():
        rows = df[df["source_path"] == rel].sort_values("event_start_s")
        assert list(rows["label__events6"]) == [
            c - 1 for _, _, _, c in sorted(evs, key=lambda e: e[1])
        ]
        assert list(rows["channel"]) == [ch for ch, _, _, _ in sorted(evs, key=lambda e: e[1])]
        first = rows.iloc[0]  # the 0.5-1.5 s event: window -1.5..3.5 s, 1.5 s zero-padded
        assert first["window_start_s"] == -1.5 and first["padded_samples"] == 300
        assert np.all(x[int(first["index"])][:, :300] == 0)
        assert rows.iloc[1]["padded_samples"] == 0
        split = set(rows["split"])
        assert split == {"test"} if "/eval/" in rel else split <= {"train", "val"}
    q = {Path(e["source_path"]).stem: e["reason"] for e in res.quarantined}
    for stem, what in BROKEN_TUEV.items():
        assert stem in q and what in q[stem], (stem, q.get(stem))
    assert "line 2" in q["zzbadrec_00000001"]
    assert meta["tasks"]["events6"]["classes"] == ["SPSW", "GPED", "PLED", "EYEM", "ARTF", "BCKG"]


def test_iiic_real_segments(tmp_path: Path) -> None:
    import scipy.io

    src = shared_fixture("iiic")
    raw = tmp_path / "raw" / "iiic"
    raw.mkdir(parents=True)
    for f in sorted(src.glob("*.mat")):
        (raw / f.name).symlink_to(f)
    res = prepare("iiic", tmp_path, adapter=resolve_adapter("iiic", OFF))
    df, x, meta = _store(res)
    assert len(df) == 12 and not res.quarantined
    classes = meta["tasks"]["iiic6"]["classes"]
    for _, r in df.iterrows():
        assert classes[r["label__iiic6"]] == r["sample_id"].split("_")[0]
    assert meta["splits"]["rule"] == "group" and meta["splits"]["leakage_check"] == "passed"
    # hand-computed: central 10 s of the bipolar montage (seg rows: Fp1 0, F7 4, T3 5, Fp2 11)
    seg = scipy.io.loadmat(str(src / "SZ_sample1.mat"))["seg"]
    got = x[int(df.loc[df["sample_id"] == "SZ_sample1", "index"].iloc[0])]
    np.testing.assert_allclose(got[0], (seg[0] - seg[4])[4000:6000], atol=0.05 + 1e-4)
    np.testing.assert_allclose(got[1], (seg[4] - seg[5])[4000:6000], atol=0.05 + 1e-4)
    np.testing.assert_allclose(got[4], (seg[11] - seg[15])[4000:6000], atol=0.05 + 1e-4)

    full = prepare("iiic", tmp_path, adapter=resolve_adapter("iiic", {**OFF, "segment": "full"}))
    assert _store(full)[1].shape == (12, 16, 10000)


def test_iiic_vote_table_and_bad_files(tmp_path: Path) -> None:
    import scipy.io

    raw = tmp_path / "raw" / "iiic"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(6):
        scipy.io.savemat(raw / f"seg{i}.mat", {"seg": 30 * rng.normal(size=(20, 10000))})
    scipy.io.savemat(raw / "short.mat", {"seg": rng.normal(size=(20, 500))})
    scipy.io.savemat(raw / "nokey.mat", {"data": rng.normal(size=(20, 10000))})
    nan = 30 * rng.normal(size=(20, 10000))
    nan[2, 7] = np.nan
    scipy.io.savemat(raw / "nan.mat", {"seg": nan})
    (raw / "votes.csv").write_text(
        "file,patient,SZ,LPD,GPD,LRDA,GRDA,Other\n"
        + "".join(f"seg{i},p{i // 2},{i},0,0,0,{6 - i},1\n" for i in range(6))
        + "short,p9,1,0,0,0,0,0\nnokey,p9,1,0,0,0,0,0\nnan,p9,1,0,0,0,0,0\n"
    )
    (raw / "unlabelled.mat").write_bytes(b"\x00" * 10)
    res = prepare("iiic", tmp_path)
    df, _, _ = _store(res)
    assert len(df) == 6
    r3 = df[df["sample_id"] == "seg3"].iloc[0]
    assert r3["votes_GRDA"] == 3 and r3["votes_SZ"] == 3 and r3["votes_Other"] == 1
    assert r3["label__iiic6"] == 0  # tie SZ/GRDA -> first class (argmax)
    assert df[df["sample_id"] == "seg5"].iloc[0]["label__iiic6"] == 0
    assert df[df["sample_id"] == "seg0"].iloc[0]["label__iiic6"] == 4
    assert df.groupby("patient_id")["split"].nunique().max() == 1
    q = {e["record"]: e["reason"] for e in res.quarantined}
    assert "wrong shape: seg has shape (20, 500)" in q["short"] and "[short.mat]" in q["short"]
    assert "no 'seg' variable: the file has data [nokey.mat]" in q["nokey"]
    assert "NaN/infinite samples: channels C3 (1) [nan.mat]" in q["nan"]
    assert q["unlabelled"].startswith("no class:") and "[unlabelled.mat]" in q["unlabelled"]


def test_parse_rec(tmp_path: Path) -> None:
    from climb.datasets.eeg._adapters import parse_rec

    rec = tmp_path / "a.rec"
    rec.write_text("14,267.0,268.0,6\n0.0, 1.5, 2.5, 1.0\n\n")
    assert parse_rec(rec) == [(14, 267.0, 268.0, 6), (0, 1.5, 2.5, 1)]
    for text, msg in (
        ("0,1,2\n", "line 1: '0,1,2' is not 'channel,start,stop,class'"),
        ("0,1,2,6\n1.5,1,2,6\n", "line 2"),
        ("22,1,2,6\n", "channel 22 is not in 0-21"),
        ("0,1,2,7\n", "class 7 is not in 1-6"),
        ("0,3,2,6\n", "are not a span"),
        ("\n", "no events"),
    ):
        rec.write_text(text)
        with pytest.raises(ValueError, match=msg):
            parse_rec(rec)


def test_tuab_subject_in_train_and_eval_is_reported(tmp_path: Path) -> None:
    import shutil

    raw = tmp_path / "raw" / "tuab"
    files = write_tuab_tree(raw, subjects=4, seconds=12.0, broken=False)
    src = raw / next(k for k in files if "aaaaa000" in k)  # a train subject ...
    dst = raw / "edf/eval/normal/01_tcp_ar/aaaaa000_s002_t000.edf"  # ... with an eval session
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, dst)
    res = prepare("tuab", tmp_path)
    df, _, meta = _store(res)
    rows = df[df["patient_id"] == "aaaaa000"]
    assert set(rows.loc[rows["session"] == "s002", "split"]) == {"test"}
    assert set(rows.loc[rows["session"] == "s001", "split"]) <= {"train", "val"}
    assert meta["splits"]["leakage_check"].startswith("failed: 1 patient")


def test_units_keep_a_recordings_windows_together(tmp_path: Path) -> None:
    """The windows of one EDF are read by one worker (one unit): no recording is decoded and
    filtered twice. The store is the same for any unit size and worker count."""
    import shutil

    from climb.core.adapter import PrepareOptions
    from climb.prepare.pipeline import cut_units

    write_tuab_tree(tmp_path / "a" / "raw" / "tuab", subjects=4, seconds=24.0)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    adapter = resolve_adapter("tuab", OFF)
    raw = tmp_path / "a" / "raw" / "tuab"
    refs = adapter.list_records(raw, PrepareOptions(splits=adapter.default_split_rule(raw)))
    per_file = {r.source_path for r in refs}
    assert len(refs) > len(per_file) > 1  # several windows per recording
    units = cut_units(refs, 3)
    assert [r for u in units for r in u] == refs
    owner: dict[str, int] = {}
    for i, u in enumerate(units):
        assert len(u) >= 3 or i == len(units) - 1
        for r in u:
            assert owner.setdefault(r.source_path, i) == i  # one unit per recording
    a = prepare("tuab", tmp_path / "a", adapter=resolve_adapter("tuab", OFF), unit_size=3)
    b = prepare(
        "tuab", tmp_path / "b", adapter=resolve_adapter("tuab", OFF), unit_size=64, workers=2
    )
    assert a.content_hash == b.content_hash and a.counts == b.counts
