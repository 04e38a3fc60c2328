"""DRPO step cost vs history size: the reference's scheme against climb.rl's.

One "step" = one call computing DRPO advantages for a batch of ``--questions`` questions x
``--rollouts`` rollouts spread over ``--domains`` domains, after the history already holds H
questions per domain (strictly positive rewards, float32, as in the reference). Timed:

- ``reference``: the reference's scheme written from its definition (facts sheet §8.2): every
  step, for *every* domain in the history, k-means (scikit-learn, ``n_init="auto"``,
  ``random_state=0``) for every k = 1..min(10, #unique) to find the elbow, then one more fit
  with the chosen k, on the *whole* history;
- ``ours``: ``climb.rl.drpo_advantages`` with an unbounded ``DomainHistory`` (same result as the
  reference to 1e-5, tested): only the batch's domains, elbow fits made lazily;
- ``ours-bounded``: ``DomainHistory(max_per_domain=--window)`` (cost stops growing with H);
- ``ours-bounded-r4``: also ``recluster_every=4`` (between re-fits, nearest-centroid assignment);
- ``ours-bounded-numpy``: bounded, with the small numpy k-means (``kmeans="numpy"``).

    python benchmarks/drpo.py --quick     # H in 256, 1024, 4096; ~1-2 min on a loaded 2-core box
    python benchmarks/drpo.py             # H up to 16384

The last line is one JSON object with the medians (ms per step) and ratios.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections import defaultdict
from typing import Any

import numpy as np
import torch

from climb.rl import DomainHistory, drpo_advantages


class ReferenceScheme:
    """Whole-history, every-domain re-clustering, as the reference does (written from the
    definition; first-occurrence lookup of question ids)."""

    def __init__(self) -> None:
        self.vectors: dict[str, list[np.ndarray]] = defaultdict(list)
        self.qids: dict[str, list[str]] = defaultdict(list)

    @staticmethod
    def _cluster(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        from sklearn.cluster import KMeans

        cap = min(10, len(np.unique(x, axis=0)))
        inertia = [
            KMeans(n_clusters=k, n_init="auto", random_state=0).fit(x).inertia_
            for k in range(1, cap + 1)
        ]
        k_opt = cap
        drops = [inertia[j] - inertia[j + 1] for j in range(len(inertia) - 1)]
        for i in range(1, len(drops)):
            if drops[i] < 0.10 * drops[i - 1]:
                k_opt = i + 1
                break
        km = KMeans(n_clusters=k_opt, n_init="auto", random_state=0).fit(x)
        _, counts = np.unique(km.labels_, return_counts=True)
        means = km.cluster_centers_.mean(axis=1)
        mu = float(((1 / counts) * means).sum() / (1 / counts).sum())
        return km.labels_, counts, means, mu

    def step(self, scores: np.ndarray, index: list[str], domains: list[str]) -> np.ndarray:
        by_q: dict[str, list[int]] = {}
        for i, q in enumerate(index):
            by_q.setdefault(q, []).append(i)
        for q, rows in by_q.items():
            self.vectors[domains[rows[0]]].append(scores[rows].astype(np.float32))
            self.qids[domains[rows[0]]].append(q)
        a = scores.astype(np.float64).copy()
        for rows in by_q.values():
            v = scores[rows]
            a[rows] = (v - v.mean()) / (v.std(ddof=1) + 1e-6)
        cache = {d: self._cluster(np.stack(v)) for d, v in self.vectors.items()}
        for q, rows in by_q.items():
            d = domains[rows[0]]
            labels, counts, means, mu = cache[d]
            c = labels[self.qids[d].index(q)]
            a[rows] /= (
                max(math.sqrt(len(self.vectors[d])) * mu, 1e-6) * math.sqrt(counts[c]) * means[c]
            )
        return a / (a.std(ddof=1) + 1e-6)


def batch(rng: np.random.Generator, step: int, nq: int, n: int, doms: int) -> tuple[Any, ...]:
    r = rng.uniform(0.01, 1.0, size=nq * n).astype(np.float32)
    index = [f"s{step}-q{i // n}" for i in range(nq * n)]
    domains = [f"d{(i // n) % doms}" for i in range(nq * n)]
    return r, index, domains


def prefill(h: int, doms: int, n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.01, 1.0, size=(h, n)).astype(np.float32) for _ in range(doms)]


def time_config(name: str, h: int, args: argparse.Namespace) -> float:
    pre = prefill(h, args.domains, args.rollouts, 0)
    rng = np.random.default_rng(1)
    times = []
    if name == "reference":
        ref = ReferenceScheme()
        for d, v in enumerate(pre):
            ref.vectors[f"d{d}"] = list(v)
            ref.qids[f"d{d}"] = [f"pre{d}-{j}" for j in range(h)]
        for s in range(args.steps):
            r, idx, dom = batch(rng, s, args.questions, args.rollouts, args.domains)
            t = time.perf_counter()
            ref.step(r, idx, dom)
            times.append(time.perf_counter() - t)
        return 1000 * statistics.median(times)
    kw: dict[str, Any] = {}
    if name.startswith("ours-bounded"):
        kw["max_per_domain"] = args.window
    if name == "ours-bounded-r4":
        kw["recluster_every"] = 4
    if name == "ours-bounded-numpy":
        kw["kmeans"] = "numpy"
    hist = DomainHistory(**kw)
    for d, v in enumerate(pre):
        for j, vec in enumerate(v):
            hist.add(f"d{d}", f"pre{d}-{j}", vec)
    for s in range(args.steps):
        r, idx, dom = batch(rng, s, args.questions, args.rollouts, args.domains)
        tok = torch.from_numpy(r)[:, None]
        t = time.perf_counter()
        drpo_advantages(tok, torch.ones_like(tok), idx, dom, hist)
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--questions", type=int, default=32)
    ap.add_argument("--rollouts", type=int, default=5)
    ap.add_argument("--domains", type=int, default=3)
    ap.add_argument("--window", type=int, default=512)
    ap.add_argument("--steps", type=int, default=None)
    args = ap.parse_args()
    sizes = [256, 1024, 4096] if args.quick else [256, 1024, 4096, 16384]
    args.steps = args.steps or (4 if args.quick else 6)
    configs = ["reference", "ours", "ours-bounded", "ours-bounded-r4", "ours-bounded-numpy"]
    res: dict[str, list[float]] = {c: [] for c in configs}
    for h in sizes:
        for c in configs:
            ms = time_config(c, h, args)
            res[c].append(round(ms, 2))
            print(f"H={h:6d} {c:16s} {ms:9.1f} ms/step", flush=True)
    last = len(sizes) - 1
    out = {
        "benchmark": "drpo_step",
        "quick": args.quick,
        "history_per_domain": sizes,
        "questions_per_step": args.questions,
        "rollouts": args.rollouts,
        "domains": args.domains,
        "window": args.window,
        "ms_per_step": res,
        "ratio_reference_over_ours_at_max": round(res["reference"][last] / res["ours"][last], 2),
        "ratio_reference_over_bounded_at_max": round(
            res["reference"][last] / res["ours-bounded"][last], 2
        ),
        "ratio_reference_over_bounded_r4_at_max": round(
            res["reference"][last] / res["ours-bounded-r4"][last], 2
        ),
        "ratio_reference_over_bounded_numpy_at_max": round(
            res["reference"][last] / res["ours-bounded-numpy"][last], 2
        ),
        "growth_reference": round(res["reference"][last] / res["reference"][0], 2),
        "growth_ours_bounded": round(res["ours-bounded"][last] / res["ours-bounded"][0], 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
