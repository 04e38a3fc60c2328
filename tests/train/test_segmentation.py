"""Segmentation through the one trainer (the ``segmentation`` task kind, climb.tasks) on a
generated tiny BUSI store: bright squares on a noisy background, with masks matching them,
prepared at 32x32."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from PIL import Image
from typer.testing import CliRunner

from climb.core.errors import ClimbError
from climb.experiment.config import from_dict, load_config
from climb.tasks.segmentation import (
    confusion_counts,
    image_scores,
    segmentation_loss,
    segmentation_metrics,
)
from climb.train.trainer import train


def _make_busi(root: Path, n: tuple[int, int, int] = (32, 32, 12), seed: int = 0) -> Path:
    """A BUSI raw folder (benign / malignant with a square lesion, normal without) -> store."""
    from climb.prepare.pipeline import prepare

    rng = np.random.default_rng(seed)
    raw = root / "raw" / "busi"
    for cls, k in zip(("benign", "malignant", "normal"), n, strict=True):
        (raw / cls).mkdir(parents=True, exist_ok=True)
        for i in range(1, k + 1):
            img = rng.integers(20, 70, (64, 64)).astype(np.uint8)
            m = np.zeros((64, 64), np.uint8)
            if cls != "normal":
                s = int(rng.integers(16, 32))
                y, x = (int(v) for v in rng.integers(2, 62 - s, 2))
                img[y : y + s, x : x + s] = rng.integers(180, 240, (s, s))
                m[y : y + s, x : x + s] = 255
            Image.fromarray(img).save(raw / cls / f"{cls} ({i}).png")
            Image.fromarray(m).save(raw / cls / f"{cls} ({i})_mask.png")
    return prepare("busi", root, adapter_params={"size": 32}).store


def _cfg(root: Path, **over: dict[str, Any]) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "run": {"name": "seg", "seed": 0, "device": "cpu"},
        "data": {
            "root": str(root),
            "tasks": [{"dataset": "busi", "task": "lesion_segmentation", "field": "image"}],
            "batch_size": 8,
            "hflip": 0.5,
            "transforms": [{"name": "image_normalize", "store": "self"}],
        },
        "model": {"encoders": {"image": {"name": "convnextv2_atto",
                                         "kwargs": {"decoder_channels": 16}}}},
        "optim": {"lr": 3e-3, "warmup_steps": 5, "weight_decay": 0.05},
        "train": {"epochs": 6, "select": "val_dice", "log_every": 1},
        "evaluate": {"n_boot": 100},
    }  # fmt: skip
    for k, v in over.items():
        cfg[k] = {**cfg.get(k, {}), **v}
    return cfg


@pytest.fixture(scope="module")
def seg_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("segroot")
    _make_busi(root)
    return root


@pytest.fixture(scope="module")
def seg_run(seg_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train(from_dict(_cfg(seg_root)), tmp_path_factory.mktemp("segrun") / "run")


def test_train_learns_the_lesion(seg_run: Path) -> None:
    for name in ("config.yaml", "metrics.csv", "run.json", "results.parquet"):
        assert (seg_run / name).is_file(), name
    assert (seg_run / "checkpoints" / "best.pt").is_file()
    info = json.loads((seg_run / "run.json").read_text())
    task = info["tasks"]["busi/lesion_segmentation"]
    assert task["type"] == "segmentation" and task["select"] == "val_dice"
    per_epoch = info["steps_per_epoch"]
    assert info["max_steps"] == 6 * per_epoch
    m = pd.read_csv(seg_run / "metrics.csv")
    train_loss = m[m["kind"] == "train"]["loss"].to_numpy()
    assert train_loss[-per_epoch:].mean() < 0.6 * train_loss[:per_epoch].mean()  # it learns
    assert (m["kind"] == "val").sum() == 6  # one validation Dice per epoch
    df = pd.read_parquet(seg_run / "results.parquet")
    rows = {(r.metric, r.class_name): r for r in df.itertuples() if r.split == "test"}
    # the all-background prediction scores Dice 0 on every lesion image (undefined on normals)
    lesion = rows[("dice", "lesion")]
    assert lesion.value > 0.7, lesion
    agg = df[(df.metric == "dice") & df.class_name.isna()].iloc[0]
    assert agg.value == lesion.value  # one foreground class
    assert rows[("iou", "lesion")].value < lesion.value
    pix = df[(df.metric == "pixel_accuracy") & df.class_name.isna()].iloc[0]
    assert pix.value > 0.9


def test_results_parquet_rows(seg_run: Path) -> None:
    from climb.evaluate import RESULT_COLUMNS, read_results

    df = read_results(seg_run)
    assert list(df.columns) == RESULT_COLUMNS
    assert set(df["split"]) == {"test"} and set(df["dataset"]) == {"busi"}
    assert set(df["task"]) == {"lesion_segmentation"} and set(df["run_id"]) == {"run"}
    assert set(df["metric"]) == {"dice", "iou", "pixel_accuracy"}
    assert df["config_hash"].notna().all() and df["code_version"].notna().all()
    agg = df[df["class_name"].isna()].set_index("metric")
    for metric in ("dice", "iou", "pixel_accuracy"):
        r = agg.loc[metric]
        assert r["ci_low"] <= r["value"] <= r["ci_high"] and r["ci_high"] > r["ci_low"]
        assert "bootstrap over patients" in r["note"]
    assert set(df.loc[df["metric"] == "dice", "class_name"].dropna()) == {"background", "lesion"}


def test_evaluate_cli_reevaluates_a_segmentation_run(seg_run: Path) -> None:
    from climb.cli import app

    before = pd.read_parquet(seg_run / "results.parquet")
    r = CliRunner().invoke(app, ["evaluate", str(seg_run), "--n-boot", "20"])
    assert r.exit_code == 0, r.output
    after = pd.read_parquet(seg_run / "results.parquet")
    assert len(after) == 2 * len(before)
    d0 = before[(before.metric == "dice") & (before.class_name == "lesion")].value.iloc[0]
    d1 = after[(after.metric == "dice") & (after.class_name == "lesion")].value.iloc[-1]
    assert d1 == pytest.approx(d0)  # same checkpoint, same test images


def test_loss_ignores_unknown_pixels() -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 5, 5, requires_grad=True)
    unknown = torch.full((2, 5, 5), 255, dtype=torch.long)
    loss = segmentation_loss(logits, unknown)
    assert torch.isfinite(loss) and float(loss.detach()) == 0.0
    loss.backward()
    assert logits.grad is not None and float(logits.grad.abs().sum()) == 0.0
    # partly unknown: CE equals the CE over the known pixels only
    target = torch.randint(0, 3, (2, 5, 5))
    target[0, :2] = 255
    ce = segmentation_loss(logits, target, ce_weight=1.0, dice_weight=0.0)
    keep = target != 255
    flat = logits.permute(0, 2, 3, 1)[keep]
    assert torch.allclose(ce, torch.nn.functional.cross_entropy(flat, target[keep]))
    # changing the logits of unknown pixels changes nothing (CE + Dice)
    full = segmentation_loss(logits, target)
    other = logits.detach().clone()
    other[0, :, :2] = 50.0
    assert torch.allclose(full, segmentation_loss(other, target))


def test_dice_iou_by_hand() -> None:
    # image 0: 4 known pixels (one 255); class 1 TP 1, FP 1, FN 1 -> Dice 2/4, IoU 1/3
    #          class 0 TP 1, FP 1, FN 1 as well; class 2 absent from both -> undefined
    # image 1: class 2 TP 2, FP 0, FN 0 -> Dice 1; class 1 predicted, absent -> Dice 0
    pred = np.array([[[1, 1, 0], [0, 2, 2]], [[2, 2, 1], [1, 1, 1]]])
    true = np.array([[[1, 0, 1], [0, 255, 255]], [[2, 2, 0], [0, 0, 0]]])
    c = confusion_counts(pred, true, 3)
    np.testing.assert_array_equal(c["tp"], [[1, 1, 0], [0, 0, 2]])
    np.testing.assert_array_equal(c["fp"], [[1, 1, 0], [0, 4, 0]])
    np.testing.assert_array_equal(c["fn"], [[1, 1, 0], [4, 0, 0]])
    np.testing.assert_array_equal(c["known"], [4, 6])
    s = image_scores(c)
    np.testing.assert_allclose(s["dice"][0, :2], [0.5, 0.5])
    np.testing.assert_allclose(s["iou"][0, :2], [1 / 3, 1 / 3])
    assert math.isnan(s["dice"][0, 2]) and math.isnan(s["iou"][0, 2])  # undefined, not 0 or 1
    np.testing.assert_allclose(s["dice"][1], [0.0, 0.0, 1.0])
    np.testing.assert_allclose(s["pixel_accuracy"], [2 / 4, 2 / 6])
    res = segmentation_metrics(c, ["bg", "a", "b"], n_boot=0)
    v = {(r.metric, r.class_name): r for r in res}
    assert v[("dice", "a")].value == pytest.approx(0.25) and v[("dice", "a")].n == 2
    assert v[("dice", "b")].value == pytest.approx(1.0) and v[("dice", "b")].n == 1
    assert v[("dice", None)].value == pytest.approx((0.25 + 1.0) / 2)
    assert v[("iou", None)].value == pytest.approx((1 / 6 + 1.0) / 2)
    assert v[("pixel_accuracy", None)].value == pytest.approx((0.5 + 1 / 3) / 2)
    assert math.isnan(v[("dice", None)].ci_low)  # n_boot=0: no interval
    # an image with no known pixel: everything undefined; a class never present: NaN + note
    c2 = confusion_counts(np.zeros((1, 2, 2)), np.full((1, 2, 2), 255), 2)
    r2 = {(r.metric, r.class_name): r for r in segmentation_metrics(c2, ["bg", "x"], n_boot=20)}
    assert math.isnan(r2[("dice", "x")].value) and r2[("dice", "x")].n == 0
    assert math.isnan(r2[("dice", None)].value) and "left out" in r2[("dice", None)].note
    assert math.isnan(r2[("pixel_accuracy", None)].value)


def test_bootstrap_over_patients() -> None:
    # two patients with two images each: resampling patients keeps their images together
    pred = np.zeros((4, 1, 2), dtype=int)
    true = np.zeros((4, 1, 2), dtype=int)
    pred[:2, 0, 0] = 1
    true[:2, 0, 0] = 1  # patient a: perfect lesion; patient b: lesion missed
    true[2:, 0, 0] = 1
    c = confusion_counts(pred, true, 2)
    res = segmentation_metrics(c, ["bg", "lesion"], groups=np.array(list("aabb")), n_boot=200)
    d = next(r for r in res if r.metric == "dice" and r.class_name == "lesion")
    assert d.value == pytest.approx(0.5) and d.ci_low == 0.0 and d.ci_high == 1.0


def test_model_shapes() -> None:
    from climb.models.segmentation import SegmentationNet

    net = SegmentationNet(3, 1, decoder_channels=8).eval()
    with torch.no_grad():
        assert net(torch.randn(2, 1, 64, 64)).shape == (2, 3, 64, 64)
        assert net(torch.randn(1, 1, 40, 24)).shape == (1, 3, 40, 24)  # padded and cropped
    with pytest.raises(ClimbError, match=r"not a timm model"):
        SegmentationNet(2, 1, "no_such_net")
    with pytest.raises(ClimbError, match=r"weights file not found"):
        SegmentationNet(2, 1, weights="/nonexistent/w.pth")


def test_local_weights(tmp_path: Path) -> None:
    """A local timm state dict (3-channel stem) loads into a 1-channel encoder; no download."""
    import timm

    from climb.models.segmentation import SegmentationNet

    torch.manual_seed(1)
    src = timm.create_model("convnextv2_atto", num_classes=0)
    torch.save(src.state_dict(), tmp_path / "w.pth")
    net = SegmentationNet(2, 1, weights=tmp_path / "w.pth")
    got = net.encoder.state_dict()["stages_1.blocks.0.conv_dw.weight"]
    assert torch.equal(got, src.state_dict()["stages.1.blocks.0.conv_dw.weight"])


def test_bad_config(seg_root: Path, tmp_path: Path) -> None:
    with pytest.raises(ClimbError, match=r"unknown key 'optim.lrr'.*did you mean 'lr'"):
        from_dict(_cfg(seg_root, optim={"lrr": 1.0}))
    with pytest.raises(ClimbError, match=r"unknown key 'modle'"):
        from_dict({**_cfg(seg_root), "modle": {}})
    with pytest.raises(ClimbError, match=r"'data.batch_size' must be >= 1"):
        from_dict(_cfg(seg_root, data={"batch_size": 0}))
    with pytest.raises(ClimbError, match=r"kind: segmentation"):
        from_dict({**_cfg(seg_root), "kind": "segmentation"})
    with pytest.raises(ClimbError, match=r"train.select=val_auroc is not defined"):
        train(from_dict(_cfg(seg_root, train={"select": "val_auroc", "epochs": 1})), tmp_path / "a")
    p = tmp_path / "seg.yaml"
    p.write_text(yaml.safe_dump(_cfg(seg_root)), encoding="utf-8")
    with pytest.raises(ClimbError, match=r"unknown key 'train.epoch'"):
        load_config(p, ["train.epoch=3"])
    with pytest.raises(ClimbError, match=r"bad --set"):
        load_config(p, ["train.epochs"])
    cfg = load_config(p, ["optim.lr=3e-4", "data.val_fraction=0.2"])
    assert cfg.optim.lr == 3e-4 and cfg.data.val_fraction == 0.2
    with pytest.raises(ClimbError, match=r"has no task 'busi9'.*did you mean"):
        bad = _cfg(seg_root)
        bad["data"]["tasks"] = [{"dataset": "busi", "task": "busi9", "field": "image"}]
        train(from_dict(bad), tmp_path / "r")


def test_cli_resume_and_no_eval(seg_root: Path, tmp_path: Path) -> None:
    from climb.cli import app

    p = tmp_path / "seg.yaml"
    p.write_text(yaml.safe_dump(_cfg(Path("/nonexistent"))), encoding="utf-8")
    run = tmp_path / "run"
    common = ["--set", f"data.root={seg_root}", "--set", "data.val_fraction=0.2",
              "--set", "evaluate.n_boot=10", "--set", "train.epochs=2"]  # fmt: skip
    r = CliRunner().invoke(app, ["train", str(p), "--out", str(run), "--no-eval", *common,
                                 "--set", "train.stop_after=3"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert not (run / "results.parquet").exists()
    r = CliRunner().invoke(app, ["train", str(p), "--out", str(run), "--resume", *common])
    assert r.exit_code == 0, r.output
    info = json.loads((run / "run.json").read_text())
    ck = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert ck["step"] == info["max_steps"] and ck["finished"]
    steps = pd.read_csv(run / "metrics.csv").query("kind == 'train'").step.tolist()
    assert steps == sorted(set(steps))  # no step logged twice across the resume
    split = pd.read_parquet(seg_root / "stores" / "busi" / "samples.parquet")["split"]
    t = info["tasks"]["busi/lesion_segmentation"]
    assert t["n_val"] > 0 and t["n_train"] + t["n_val"] == (split == "train").sum()
    assert (run / "results.parquet").is_file()
