"""climb report on hand-made run directories and results.parquet files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from climb.evaluate.results import append_results
from climb.report.build import SECTIONS, build_report, fmt_ci


def _run(
    base: Path, name: str, tasks: list[tuple[str, str]], values: list[float], **cfg_extra: object
) -> Path:
    d = base / name
    d.mkdir(parents=True)
    cfg = {
        "data": {
            "tasks": [{"dataset": a, "task": b} for a, b in tasks],
            **cfg_extra.get("data", {}),
        },
        "model": cfg_extra.get("model", {}),
        "train": {"max_steps": 10},
    }  # type: ignore[dict-item]
    (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    (d / "metrics.csv").write_text(
        "step,kind,task,loss,lr,metric,value,samples_per_s,elapsed_s\n"
        + "".join(
            f"{s},train,{a}/{b},{1.0 / s},0.001,,,10,{s}\n" for s in (1, 2, 3) for a, b in tasks
        )
    )
    rows = []
    for (ds, task), v in zip(tasks, values, strict=True):
        rows.append(
            {
                "run_id": name,
                "dataset": ds,
                "task": task,
                "split": "test",
                "metric": "auroc",
                "class_name": None,
                "value": v,
                "ci_low": v - 0.1,
                "ci_high": v + 0.05,
                "n": 40,
            }
        )
        rows.append(
            {
                "run_id": name,
                "dataset": ds,
                "task": task,
                "split": "test",
                "metric": "auroc",
                "class_name": "a",
                "value": 0.123,
                "ci_low": 0.1,
                "ci_high": 0.2,
                "n": 40,
            }
        )
    append_results(d / "results.parquet", rows)
    return d


@pytest.fixture()
def runs(tmp_path: Path) -> list[Path]:
    b = tmp_path / "runs"
    out = [
        _run(b, "single_a", [("dsa", "t1")], [0.811]),
        _run(b, "single_b", [("dsb", "t2")], [0.702]),
        _run(b, "multi", [("dsa", "t1"), ("dsb", "t2")], [0.834, 0.655]),
    ]
    for k, v in ((1, 0.55), (4, 0.61)):
        out.append(
            _run(b, f"fs_scratch_{k}", [("dsc", "t3")], [v], data={"few_shot": {"k": k, "seed": 0}})
        )
        out.append(
            _run(
                b,
                f"fs_pre_{k}",
                [("dsc", "t3")],
                [v + 0.1],
                data={"few_shot": {"k": k, "seed": 0}},
                model={"init": str(b / "multi")},
            )
        )
    return out


def test_sections_and_numbers_from_results(runs: list[Path], tmp_path: Path) -> None:
    index = build_report(runs, tmp_path / "rep")
    text = index.read_text()
    md = (tmp_path / "rep" / "report.md").read_text()
    for sid, title in SECTIONS:
        assert f'id="{sid}"' in text
        assert f"## {title}" in md
    # table numbers are the aggregate rows of results.parquet (never the per-class 0.123)
    for v in (0.811, 0.702, 0.834, 0.655):
        cell = fmt_ci(v, v - 0.1, v + 0.05)
        assert cell in text and cell in md
    assert "+0.023" in md and "-0.047" in md  # deltas
    assert fmt_ci(0.65, 0.55, 0.70) in md  # few-shot, pretrained, k=1
    assert "0.123" not in md
    # figures embedded as base64 PNGs (self-contained) and written for the markdown
    assert len(re.findall(r'src="data:image/png;base64,', text)) >= 3
    assert 'src="http' not in text and "<script" not in text
    for f in ("delta", "fewshot", "training"):
        assert (tmp_path / "rep" / "figures" / f"{f}.png").stat().st_size > 1000


def test_accepts_parquet_files_and_cli(
    runs: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from climb.cli import main

    files = [str(r / "results.parquet") for r in runs]
    main(["report", *files, "--out", str(tmp_path / "cli")])
    out = capsys.readouterr().out
    assert "report:" in out and (tmp_path / "cli" / "index.html").is_file()
    assert "single-task" in (tmp_path / "cli" / "report.md").read_text()


def test_weighting_ablation_section(runs: list[Path], tmp_path: Path) -> None:
    """Multitask runs that differ by train.task_weighting get one table (one column per scheme,
    with each task's final loss weight and the mean over tasks); the single-task vs multitask
    table keeps the uniform run."""
    import json

    b = runs[0].parent
    size = _run(b, "multi_size", [("dsa", "t1"), ("dsb", "t2")], [0.801, 0.688])
    drpo = _run(b, "multi_drpo", [("dsa", "t1"), ("dsb", "t2")], [0.842, 0.699])
    for d, w in ((size, "size"), (drpo, "drpo")):
        cfg = yaml.safe_load((d / "config.yaml").read_text())
        cfg["train"]["task_weighting"] = w
        (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    (size / "run.json").write_text(
        json.dumps({"tasks": {"dsa/t1": {"weight": 1.25}, "dsb/t2": {"weight": 0.75}}})
    )
    (drpo / "run.json").write_text(
        json.dumps({"tasks": {"dsa/t1": {"weight": 1.1}, "dsb/t2": {"weight": 0.9}}})
    )
    rows = [  # the last update wins over run.json's starting weights
        {"step": 5, "kind": "weight", "task": "dsa/t1", "value": 0.6, "difficulty": 0.2},
        {"step": 5, "kind": "weight", "task": "dsb/t2", "value": 1.4, "difficulty": 0.5},
        {"step": 10, "kind": "weight", "task": "dsa/t1", "value": 0.7, "difficulty": 0.2},
        {"step": 10, "kind": "weight", "task": "dsb/t2", "value": 1.3, "difficulty": 0.4},
    ]
    (drpo / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    build_report([*runs, size, drpo], tmp_path / "rep")
    md = (tmp_path / "rep" / "report.md").read_text()
    sec = md.split("## Multitask task weighting", 1)[1].split("\n## ", 1)[0]
    head = next(x for x in sec.splitlines() if x.startswith("| dataset"))
    assert [c.strip().split(" ")[0] for c in head.strip("|").split("|")][2:] == [
        "uniform",
        "size",
        "drpo",
    ]
    t1 = next(x for x in sec.splitlines() if x.startswith("| dsa | t1 |"))
    assert fmt_ci(0.834, 0.734, 0.884) + " (w 1.00)" in t1
    assert fmt_ci(0.801, 0.701, 0.851) + " (w 1.25)" in t1
    assert fmt_ci(0.842, 0.742, 0.892) + " (w 0.70)" in t1
    mean = next(x for x in sec.splitlines() if x.startswith("| mean over tasks"))
    assert [c.strip() for c in mean.strip("|").split("|")][2:] == [
        f"{(0.834 + 0.655) / 2:.3f}",
        f"{(0.801 + 0.688) / 2:.3f}",
        f"{(0.842 + 0.699) / 2:.3f}",
    ]
    # single-task vs multitask compares with the uniform run, not the latest one
    auroc = md.split("## Single-task vs multitask AUROC", 1)[1].split("\n## ", 1)[0]
    assert "+0.023" in auroc and fmt_ci(0.842, 0.742, 0.892) not in auroc


def test_no_weighting_ablation_without_two_schemes(runs: list[Path], tmp_path: Path) -> None:
    build_report(runs, tmp_path / "rep")
    md = (tmp_path / "rep" / "report.md").read_text()
    sec = md.split("## Multitask task weighting", 1)[1].split("\n## ", 1)[0]
    assert "no multitask runs with two or more" in sec and "| dataset" not in sec


def _rows_run(
    base: Path, name: str, cfg: dict[str, object], rows: list[tuple[str, str, str, float]],
    info: dict[str, object] | None = None,
) -> Path:  # fmt: skip
    """A run directory with ``(dataset, task, metric, value)`` aggregate test rows."""
    import json

    d = base / name
    d.mkdir(parents=True)
    (d / "config.yaml").write_text(yaml.safe_dump(cfg))
    if info is not None:
        (d / "run.json").write_text(json.dumps(info))
    append_results(
        d / "results.parquet",
        [
            {"run_id": name, "dataset": ds, "task": t, "split": "test", "metric": m,
             "class_name": None, "value": v, "ci_low": v - 0.05, "ci_high": v + 0.05, "n": 30}
            for ds, t, m, v in rows
        ],
    )  # fmt: skip
    return d


def test_kind_sections_regression_segmentation_eeg(tmp_path: Path) -> None:
    import json

    b = tmp_path / "runs"
    store = tmp_path / "stores" / "tuab"
    store.mkdir(parents=True)
    (store / "dataset.json").write_text(
        json.dumps({"key": "tuab", "card": {"domain": "eeg"}, "tasks": {"abnormal": {}}})
    )
    one = lambda ds, t: {"data": {"tasks": [{"dataset": ds, "task": t}]}}  # noqa: E731
    reg = _rows_run(
        b, "echo", one("echonet_dynamic", "ef"),
        [("echonet_dynamic", "ef", "mae", 6.25), ("echonet_dynamic", "ef", "rmse", 8.5),
         ("echonet_dynamic", "ef", "r2", 0.41), ("echonet_dynamic", "ef", "pearson_r", 0.7)],
        {"tasks": {"echonet_dynamic/ef": {"type": "regression"}}},
    )  # fmt: skip
    seg = _rows_run(  # no run.json: the kind is recognised from its metrics
        b, "busi_seg", one("busi", "lesion"),
        [("busi", "lesion", "dice", 0.838), ("busi", "lesion", "iou", 0.721),
         ("busi", "lesion", "pixel_accuracy", 0.818)],
    )  # fmt: skip
    eeg = _rows_run(
        b, "tuab", one("tuab", "abnormal"),
        [("tuab", "abnormal", "auroc", 0.871), ("tuab", "abnormal", "balanced_accuracy", 0.79),
         ("tuab", "abnormal", "cohen_kappa", 0.58), ("tuab", "abnormal", "f1_weighted", 0.8)],
        {"tasks": {"tuab/abnormal": {"type": "binary", "store": str(store)}}},
    )  # fmt: skip
    build_report([reg, seg, eeg], tmp_path / "rep")
    md = (tmp_path / "rep" / "report.md").read_text()
    sec = md.split("## Regression, segmentation, per-frame and EEG metrics", 1)[1]
    sec = sec.split("\n## ", 1)[0]
    assert "### Regression" in sec and "### Segmentation" in sec and "### EEG" in sec
    reg_t = sec.split("### Regression", 1)[1].split("###", 1)[0]
    assert f"| echo | echonet_dynamic | ef | 30 | {fmt_ci(6.25, 6.2, 6.3)} |" in reg_t
    assert fmt_ci(0.41, 0.36, 0.46) in reg_t and "0.700" not in reg_t  # pearson_r not shown
    seg_t = sec.split("### Segmentation", 1)[1].split("###", 1)[0]
    assert fmt_ci(0.838, 0.788, 0.888) in seg_t and fmt_ci(0.818, 0.768, 0.868) in seg_t
    eeg_t = sec.split("### EEG", 1)[1]
    assert fmt_ci(0.58, 0.53, 0.63) in eeg_t and fmt_ci(0.871, 0.821, 0.921) in eeg_t
    assert "### Per-frame" not in sec
    # a report with classification runs only says there is nothing for this section
    build_report([eeg.parent / "tuab"], tmp_path / "rep2")  # EEG only: still listed
    build_report([_run(tmp_path / "other", "s", [("dsa", "t1")], [0.8])], tmp_path / "rep3")
    md3 = (tmp_path / "rep3" / "report.md").read_text()
    assert "no regression, segmentation, per-frame or EEG tasks" in md3


def test_fusion_section_compares_strategies_and_baselines(tmp_path: Path) -> None:
    b = tmp_path / "runs"

    def cfg(fields: list[str], fusion: str | None = None) -> dict[str, object]:
        tasks = [
            {"dataset": "mimic_iv", "task": "mortality", "fields": fields},
            {"dataset": "mimic_iv", "task": "los", "fields": fields},
        ]
        return {"data": {"tasks": tasks}, "model": {"fusion": fusion} if fusion else {}}

    runs = []
    for name, fields, fusion, auc, mae in (
        ("concat", ["ehr", "static"], "concat", 0.81, 3.1),
        ("gated", ["ehr", "static"], "gated", 0.83, 2.9),
        ("ehr_only", ["ehr"], None, 0.77, 3.4),
        ("static_only", ["static"], None, 0.66, 3.9),
    ):
        runs.append(_rows_run(b, name, cfg(fields, fusion),
                              [("mimic_iv", "mortality", "auroc", auc),
                               ("mimic_iv", "los", "mae", mae)]))  # fmt: skip
    build_report(runs, tmp_path / "rep")
    md = (tmp_path / "rep" / "report.md").read_text()
    sec = md.split("## Fusion strategies and unimodal baselines", 1)[1].split("\n## ", 1)[0]
    lines = [x for x in sec.splitlines() if x.startswith("| mimic_iv |")]
    mort = [x for x in lines if "| mortality |" in x]
    assert [x.split("|")[3].strip() for x in mort] == [
        "concat (ehr + static)",
        "gated (ehr + static)",
        "ehr only",
        "static only",
    ]
    assert fmt_ci(0.83, 0.78, 0.88) in mort[1] and "| auroc |" in mort[1]
    los = [x for x in lines if "| los |" in x]
    assert len(los) == 4 and all("| mae |" in x for x in los)
    assert fmt_ci(3.9, 3.85, 3.95) in los[3]
    # one input combination per task: nothing to compare
    build_report(runs[:1], tmp_path / "rep1")
    md1 = (tmp_path / "rep1" / "report.md").read_text()
    assert "no task trained with two or more input combinations" in md1
