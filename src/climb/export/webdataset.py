"""``webdataset``: tar shards ``<split>-000000.tar, ...`` readable by ``webdataset.WebDataset``.

One tar member group per sample, keyed ``<index>_<sample_id>``: ``<field>.png`` for image fields
(``<field>_<v>.png`` per view), ``<field>.mp4`` for video fields, ``<field>.npy`` for signals and
other arrays (the stored values, not a rendering), and ``json`` with ``sample_id``,
``patient_id``, ``split``, ``dataset`` and one entry per task (class index, multi-hot list, number
or conversation; ``null`` when missing). Written with ``webdataset.ShardWriter``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from climb.export._common import (
    ExportPlan,
    label_value,
    mp4_bytes,
    need,
    png_bytes,
    to_uint8_image,
    video_frames,
)
from climb.export.qa_jsonl import safe_name

MEDIA_KINDS = ("image", "video", "signal", "array")


def sample_dict(
    plan: ExportPlan, values: dict[str, Any], j: int, r: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {"__key__": safe_name(r["index"], r["sample_id"]).replace(".", "_")}
    for f in plan.fields:
        x = values[f.name][j]
        if f.kind == "image":
            imgs = to_uint8_image(x, f.axes)
            for v, img in enumerate(imgs):
                out[f"{f.name}.png" if len(imgs) == 1 else f"{f.name}_{v}.png"] = png_bytes(img)
        elif f.kind == "video":
            out[f"{f.name}.mp4"] = mp4_bytes(video_frames(x, f.axes), f.fps(r))
        else:
            out[f"{f.name}.npy"] = np.ascontiguousarray(np.asarray(x))
    meta = {
        "sample_id": str(r["sample_id"]),
        "patient_id": str(r.get("patient_id", "")),
        "split": str(r["split"]),
        "dataset": plan.key,
    }
    for t in plan.tasks:
        meta[t.name] = label_value(t, r)
    out["json"] = meta
    return out


def write(
    plan: ExportPlan, tmp: Path, advance: Callable[[int], None], *, shard_size: int = 1000
) -> tuple[dict[str, int], dict[str, int], dict[str, Any]]:
    wds = need("webdataset", "webdataset")
    written: dict[str, int] = {}
    skipped = {t.name: 0 for t in plan.tasks}
    shards: dict[str, list[str]] = {}
    for split in plan.splits:
        n = 0
        pattern = str(tmp / f"{split}-%06d.tar")
        with wds.ShardWriter(pattern, maxcount=int(shard_size), verbose=0) as sink:
            for part, values in plan.batches(split):
                for _r, sample in plan.encoded(split, part, values, partial(sample_dict, plan)):
                    for t in plan.tasks:
                        skipped[t.name] += sample["json"][t.name] is None
                    sink.write(sample)
                    n += 1
                advance(len(part))
        written[split] = n
        shards[split] = sorted(p.name for p in tmp.glob(f"{split}-*.tar"))
    return written, skipped, {"shards": shards}
