"""User strings in reports and exit codes of every command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from climb.cli import main
from climb.report.build import build_report, md_escape
from tests.report.test_report import _run

EVIL_DS = "<img src=x onerror=alert(1)>"
EVIL_TASK = "t|1\n# injected heading"
EVIL_RUN = "run`x`[a](javascript:alert(1))"


def test_report_md_escapes_user_strings(tmp_path: Path) -> None:
    runs = [_run(tmp_path / "runs", EVIL_RUN, [(EVIL_DS, EVIL_TASK)], [0.7])]
    index = build_report(runs, tmp_path / "rep", title="<script>alert(1)</script> report")
    md = (tmp_path / "rep" / "report.md").read_text()
    html = index.read_text()
    for text in (md, html):
        assert "<img src=x" not in text and "<script" not in text
        assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "](javascript:" not in md and "\n# injected" not in md
    assert "t\\|1" in md  # the table keeps its columns
    for line in md.splitlines():  # every table row has as many cells as its header
        if line.startswith("| "):
            assert len(re.findall(r"(?<!\\)\|", line)) >= 2
    assert md.startswith("# &lt;script&gt;alert(1)&lt;/script&gt; report")


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"),
        ("a|b", "a\\|b"),
        ("x\ny", "x y"),
        ("[t](http://e)", "[t]\\(http://e)"),
        ("`c`", "\\`c\\`"),
        ("0.81 [0.71, 0.86]", "0.81 [0.71, 0.86]"),
    ],
)
def test_md_escape(raw: str, safe: str) -> None:
    assert md_escape(raw) == safe


def test_exit_codes_reach_the_shell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """cli.main passes on every command's typer.Exit code (standalone_mode=False used to
    swallow it): `climb verify` of a damaged folder exits 1."""
    from climb import registry

    key = registry.keys()[0]
    (tmp_path / "raw" / key).mkdir(parents=True)
    (tmp_path / "raw" / key / ".climb-fetch.json").write_text(
        '{"files": {"gone.bin": {"size": 5, "sha256": "0", "checksum": null}}}'
    )
    with pytest.raises(SystemExit) as e:
        main(["verify", key, "--root", str(tmp_path)])
    assert e.value.code == 1
    capsys.readouterr()
