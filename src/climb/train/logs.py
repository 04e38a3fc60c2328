"""Run logs: ``metrics.jsonl`` / ``metrics.csv`` rows and the progress bar."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any


class MetricsLog:
    """metrics.jsonl (every field) and metrics.csv (fixed columns), appended row by row."""

    COLUMNS = (
        "step",
        "kind",
        "task",
        "loss",
        "lr",
        "metric",
        "value",
        "samples_per_s",
        "elapsed_s",
    )

    def __init__(self, run_dir: Path, enabled: bool) -> None:
        self.enabled = enabled
        self.jsonl = run_dir / "metrics.jsonl"
        self.csv = run_dir / "metrics.csv"
        if enabled and not self.csv.exists():
            with self.csv.open("w", newline="") as fh:
                csv.writer(fh).writerow(self.COLUMNS)

    def truncate_after(self, step: int) -> None:
        """Drop rows logged after ``step`` (a resume continues from the checkpoint at ``step``,
        so rows of the steps it will redo must not appear twice)."""
        if not self.enabled:
            return
        if self.jsonl.is_file():
            keep = []
            for line in self.jsonl.read_text(encoding="utf-8").splitlines():
                try:
                    if int(json.loads(line).get("step", 0)) <= step:
                        keep.append(line)
                except (ValueError, TypeError):
                    continue
            self.jsonl.write_text("".join(x + "\n" for x in keep), encoding="utf-8")
        if self.csv.is_file():
            with self.csv.open(newline="") as fh:
                rows = list(csv.reader(fh))
            head, rest = rows[:1], rows[1:]
            kept = [r for r in rest if r and r[0].isdigit() and int(r[0]) <= step]
            with self.csv.open("w", newline="") as fh:
                csv.writer(fh).writerows(head + kept)

    def write(self, **row: Any) -> None:
        if not self.enabled:
            return
        with self.jsonl.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row, default=float) + "\n")
        with self.csv.open("a", newline="") as fh:
            csv.writer(fh).writerow([row.get(c, "") for c in self.COLUMNS])


class Progress:
    """A rich progress bar on a terminal; plain lines otherwise."""

    def __init__(self, total: int, start: int, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = enabled and sys.stderr.isatty()
        self._bar: Any = None
        if self.tty:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as RP

            from climb.core.console import stderr_console

            self._bar = RP(
                TextColumn("train"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[info]}"),
                console=stderr_console(),
            )
            self._bar.start()
            self._id = self._bar.add_task("train", total=total, completed=start, info="")

    def update(self, step: int, info: str, force_line: bool = False) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._id, completed=step, info=info)
        elif force_line:
            print(f"step {step}: {info}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
