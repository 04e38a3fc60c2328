"""Video clip loader benchmark: climb store vs decoding the original file per sample with PyAV.

Generates N EchoNet-style videos (112x112 RGB AVI, MPEG-4 part 2 as the real release, 50 fps,
T frames with moving texture) with a FileList.csv, prepares them into a store with 1 and 2
workers (`climb prepare echonet_dynamic`), then times the same clips both ways:

* decode: per sample, PyAV decodes the AVI (every frame up to the last one the clip needs, as
  torchvision's read_video / PyTorchVideo's decoders do), stacks the frames and takes the clip;
* store: ``StoreDataset(..., ragged={"video": clip policy})`` batches from the store;
* store (range read): the clip's frames read straight from the ragged field (only the chunks
  the clip spans: ``values[offset + start : offset + start + K]``).

Clips: ``K`` frames, ``uniform`` (K frames spread over the video, TSN-style; the policy of
``climb.data.collate``, evaluation mode: deterministic) and ``dense`` contiguous clips at the
same starts for the range-read row. Both paths produce identical arrays (checked).

Prints a table; the last line is one JSON object with ``store_vs_decode``.
    python benchmarks/video_loader.py [--quick] [--n N] [--frames T] [--clip K]
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


def make_raw(raw: Path, n: int, frames: int) -> list[Path]:
    from climb.io.video import write_video

    root = raw / "EchoNet-Dynamic"
    (root / "Videos").mkdir(parents=True)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:112, 0:112]
    rows, files = [], []
    for i in range(n):
        phase = rng.uniform(0, 6.28)
        vid = np.empty((frames, 112, 112, 3), dtype=np.uint8)
        for t in range(frames):
            r = 30 + 10 * np.sin(2 * np.pi * t / 40 + phase)  # a beating "ventricle"
            disk = ((yy - 56) ** 2 + (xx - 56) ** 2) < r * r
            g = (60 + 40 * np.sin(xx / 9 + t / 5) * np.cos(yy / 13)).astype(np.float32)
            g[disk] = 20
            g += rng.normal(0, 6, g.shape)
            vid[t] = np.clip(g, 0, 255).astype(np.uint8)[..., None]
        name = f"0X{i:016X}"
        p = root / "Videos" / f"{name}.avi"
        write_video(p, vid, fps=50)
        files.append(p)
        split = "TRAIN" if i % 5 < 3 else ("VAL" if i % 5 == 3 else "TEST")
        rows.append([name, 40 + i % 40, 30, 80, 112, 112, 50, frames, split])
    with (root / "VolumeTracings.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["FileName", "X1", "Y1", "X2", "Y2", "Frame"])
        for r in rows:
            for t in (10, 30):
                w.writerows([[f"{r[0]}.avi", 40, 30 + j, 70, 30 + j, t] for j in range(20)])
    with (root / "FileList.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["FileName", "EF", "ESV", "EDV", "FrameHeight", "FrameWidth", "FPS",
                    "NumberOfFrames", "Split"])  # fmt: skip
        w.writerows(rows)
    return files


def decode_clip(path: Path, idx: np.ndarray) -> np.ndarray:
    """PyAV: decode frames up to the last needed index, return frames ``idx`` (T, H, W, C)."""
    import av

    last = int(idx.max())
    out = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        for k, fr in enumerate(c.decode(s)):
            out.append(fr.to_ndarray(format="rgb24"))
            if k >= last:
                break
    return np.stack(out)[idx]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n", type=int, default=None)
    ap.add_argument("--frames", type=int, default=None)
    ap.add_argument("--clip", type=int, default=16)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=None)
    a = ap.parse_args()
    n = a.n or (32 if a.quick else 128)
    frames = a.frames or (96 if a.quick else 160)
    reps = a.repeats or (3 if a.quick else 5)
    k = a.clip
    from climb.data import StoreDataset
    from climb.data.collate import build_collate
    from climb.prepare.pipeline import prepare
    from climb.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_raw(root / "raw" / "echonet_dynamic", n, frames)
        prep: dict[int, float] = {}
        for w in (1, 2):
            ts = []
            for _ in range(2 if a.quick else 3):
                r = prepare("echonet_dynamic", root, workers=w)
                ts.append(r.seconds)
            prep[w] = statistics.median(ts)
        assert not r.quarantined, r.quarantined
        st = open_store(r.store)
        df = st.samples
        by_index = {int(i): root / "raw" / "echonet_dynamic" / p
                    for i, p in zip(df["index"], df["source_path"], strict=True)}  # fmt: skip
        order = sorted(by_index)
        clip = {"name": "clip", "frames": k, "mode": "uniform"}
        ds = StoreDataset(r.store, fields="video", tasks="ef", ragged={"video": clip}, train=False)
        ds.get_batch(np.arange(min(len(ds), 2)))  # warm-up: opens the arrays
        policy = build_collate(clip, where="bench")
        lengths = st.ragged("video").lengths
        # the uniform clip indices of each sample (what the policy takes), for the decode path
        idx = {}
        for i in order:
            probe = np.arange(lengths[i])[:, None]
            c = policy([probe], rows=np.array([i]), epoch=0, train=False, seed=0)
            idx[i] = np.asarray(c.values[0, :, 0], dtype=np.int64)
        pos = {int(ai): p for p, ai in enumerate(ds.array_index)}

        def run_store() -> tuple[float, float]:
            t0, c0 = time.perf_counter(), time.process_time()
            for s in range(0, len(order), a.batch):
                ds.get_batch([pos[i] for i in order[s : s + a.batch]])
            return time.perf_counter() - t0, time.process_time() - c0

        def run_decode() -> tuple[float, float]:
            import torch

            t0, c0 = time.perf_counter(), time.process_time()
            for s in range(0, len(order), a.batch):
                torch.from_numpy(
                    np.stack([decode_clip(by_index[i], idx[i]) for i in order[s : s + a.batch]])
                )
            return time.perf_counter() - t0, time.process_time() - c0

        rag = st.ragged("video")
        starts = {i: int(idx[i][0]) for i in order}

        def run_range() -> tuple[float, float]:
            t0, c0 = time.perf_counter(), time.process_time()
            for i in order:
                o = int(rag.offsets[i]) + starts[i]
                np.asarray(rag.values[o : o + k])
            return time.perf_counter() - t0, time.process_time() - c0

        def run_decode_dense() -> tuple[float, float]:
            t0, c0 = time.perf_counter(), time.process_time()
            for i in order:
                decode_clip(by_index[i], np.arange(starts[i], starts[i] + k))
            return time.perf_counter() - t0, time.process_time() - c0

        # same clips both ways
        b = ds.get_batch([pos[order[0]]])
        np.testing.assert_array_equal(
            b["inputs"]["video"][0].numpy(), decode_clip(by_index[order[0]], idx[order[0]])
        )
        i0 = order[-1]
        o0 = int(rag.offsets[i0]) + starts[i0]
        np.testing.assert_array_equal(
            np.asarray(rag.values[o0 : o0 + k]),
            decode_clip(by_index[i0], np.arange(starts[i0], starts[i0] + k)),
        )
        paths = {"dec": run_decode, "st": run_store, "rng": run_range, "dd": run_decode_dense}
        got: dict[str, list[tuple[float, float]]] = {k: [] for k in paths}
        for _ in range(reps):  # interleaved rounds: load changes hit every path alike
            for key, fn in paths.items():
                got[key].append(fn())
        wall = {k: statistics.median(w for w, _ in v) for k, v in got.items()}
        cpu = {k: statistics.median(c for _, c in v) for k, v in got.items()}
        t_dec, t_st, t_rng, t_dd = wall["dec"], wall["st"], wall["rng"], wall["dd"]
    rows = [
        ("decode: PyAV per sample, uniform clip", n / t_dec),
        ("climb store: StoreDataset clip batches", n / t_st),
        ("decode: PyAV per sample, contiguous clip", n / t_dd),
        ("climb store: ragged range read, contiguous clip", n / t_rng),
    ]
    print(f"video clip loader: {n} videos of {frames} frames 112x112x3, clips of {k}, "
          f"batch {a.batch}, median of {reps}")  # fmt: skip
    for name, v in rows:
        print(f"{name:50s} {v:10.1f} clips/s")
    print(f"store vs decode (uniform clips): {t_dec / t_st:.1f}x wall, "
          f"{cpu['dec'] / cpu['st']:.1f}x CPU time; contiguous: {t_dd / t_rng:.1f}x wall, "
          f"{cpu['dd'] / cpu['rng']:.1f}x CPU")  # fmt: skip
    print(f"prepare: 1 worker {n / prep[1]:.1f} videos/s, 2 workers {n / prep[2]:.1f} videos/s")
    out: dict[str, Any] = {
        "benchmark": "video_loader", "n": n, "frames": frames, "clip": k, "batch": a.batch,
        "repeats": reps, "decode_clips_per_s": round(n / t_dec, 1),
        "store_clips_per_s": round(n / t_st, 1), "store_vs_decode": round(t_dec / t_st, 2),
        "range_read_clips_per_s": round(n / t_rng, 1),
        "decode_contiguous_clips_per_s": round(n / t_dd, 1),
        "range_vs_decode_contiguous": round(t_dd / t_rng, 2),
        "store_vs_decode_cpu": round(cpu["dec"] / cpu["st"], 2),
        "range_vs_decode_contiguous_cpu": round(cpu["dd"] / cpu["rng"], 2),
        "prepare_videos_per_s_1w": round(n / prep[1], 2),
        "prepare_videos_per_s_2w": round(n / prep[2], 2),
    }  # fmt: skip
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    raise SystemExit(main())
