"""Volume window loader benchmark: climb store vs nibabel / SimpleITK load per sample.

Generates N CT-like volumes (Z slices of 256x256 int16 HU, 0.7 x 0.7 x 1.25 mm) as INSPECT's
raw layout (``CTPA/<id>.nii.gz`` + ``Final_Impressions_labels.csv``) plus a MetaImage copy
(``.mhd/.raw``, as LNDb ships), prepares the NIfTI files into a store with 1 and 2 workers
(`climb prepare inspect`), then times the same 24-slice windows, lung-windowed to float:

* nibabel: per sample ``nib.load`` + ``as_closest_canonical`` + the voxel data (a .nii.gz is
  decompressed whole), the window's slices, then the HU window;
* SimpleITK: per sample ``ReadImage`` of the .mhd/.raw + ``GetArrayFromImage``, same window;
* store: ``StoreDataset(..., ragged={"ct": crop policy})`` batches (int16 HU) + ``ct_window``.

Windows: 24 slices, centred (the crop policy's evaluation mode). The three paths give the
same HU arrays (checked). Prints a table; the last line is one JSON object with
``store_vs_decode`` (store vs nibabel) and ``store_vs_sitk``.
    python benchmarks/volume_loader.py [--quick] [--n N] [--slices Z] [--window K]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

SPACING = (1.25, 0.7, 0.7)


def make_raw(raw: Path, n: int, slices: int) -> tuple[list[Path], list[Path]]:
    import nibabel as nib
    import SimpleITK as sitk

    (raw / "CTPA").mkdir(parents=True)
    mhd = raw.parent / "mhd"
    mhd.mkdir()
    rng = np.random.default_rng(0)
    zz, yy, xx = np.mgrid[0:slices, 0:256, 0:256].astype(np.float32)
    body = ((yy - 128) ** 2 / 110**2 + (xx - 128) ** 2 / 90**2) < 1
    niis, mhds = [], []
    with (raw / "Final_Impressions_labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["impression_id", "pe_positive", "pe_acute", "pe_subsegmentalonly"])
        for i in range(n):
            lungs = (((yy - 128) ** 2 + (np.abs(xx - 128) - 45) ** 2) < 35**2) & body
            hu = np.where(body, 40.0, -1000.0) + np.where(lungs, -860.0, 0.0)
            hu += 30 * np.sin(zz / 7 + i) + rng.normal(0, 20, hu.shape)
            hu = np.clip(hu, -1024, 3071).astype(np.int16)  # (z, y, x) LPS
            name = f"PE{i:05d}"
            xyz = np.ascontiguousarray(np.transpose(hu, (2, 1, 0))[::-1, ::-1, :])  # RAS
            aff = np.diag([SPACING[2], SPACING[1], SPACING[0], 1.0])
            p = raw / "CTPA" / f"{name}.nii.gz"
            nib.save(nib.Nifti1Image(xyz, aff), str(p))
            img = sitk.GetImageFromArray(hu)
            img.SetSpacing((SPACING[2], SPACING[1], SPACING[0]))
            q = mhd / f"{name}.mhd"
            sitk.WriteImage(img, str(q))
            niis.append(p)
            mhds.append(q)
            w.writerow([name, i % 2, i % 2, 0])
    return niis, mhds


def lung(x: Any) -> Any:
    return ((x.float() + 1350.0) / 1500.0).clamp_(0, 1)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--slices", type=int, default=None)
    ap.add_argument("--window", type=int, default=24)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=None)
    a = ap.parse_args()
    n = a.n or (12 if a.quick else 48)
    z = a.slices or (96 if a.quick else 160)
    reps = a.repeats or (3 if a.quick else 5)
    k = a.window
    import nibabel as nib
    import SimpleITK as sitk
    import torch

    from climb.data import StoreDataset
    from climb.data.collate import build_collate
    from climb.data.volume_transforms import ct_window
    from climb.prepare.pipeline import prepare
    from climb.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        niis, mhds = make_raw(root / "raw" / "inspect", n, z)
        prep: dict[int, float] = {}
        for w in (1, 2):
            ts = []
            for _ in range(2 if a.quick else 3):
                r = prepare("inspect", root, workers=w)
                ts.append(r.seconds)
            prep[w] = statistics.median(ts)
        assert not r.quarantined, r.quarantined
        st = open_store(r.store)
        df = st.samples
        pos_of = dict(zip(df["sample_id"], range(len(df)), strict=True))
        crop = {"name": "crop", "length": k}
        win = ct_window(presets=["lung"])
        ds = StoreDataset(r.store, fields="ct", tasks="pe", ragged={"ct": crop}, train=False,
                          transforms={"ct": win})  # fmt: skip
        ds.get_batch(np.arange(min(len(ds), 2)))
        policy = build_collate(crop, where="bench")
        lengths = st.ragged("ct").lengths
        ids = [p.name[: -len(".nii.gz")] for p in niis]
        pos = {i: int(np.flatnonzero(ds.array_index == int(df["index"].iloc[pos_of[i]]))[0])
               for i in ids}  # fmt: skip
        start = {}
        for i in ids:
            ai = int(df["index"].iloc[pos_of[i]])
            c = policy([np.arange(lengths[ai])[:, None]], rows=np.array([ai]), epoch=0,
                       train=False, seed=0)  # fmt: skip
            start[i] = int(c.values[0, 0, 0])

        def nib_window(p: Path, s: int) -> np.ndarray:
            img = nib.as_closest_canonical(nib.load(str(p)))
            d = np.asanyarray(img.dataobj)  # (x, y, z) RAS
            return np.transpose(d[::-1, ::-1, s : s + k], (2, 1, 0))

        def sitk_window(p: Path, s: int) -> np.ndarray:
            return sitk.GetArrayFromImage(sitk.ReadImage(str(p)))[s : s + k]

        def run(fn: Any, files: list[Path]) -> tuple[float, float]:
            t0, c0 = time.perf_counter(), time.process_time()
            for b in range(0, n, a.batch):
                xs = [fn(files[j], start[ids[j]]) for j in range(b, min(n, b + a.batch))]
                win(torch.from_numpy(np.ascontiguousarray(np.stack(xs))))
            return time.perf_counter() - t0, time.process_time() - c0

        def run_store() -> tuple[float, float]:
            t0, c0 = time.perf_counter(), time.process_time()
            for b in range(0, n, a.batch):
                ds.get_batch([pos[ids[j]] for j in range(b, min(n, b + a.batch))])
            return time.perf_counter() - t0, time.process_time() - c0

        rag = st.ragged("ct")
        offs = {i: int(rag.offsets[int(df["index"].iloc[pos_of[i]])]) + start[i] for i in ids}

        def run_range() -> tuple[float, float]:
            t0, c0 = time.perf_counter(), time.process_time()
            for b in range(0, n, a.batch):
                xs = [np.asarray(rag.values[offs[ids[j]] : offs[ids[j]] + k])
                      for j in range(b, min(n, b + a.batch))]  # fmt: skip
                win(torch.from_numpy(np.stack(xs)))
            return time.perf_counter() - t0, time.process_time() - c0

        raw_ds = StoreDataset(r.store, fields="ct", tasks="pe", ragged={"ct": crop}, train=False)
        got = raw_ds.get_batch([pos[ids[0]]])["inputs"]["ct"][0].numpy()
        np.testing.assert_array_equal(got, nib_window(niis[0], start[ids[0]]))
        np.testing.assert_array_equal(got, sitk_window(mhds[0], start[ids[0]]))
        paths = {
            "nib": lambda: run(nib_window, niis),
            "itk": lambda: run(sitk_window, mhds),
            "st": run_store,
            "rng": run_range,
        }
        got: dict[str, list[tuple[float, float]]] = {key: [] for key in paths}
        for _ in range(reps):  # interleaved rounds: load changes hit every path alike
            for key, fn in paths.items():
                got[key].append(fn())
        wall = {key: statistics.median(w for w, _ in v) for key, v in got.items()}
        cpu = {key: statistics.median(c for _, c in v) for key, v in got.items()}
        t_nib, t_itk, t_st, t_rng = wall["nib"], wall["itk"], wall["st"], wall["rng"]
        mb = sum(p.stat().st_size for p in niis) / n / 2**20
    print(f"volume window loader: {n} volumes of {z}x256x256 int16 (.nii.gz {mb:.1f} MB each), "
          f"windows of {k} slices, lung window, batch {a.batch}, median of {reps}")  # fmt: skip
    for name, t in (("nibabel load per sample", t_nib), ("SimpleITK .mhd load per sample", t_itk),
                    ("climb store: StoreDataset crop + ct_window", t_st),
                    ("climb store: ragged range read + ct_window", t_rng)):  # fmt: skip
        print(f"{name:45s} {n / t:10.1f} windows/s")
    print(f"store vs nibabel: {t_nib / t_st:.1f}x; store vs SimpleITK: {t_itk / t_st:.1f}x; "
          f"range read vs nibabel: {t_nib / t_rng:.1f}x (CPU time: store "
          f"{cpu['nib'] / cpu['st']:.1f}x, range {cpu['nib'] / cpu['rng']:.1f}x nibabel)")  # fmt: skip
    print(f"prepare: 1 worker {n / prep[1]:.2f} volumes/s, 2 workers {n / prep[2]:.2f} volumes/s")
    out = {
        "benchmark": "volume_loader", "n": n, "slices": z, "window": k, "batch": a.batch,
        "repeats": reps, "nibabel_windows_per_s": round(n / t_nib, 2),
        "sitk_windows_per_s": round(n / t_itk, 2), "store_windows_per_s": round(n / t_st, 1),
        "store_vs_decode": round(t_nib / t_st, 2), "store_vs_sitk": round(t_itk / t_st, 2),
        "range_windows_per_s": round(n / t_rng, 1), "range_vs_decode": round(t_nib / t_rng, 2),
        "range_vs_sitk": round(t_itk / t_rng, 2),
        "store_vs_decode_cpu": round(cpu["nib"] / cpu["st"], 2),
        "range_vs_decode_cpu": round(cpu["nib"] / cpu["rng"], 2),
        "range_vs_sitk_cpu": round(cpu["itk"] / cpu["rng"], 2),
        "prepare_volumes_per_s_1w": round(n / prep[1], 3),
        "prepare_volumes_per_s_2w": round(n / prep[2], 3),
    }  # fmt: skip
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    raise SystemExit(main())
