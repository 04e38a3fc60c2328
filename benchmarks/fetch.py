"""Fetch engine benchmark against a loopback server that adds 20 ms latency per request.

1. one large file (1 GiB; --quick: 128 MiB): climb's throughput as a ratio to `curl` on the same
   server (goal >= 0.8);
2. 2,000 files of 120 KB (--quick: 300), PhysioNet-like: speed-up of the engine's default
   parallelism over downloading them one after another (goal >= 5x).

Run: python benchmarks/fetch.py [--quick] [--repeats N]. Prints a table, then ONE JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

LATENCY = 0.020


def serve(folder: str, port_q: mp.Queue) -> None:  # type: ignore[type-arg]
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:
            time.sleep(LATENCY)
            path = Path(folder) / self.path.lstrip("/")
            if not path.is_file():
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            size = path.stat().st_size
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("ETag", f'"{size}"')
            self.end_headers()
            with open(path, "rb") as fh:
                self.wfile.flush()
                self.connection.sendfile(fh)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    port_q.put(srv.server_address[1])
    srv.serve_forever()


def climb_download(
    base: str, names: list[str], sums: dict[str, str], dest: Path, workers: int | None
) -> float:
    from climb.fetch.config import load_config
    from climb.fetch.engine import Engine
    from climb.fetch.manifest import Manifest
    from climb.fetch.types import Checksum, RemoteFile

    shutil.rmtree(dest, ignore_errors=True)
    cfg = load_config(path=Path("/nonexistent"), env={})
    files = [
        RemoteFile(path=n, url=f"{base}/{n}", checksum=Checksum("sha256", sums[n])) for n in names
    ]
    t0 = time.perf_counter()
    with Engine(cfg, workers=workers) as eng:
        s = eng.download_all(files, dest, Manifest(dest, "bench"))
    dt = time.perf_counter() - t0
    assert not s.failed and s.downloaded == len(names), s
    return dt


def curl_download(url: str, dest: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(["curl", "-sS", "-o", str(dest), url], check=True)
    dt = time.perf_counter() - t0
    dest.unlink()
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    big_size = (128 << 20) if args.quick else (1 << 30)
    n_small = 300 if args.quick else 2000
    tmp = Path(tempfile.mkdtemp(prefix="climb-bench-"))
    src, out = tmp / "src", tmp / "out"
    (src / "many").mkdir(parents=True)
    sums: dict[str, str] = {}
    with open(src / "big.bin", "wb") as fh:
        h = hashlib.sha256()
        block = os.urandom(1 << 20)
        for _ in range(big_size >> 20):
            fh.write(block)
            h.update(block)
    sums["big.bin"] = h.hexdigest()
    for i in range(n_small):
        data = os.urandom(120_000)
        name = f"many/{i:05d}.dat"
        (src / name).write_bytes(data)
        sums[name] = hashlib.sha256(data).hexdigest()
    q: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    proc = mp.Process(target=serve, args=(str(src), q), daemon=True)
    proc.start()
    base = f"http://127.0.0.1:{q.get(timeout=10)}"
    try:
        curl_t, climb_t = [], []
        for _ in range(args.repeats):
            curl_t.append(curl_download(f"{base}/big.bin", tmp / "curl.bin"))
            climb_t.append(climb_download(base, ["big.bin"], sums, out / "big", None))
            shutil.rmtree(out / "big", ignore_errors=True)
        names = [n for n in sums if n.startswith("many/")]
        seq_t, par_t = [], []
        for _ in range(max(1, args.repeats - 1)):
            seq_t.append(climb_download(base, names, sums, out / "seq", 1))
            par_t.append(climb_download(base, names, sums, out / "par", None))
    finally:
        proc.terminate()
        shutil.rmtree(tmp, ignore_errors=True)
    mib = big_size / (1 << 20)
    curl_m, climb_m = statistics.median(curl_t), statistics.median(climb_t)
    seq_m, par_m = statistics.median(seq_t), statistics.median(par_t)
    from climb.fetch.config import FetchConfig

    rows = [
        ("large file, curl", f"{mib:.0f} MiB", f"{curl_m:.2f} s", f"{mib / curl_m:.0f} MiB/s"),
        (
            "large file, climb (sha256 verified)",
            f"{mib:.0f} MiB",
            f"{climb_m:.2f} s",
            f"{mib / climb_m:.0f} MiB/s",
        ),
        (
            f"{n_small} x 120 KB, one after another",
            f"{n_small * 0.12:.0f} MB",
            f"{seq_m:.2f} s",
            f"{n_small / seq_m:.0f} files/s",
        ),
        (
            f"{n_small} x 120 KB, default ({FetchConfig().workers} workers)",
            f"{n_small * 0.12:.0f} MB",
            f"{par_m:.2f} s",
            f"{n_small / par_m:.0f} files/s",
        ),
    ]
    print(
        f"fetch benchmark ({'quick' if args.quick else 'full'}; loopback, {LATENCY * 1000:.0f} ms "
        f"latency per request; medians of {args.repeats}; {os.cpu_count()} CPUs, "
        f"{platform.python_version()})"
    )
    w = max(len(r[0]) for r in rows)
    for r in rows:
        print(f"  {r[0]:<{w}}  {r[1]:>9}  {r[2]:>9}  {r[3]:>12}")
    ratio, speedup = curl_m / climb_m, seq_m / par_m
    print(f"  throughput ratio climb/curl: {ratio:.2f} (goal >= 0.8)")
    print(f"  many-files speed-up: {speedup:.1f}x (goal >= 5x)")
    print(
        json.dumps(
            {
                "benchmark": "fetch",
                "quick": args.quick,
                "big_mib": mib,
                "curl_s": round(curl_m, 3),
                "climb_s": round(climb_m, 3),
                "throughput_ratio": round(ratio, 3),
                "small_files": n_small,
                "sequential_s": round(seq_m, 3),
                "parallel_s": round(par_m, 3),
                "speedup": round(speedup, 2),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
