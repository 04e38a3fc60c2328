"""Adapter of Cholec80 (docs/volumes-video.md): per-second frames and labels of each video.

A sample is one of CLIMB's 90 equal intervals of a video (by time). Its frames are the
video resampled to 1 frame per second by presentation time (ragged ``video`` field), with the
per-second labels aligned frame by frame as two more ragged fields: ``phase`` (int8, 7
classes, -1 unknown) and ``tools`` ((T, 7) uint8, 255 unknown). Interval-level tasks are
CLIMB's: ``phases_present`` and ``tools_present`` (multilabel over the interval). Phase files
are per frame at 25 fps, tool files once per second (every 25th frame): both are looked up at
the source frame index of each stored frame.

Splits (video-level; the video is the group): ``official`` = the literature's 40/8/32 (videos
1-40 train, 41-48 val, 49-80 test); ``climb`` = CLIMB's ``random.seed(0)`` shuffle of the
video ids, 80% train; ``patient`` = seeded hash of the video id.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.adapter import PrepareOptions, RecordError, RecordRef, Sample
from climb.core.errors import ClimbError
from climb.core.schema import RaggedFieldSpec
from climb.core.splits import describe, describe_rule
from climb.datasets._imaging import norm
from climb.datasets._video import VIDEO_FIELD, VideoAdapter, compact_index
from climb.io.video import VideoReadError, probe

PHASES = (
    "preparation",
    "calot_triangle_dissection",
    "clipping_cutting",
    "gallbladder_dissection",
    "gallbladder_packaging",
    "cleaning_coagulation",
    "gallbladder_retraction",
)
TOOLS = ("grasper", "bipolar", "hook", "scissors", "clipper", "irrigator", "specimen_bag")
N_INTERVALS = 90
PHASE_FIELD = "phase"
TOOLS_FIELD = "tools"
_VID_RE = re.compile(r"video(\d+)", re.IGNORECASE)
_PHASE_INDEX = {norm(p): i for i, p in enumerate(PHASES)}


def official_split(n: int) -> str:
    return "train" if n <= 40 else ("val" if n <= 48 else "test")


def climb_split(ids: list[str]) -> dict[str, str]:
    """CLIMB: ``random.seed(0)``, shuffle the sorted video ids, first 80% train."""
    ids = sorted(ids)
    rnd = random.Random(0)
    rnd.shuffle(ids)
    cut = int(0.8 * len(ids))
    return {v: ("train" if i < cut else "test") for i, v in enumerate(ids)}


def read_phases(path: Path) -> dict[int, int]:
    """``Frame -> phase index`` of a ``videoXX-phase.txt`` (header ``Frame Phase``)."""
    out: dict[int, int] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
        parts = line.split()
        if len(parts) < 2:
            continue
        ph = _PHASE_INDEX.get(norm(parts[1]))
        if ph is None:
            raise RecordError(f"{path.name}: unknown phase {parts[1]!r}", stage="labels")
        out[int(parts[0])] = ph
    return out


def read_tools(path: Path) -> dict[int, list[int]]:
    """``Frame -> 7 tool flags`` of a ``videoXX-tool.txt``."""
    out: dict[int, list[int]] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 8:
            out[int(parts[0])] = [int(x) for x in parts[1:8]]
    return out


def stored_seconds(header_frames: int, fps: float, duration_s: float) -> int:
    """Frames a 1-fps resampling stores (one per whole second from the first frame up to the
    last frame's time): from the header's frame count and rate, else from the duration."""
    if header_frames > 0 and fps > 0:
        return int(np.floor((header_frames - 1) / fps + 1e-6)) + 1
    return max(1, int(np.ceil(duration_s - 1e-6)))


def interval_bounds(n_seconds: int, n: int = N_INTERVALS) -> list[tuple[int, int]]:
    """``n`` equal intervals ``[a, b)`` of ``n_seconds`` stored frames (empty ones dropped)."""
    edges = np.floor(np.linspace(0, n_seconds, n + 1)).astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b > a]


class Cholec80Adapter(VideoAdapter):
    key = "cholec80"
    size = 112
    channels = 3
    fps = 1.0

    def fields(self) -> list[Any]:
        return [
            self.video_field(),
            RaggedFieldSpec(PHASE_FIELD, "int8", (), axes=("frame",), rows_per_chunk=65536),
            RaggedFieldSpec(
                TOOLS_FIELD, "uint8", (7,), axes=("frame", "tool"), rows_per_chunk=65536
            ),
        ]

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        def ml(name: str, classes: tuple[str, ...], what: str) -> dict[str, Any]:
            return {
                "type": "multilabel",
                "classes": list(classes),
                "column": f"label__{name}",
                "label_space": None,
                "policy": options.label_policy,
                "description": what,
            }

        return {
            "phases_present": ml("phases_present", PHASES, "CLIMB: phases within the interval"),
            "tools_present": ml("tools_present", TOOLS, "CLIMB: tools seen within the interval"),
            "phase": {
                "type": "multiclass",
                "level": "frame",
                "classes": list(PHASES),
                "field": PHASE_FIELD,
                "column": None,
                "ignore_index": -1,
                "label_space": None,
                "policy": options.label_policy,
                "description": "phase of each stored frame (1 per second; -1 unknown)",
            },
            "tools": {
                "type": "multilabel",
                "level": "frame",
                "classes": list(TOOLS),
                "field": TOOLS_FIELD,
                "column": None,
                "ignore_index": 255,
                "label_space": None,
                "policy": options.label_policy,
                "description": "tool presence of each stored frame (255 unknown)",
            },
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["official", "climb", "patient"]

    def describe_split(self, rule: str, seed: int) -> dict[str, Any]:
        if rule == "official":
            return describe(
                rule, seed, "literature 40/8/32: videos 1-40 train, 41-48 val, 49-80 test"
            )
        if rule == "climb":
            return describe(rule, seed, "CLIMB: random.seed(0) shuffle of the videos, 80% train")
        return {**describe_rule(rule, seed), "note": "video-level (the video is the group)"}

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        vdir = self.need_dir(raw_dir, "videos", "see the Cholec80 card (manual download)")
        root = vdir.parent
        videos = sorted(p for p in vdir.iterdir() if _VID_RE.fullmatch(p.stem))
        if not videos:
            raise ClimbError("no videoXX.mp4 files", where=str(vdir))
        split = climb_split([p.stem for p in videos])
        refs = []
        for p in videos:
            n = int(_VID_RE.fullmatch(p.stem).group(1))  # type: ignore[union-attr]
            rel = p.relative_to(raw_dir).as_posix()
            info: dict[str, Any] = {
                "video": p.stem,
                "number": n,
                "phase_file": (root / "phase_annotations" / f"{p.stem}-phase.txt")
                .relative_to(raw_dir)
                .as_posix(),
                "tool_file": (root / "tool_annotations" / f"{p.stem}-tool.txt")
                .relative_to(raw_dir)
                .as_posix(),
                "official": official_split(n),
                "climb": split[p.stem],
            }
            try:
                info_v = probe(p)
            except VideoReadError as exc:
                reason = exc.reason.split(": ", 1)[-1]
                refs.append(RecordRef(p.stem, rel, {**info, "error": f"{rel}: {reason}"}))
                continue
            n_sec = stored_seconds(info_v.header_frames, info_v.fps, info_v.duration_s)
            for k, (a, b) in enumerate(interval_bounds(n_sec)):
                refs.append(RecordRef(f"{p.stem}_i{k:02d}", rel, {**info, "a": a, "b": b, "k": k}))
        return refs

    def _video(
        self, raw_dir: Path, ref: RecordRef
    ) -> tuple[np.ndarray, dict[str, Any], np.ndarray, np.ndarray, np.ndarray]:
        key = f"{raw_dir / ref.source_path}:{self.size}:{self.channels}"
        if key not in _CACHE:
            _CACHE.clear()
            try:
                _CACHE[key] = self._decode_labelled(raw_dir, ref)
            except RecordError as exc:
                _CACHE[key] = exc  # type: ignore[assignment]
        got = _CACHE[key]
        if isinstance(got, RecordError):
            raise RecordError(got.reason, got.stage)
        return got

    def _decode_labelled(
        self, raw_dir: Path, ref: RecordRef
    ) -> tuple[np.ndarray, dict[str, Any], np.ndarray, np.ndarray, np.ndarray]:
        i = ref.info
        pf, tf = raw_dir / i["phase_file"], raw_dir / i["tool_file"]
        if not pf.is_file():
            raise RecordError(
                f"{i['phase_file']} missing (labels missing for {i['video']})", "labels"
            )
        phases = read_phases(pf)
        tools = read_tools(tf) if tf.is_file() else {}
        frames, cols, idx = self.decode_video_indexed(raw_dir / ref.source_path, ref.source_path)
        n = cols["orig_frames"]
        fps = cols["native_fps"] or 25.0
        last = max(phases) if phases else -1
        if last >= n + fps:  # more than a second past the last decoded frame
            raise RecordError(
                f"{i['phase_file']} refers to frame {last}, past the end of {ref.source_path} "
                f"({n} frames)",
                "labels",
            )
        if tools and max(tools) >= n + fps:
            raise RecordError(
                f"{i['tool_file']} refers to frame {max(tools)}, past the end of "
                f"{ref.source_path} ({n} frames)",
                "labels",
            )
        ph = np.array([phases.get(int(j), -1) for j in idx], dtype=np.int8)
        tool_frames = np.array(sorted(tools), dtype=np.int64)
        tl = np.full((len(idx), 7), 255, dtype=np.uint8)
        if tool_frames.size:
            pos = np.searchsorted(tool_frames, idx, side="right") - 1
            for r, (j, q) in enumerate(zip(idx, pos, strict=True)):
                if q >= 0 and j - tool_frames[q] < fps:
                    tl[r] = tools[int(tool_frames[q])]
        cols["tool_file_missing"] = not tf.is_file()
        return frames, cols, idx, ph, tl

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        i = ref.info
        if i.get("error"):
            raise RecordError(i["error"])
        frames, cols, idx, ph, tl = self._video(raw_dir, ref)
        a, b = int(i["a"]), min(int(i["b"]), frames.shape[0])
        if b <= a:
            raise RecordError(f"{ref.source_path}: interval {i['k']} is past the decoded frames")
        p, t = ph[a:b], tl[a:b]
        present = [int((p == c).any()) for c in range(len(PHASES))]
        known = t[(t != 255).all(axis=1)]
        tools_present = known.max(axis=0).astype(int).tolist() if len(known) else [-1] * 7
        c = {**cols, "interval": int(i["k"]), "start_s": a, "end_s": b, "n_frames": b - a}
        c["t0_s"] = round(float(cols["t0_s"]) + a, 6)
        c["frame_index"] = compact_index(idx[a:b])
        return Sample(
            sample_id=ref.record_id,
            patient_id=i["video"],
            source_path=ref.source_path,
            arrays={VIDEO_FIELD: frames[a:b], PHASE_FIELD: p, TOOLS_FIELD: t},
            labels={"phases_present": present, "tools_present": tools_present},
            native_labels={"video": i["video"], "interval": int(i["k"])},
            columns=c,
            split_hint={"official": i["official"], "climb": i["climb"]},
        )


_CACHE: OrderedDict[str, Any] = OrderedDict()


__all__ = ["PHASES", "TOOLS", "Cholec80Adapter", "climb_split", "interval_bounds", "official_split"]
