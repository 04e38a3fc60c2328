"""``hf``: a Hugging Face ``datasets.DatasetDict`` (one ``Dataset`` per split) written with
``save_to_disk``; open it with ``datasets.load_from_disk(DIR)``.

Columns: ``sample_id``, ``patient_id``; per field an ``Image`` feature (``Sequence(Image())`` for
multi-view fields), ``<field>_mp4`` bytes for video, an ``ArrayND`` of the stored dtype for
signals and other dense arrays; per task a ``ClassLabel`` (binary/multiclass, -1 = missing), a
``Sequence(int8)`` multi-hot of the class count (multilabel, -1 = masked), a ``float64``
(regression, None = missing) or a list of ``{from, value}`` turns (qa). The ``DatasetInfo`` carries
the card's description, citation, homepage and licence. Rows are written through
``datasets.arrow_writer.ArrowWriter`` one batch at a time (streaming), then saved per split.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from climb.export._common import (
    ExportPlan,
    LicenceTerms,
    label_value,
    mp4_bytes,
    need,
    png_bytes,
    to_uint8_image,
    video_frames,
)

MEDIA_KINDS = ("image", "video", "signal", "array")


def _views(plan_field: Any) -> int:
    shape, axes = plan_field.shape, [a.lower() for a in plan_field.axes]
    if len(shape) == 3 and axes and axes[0] == "view":
        return shape[0]
    if len(shape) == 3 and axes and axes[0] in ("channel", "c") and shape[0] not in (1, 3):
        return shape[0]
    return 1


def features(plan: ExportPlan) -> Any:
    import datasets as hfd

    cols: dict[str, Any] = {"sample_id": hfd.Value("string"), "patient_id": hfd.Value("string")}
    for f in plan.fields:
        if f.kind == "image":
            cols[f.name] = hfd.List(hfd.Image()) if _views(f) > 1 else hfd.Image()
        elif f.kind == "video":
            cols[f"{f.name}_mp4"] = hfd.Value("binary")
        elif f.ragged:  # (n_i, *inner): an array whose first dimension varies
            inner = tuple(int(d) for d in f.shape[1:])
            arr = {0: None, 1: hfd.Array2D, 2: hfd.Array3D, 3: hfd.Array4D, 4: hfd.Array5D}
            if not inner:
                cols[f.name] = hfd.List(hfd.Value(f.dtype))
            elif len(inner) in arr and arr[len(inner)] is not None:
                cols[f.name] = arr[len(inner)](shape=(None, *inner), dtype=f.dtype)
            else:
                raise ValueError(f"ragged field {f.name!r} has too many axes for the hf export")
        else:
            n = len(f.shape)
            arr = {1: None, 2: hfd.Array2D, 3: hfd.Array3D, 4: hfd.Array4D, 5: hfd.Array5D}.get(n)
            if n == 1:
                cols[f.name] = hfd.List(hfd.Value(f.dtype), length=f.shape[0])
            elif arr is not None:
                cols[f.name] = arr(shape=f.shape, dtype=f.dtype)
            else:
                raise ValueError(f"field {f.name!r} has {n} axes; the hf export writes 1 to 5")
    for t in plan.tasks:
        if t.type in ("binary", "multiclass"):
            cols[t.name] = hfd.ClassLabel(
                names=list(t.classes) or None, num_classes=None if t.classes else 2
            )
        elif t.type == "multilabel":
            cols[t.name] = hfd.List(hfd.Value("int8"), length=len(t.classes))
        elif t.type == "regression":
            cols[t.name] = hfd.Value("float64")
        else:  # qa
            cols[t.name] = hfd.List({"from": hfd.Value("string"), "value": hfd.Value("string")})
    return hfd.Features(cols)


def _example(plan: ExportPlan, values: dict[str, Any], j: int, r: dict[str, Any]) -> dict[str, Any]:
    ex: dict[str, Any] = {
        "sample_id": str(r["sample_id"]),
        "patient_id": str(r.get("patient_id", "")),
    }
    for f in plan.fields:
        x = values[f.name][j]
        if f.kind == "image":
            imgs = [{"bytes": png_bytes(i), "path": None} for i in to_uint8_image(x, f.axes)]
            ex[f.name] = imgs if _views(f) > 1 else imgs[0]
        elif f.kind == "video":
            ex[f"{f.name}_mp4"] = mp4_bytes(video_frames(x, f.axes), f.fps(r))
        else:
            ex[f.name] = np.asarray(x)
    for t in plan.tasks:
        v = label_value(t, r)
        if t.type in ("binary", "multiclass"):
            ex[t.name] = -1 if v is None else int(v)
        elif t.type == "multilabel":
            raw = np.asarray(r[t.column], dtype=np.int64).reshape(-1) if t.column else None
            ex[t.name] = None if raw is None else raw.astype(np.int8).tolist()
        else:
            ex[t.name] = v
    return ex


def info(plan: ExportPlan, terms: LicenceTerms) -> Any:
    import datasets as hfd

    card = plan.store.meta.get("card") or {}
    lic = f"{terms.name} ({terms.id})" + (f" {terms.url}" if terms.url else "")
    if terms.warnings:
        lic += " | " + " | ".join(terms.warnings)
    return hfd.DatasetInfo(
        description=str(card.get("description") or f"climb export of store {plan.key}"),
        citation=terms.citation,
        homepage=str(card.get("homepage") or ""),
        license=lic,
    )


def write(
    plan: ExportPlan, tmp: Path, advance: Callable[[int], None], *, terms: LicenceTerms
) -> tuple[dict[str, int], dict[str, int], dict[str, Any]]:
    hfd = need("datasets", "hf")
    from datasets.arrow_writer import ArrowWriter

    feats = features(plan)
    dinfo = info(plan, terms)
    written: dict[str, int] = {}
    skipped = {t.name: 0 for t in plan.tasks}
    cache = tmp / "_arrow"
    cache.mkdir()
    parts: dict[str, Any] = {}
    for split in plan.splits:
        path = cache / f"{split}.arrow"
        n = 0
        with ArrowWriter(features=feats, path=str(path)) as writer:
            for part, values in plan.batches(split):
                batch = []
                for r, ex in plan.encoded(split, part, values, partial(_example, plan)):
                    for t in plan.tasks:
                        skipped[t.name] += label_value(t, r) is None
                    batch.append(feats.encode_example(ex))
                for ex in batch:
                    writer.write(ex)
                n += len(batch)
                advance(len(part))
            writer.finalize()
        written[split] = n
        parts[split] = hfd.Dataset.from_file(str(path), info=dinfo.copy())
    was_enabled = hfd.utils.is_progress_bar_enabled()
    hfd.utils.disable_progress_bars()  # climb shows its own progress
    try:
        hfd.DatasetDict(parts).save_to_disk(str(tmp))
    finally:
        if was_enabled:
            hfd.utils.enable_progress_bars()
    del parts
    shutil.rmtree(cache)
    return written, skipped, {"load": "datasets.load_from_disk(DIR)"}
