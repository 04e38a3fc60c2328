"""Fetch engine benchmark against a loopback server that adds 20 ms latency per request.

1. one large file (1 GiB; --quick: 128 MiB): climb's throughput (it hashes sha256 while streaming)
   as a ratio to curl doing the same work on the same server into the same filesystem: `curl -o
   FILE && openssl dgst -sha256 < FILE` (goal >= 0.8). Also reported: `curl | tee FILE | openssl
   dgst -sha256` (hashing while streaming; slower than the former on 2 cores, pipe copies) and
   plain `curl -o FILE` (no hashing). All are interleaved, the order rotated every repeat;
2. 2,000 files of 120 KB (--quick: 300), PhysioNet-like: speed-up of the engine's default
   parallelism over downloading them one after another (goal >= 5x).

Run: python benchmarks/fetch.py [--quick] [--repeats N] [--many-repeats N]. Prints a table, then
ONE JSON line.
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
#: The hasher of curl's run: OpenSSL's sha256 (SHA-NI where the CPU has it), the same code as
#: Python's hashlib; coreutils' sha256sum is several times slower on CPUs with SHA-NI, so it
#: would flatter climb.
HASH_CMD = "openssl dgst -sha256 -r" if shutil.which("openssl") else "sha256sum"


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


def curl_download(url: str, dest: Path, sha256: str | None = None, mode: str = "after") -> float:
    """curl into ``dest``; with ``sha256`` also hash it, as climb does, and check the digest:
    ``mode="after"``: ``curl -o dest && openssl dgst -sha256 dest`` (the file is still in the
    page cache), ``mode="pipe"``: ``curl | tee dest | openssl dgst -sha256`` (while streaming)."""
    t0 = time.perf_counter()
    if sha256 is None:
        subprocess.run(["curl", "-sS", "-o", str(dest), url], check=True)
    else:
        script = {
            "after": f'curl -sS -o "$2" "$1" && {HASH_CMD} < "$2"',
            "pipe": f'curl -sS "$1" | tee "$2" | {HASH_CMD}',
        }[mode]
        out = subprocess.run(
            ["bash", "-o", "pipefail", "-c", script, "-", url, str(dest)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert out.split()[0] == sha256, out
    dt = time.perf_counter() - t0
    dest.unlink()
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--many-repeats", type=int, default=None, help="default: --repeats")
    args = ap.parse_args()
    many_reps = args.many_repeats or args.repeats
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
        load0 = os.getloadavg()
        runs: dict[str, list[float]] = {"curl": [], "curl_hash": [], "curl_pipe": [], "climb": []}
        big_url, sha_big = f"{base}/big.bin", sums["big.bin"]
        jobs = {
            "curl": lambda: curl_download(big_url, tmp / "curl.bin"),
            "curl_hash": lambda: curl_download(big_url, tmp / "curl.bin", sha_big, "after"),
            "curl_pipe": lambda: curl_download(big_url, tmp / "curl.bin", sha_big, "pipe"),
            "climb": lambda: climb_download(base, ["big.bin"], sums, out / "big", None),
        }
        order = list(jobs)
        for i in range(args.repeats):  # interleaved, the order rotated every repeat
            for name in order[i % 4 :] + order[: i % 4]:
                runs[name].append(jobs[name]())
                shutil.rmtree(out / "big", ignore_errors=True)
        names = [n for n in sums if n.startswith("many/")]
        seq_t, par_t = [], []
        for _ in range(many_reps):
            seq_t.append(climb_download(base, names, sums, out / "seq", 1))
            par_t.append(climb_download(base, names, sums, out / "par", None))
        load1 = os.getloadavg()
    finally:
        proc.terminate()
        shutil.rmtree(tmp, ignore_errors=True)
    mib = big_size / (1 << 20)
    curl_m, climb_m = statistics.median(runs["curl"]), statistics.median(runs["climb"])
    hash_m, pipe_m = statistics.median(runs["curl_hash"]), statistics.median(runs["curl_pipe"])
    seq_m, par_m = statistics.median(seq_t), statistics.median(par_t)
    from climb.fetch.config import FetchConfig

    rows = [
        ("large file, curl", f"{mib:.0f} MiB", f"{curl_m:.2f} s", f"{mib / curl_m:.0f} MiB/s"),
        (
            f"large file, curl -o, then {HASH_CMD.split()[0]}",
            f"{mib:.0f} MiB",
            f"{hash_m:.2f} s",
            f"{mib / hash_m:.0f} MiB/s",
        ),
        (
            f"large file, curl | tee | {HASH_CMD.split()[0]}",
            f"{mib:.0f} MiB",
            f"{pipe_m:.2f} s",
            f"{mib / pipe_m:.0f} MiB/s",
        ),
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
    ratio, speedup = hash_m / climb_m, seq_m / par_m
    print(f"  throughput ratio climb/(curl, then sha256): {ratio:.2f} (goal >= 0.8)")
    print(f"  throughput ratio climb/(curl | tee | sha256): {pipe_m / climb_m:.2f}")
    print(f"  throughput ratio climb/curl (curl not hashing): {curl_m / climb_m:.2f}")
    print(f"  many-files speed-up: {speedup:.1f}x (goal >= 5x)")
    print(f"  load average (1, 5, 15 min): {load0} before, {load1} after")
    print(
        json.dumps(
            {
                "benchmark": "fetch",
                "quick": args.quick,
                "big_mib": mib,
                "curl_s": round(curl_m, 3),
                "curl_then_hash_s": round(hash_m, 3),
                "curl_pipe_hash_s": round(pipe_m, 3),
                "curl_hash_cmd": HASH_CMD,
                "climb_s": round(climb_m, 3),
                "throughput_ratio": round(ratio, 3),
                "ratio_vs_curl_pipe_hash": round(pipe_m / climb_m, 3),
                "ratio_vs_plain_curl": round(curl_m / climb_m, 3),
                "repeats": args.repeats,
                "many_repeats": many_reps,
                "large_runs": {k: [round(t, 3) for t in v] for k, v in runs.items()},
                "small_files": n_small,
                "sequential_s": round(seq_m, 3),
                "parallel_s": round(par_m, 3),
                "speedup": round(speedup, 2),
                "cpus": os.cpu_count(),
                "load_before": load0,
                "load_after": load1,
            }
        )
    )


if __name__ == "__main__":
    main()
