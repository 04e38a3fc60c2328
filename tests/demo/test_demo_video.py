"""Demo corpus videos and volumes (climb.demo.video) prepare with every bad input quarantined."""

from __future__ import annotations

import time
from pathlib import Path

from climb.datasets.ct._volumes import InspectAdapter
from climb.datasets.ultrasound._videos import EchoNetAdapter
from climb.demo.video import BROKEN_ECHONET, BROKEN_INSPECT, write_echonet_tree, write_inspect_tree
from climb.prepare.pipeline import prepare
from climb.store import open_store


def test_echonet_and_inspect_trees(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    splits = write_echonet_tree(tmp_path / "raw" / "echonet_dynamic", videos=10, frames=16)
    labels = write_inspect_tree(tmp_path / "raw" / "inspect", volumes=6, slices=8, size=32)
    r1 = prepare("echonet_dynamic", tmp_path, adapter=EchoNetAdapter(size=32))
    r2 = prepare("inspect", tmp_path, adapter=InspectAdapter(size=32))
    assert time.perf_counter() - t0 < 60  # seconds, not minutes (shared 2-CPU machine)
    assert sorted(q["record"] for q in r1.quarantined) == sorted(BROKEN_ECHONET)
    assert sorted(q["record"] for q in r2.quarantined) == sorted(BROKEN_INSPECT)
    e = open_store(r1.store).samples.set_index("sample_id")
    assert sorted(e.index) == sorted(splits) and e["label__ef"].between(20, 75).all()
    assert e["split"].value_counts().to_dict() == {"train": 6, "val": 2, "test": 2}
    c = open_store(r2.store)
    assert c.samples.set_index("sample_id")["label__pe"].to_dict() == labels
    assert c.read("ct", [0])[0].shape == (8, 32, 32)
