"""``qa-jsonl``: CLIMB's ``to_qa`` layout, one ``annotation_<split>.jsonl`` per split.

Each line is one (sample, task) question::

    {"id": "<sample_id>/<task>", "dataset": "<key>", "task": "<task>",
     "images": ["media/<split>/<file>.png", ...],      # or "videos": [... .mp4]
     "explanation": "",
     "conversations": [{"from": "human", "value": "<image>\\n<question>"},
                       {"from": "gpt", "value": "<answer>"}]}

Paths are relative to the export directory. Images are PNG, videos H.264 mp4, signals a PNG
plot (:func:`climb.export._common.signal_png`). ``id``, ``dataset`` and ``task`` are additions to
CLIMB's keys (readers that do not know them ignore them; DRPO uses ``dataset`` as the domain).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from climb.export._common import (
    ExportPlan,
    answer,
    label_value,
    mp4_bytes,
    png_bytes,
    question,
    signal_png,
    to_uint8_image,
    video_frames,
)

MEDIA_KINDS = ("image", "video", "signal")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(index: int, sample_id: str) -> str:
    return f"{int(index):07d}_{_SAFE.sub('_', str(sample_id))[:80]}"


def encode_media(
    plan: ExportPlan, values: dict[str, Any], j: int, r: dict[str, Any]
) -> list[tuple[str, str, bytes]]:
    """``[(kind, suffix, bytes)]`` of one sample: kind is ``image`` or ``video``."""
    out: list[tuple[str, str, bytes]] = []
    for f in plan.fields:
        x = values[f.name][j]
        if f.kind == "image":
            imgs = to_uint8_image(x, f.axes)
            for v, img in enumerate(imgs):
                suffix = f"{f.name}.png" if len(imgs) == 1 else f"{f.name}_{v}.png"
                out.append(("image", suffix, png_bytes(img)))
        elif f.kind == "video":
            out.append(("video", f"{f.name}.mp4", mp4_bytes(video_frames(x, f.axes), f.fps(r))))
        elif f.kind == "signal":
            out.append(("image", f"{f.name}.png", signal_png(x, f.meta)))
    return out


def _with_tokens(conv: list[dict[str, str]], tokens: str) -> list[dict[str, str]]:
    conv = [dict(t) for t in conv]
    if tokens and conv and "<image>" not in conv[0]["value"] and "<video>" not in conv[0]["value"]:
        conv[0]["value"] = tokens + conv[0]["value"]
    return conv


def write(
    plan: ExportPlan, tmp: Path, advance: Callable[[int], None]
) -> tuple[dict[str, int], dict[str, int], dict[str, Any]]:
    written: dict[str, int] = {}
    skipped = {t.name: 0 for t in plan.tasks}
    questions = {t.name: question(plan, t) for t in plan.tasks if t.type != "qa"}
    for split in plan.splits:
        media_dir = tmp / "media" / split
        media_dir.mkdir(parents=True, exist_ok=True)
        n = 0
        with open(tmp / f"annotation_{split}.jsonl", "w", encoding="utf-8") as fh:
            for part, values in plan.batches(split):
                for r, media in plan.encoded(split, part, values, partial(encode_media, plan)):
                    base = safe_name(r["index"], r["sample_id"])
                    images, videos = [], []
                    for kind, suffix, data in media:
                        rel = f"media/{split}/{base}_{suffix}"
                        (tmp / rel).write_bytes(data)
                        (images if kind == "image" else videos).append(rel)
                    tokens = "<image>\n" * len(images) + "<video>\n" * len(videos)
                    for t in plan.tasks:
                        value = label_value(t, r)
                        if value is None:
                            skipped[t.name] += 1
                            continue
                        if t.type == "qa":
                            conv = _with_tokens(value, tokens)
                        else:
                            conv = [
                                {"from": "human", "value": tokens + questions[t.name]},
                                {"from": "gpt", "value": answer(t, value)},
                            ]
                        line: dict[str, Any] = {
                            "id": f"{r['sample_id']}/{t.name}",
                            "dataset": plan.key,
                            "task": t.name,
                        }
                        if images:
                            line["images"] = images
                        if videos:
                            line["videos"] = videos
                        line["explanation"] = ""
                        line["conversations"] = conv
                        fh.write(json.dumps(line, ensure_ascii=False) + "\n")
                        n += 1
                advance(len(part))
        written[split] = n
    return written, skipped, {"questions": questions}
