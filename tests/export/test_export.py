"""Round trips of every export format, CLIMB's qa layout, licence terms, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from climb.core.errors import ClimbError
from climb.export import SUMMARY_FILE, export_store
from tests.export.conftest import CLASSES, FINDINGS, make_image_store, make_video_store


def _rows(out: Path, split: str) -> list[dict]:
    return [json.loads(x) for x in (out / f"annotation_{split}.jsonl").read_text().splitlines()]


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_qa_jsonl_layout_and_labels(image_store, tmp_path: Path) -> None:
    store, truth = image_store
    warnings: list[str] = []
    res = export_store(store, "qa-jsonl", tmp_path / "qa", echo=warnings.append)
    out = res.out
    n_train = truth["splits"].count("train")
    rows = _rows(out, "train")
    # 4 tasks per sample, minus missing labels (mc -1 at row 3, ml -1 at 5, NaN size at 7)
    assert len(rows) == 4 * n_train - 3 and res.written["train"] == len(rows)
    assert res.skipped == {"kind": 1, "bin": 0, "find": 1, "size": 1}
    for r in rows:
        assert set(r) == {"id", "dataset", "task", "images", "explanation", "conversations"}
        human, gpt = r["conversations"]
        assert human["from"] == "human" and gpt["from"] == "gpt" and r["explanation"] == ""
        assert human["value"].startswith("<image>\n" * 3) and human["value"].count("<image>") == 3
        assert len(r["images"]) == 3 and all((out / p).is_file() for p in r["images"])
        i = int(r["id"].split("/")[1])
        if r["task"] == "kind":
            assert "Answer with one word from normal, benign, malignant." in human["value"]
            assert gpt["value"] == CLASSES[truth["mc"][i]]
        elif r["task"] == "find":
            assert "Select all that apply" in human["value"]
            names = [FINDINGS[c] for c in range(2) if truth["ml"][i, c]]
            assert gpt["value"] == (", ".join(names) or "none")
        elif r["task"] == "size":
            assert "Answer with a number in mm." in human["value"]
            assert abs(float(gpt["value"]) - truth["reg"][i]) < 1e-3 * max(1, truth["reg"][i])
        else:
            assert gpt["value"] == ("yes" if truth["mc"][i] == 2 else "no")
    first = rows[0]
    np.testing.assert_array_equal(_png(out / first["images"][0]), truth["img"][0, 0])
    v0 = truth["views"][0, 0]
    expect = np.round((v0 - v0.min()) / (v0.max() - v0.min()) * 255).astype(np.uint8)
    np.testing.assert_array_equal(_png(out / first["images"][1]), expect)
    # licence terms travel with the export
    assert any("NON-COMMERCIAL" in w for w in warnings) and any(
        "NO DERIVATIVES" in w for w in warnings
    )
    assert any("ACCESS 'dua'" in w for w in warnings)
    text = (out / "LICENCE.md").read_text()
    assert "CC-BY-NC-ND-4.0" in text and "NON-COMMERCIAL" in text and "@misc{tiny" in text
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert (
        summary["licence"]["id"] == "CC-BY-NC-ND-4.0" and len(summary["licence"]["warnings"]) == 3
    )
    assert summary["quarantined"] == 0 and not (out.parent / "qa.partial").exists()


def test_qa_jsonl_is_deterministic(image_store, tmp_path: Path) -> None:
    store, _ = image_store
    a = export_store(store, "qa-jsonl", tmp_path / "a", tasks=["kind"], echo=lambda s: None).out
    b = export_store(store, "qa-jsonl", tmp_path / "b", tasks=["kind"], echo=lambda s: None).out
    for split in ("train", "val", "test"):
        assert (a / f"annotation_{split}.jsonl").read_bytes() == (
            b / f"annotation_{split}.jsonl"
        ).read_bytes()
    files = sorted(p.relative_to(a) for p in (a / "media").rglob("*.png"))
    assert files and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_hf_round_trip(image_store, tmp_path: Path) -> None:
    import datasets

    store, truth = image_store
    out = export_store(store, "hf", tmp_path / "hf", echo=lambda s: None).out
    dd = datasets.load_from_disk(str(out))
    assert set(dd) == {"train", "val", "test"}
    feats = dd["train"].features
    assert feats["kind"].names == CLASSES and isinstance(feats["img"], datasets.Image)
    assert (
        "CC-BY-NC-ND-4.0" in dd["train"].info.license
        and "NON-COMMERCIAL" in dd["train"].info.license
    )
    assert dd["train"].info.citation.startswith("@misc{tiny")
    seen = 0
    for split in dd:
        for ex in dd[split]:
            i = int(ex["sample_id"].split("/")[1])
            assert truth["splits"][i] == split
            assert ex["kind"] == truth["mc"][i]  # -1 stays -1 (missing)
            assert ex["find"] == [int(v) for v in truth["ml"][i]] or i == 5
            assert (ex["size"] is None) if i == 7 else abs(ex["size"] - truth["reg"][i]) < 1e-9
            np.testing.assert_array_equal(np.asarray(ex["img"]), truth["img"][i, 0])
            assert len(ex["views"]) == 2
            seen += 1
    assert seen == 24
    assert dd["train"][5]["find"] == [int(truth["ml"][5, 0]), -1]


def test_webdataset_round_trip(image_store, tmp_path: Path) -> None:
    import webdataset as wds

    store, truth = image_store
    out = export_store(store, "webdataset", tmp_path / "wds", shard_size=5, echo=lambda s: None).out
    shards = sorted(str(p) for p in out.glob("train-*.tar"))
    assert len(shards) == 4  # 16 samples, 5 per shard
    ds = wds.WebDataset(shards, shardshuffle=False).decode("rgb8")
    got = list(ds)
    assert len(got) == 16
    for s in got:
        meta = s["json"]
        i = int(meta["sample_id"].split("/")[1])
        assert meta["kind"] == (None if truth["mc"][i] < 0 else int(truth["mc"][i]))
        assert meta["size"] is None if i == 7 else abs(meta["size"] - truth["reg"][i]) < 1e-9
        np.testing.assert_array_equal(s["img.png"][..., 0], truth["img"][i, 0])
        assert s["views_0.png"].shape[:2] == (8, 8) and "views_1.png" in s


def test_signal_and_video_media(signal_store, tmp_path: Path) -> None:
    import av

    out = export_store(
        signal_store, "qa-jsonl", tmp_path / "sig", tasks=["mc"], echo=lambda s: None
    ).out
    row = _rows(out, "train")[0]
    img = Image.open(out / row["images"][0])
    assert img.format == "PNG" and img.size[0] == 600
    assert "signal plot" in row["conversations"][0]["value"]
    wout = export_store(signal_store, "webdataset", tmp_path / "sigw", echo=lambda s: None).out
    import webdataset as wds

    s = next(iter(wds.WebDataset(str(wout / "train-000000.tar"), shardshuffle=False).decode()))
    assert s["ecg.npy"].shape == (3, 200) and s["ecg.npy"].dtype == np.float32

    vstore = tmp_path / "vid"
    vid = make_video_store(vstore)
    vout = export_store(vstore, "qa-jsonl", tmp_path / "vqa", echo=lambda s: None).out
    rows = _rows(vout, "train")
    assert len(rows) == 4 and rows[0]["conversations"][0]["value"].startswith("<video>\n")
    assert rows[1]["conversations"][1]["value"] == "Has COVID"
    with av.open(str(vout / rows[0]["videos"][0])) as box:
        frames = [f.to_ndarray(format="rgb24") for f in box.decode(video=0)]
    assert len(frames) == vid.shape[1] and frames[0].shape == (16, 16, 3)
    hout = export_store(vstore, "hf", tmp_path / "vhf", echo=lambda s: None).out
    import datasets

    ex = datasets.load_from_disk(str(hout))["train"][0]
    assert ex["clip_mp4"][:12].find(b"ftyp") >= 0 and ex["covid"] == 0


def test_bad_input(tmp_path: Path) -> None:
    store = tmp_path / "bad"
    make_image_store(store, nan_rows=(2, 20), seg=True)
    with pytest.raises(ClimbError, match=r"task 'mask' .* segmentation task") as e:
        export_store(store, "qa-jsonl", tmp_path / "o1", echo=lambda s: None)
    assert "--task" in str(e.value)
    assert not (tmp_path / "o1").exists()
    res = export_store(store, "qa-jsonl", tmp_path / "o2", tasks=["kind"], echo=lambda s: None)
    assert res.quarantined == 2
    q = [json.loads(x) for x in (res.out / "quarantine.jsonl").read_text().splitlines()]
    assert {x["sample_id"] for x in q} == {"t/002", "t/020"} and "NaN" in q[0]["reason"]
    with pytest.raises(ClimbError, match="not empty"):
        export_store(store, "qa-jsonl", tmp_path / "o2", tasks=["kind"], echo=lambda s: None)
    res2 = export_store(
        store, "hf", tmp_path / "o2", tasks=["kind"], overwrite=True, echo=lambda s: None
    )
    assert (res2.out / "dataset_dict.json").exists() and res2.quarantined == 2
    with pytest.raises(ClimbError, match="no task 'nope'"):
        export_store(store, "hf", tmp_path / "o3", tasks=["nope"])
    with pytest.raises(ClimbError, match="unknown export format"):
        export_store(store, "csv", tmp_path / "o3")
    with pytest.raises(ClimbError, match="no store"):
        export_store(tmp_path / "nowhere/x", "hf", tmp_path / "o3")


def test_cli(image_store, tmp_path: Path, capsys) -> None:
    from climb.cli import main

    store, _ = image_store
    main(
        [
            "export",
            str(store),
            "--format",
            "qa-jsonl",
            "--out",
            str(tmp_path / "c"),
            "--task",
            "bin",
            "--json",
        ]
    )
    out = capsys.readouterr()
    summary = json.loads(out.out.strip().splitlines()[-1])
    assert summary["written"]["train"] == 16 and "NON-COMMERCIAL" in out.err
    with pytest.raises(SystemExit) as e:
        main(["export", str(store), "--format", "hf", "--out", str(tmp_path / "c")])
    assert e.value.code == 2 and "not empty" in capsys.readouterr().err


def test_ragged_video_store(tmp_path: Path) -> None:
    import av
    import webdataset as wds

    import datasets
    from tests.export.conftest import make_ragged_video_store

    store = tmp_path / "rv"
    vids = make_ragged_video_store(store)
    out = export_store(store, "qa-jsonl", tmp_path / "qa", echo=lambda s: None).out
    rows = _rows(out, "train")
    assert [len(r["videos"]) for r in rows] == [1] * 4 and "images" not in rows[0]
    for r, v in zip(rows, vids, strict=True):
        with av.open(str(out / r["videos"][0])) as box:
            stream = box.streams.video[0]
            n = sum(1 for _ in box.decode(video=0))
            assert n == v.shape[0] and float(stream.average_rate) == 5 + rows.index(r)
    hf = datasets.load_from_disk(str(export_store(store, "hf", tmp_path / "hf", echo=print).out))
    ex = hf["train"][3]
    assert np.asarray(ex["events"]).shape == (4, 2) and ex["video_mp4"]
    w = export_store(store, "webdataset", tmp_path / "w", echo=print).out
    got = list(wds.WebDataset(str(w / "train-000000.tar"), shardshuffle=False).decode())
    assert [s["events.npy"].shape[0] for s in got] == [1, 2, 3, 4]
