"""Progress display: rich bars on a terminal, plain periodic lines otherwise."""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any


def human_bytes(n: float | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class Progress:
    """Counts files and bytes (thread-safe); subclasses decide how to show them."""

    def __init__(self, label: str = "fetch") -> None:
        self.label = label
        self.files_total = 0
        self.files_done = 0
        self.bytes_total: int | None = 0
        self.bytes_done = 0
        self.t0 = time.monotonic()
        self._lock = threading.Lock()

    def start(self, label: str, files: int, total_bytes: int | None) -> None:
        with self._lock:
            self.label = label
            self.files_total, self.files_done = files, 0
            self.bytes_total, self.bytes_done = total_bytes, 0
            self.t0 = time.monotonic()

    def advance(self, n: int) -> None:
        with self._lock:
            self.bytes_done += n
        self._tick()

    def rewind(self, n: int) -> None:
        """Take back bytes that will be downloaded again (a restart)."""
        with self._lock:
            self.bytes_done = max(0, self.bytes_done - n)

    def file_done(self) -> None:
        with self._lock:
            self.files_done += 1
        self._tick()

    def rate(self) -> float:
        dt = max(time.monotonic() - self.t0, 1e-6)
        return self.bytes_done / dt

    def eta(self) -> float | None:
        r = self.rate()
        if not self.bytes_total or r <= 0:
            return None
        return max(self.bytes_total - self.bytes_done, 0) / r

    def line(self) -> str:
        of = f" of {human_bytes(self.bytes_total)}" if self.bytes_total else ""
        return (
            f"{self.label}: {self.files_done}/{self.files_total} files, "
            f"{human_bytes(self.bytes_done)}{of}, {human_bytes(self.rate())}/s, "
            f"ETA {_eta(self.eta())}"
        )

    def _tick(self) -> None:
        pass

    def finish(self) -> None:
        pass


class PlainProgress(Progress):
    """One line every ``interval`` seconds (for logs and pipes), and one at the end."""

    def __init__(self, stream: IO[str] | None = None, interval: float = 10.0) -> None:
        super().__init__()
        self.stream = stream or sys.stderr
        self.interval = interval
        self._last = time.monotonic()

    def _tick(self) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            print(self.line(), file=self.stream, flush=True)

    def finish(self) -> None:
        print(self.line(), file=self.stream, flush=True)


class RichProgress(Progress):
    """A live rich bar: files, bytes, rate, ETA."""

    def __init__(self) -> None:
        super().__init__()
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as RP

        from climb.core.console import stderr_console

        self._rp = RP(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[files]}"),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=stderr_console(),
            transient=False,
        )
        self._task: Any = None

    def start(self, label: str, files: int, total_bytes: int | None) -> None:
        super().start(label, files, total_bytes)
        if self._task is None:
            self._rp.start()
        else:
            self._rp.remove_task(self._task)
        self._task = self._rp.add_task(label, total=total_bytes or None, files=f"0/{files} files")

    def _tick(self) -> None:
        if self._task is not None:
            self._rp.update(
                self._task,
                completed=self.bytes_done,
                files=f"{self.files_done}/{self.files_total} files",
            )

    def finish(self) -> None:
        if self._task is not None:
            self._tick()
            self._rp.stop()
            self._task = None


def make_progress(interval: float, quiet: bool = False) -> Progress:
    if quiet:
        return Progress()
    if sys.stderr.isatty():
        return RichProgress()
    return PlainProgress(interval=interval)
