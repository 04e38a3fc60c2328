"""Image loader benchmark: climb store vs decoding the original JPEG per sample.

Generates N synthetic grey chest-X-ray-like JPEGs (default 1024x1024, quick: 512x512) as a
'brain_tumor'-style raw layout, prepares them into a store with 1 and 2 workers, then times:

* original: per sample, Pillow decode of the JPEG + Resize(223, max_size=224) + zero-pad to
  224 + ToTensor + Normalize (CLIMB's Input2dSpec path), batched with torch.stack;
* store: StoreDataset batches (chunk-aware reads of uint8 256x256) + to-float + normalize.

Prints a table; the last line is one JSON object.
    python benchmarks/image_loader.py [--quick] [--n N] [--size PX]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np


def make_raw(raw: Path, n: int, size: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:size, 0:size]
    base = (128 + 60 * np.sin(x / 37.0) * np.cos(y / 53.0)).astype(np.float32)
    classes = ("no_tumor", "glioma_tumor", "meningioma_tumor", "pituitary_tumor")
    for i in range(n):
        img = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
        d = raw / ("Training" if i % 5 else "Testing") / classes[i % 4]
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(d / f"img{i:05d}.jpg", quality=92)


def original_batches(files: list[Path], batch: int) -> float:
    import torch
    from PIL import Image
    from torchvision.transforms import v2

    tf = v2.Compose([v2.PILToTensor(), v2.Resize(223, max_size=224, antialias=True),
                     v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.5035], [0.2883])])  # fmt: skip
    t0 = time.perf_counter()
    for s in range(0, len(files), batch):
        xs = []
        for f in files[s : s + batch]:
            with Image.open(f) as im:
                x = tf(im.convert("L"))
            pad = torch.zeros(1, 224, 224)
            pad[:, : x.shape[1], : x.shape[2]] = x
            xs.append(pad)
        torch.stack(xs)
    return time.perf_counter() - t0


def open_store_dataset(store: Path) -> Any:
    """Opened once per run, as a training run does (samples table, stats, zarr metadata); one
    warm-up batch opens the array."""
    from climb.data import StoreDataset
    from climb.data.image_transforms import build_image_transforms

    ds = StoreDataset(store, transforms=build_image_transforms(store, train=False))
    ds[np.arange(min(len(ds), 4))]
    return ds


def store_batches(ds: Any, batch: int) -> float:
    t0 = time.perf_counter()
    for s in range(0, len(ds), batch):
        ds[np.arange(s, min(len(ds), s + batch))]
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()
    n = a.n or (128 if a.quick else 512)
    size = a.size or (512 if a.quick else 1024)
    reps = a.repeats or (3 if a.quick else 5)
    from climb.prepare.pipeline import prepare

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        raw = root / "raw" / "brain_tumor"
        make_raw(raw, n, size)
        files = sorted(raw.rglob("*.jpg"))
        prep = {}
        for w in (1, 2):
            ts = []
            for _ in range(2 if a.quick else 3):
                r = prepare("brain_tumor", root, workers=w)
                ts.append(r.seconds)
            prep[w] = statistics.median(ts)
        store = r.store
        orig = [original_batches(files, a.batch) for _ in range(reps)]
        ds = open_store_dataset(store)
        st = [store_batches(ds, a.batch) for _ in range(reps)]
    mo, ms = statistics.median(orig), statistics.median(st)
    rows = [
        ("original: JPEG decode+resize+normalize", f"{n / mo:10.0f}", f"{mo * 1000 / n:8.3f}"),
        ("climb store: uint8 256px batches+normalize", f"{n / ms:10.0f}", f"{ms * 1000 / n:8.3f}"),
    ]
    print(f"image loader, {n} images of {size}x{size} px, batch {a.batch}, median of {reps}")
    print(f"{'loader':45s} {'img/s':>10s} {'ms/img':>8s}")
    for r in rows:
        print(f"{r[0]:45s} {r[1]} {r[2]}")
    print(f"speed-up: {mo / ms:.1f}x")
    print(
        f"prepare throughput: 1 worker {n / prep[1]:.0f} img/s, 2 workers {n / prep[2]:.0f} img/s"
    )
    out = {
        "benchmark": "image_loader", "n": n, "size": size, "batch": a.batch, "repeats": reps,
        "original_img_per_s": round(n / mo, 1), "store_img_per_s": round(n / ms, 1),
        "speedup": round(mo / ms, 2), "prepare_img_per_s_1w": round(n / prep[1], 1),
        "prepare_img_per_s_2w": round(n / prep[2], 1),
    }  # fmt: skip
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    raise SystemExit(main())
