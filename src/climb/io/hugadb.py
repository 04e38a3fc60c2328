"""HuGaDB v2 recordings (``HuGaDB_v2_<activity>_<participant>_<counter>.txt``) and windowing.

A file has three header lines (``#Activity``, ``#ActivityID``, ``#Date``), a tab-separated
column header, then one row per frame: 36 IMU columns (acc/gyro x,y,z for right foot, shin,
thigh and left foot, shin, thigh), ``EMG_r``, ``EMG_l`` and ``act`` (activity id 1-12).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from climb.core.errors import ClimbError

ACTIVITIES = (
    "walking",
    "running",
    "going_up",
    "going_down",
    "sitting",
    "sitting_down",
    "standing_up",
    "standing",
    "bicycling",
    "up_by_elevator",
    "down_by_elevator",
    "sitting_in_car",
)
#: CLIMB's documented 4 classes (native ids): sitting 5, standing 8, sitting down 6, standing up 7
ACTIVITY4 = ((5, "sitting"), (8, "standing"), (6, "sitting_down"), (7, "standing_up"))
N_IMU = 36
N_CHANNELS = 38
FILE_RE = re.compile(r"HuGaDB_v(?P<v>\d+)_(?P<act>[a-z_]+?)_(?P<sub>\d+)_(?P<n>\d+)\.txt$")


class HugadbFormatError(ClimbError, ValueError):
    """A HuGaDB file that does not follow the layout."""


@dataclass
class Recording:
    path: Path
    subject: str
    columns: list[str]
    data: np.ndarray  # (T, 38) float32 (36 IMU int16 values, 2 EMG)
    activity: np.ndarray  # (T,) int64 native ids 1..12
    header: dict[str, str] = field(default_factory=dict)


def subject_of(path: str | Path) -> str:
    """Participant id from the file name (``HuGaDB_v2_various_01_00.txt`` -> ``01``)."""
    m = FILE_RE.search(Path(path).name)
    if not m:
        raise HugadbFormatError(
            f"file name {Path(path).name!r} does not match HuGaDB_v<V>_<activity>_<id>_<n>.txt",
            where=str(path),
        )
    return m.group("sub")


def read_recording(path: str | Path) -> Recording:
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    header: dict[str, str] = {}
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        parts = lines[i][1:].split(None, 1)
        if parts:
            header[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
        i += 1
    if i >= len(lines):
        raise HugadbFormatError("no column header", where=str(path))
    columns = lines[i].split()
    if len(columns) != N_CHANNELS + 1 or columns[-1] != "act":
        raise HugadbFormatError(
            f"expected {N_CHANNELS} sensor columns and 'act', got {len(columns)} columns",
            where=f"{path}:{i + 1}",
        )
    body = [ln for ln in lines[i + 1 :] if ln.strip()]
    if not body:
        raise HugadbFormatError("no frames", where=str(path))
    try:
        flat = np.array(" ".join(body).split(), dtype=np.float64)
    except ValueError:
        for j, ln in enumerate(lines[i + 1 :], start=i + 2):
            try:
                [float(v) for v in ln.split()]
            except ValueError:
                raise HugadbFormatError(
                    f"non-numeric row {ln.strip()[:50]!r}", where=f"{path}:{j}"
                ) from None
        raise
    if flat.size != len(body) * len(columns):
        raise HugadbFormatError(f"rows do not all have {len(columns)} values", where=str(path))
    arr = flat.reshape(len(body), len(columns))
    act = arr[:, -1].astype(np.int64)
    bad = (act < 1) | (act > len(ACTIVITIES))
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise HugadbFormatError(
            f"activity id {act[j]} outside 1..{len(ACTIVITIES)}", where=f"{path}: frame {j}"
        )
    return Recording(
        path=path,
        subject=subject_of(path),
        columns=columns[:-1],
        data=arr[:, :-1].astype(np.float32),
        activity=act,
        header=header,
    )


def count_frames(path: str | Path) -> int:
    """Number of data rows (cheap: no parsing)."""
    n = 0
    with open(path, encoding="utf-8") as fh:
        for ln in fh:
            if ln.strip() and not ln.startswith("#"):
                n += 1
    return max(0, n - 1)  # minus the column header


def window_starts(n_frames: int, length: int, stride: int) -> list[int]:
    """Starts of the full windows of ``length`` frames every ``stride`` frames (a recording
    shorter than one window gives none)."""
    if length <= 0 or stride <= 0:
        raise HugadbFormatError(f"window length and stride must be > 0 ({length}, {stride})")
    return list(range(0, n_frames - length + 1, stride))


def majority(ids: np.ndarray) -> tuple[int, float]:
    """Most frequent id (ties -> the smallest) and its share of the window."""
    counts = np.bincount(ids)
    top = int(np.argmax(counts))
    return top, float(counts[top] / len(ids))


def activity4_index(native_id: int) -> int:
    """Class index in CLIMB's 4-class subset, -1 when the activity is not in it."""
    for j, (nid, _) in enumerate(ACTIVITY4):
        if nid == native_id:
            return j
    return -1
