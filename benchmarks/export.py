"""Export throughput (samples/s) per format: ``climb export`` vs a plain loop writing the same
files.

The store: N grey images (1 x S x S uint8, blosc-lz4 chunks of 64 as the imaging adapters
write them) with one multiclass task, 80/10/10 train/val/test. For each format, in the same run:

- ``climb``: :func:`climb.export.export_store` with ``--workers`` threads encoding media
  (default 2), and the same with ``workers=1`` (serial, the CLI's default); batched chunk reads
  in store order, atomic output directory, licence files;
- ``loop``: what one writes by hand today: for every sample ``zarr_array[i]`` and its row of
  ``samples.parquet``, then the same encoder calls (PIL PNG at compress level 1, ``json.dumps``)
  into the same layout: qa-jsonl rows + PNG files; ``tarfile`` shards with ``.png``/``.json``
  members; for hf, a list of dicts handed to ``datasets.Dataset.from_list(..., features)`` and
  ``DatasetDict.save_to_disk``.

Both write the same files (the qa-jsonl and webdataset sample contents are checked equal).

    python benchmarks/export.py --quick     # 400 images of 128 x 128
    python benchmarks/export.py             # 2000 images of 256 x 256

The last line is one JSON object: samples/s per format and method, and the ratios climb/loop.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CLASSES = ["normal", "benign", "malignant"]


def make_store(path: Path, n: int, size: int) -> None:
    from climb.core.schema import FieldSpec
    from climb.store import StoreWriter

    rng = np.random.default_rng(0)
    spec = FieldSpec(
        "image",
        "uint8",
        (1, size, size),
        axes=("channel", "height", "width"),
        chunks=64,
        codec={"name": "blosc", "cname": "lz4", "clevel": 5, "shuffle": "noshuffle"},
    )
    w = StoreWriter(path, key="benchimg", fields=[spec], num_samples=n)
    yy, xx = np.mgrid[0:size, 0:size]
    for s in range(0, n, 64):
        m = min(64, n - s)
        base = (np.sin(xx / 7.0 + s) * 60 + 120).astype(np.int16)
        noise = rng.integers(-20, 20, size=(m, 1, size, size))
        w.write("image", s, np.clip(base + noise + yy // 4, 0, 255).astype(np.uint8))
    cut = [int(n * 0.8), int(n * 0.9)]
    splits = ["train"] * cut[0] + ["val"] * (cut[1] - cut[0]) + ["test"] * (n - cut[1])
    df = pd.DataFrame(
        {
            "sample_id": [f"img{i:06d}" for i in range(n)],
            "patient_id": [f"p{i // 2}" for i in range(n)],
            "split": splits,
            "index": range(n),
            "source_path": [f"{i}.png" for i in range(n)],
            "native_labels": ["{}"] * n,
            "label__kind": rng.integers(0, 3, n),
        }
    )
    w.finalize(
        df,
        tasks={"kind": {"type": "multiclass", "classes": CLASSES, "column": "label__kind"}},
        splits={"rule": "bench", "seed": 0, "counts": {}, "leakage_check": "passed"},
        card={"key": "benchimg", "licence": {"id": "CC-BY-4.0", "name": "CC BY 4.0"}},
        fingerprint="bench",
    )


def _png(img: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _rows(store: Any) -> Any:
    df = store.samples
    order = {"train": 0, "val": 1, "test": 2}
    return df.assign(_o=df["split"].map(order)).sort_values(["_o", "index"], kind="stable")


def loop_qa(store_path: Path, out: Path) -> int:
    from climb.export._common import ExportPlan, TaskPlan, question
    from climb.store import open_store

    store = open_store(store_path)
    z = store.array("image")
    task = TaskPlan("kind", "multiclass", tuple(CLASSES), "label__kind")
    plan = ExportPlan(store, "qa-jsonl", [task], [], [])
    plan.fields = []  # question() only needs the media word
    q = question(plan, task).replace("sample", "image")
    out.mkdir(parents=True)
    files: dict[str, Any] = {}
    n = 0
    for r in _rows(store).itertuples(index=False):
        i = int(r.index)
        split = r.split
        if split not in files:
            (out / "media" / split).mkdir(parents=True)
            files[split] = open(out / f"annotation_{split}.jsonl", "w", encoding="utf-8")  # noqa: SIM115
        rel = f"media/{split}/{i:07d}_{r.sample_id}_image.png"
        (out / rel).write_bytes(_png(np.asarray(z[i])[0]))
        row = {
            "id": f"{r.sample_id}/kind",
            "dataset": store.key,
            "task": "kind",
            "images": [rel],
            "explanation": "",
            "conversations": [
                {"from": "human", "value": "<image>\n" + q},
                {"from": "gpt", "value": CLASSES[int(r.label__kind)]},
            ],
        }
        files[split].write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    for fh in files.values():
        fh.close()
    return n


def loop_wds(store_path: Path, out: Path, shard: int) -> int:
    from climb.store import open_store

    store = open_store(store_path)
    z = store.array("image")
    out.mkdir(parents=True)
    n = 0
    counts: dict[str, int] = {}
    tar: tarfile.TarFile | None = None
    cur = None
    for r in _rows(store).itertuples(index=False):
        i = int(r.index)
        k = counts.get(r.split, 0)
        name = f"{r.split}-{k // shard:06d}.tar"
        if name != cur:
            if tar is not None:
                tar.close()
            tar, cur = tarfile.open(out / name, "w"), name  # noqa: SIM115
        counts[r.split] = k + 1
        key = f"{i:07d}_{r.sample_id}"
        meta = {
            "sample_id": r.sample_id,
            "patient_id": r.patient_id,
            "split": r.split,
            "dataset": store.key,
            "kind": int(r.label__kind),
        }
        for ext, data in (
            ("image.png", _png(np.asarray(z[i])[0])),
            ("json", json.dumps(meta).encode()),
        ):
            ti = tarfile.TarInfo(f"{key}.{ext}")
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))
        n += 1
    if tar is not None:
        tar.close()
    return n


def loop_hf(store_path: Path, out: Path) -> int:
    import datasets as hfd
    from climb.store import open_store

    store = open_store(store_path)
    z = store.array("image")
    feats = hfd.Features(
        {
            "sample_id": hfd.Value("string"),
            "patient_id": hfd.Value("string"),
            "image": hfd.Image(),
            "kind": hfd.ClassLabel(names=CLASSES),
        }
    )
    parts: dict[str, list[dict[str, Any]]] = {}
    for r in _rows(store).itertuples(index=False):
        i = int(r.index)
        parts.setdefault(r.split, []).append(
            {
                "sample_id": r.sample_id,
                "patient_id": r.patient_id,
                "image": {"bytes": _png(np.asarray(z[i])[0]), "path": None},
                "kind": int(r.label__kind),
            }
        )
    hfd.utils.disable_progress_bars()
    dd = hfd.DatasetDict({s: hfd.Dataset.from_list(v, features=feats) for s, v in parts.items()})
    dd.save_to_disk(str(out))
    return sum(len(v) for v in parts.values())


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--workers", type=int, default=2, help="threads of the 'climb' run")
    args = ap.parse_args()
    n, size = (400, 128) if args.quick else (2000, 256)
    repeat = args.repeat or (2 if args.quick else 3)
    from climb.export import export_store

    tmp = Path(tempfile.mkdtemp(prefix="climb-export-bench-"))
    try:
        store = tmp / "store"
        make_store(store, n, size)
        res: dict[str, dict[str, float]] = {}
        for fmt in ("qa-jsonl", "webdataset", "hf"):
            t_ours, t_loop, t_serial = [], [], []
            for rep in range(repeat):
                a, b = tmp / f"{fmt}-ours-{rep}", tmp / f"{fmt}-loop-{rep}"
                c = tmp / f"{fmt}-serial-{rep}"
                t = time.perf_counter()
                export_store(
                    store, fmt, a, echo=lambda s: None, shard_size=1000, workers=args.workers
                )
                t_ours.append(time.perf_counter() - t)
                t = time.perf_counter()
                export_store(store, fmt, c, echo=lambda s: None, shard_size=1000, workers=1)
                t_serial.append(time.perf_counter() - t)
                shutil.rmtree(c)
                t = time.perf_counter()
                if fmt == "qa-jsonl":
                    loop_qa(store, b)
                elif fmt == "webdataset":
                    loop_wds(store, b, 1000)
                else:
                    loop_hf(store, b)
                t_loop.append(time.perf_counter() - t)
                if rep == 0 and fmt == "qa-jsonl":
                    for s in ("train", "val", "test"):
                        assert (a / f"annotation_{s}.jsonl").read_bytes() == (
                            b / f"annotation_{s}.jsonl"
                        ).read_bytes()
                if rep == 0 and fmt == "webdataset":
                    import webdataset as wds

                    got_a = list(wds.WebDataset(str(a / "train-000000.tar"), shardshuffle=False))
                    got_b = list(wds.WebDataset(str(b / "train-000000.tar"), shardshuffle=False))
                    assert [x["image.png"] for x in got_a] == [x["image.png"] for x in got_b]
                shutil.rmtree(a)
                shutil.rmtree(b)
            ours, loop = n / float(np.median(t_ours)), n / float(np.median(t_loop))
            serial = n / float(np.median(t_serial))
            res[fmt] = {
                "climb_samples_s": round(ours, 1),
                "climb_workers1_samples_s": round(serial, 1),
                "ratio_workers1": round(serial / loop, 2),
                "loop_samples_s": round(loop, 1),
                "ratio": round(ours / loop, 2),
            }
            print(
                f"{fmt:11s} climb {ours:8.1f}/s ({args.workers} threads; 1: {serial:7.1f}/s)   loop {loop:8.1f}/s   ratio {ours / loop:5.2f}",
                flush=True,
            )
        print(
            json.dumps(
                {
                    "benchmark": "export",
                    "quick": args.quick,
                    "samples": n,
                    "image": [1, size, size],
                    "repeat": repeat,
                    "workers": args.workers,
                    **res,
                }
            )
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
