"""Scale-out measurements and the projection to the full benchmark (19.01 TB, 45 datasets).

Usage: python benchmarks/scale.py [--quick] [--write-doc docs/scaling.md]

For each family with a generated raw tree (ECG: Challenge-layout WFDB records, 12 x 5000 at
500 Hz, the cpsc2018 adapter; images: 512 x 512 RGB JPEGs in the Training|Testing/<class>
layout, the brain_tumor adapter, resized to 224), in one run:

* local executor, 1 worker: raw MB/s in and samples/s out per core, and the split of the time
  into reading (decode + resample/resize + unit files) and assembling (chunks + index);
* local executor with 2 workers and the Ray executor on a local 2-CPU Ray instance, same data,
  same content hash (checked): ratio = Ray time / local time (the Ray overhead; Ray's start-up
  is reported on its own, it is paid once per run, not per dataset);
* the S3 write rate: one prepare into ``s3://`` on a moto server on 127.0.0.1 (through s3fs /
  botocore over HTTP), and plain 8 MiB PUTs through the store's file layer.

Then the projection: hours to prepare the datasets from the card sizes (19.01 TB in all), on
1, 64 and 1,000 cores. ``--write-doc`` rewrites the measured block of docs/scaling.md (between
the ``scale:begin`` / ``scale:end`` markers). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
TOTAL_TB = 19.01  # the benchmark's size (CLIMB paper / README)
CORES = (1, 64, 1000)
#: families by card domain: which measured rate stands for which domain (the others are not
#: measured here; they get the slower of the two measured rates, said so in the table)
FAMILY_OF_DOMAIN = {
    "ecg": "ecg",
    "eeg": "ecg",
    "imu": "ecg",
    "multimodal": "ecg",
    "chest_xray": "image",
    "mammography": "image",
    "dermoscopy": "image",
    "fundus": "image",
    "pathology": "image",
    "mri": "image",
}


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def make_ecg(root: Path, n: int) -> Path:
    from climb.datasets.ecg._synthetic import write_record

    recs = root / "raw" / "cpsc2018" / "WFDB_CPSC2018"
    dx = (["426783006"], ["164889003"], ["59118001", "284470004"])
    for i in range(n):
        write_record(recs, f"A{i + 1:04d}", dx[i % 3], seed=i % 48)
    return root / "raw" / "cpsc2018"


def make_images(root: Path, n: int, size: int = 512) -> Path:
    import numpy as np
    from PIL import Image

    from climb.demo.images import brain_mri

    raw = root / "raw" / "brain_tumor"
    classes = ("no_tumor", "glioma_tumor", "meningioma_tumor", "pituitary_tumor")
    rng = np.random.default_rng(0)
    for i in range(n):
        split = "Testing" if i % 5 == 0 else "Training"
        c = classes[i % 4]
        g = brain_mri("tumor" if i % 4 else "no_tumor", size, size, rng)
        rgb = np.repeat(np.clip(g * 255, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
        p = raw / split / c / f"image({i}).jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rgb).save(p, quality=90)
    return raw


def timed_prepare(key: str, root: Any, **kw: Any) -> dict[str, Any]:
    from climb.prepare.pipeline import prepare

    marks: dict[str, float] = {}

    def progress(done: int, total: int) -> None:
        if done >= total and "read" not in marks:
            marks["read"] = time.perf_counter()

    c0 = time.process_time()
    t0 = time.perf_counter()
    res = prepare(key, root, progress=progress, **kw)
    t1 = time.perf_counter()
    read = marks.get("read", t1) - t0
    return {
        "seconds": t1 - t0,
        "cpu_s": time.process_time() - c0,  # this process only: meaningful for 1 worker
        "read_s": read,
        "assemble_s": t1 - t0 - read,
        "samples": sum(res.counts.values()),
        "content_hash": res.content_hash,
        "store": res.store,
    }


def measure_family(
    name: str, key: str, root: Path, raw: Path, reps: int, ray_ex: Any, kw: dict[str, Any]
) -> dict[str, Any]:
    from climb.prepare.executors import get_executor

    raw_mb = _du(raw) / 1e6
    runs: dict[str, list[dict[str, Any]]] = {"local1": [], "local2": [], "ray2": []}
    # untimed warm-up of each executor (imports in the worker processes, page cache)
    timed_prepare(key, root, workers=1, **kw)
    timed_prepare(key, root, executor=ray_ex, **kw)
    for r in range(reps):
        order = ["local1", "local2", "ray2"]
        order = order[r % 3 :] + order[: r % 3]  # rotate: load from others hits all alike
        for which in order:
            if which == "local1":
                runs[which].append(timed_prepare(key, root, workers=1, **kw))
            elif which == "local2":
                ex = get_executor(2, "local")
                try:
                    runs[which].append(timed_prepare(key, root, executor=ex, **kw))
                finally:
                    ex.close()
            else:
                runs[which].append(timed_prepare(key, root, executor=ray_ex, **kw))
    hashes = {x["content_hash"] for v in runs.values() for x in v}
    assert len(hashes) == 1, f"{name}: executors disagree on the content ({hashes})"
    med = {k: statistics.median(x["seconds"] for x in v) for k, v in runs.items()}
    one = runs["local1"]
    samples = one[0]["samples"]
    store_mb = _du(Path(one[0]["store"])) / 1e6
    cpu_s = statistics.median(x["cpu_s"] for x in one)
    read_s = statistics.median(x["read_s"] for x in one)
    asm_s = statistics.median(x["assemble_s"] for x in one)
    return {
        "family": name,
        "adapter": key,
        "samples": samples,
        "raw_mb": round(raw_mb, 2),
        "store_mb": round(store_mb, 2),
        "local1_s": round(med["local1"], 3),
        "local2_s": round(med["local2"], 3),
        "ray2_s": round(med["ray2"], 3),
        "local1_cpu_s": round(cpu_s, 3),
        # per core = per CPU-second of the 1-worker run: not diluted by other jobs' load
        "mb_per_s_per_core": round(raw_mb / cpu_s, 2),
        "samples_per_s_per_core": round(samples / cpu_s, 1),
        "mb_per_s_wall_1worker": round(raw_mb / med["local1"], 2),
        "local2_speedup": round(med["local1"] / med["local2"], 2),
        "ray_overhead": round(med["ray2"] / med["local2"], 2),
        "read_share": round(read_s / (read_s + asm_s), 3),
        "assemble_share": round(asm_s / (read_s + asm_s), 3),
        "same_content_hash": True,
    }


def measure_s3(key: str, root: Path, kw: dict[str, Any], put_mb: int) -> dict[str, Any]:
    sys.path.insert(0, str(REPO))
    from tests.store.s3server import moto_s3

    from climb.store.fs import Loc

    with moto_s3() as s3:
        url = f"s3://{s3['bucket']}/bench"
        t = timed_prepare(key, url, raw_root=root, workers=2, **kw)
        import boto3
        from tests.store.s3server import list_keys

        c = boto3.client("s3", endpoint_url=s3["endpoint"])
        store_bytes = 0
        for k in list_keys(s3["endpoint"], s3["bucket"], f"bench/stores/{key}/"):
            store_bytes += c.head_object(Bucket=s3["bucket"], Key=k)["ContentLength"]
        blob = os.urandom(8 * 1024 * 1024)
        n = max(1, put_mb // 8)
        t0 = time.perf_counter()
        for i in range(n):
            Loc(f"{url}/put/{i}.bin").write_bytes(blob)
        put_s = time.perf_counter() - t0
    return {
        "prepare_s": round(t["seconds"], 3),
        "store_mb": round(store_bytes / 1e6, 2),
        "prepare_store_mb_per_s": round(store_bytes / 1e6 / t["seconds"], 2),
        "put_mb_per_s": round(n * 8 * 1.048576 / put_s, 1),
        "content_hash": t["content_hash"],
    }


def projection(fam: dict[str, dict[str, Any]], ray_overhead: float) -> dict[str, Any]:
    """Hours per core count from the card sizes (bytes); datasets without a size on their
    card share the rest of the 19.01 TB in proportion to their sample counts."""
    from climb.registry import cards

    cs = cards()
    known = {c.key: int(c.size_bytes) for c in cs if c.size_bytes}
    rest = TOTAL_TB * 1e12 - sum(known.values())
    unknown = [c for c in cs if not c.size_bytes]
    n_unknown = sum(int(c.samples or 0) for c in unknown) or 1
    slow = min(f["mb_per_s_per_core"] for f in fam.values())
    rows = []
    core_hours = 0.0
    for c in cs:
        b = known.get(c.key, rest * int(c.samples or 0) / n_unknown)
        family = FAMILY_OF_DOMAIN.get(str(c.domain))
        rate = fam[family]["mb_per_s_per_core"] if family in fam else slow
        h = b / 1e6 / rate / 3600
        core_hours += h
        rows.append(
            {
                "key": c.key,
                "domain": str(c.domain),
                "bytes": int(b),
                "size_from": "card" if c.key in known else "share of the rest",
                "rate_from": family if family in fam else "not measured (slower rate)",
                "core_hours": round(h, 1),
            }
        )
    hours = {}
    for n in CORES:
        # Ray's measured cost over the local pool (never counted as a gain)
        eff = 1.0 if n == 1 else min(1.0, 1.0 / ray_overhead)
        # the largest dataset is spread over all cores too (units of 64 records), so the bound
        # is total work / cores, unless a dataset has fewer units than cores
        hours[str(n)] = round(core_hours / n / eff, 2)
    total = sum(r["bytes"] for r in rows)
    store_ratio = statistics.mean(f["store_mb"] / f["raw_mb"] for f in fam.values())
    io = {
        n: {
            "raw_read_gb_per_s": round(total / 1e9 / (h * 3600), 2),
            "store_write_gb_per_s": round(total * store_ratio / 1e9 / (h * 3600), 2),
        }
        for n, h in hours.items()
    }
    return {
        "io_needed": io,
        "store_to_raw": round(store_ratio, 2),
        "total_bytes": int(total),
        "known_bytes": int(sum(known.values())),
        "datasets": len(rows),
        "core_hours": round(core_hours, 1),
        "hours": hours,
        "rows": rows,
    }


def write_doc(path: Path, result: dict[str, Any]) -> None:
    fam = result["families"]
    s3 = result["s3"]
    proj = result["projection"]
    lines = [
        "<!-- scale:begin (written by benchmarks/scale.py --write-doc; do not edit by hand) -->",
        f"Measured {result['time']} on {result['machine']} (load average "
        f"{result['load']}; the machine was shared with other jobs), `{result['command']}`:",
        "",
        "| family | adapter | samples | raw MB | store MB | MB/s per core | samples/s per core "
        "| read / assemble | wall MB/s, 1 worker | 2 workers vs 1 | Ray / local (2 CPUs) |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for f in fam.values():
        lines.append(
            f"| {f['family']} | {f['adapter']} | {f['samples']} | {f['raw_mb']} | {f['store_mb']} "
            f"| {f['mb_per_s_per_core']} | {f['samples_per_s_per_core']} "
            f"| {f['read_share']:.0%} / {f['assemble_share']:.0%} | {f['mb_per_s_wall_1worker']} "
            f"| {f['local2_speedup']}x "
            f"| {f['ray_overhead']} |"
        )
    lines += [
        "",
        f"Ray start-up (local 2-CPU instance): {result['ray_init_s']} s, once per run. Content "
        "hashes were identical across the three executors (checked in the run).",
        "",
        f"S3 (moto server on 127.0.0.1, s3fs): prepare into s3:// {s3['prepare_s']} s for "
        f"{s3['store_mb']} MB of store = {s3['prepare_store_mb_per_s']} MB/s of store written "
        f"(work files included in the time); plain 8 MiB PUTs {s3['put_mb_per_s']} MB/s. The "
        "loopback server is a Python process on the same 2 cores: a floor, not a measurement "
        "of S3 (whose rate grows with parallel PUTs; not measured here).",
        "",
        f"Projection ({proj['datasets']} datasets, {proj['total_bytes'] / 1e12:.2f} TB; "
        f"{proj['known_bytes'] / 1e12:.2f} TB from card sizes, the rest shared by sample "
        f"count): {proj['core_hours']:,} core-hours of prepare.",
        "",
        "| cores | hours (compute bound) | raw read rate that needs | store write rate |",
        "|---:|---:|---:|---:|",
    ]
    for n, h in proj["hours"].items():
        io = proj["io_needed"][n]
        lines.append(
            f"| {int(n):,} | {h:,} | {io['raw_read_gb_per_s']} GB/s "
            f"| {io['store_write_gb_per_s']} GB/s |"
        )
    lines += [
        "",
        f"(store/raw size ratio of the measured families: {proj['store_to_raw']}; ratios above are "
        "medians over the repetitions; Ray/local below 1 means the local pool's start-up, paid "
        "in every run, outweighed Ray's scheduling on these short runs.)",
    ]
    lines.append("<!-- scale:end -->")
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    a, b = text.find("<!-- scale:begin"), text.find("<!-- scale:end -->")
    block = "\n".join(lines)
    if a >= 0 and b >= 0:
        text = text[:a] + block + text[b + len("<!-- scale:end -->") :]
    else:
        text = text + "\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--write-doc", type=Path, default=None)
    args = ap.parse_args()
    n_ecg, n_img, reps, put_mb = (192, 128, 3, 32) if args.quick else (960, 640, 5, 128)
    reps = args.reps or reps
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import ray

    from climb.prepare.executors import get_executor

    tmp = Path(tempfile.mkdtemp(prefix="climb-scale-"))
    try:
        t0 = time.perf_counter()
        ray_ex = get_executor(2, "ray")
        ray_init = time.perf_counter() - t0
        fam: dict[str, dict[str, Any]] = {}
        ecg_root = tmp / "ecg"
        make_ecg(ecg_root, n_ecg)
        ecg_kw = {"splits": "patient"}
        fam["ecg"] = measure_family(
            "ecg", "cpsc2018", ecg_root, ecg_root / "raw" / "cpsc2018", reps, ray_ex, ecg_kw
        )
        img_root = tmp / "img"
        make_images(img_root, n_img)
        fam["image"] = measure_family(
            "image", "brain_tumor", img_root, img_root / "raw" / "brain_tumor", reps, ray_ex, {}
        )
        ray_ex.close()
        s3 = measure_s3("cpsc2018", ecg_root, ecg_kw, put_mb)
        assert (
            s3.pop("content_hash") == timed_prepare("cpsc2018", ecg_root, **ecg_kw)["content_hash"]
        ), "s3:// and local stores differ"
        ray_overhead = statistics.mean(f["ray_overhead"] for f in fam.values())
        proj = projection(fam, ray_overhead)
        result = {
            "benchmark": "scale",
            "quick": args.quick,
            "reps": reps,
            "time": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
            f"ray {ray.__version__}",
            "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "command": "python benchmarks/scale.py" + (" --quick" if args.quick else ""),
            "ray_init_s": round(ray_init, 1),
            "families": fam,
            "s3": s3,
            "projection": proj,
        }
        if args.write_doc:
            write_doc(args.write_doc, result)
        summary = {k: v for k, v in result.items() if k != "projection"}
        summary["projection"] = {k: v for k, v in proj.items() if k != "rows"}
        print(json.dumps(summary))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
