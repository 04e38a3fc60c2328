"""prepare computes the train statistics and the content hash while writing the chunks; they
must equal what reading the finished store back gives, whatever the worker count."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from climb.prepare.pipeline import prepare
from climb.store import open_store
from climb.store.writer import content_hash
from tests.prepare.test_pipeline import build_raw


def _stats_from_store(path: Path) -> dict[str, list[float]]:
    s = open_store(path)
    arr = s.array("ecg")
    train = s.samples["split"].to_numpy() == "train"
    tot, sq, cnt = np.zeros(12), np.zeros(12), 0
    for start in range(0, arr.shape[0], int(arr.chunks[0])):
        sel = train[start : start + int(arr.chunks[0])]
        if not sel.any():
            continue
        b = np.asarray(arr[start : start + int(arr.chunks[0])], dtype=np.float64)[sel]
        tot += b.sum(axis=(0, 2))
        sq += (b**2).sum(axis=(0, 2))
        cnt += b.shape[0] * b.shape[2]
    mean = tot / cnt
    std = np.sqrt(np.maximum(sq / cnt - mean**2, 0))
    return {"mean": mean.round(6).tolist(), "std": std.round(6).tolist()}


def test_inline_stats_and_hash_match_the_store(tmp_path: Path) -> None:
    build_raw(tmp_path / "raw" / "cpsc2018", extra=60)
    metas = []
    for workers in (1, 2):
        res = prepare("cpsc2018", tmp_path, workers=workers, splits="patient", unit_size=8)
        store = tmp_path / "stores" / "cpsc2018"
        meta = open_store(store).meta
        assert len(open_store(store)) > 64  # several chunks of 32
        assert res.content_hash == meta["content_hash"] == content_hash(store, ["ecg"])
        st = meta["stats"]["ecg"]
        assert {"mean": st["mean"], "std": st["std"]} == _stats_from_store(store)
        metas.append(meta)
    assert metas[0]["content_hash"] == metas[1]["content_hash"]
    assert metas[0]["stats"] == metas[1]["stats"]
