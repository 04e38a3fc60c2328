from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from climb.core.errors import ClimbError
from climb.data import StoreDataset, few_shot_indices
from climb.experiment.config import from_dict
from climb.train.trainer import lr_lambda, train

from .conftest import TINY, base_config


def _weights(run: Path, name: str = "last") -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoints" / f"{name}.pt", weights_only=False)["model"]


def test_single_task_learns_and_evaluates(data_root: Path, tmp_path: Path) -> None:
    cfg = from_dict(base_config(data_root, train={"max_steps": 40, "eval_every": 20}))
    run = train(cfg, tmp_path / "run")
    log = pd.read_csv(run / "metrics.csv")
    tr = log[log.kind == "train"]
    assert tr.loss.iloc[-2:].mean() < tr.loss.iloc[:2].mean()
    assert (run / "config.yaml").is_file() and (run / "metrics.jsonl").is_file()
    res = pd.read_parquet(run / "results.parquet")
    auc = res[(res.metric == "auroc") & res.class_name.isna() & (res.split == "test")]
    assert len(auc) == 1 and auc.value.iloc[0] > 0.8
    assert auc.ci_low.iloc[0] <= auc.value.iloc[0] <= auc.ci_high.iloc[0]
    assert {"run_id", "config_hash", "code_version", "n"} <= set(res.columns)
    # a second run into the same directory is refused without --resume
    with pytest.raises(ClimbError, match="--resume"):
        train(cfg, run)


def test_resume_matches_uninterrupted(data_root: Path, tmp_path: Path) -> None:
    over = {
        "train": {"max_steps": 12, "eval_every": 4, "checkpoint_every": 5, "log_every": 2},
        "model": {"head_dropout": 0.2},
    }
    full = train(
        from_dict(base_config(data_root, **over)), tmp_path / "full", evaluate_at_end=False
    )
    part_cfg = base_config(data_root, **over)
    part_cfg["train"]["stop_after"] = 7
    part = train(from_dict(part_cfg), tmp_path / "part", evaluate_at_end=False)
    ck = torch.load(part / "checkpoints" / "last.pt", weights_only=False)
    assert ck["step"] == 7
    part = train(
        from_dict(base_config(data_root, **over)), part, resume=True, evaluate_at_end=False
    )
    assert torch.load(part / "checkpoints" / "last.pt", weights_only=False)["step"] == 12
    a, b = _weights(full), _weights(part)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)
    steps = pd.read_csv(part / "metrics.csv").query("kind == 'train'").step.tolist()
    assert steps == sorted(set(steps)) and steps[-1] == 12
    # a changed config is refused on resume
    bad = base_config(data_root, **over)
    bad["optim"]["lr"] = 1.0
    with pytest.raises(ClimbError, match=r"optim\.lr"):
        train(from_dict(bad), part, resume=True)


def test_multitask_then_few_shot_linear_probe(data_root: Path, tmp_path: Path) -> None:
    mt = base_config(
        data_root,
        data={
            "tasks": [{"dataset": "synth", "task": "ml"}, {"dataset": "synth2", "task": "mc"}],
            "mixture": "round_robin",
        },
        train={"max_steps": 20, "eval_every": 10},
    )
    run = train(from_dict(mt), tmp_path / "mt", evaluate_at_end=False)
    w = _weights(run, "best")
    assert any(k.startswith("heads.synth__ml.") for k in w)
    assert any(k.startswith("heads.synth2__mc.") for k in w)
    assert len({k.split(".")[1] for k in w if k.startswith("encoders.")}) == 1  # one shared encoder
    log = pd.read_csv(run / "metrics.csv")
    assert set(log[log.kind == "train"].task) == {"synth/ml", "synth2/mc"}

    fs = base_config(
        data_root,
        data={"tasks": [{"dataset": "synth2", "task": "bin"}], "few_shot": {"k": 8, "seed": 0}},
        model={"init": str(run), "freeze_encoder": True},
        optim={"lr": 1e-2, "warmup_steps": 0},
        train={"max_steps": 10, "eval_every": 5},
    )
    probe = train(from_dict(fs), tmp_path / "fs")
    rec = json.loads((probe / "few_shot" / "synth2__bin.json").read_text())
    ds = StoreDataset(data_root / "stores" / "synth2", split="train", tasks="bin")
    want = ds.sample_ids[few_shot_indices(ds.labels["bin"], "binary", 8, seed=0)]
    assert rec["sample_ids"] == want.tolist() and rec["n"] == 16
    assert rec["class_counts"] == {"neg": 8, "pos": 8}
    # linear probe: the encoder is the multitask one, untouched
    p = _weights(probe)
    for k, v in w.items():
        if k.startswith("encoders."):
            torch.testing.assert_close(p[k], v)
    res = pd.read_parquet(probe / "results.parquet")
    assert set(res.task) == {"bin"}


def test_lr_schedule() -> None:
    lrs = [lr_lambda(s, 10, 100, 0.1) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert lrs[-1] >= 0.1 and np.all(np.diff(lrs[10:]) <= 1e-12)


def test_regression_end_to_end(data_root: Path, tmp_path: Path) -> None:
    """MSE training on the store's regression task; MAE, RMSE and R² with bootstrap CIs, and
    checkpoint selection on validation MAE."""
    over = {
        "data": {"tasks": [{"dataset": "synth", "task": "reg"}]},
        "train": {"max_steps": 60, "eval_every": 20, "select": "val_mae"},
    }
    run = train(from_dict(base_config(data_root, **over)), tmp_path / "reg")
    res = pd.read_parquet(run / "results.parquet")
    test = res[(res.split == "test") & res.class_name.isna()].set_index("metric")
    assert {"mae", "rmse", "r2"} <= set(test.index)
    for m in ("mae", "rmse", "r2"):
        assert test.loc[m, "ci_low"] <= test.loc[m, "value"] <= test.loc[m, "ci_high"]
    # the reported MAE / R² are those of the selected checkpoint's predictions on the test split
    from climb.experiment.build import build_model, build_tasks
    from climb.experiment.predict import predict

    cfg = from_dict(base_config(data_root, **over))
    tasks = build_tasks(cfg, None)
    model = build_model(cfg, tasks)
    ck = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    model.load_state_dict(ck["model"])
    c, _ = predict(model, tasks[0], "test", torch.device("cpu"), 64)
    pred, y = c["out"].reshape(-1), c["y"].reshape(-1)
    m = np.isfinite(y)
    assert test.loc["mae", "value"] == pytest.approx(np.abs(pred[m] - y[m]).mean(), rel=1e-5)
    r2 = 1 - ((pred[m] - y[m]) ** 2).sum() / ((y[m] - y[m].mean()) ** 2).sum()
    assert test.loc["r2", "value"] == pytest.approx(r2, rel=1e-4, abs=1e-6)
    assert test.loc["mae", "n"] == m.sum()
    # selection: best.pt is the evaluation with the best (highest) -MAE on validation
    val = pd.read_csv(run / "metrics.csv").query("kind == 'val'")
    assert set(val.metric) == {"mae"} and (val.value <= 0).all()  # -MAE: higher is better
    assert ck["step"] == int(val.loc[val.value.idxmax(), "step"])
    info = json.loads((run / "run.json").read_text())
    assert info["tasks"]["synth/reg"]["select"] == "val_mae"
    # a new regression head starts at the training mean (outputs fit the variation first)
    fresh = build_model(cfg, tasks)
    lin = [m for m in fresh.heads["synth__reg"].modules() if isinstance(m, torch.nn.Linear)][-1]
    ytr = tasks[0].train.labels["reg"]
    assert float(lin.bias[0]) == pytest.approx(float(np.nanmean(ytr)), rel=1e-5)


def test_l1_regression_loss_option(data_root: Path) -> None:
    from climb.tasks import TaskSpec, get_kind

    k = get_kind("regression")
    out, y = torch.tensor([[1.0], [2.0], [0.0]]), torch.tensor([0.0, float("nan"), 2.0])
    mse = k.loss(out, y, spec=TaskSpec("r", "r", "regression"))
    l1 = k.loss(out, y, spec=TaskSpec("r", "r", "regression", options={"loss": "l1"}))
    assert float(mse) == pytest.approx((1 + 4) / 2) and float(l1) == pytest.approx((1 + 2) / 2)
    with pytest.raises(ClimbError, match="unknown regression loss"):
        k.loss(out, y, spec=TaskSpec("r", "r", "regression", options={"loss": "huber"}))


def test_selection_needs_a_kind_that_defines_it(data_root: Path, tmp_path: Path) -> None:
    over = {
        "data": {"tasks": [{"dataset": "synth", "task": "reg"}]},
        "train": {"select": "val_auroc"},
    }
    with pytest.raises(ClimbError, match="val_auroc is not defined for synth/reg"):
        train(from_dict(base_config(data_root, **over)), tmp_path / "x")


def test_missing_validation_split_is_loud(
    data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    over = {
        "data": {"splits": {"train": "train", "val": "nosuchsplit", "test": "test"}},
        "train": {"max_steps": 6, "eval_every": 3, "select": "val_auroc"},
    }
    run = train(
        from_dict(base_config(data_root, **over)), tmp_path / "noval", evaluate_at_end=False
    )
    err = capsys.readouterr().err
    assert "no validation data for synth/ml" in err and "last step" in err
    ck = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    assert ck["step"] == 6 and ck["best"]["note"].startswith("last step")
    over["train"]["patience"] = 2  # type: ignore[index]
    with pytest.raises(ClimbError, match="early stopping"):
        train(from_dict(base_config(data_root, **over)), tmp_path / "noval2")


def test_crafted_checkpoint_is_refused(data_root: Path, tmp_path: Path) -> None:
    """A best.pt that would run code when unpickled is refused by climb evaluate / --resume /
    model.init, with a clear error; a truncated one too."""
    import pickle

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (Path.touch, (str(marker),))  # type: ignore[return-value]

    run = train(from_dict(base_config(data_root, train={"max_steps": 3, "eval_every": 3})),
                tmp_path / "r", evaluate_at_end=False)  # fmt: skip
    ck = run / "checkpoints" / "best.pt"
    with ck.open("wb") as fh:
        pickle.dump({"format": "climb-checkpoint", "model": Evil()}, fh)
    from climb.evaluate.run import evaluate_run

    with pytest.raises(ClimbError, match=r"refused to load|cannot read checkpoint"):
        evaluate_run(run, print_table=False)
    assert not marker.exists()
    torch.save({"format": "climb-checkpoint", "x": Evil()}, ck)
    with pytest.raises(ClimbError, match="refused to load"):
        evaluate_run(run, print_table=False)
    assert not marker.exists()
    last = run / "checkpoints" / "last.pt"
    last.write_bytes(last.read_bytes()[:100])  # truncated
    with pytest.raises(ClimbError, match="cannot read checkpoint"):
        train(from_dict(base_config(data_root, train={"max_steps": 3, "eval_every": 3})),
              run, resume=True)  # fmt: skip
    cfg = base_config(data_root, model={"init": str(ck), "encoder": "xresnet1d",
                                        "encoder_kwargs": dict(TINY)})  # fmt: skip
    with pytest.raises(ClimbError, match="refused to load"):
        train(from_dict(cfg), tmp_path / "init")
    assert not marker.exists()


def test_resume_from_an_older_checkpoint_does_not_repeat_rows(
    data_root: Path, tmp_path: Path
) -> None:
    """Rows logged after the checkpoint a resume starts from (a crash between logging and the
    next checkpoint) are dropped, so metrics.csv has every step once."""
    import shutil

    over = {"train": {"max_steps": 10, "eval_every": 5, "checkpoint_every": 4, "log_every": 1}}
    cfg4 = base_config(data_root, **over)
    cfg4["train"]["stop_after"] = 4
    run = train(from_dict(cfg4), tmp_path / "p", evaluate_at_end=False)
    shutil.copy(run / "checkpoints" / "last.pt", tmp_path / "step4.pt")
    cfg7 = base_config(data_root, **over)
    cfg7["train"]["stop_after"] = 7
    train(from_dict(cfg7), run, resume=True, evaluate_at_end=False)
    assert pd.read_csv(run / "metrics.csv").query("kind == 'train'").step.max() == 7
    shutil.copy(tmp_path / "step4.pt", run / "checkpoints" / "last.pt")  # the crash
    train(from_dict(base_config(data_root, **over)), run, resume=True, evaluate_at_end=False)
    steps = pd.read_csv(run / "metrics.csv").query("kind == 'train'").step.tolist()
    assert steps == list(range(1, 11))


def test_resume_before_the_first_checkpoint_starts_clean(data_root: Path, tmp_path: Path) -> None:
    """A run killed before its first checkpoint: --resume starts at step 0 and metrics.csv has
    each step once."""
    over = {"train": {"max_steps": 6, "eval_every": 3, "checkpoint_every": 100, "log_every": 1}}
    cfg = base_config(data_root, **over)
    cfg["train"]["stop_after"] = 4
    run = train(from_dict(cfg), tmp_path / "p", evaluate_at_end=False)
    (run / "checkpoints" / "last.pt").unlink()  # as if killed before writing it
    train(from_dict(base_config(data_root, **over)), run, resume=True, evaluate_at_end=False)
    steps = pd.read_csv(run / "metrics.csv").query("kind == 'train'").step.tolist()
    assert steps == list(range(1, 7))


def test_task_weighting_size_and_drpo(data_root: Path, tmp_path: Path) -> None:
    from climb.rl.weighting import domain_task_weights

    tasks = [{"dataset": "synth", "task": "ml"}, {"dataset": "synth2", "task": "mc"}]
    over = {
        "data": {"tasks": tasks, "mixture": "round_robin"},
        "train": {"max_steps": 12, "eval_every": 4, "checkpoint_every": 4, "log_every": 2},
    }
    size_cfg = base_config(data_root, **over)
    size_cfg["train"]["task_weighting"] = "size"
    run = train(from_dict(size_cfg), tmp_path / "size", evaluate_at_end=False)
    info = json.loads((run / "run.json").read_text())["tasks"]
    n = {k: v["n_train"] for k, v in info.items()}
    assert n["synth/ml"] != n["synth2/mc"]
    mean = (n["synth/ml"] + n["synth2/mc"]) / 2
    for k in n:
        assert info[k]["weight"] == pytest.approx(n[k] / mean)

    drpo_cfg = base_config(data_root, **over)
    drpo_cfg["train"]["task_weighting"] = "drpo"
    run = train(from_dict(drpo_cfg), tmp_path / "drpo", evaluate_at_end=False)
    info = json.loads((run / "run.json").read_text())["tasks"]
    # before any validation: the size term alone, 1 / sqrt(N), mean 1
    inv = {k: 1 / np.sqrt(n[k]) for k in n}
    for k in n:
        assert info[k]["weight"] == pytest.approx(inv[k] / np.mean(list(inv.values())))
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    w = [r for r in rows if r["kind"] == "weight"]
    assert sorted({r["step"] for r in w}) == [4, 8, 12] and len(w) == 6
    val = {(r["step"], r["task"]): r for r in rows if r["kind"] == "val"}
    for step in (4, 8, 12):
        d = {r["task"]: r["difficulty"] for r in w if r["step"] == step}
        for task, dv in d.items():  # selection on val_loss: difficulty = 1 - exp(-loss)
            assert val[(step, task)]["metric"] == "loss"
            assert dv == pytest.approx(1 - np.exp(-val[(step, task)]["loss"]), abs=1e-6)
        want = domain_task_weights({k: float(n[k]) for k in n}, d, scheme="drpo")
        got = {r["task"]: r["value"] for r in w if r["step"] == step}
        for k in n:
            assert got[k] == pytest.approx(want[k], rel=1e-5)
    ck = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert ck["task_weights"]["synth__ml"] == pytest.approx(got["synth/ml"], rel=1e-5)

    # resumed from step 8, the weights of step 8 continue and the result is the same
    part_cfg = base_config(data_root, **over)
    part_cfg["train"]["task_weighting"] = "drpo"
    part_cfg["train"]["stop_after"] = 8
    part = train(from_dict(part_cfg), tmp_path / "part", evaluate_at_end=False)
    del part_cfg["train"]["stop_after"]
    part = train(from_dict(part_cfg), part, resume=True, evaluate_at_end=False)
    a, b = _weights(run), _weights(part)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)


def test_soft_labels_from_vote_columns(data_root: Path, tmp_path: Path) -> None:
    """options.soft_labels: the training targets of a multiclass task are the distributions of
    its count columns (as IIIC's expert votes); validation and test keep the hard labels."""
    import shutil

    root = tmp_path / "root"
    shutil.copytree(data_root / "stores" / "synth2", root / "stores" / "synth2")
    sp = root / "stores" / "synth2" / "samples.parquet"
    df = pd.read_parquet(sp)
    classes = json.loads((sp.parent / "dataset.json").read_text())["tasks"]["mc"]["classes"]
    rng = np.random.default_rng(0)
    for j, c in enumerate(classes):  # 6-10 votes, mostly for the hard label
        df[f"votes_{c}"] = np.where(df.label__mc == j, 6, 0) + rng.integers(0, 3, len(df))
    df.loc[df.index[:3], [f"votes_{c}" for c in classes]] = 0  # no votes: hard label
    df.to_parquet(sp, index=False)
    ds = StoreDataset(sp.parent, split="train", tasks="mc", soft_targets={"mc": "votes_"})
    b = ds.get_batch(np.arange(len(ds)))
    y = b["targets"]["mc"]
    assert y.shape == (len(ds), len(classes)) and y.dtype == torch.float32
    torch.testing.assert_close(y.sum(1), torch.ones(len(ds)))
    votes = df[df.split == "train"][[f"votes_{c}" for c in classes]].to_numpy(float)
    for i in range(len(ds)):
        row = df.index[df.sample_id == ds.sample_ids[i]][0]
        v = df.loc[row, [f"votes_{c}" for c in classes]].to_numpy(float)
        want = v / v.sum() if v.sum() else np.eye(len(classes))[df.loc[row, "label__mc"]]
        np.testing.assert_allclose(y[i].numpy(), want, rtol=1e-6)
    assert votes.sum() > 0
    with pytest.raises(ClimbError, match="votes_x") as e:
        StoreDataset(sp.parent, split="train", tasks="mc", soft_targets={"mc": "votes_x"})
    assert "votes_" in (e.value.fix or "")

    over = {
        "data": {"tasks": [{"dataset": "synth2", "task": "mc",
                            "options": {"soft_labels": "votes_"}}]},
        "train": {"max_steps": 20, "eval_every": 10},
    }  # fmt: skip
    run = train(from_dict(base_config(root, **over)), tmp_path / "soft")
    log = pd.read_csv(run / "metrics.csv")
    tr = log[log.kind == "train"]
    assert tr.loss.iloc[-2:].mean() < tr.loss.iloc[:2].mean()
    res = pd.read_parquet(run / "results.parquet")
    acc = res[(res.metric == "accuracy") & res.class_name.isna() & (res.split == "test")]
    assert len(acc) == 1 and acc.value.iloc[0] > 1 / len(classes)
    # a misspelt option is an error naming the key and the valid ones
    bad = base_config(root, **over)
    bad["data"]["tasks"][0]["options"] = {"soft_label": "votes_"}
    with pytest.raises(ClimbError, match="did you mean 'soft_labels'") as e2:
        train(from_dict(bad), tmp_path / "bad")
    assert "soft_labels" in (e2.value.fix or "")
