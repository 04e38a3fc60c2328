from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from climb import __version__, registry
from climb.card import DOMAINS
from climb.cli import main

REPO = Path(__file__).resolve().parents[1]
STAGES = (
    "datasets",
    "fetch",
    "verify",
    "access",
    "prepare",
    "store",
    "train",
    "evaluate",
    "report",
    "demo",
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"climb {__version__}"


def test_help_lists_every_stage() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "climb", "--help"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": ""},
    ).stdout
    for stage in STAGES:
        assert f" {stage} " in out, f"--help does not list {stage}"


def test_list_json_returns_full_cards(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "datasets", "list", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert len(data) == len(registry.keys())
    assert {"key", "tasks", "sources", "licence", "citation"} <= set(data[0])


def test_list_filters_and_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "datasets", "list", "--domain", "ecg", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and all(r["domain"] == "ecg" for r in rows)
    assert "ptbxl" in {r["key"] for r in rows}
    code, out, _ = run(capsys, "datasets", "list", "--access", "open", "--format", "json")
    assert all(c["access"] == "open" for c in json.loads(out))


def test_list_table_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "datasets", "list")
    assert code == 0
    assert "ptbxl" in out and "PTB-XL" in out and "access" in out


def test_bad_filter_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "datasets", "list", "--domain", "ekg")
    assert code == 2
    assert "unknown domain 'ekg'" in err and "Traceback" not in err


def test_show_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "datasets", "show", "ptbxl")
    assert code == 0 and "PTB-XL" in out and "@article" in out and "CC-BY-4.0" in out
    code, out, _ = run(capsys, "datasets", "show", "ptbxl", "--format", "json")
    assert json.loads(out)["key"] == "ptbxl"


def test_unknown_key_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "datasets", "show", "ptb-xl")
    assert code == 2 and out == ""
    assert "unknown dataset 'ptb-xl'" in err and "ptbxl" in err and "Traceback" not in err


def test_stats_json_totals_match_cards(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "datasets", "stats", "--format", "json")
    assert code == 0
    data = json.loads(out)
    cards = registry.cards()
    assert data["total"]["datasets"] == len(cards)
    assert data["total"]["samples"] == sum(c.samples or 0 for c in cards)
    for row in data["domains"]:
        assert row["domain"] in DOMAINS
        assert row["datasets"] == sum(1 for c in cards if c.domain == row["domain"])
    code, out, _ = run(capsys, "datasets", "stats")
    assert code == 0 and "Total" in out


def test_docs_check_detects_stale_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "datasets.md"
    code, _, err = run(capsys, "datasets", "docs", "--out", str(page), "--check")
    assert code == 2 and "out of date" in err
    code, out, _ = run(capsys, "datasets", "docs", "--out", str(page))
    assert code == 0 and page.exists()
    code, out, _ = run(capsys, "datasets", "docs", "--out", str(page), "--check")
    assert code == 0 and "up to date" in out


def test_committed_datasets_page_is_up_to_date() -> None:
    from climb.catalog import datasets_markdown

    page = REPO / "docs" / "datasets.md"
    assert page.read_text(encoding="utf-8") == datasets_markdown(), (
        "docs/datasets.md is stale: run 'make docs'"
    )


def test_report_with_missing_results_says_what_to_do(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # (the demo's own CLI test lives in tests/demo/test_demo.py)
    code, _, err = run(capsys, "report", str(tmp_path / "results.parquet"), "--out", "x")
    assert code != 0
    assert "neither a run directory nor a results.parquet" in err and "Traceback" not in err


def test_cli_import_stays_light() -> None:
    """`climb --help` must not pay for torch, scikit-learn, zarr or pandas at start-up."""
    code = (
        "import sys, climb.cli\n"
        "heavy = [m for m in ('torch', 'sklearn', 'zarr', 'pandas', 'pyarrow', 'httpx')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"importing climb.cli pulled in {out}"
