"""GRPO and DRPO against an independent oracle written from the DRPO definition
(facts sheet §8.2: QoQ-Med's compute_drpo_outcome_advantage), hand-computed cases, the
reference's failure cases (zero cluster mean, repeated question ids) and bad input."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
import torch

from climb.core.errors import ClimbError
from climb.rl import DomainHistory, drpo_advantages, grpo_advantages


# ----------------------------------------------------------------------------- the oracle
class Oracle:
    """The definition, literally: a per-domain history that is never windowed; every step
    k-means (elbow over k = 1..min(10, #unique)) on the *whole* history of *every* domain; the
    cluster of a question is looked up at the first occurrence of its id (``first=True``, the
    reference) or at this step's vector (``first=False``, the fix)."""

    def __init__(self, first: bool = True) -> None:
        self.vectors: dict[Any, list[np.ndarray]] = defaultdict(list)
        self.qids: dict[Any, list[Any]] = defaultdict(list)
        self.first = first

    @staticmethod
    def kmeans(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
        return km.labels_, km.cluster_centers_

    def __call__(self, rewards: torch.Tensor, index: list[Any], domains: list[Any]) -> np.ndarray:
        r = rewards.sum(-1)
        by_q: dict[Any, list[int]] = {}
        for i, q in enumerate(index):
            by_q.setdefault(q, []).append(i)
        step_pos: dict[Any, int] = {}
        for q, rows in by_q.items():
            d = domains[rows[0]]
            self.vectors[d].append(np.array([r[i].item() for i in rows], dtype=np.float32))
            self.qids[d].append(q)
            step_pos[q] = len(self.qids[d]) - 1
        a = r.clone()
        for rows in by_q.values():
            v = torch.tensor([r[i].item() for i in rows])
            for i in rows:
                a[i] = (r[i] - v.mean()) / (v.std() + 1e-6)
        clusters = {}
        for d in self.vectors:  # every domain, whole history
            labels, centers = self.kmeans(np.stack(self.vectors[d]))
            _, counts = np.unique(labels, return_counts=True)
            means = centers.mean(axis=1)
            mu = float(((1 / counts) * means).sum() / (1 / counts).sum())
            clusters[d] = (labels, counts, means, mu)
        for q, rows in by_q.items():
            d = domains[rows[0]]
            labels, counts, means, mu = clusters[d]
            pos = self.qids[d].index(q) if self.first else step_pos[q]
            c = labels[pos]
            t_d = max(math.sqrt(len(self.vectors[d])) * mu, 1e-6)
            factor = t_d * math.sqrt(counts[c]) * means[c]
            for i in rows:
                a[i] = a[i] / factor
        a = a / (a.std() + 1e-6)
        return a.numpy()


def batch(rng: np.random.Generator, n_q: int, n: int, step: int, domains: list[str], *, grid=False):
    if grid:
        r = rng.integers(1, 11, size=(n_q * n,)) / 10.0
    else:
        r = rng.uniform(0.01, 1.0, size=(n_q * n,))
    L = 6
    lengths = rng.integers(1, L + 1, size=n_q * n)
    mask = (np.arange(L)[None, :] < lengths[:, None]).astype(np.float32)
    tok = np.zeros((n_q * n, L), dtype=np.float32)
    tok[np.arange(n_q * n), lengths - 1] = r  # outcome reward on the last response token
    index = [f"s{step}-q{i // n}" for i in range(n_q * n)]
    doms = [domains[(i // n) % len(domains)] for i in range(n_q * n)]
    return torch.from_numpy(tok), torch.from_numpy(mask), index, doms


# ----------------------------------------------------------------------------- GRPO
def test_grpo_matches_formula() -> None:
    r = torch.tensor([[1.0, 0.0], [0.0, 0.5], [0.2, 0.0], [0.4, 0.0]])
    mask = torch.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    adv, ret = grpo_advantages(r, mask, ["a", "a", "b", "b"])
    s = 0.25 / (math.sqrt(2 * 0.25**2) + 1e-6)
    t = 0.1 / (math.sqrt(2 * 0.1**2) + 1e-6)
    expect = torch.tensor([[s, 0.0], [-s, -s], [-t, -t], [t, 0.0]])
    torch.testing.assert_close(adv, expect, atol=1e-5, rtol=0)
    assert ret is adv or torch.equal(ret, adv)


def test_grpo_constant_group_is_zero_not_nan() -> None:
    adv, _ = grpo_advantages(torch.ones(4, 1), torch.ones(4, 1), [0, 0, 1, 1])
    assert torch.equal(adv, torch.zeros(4, 1))


# ----------------------------------------------------------------------------- DRPO: by hand
def test_drpo_hand_computed_two_questions() -> None:
    # one domain, two questions of two rollouts: two distinct vectors -> k = 2, one each
    r = torch.tensor([[1.0], [0.5], [0.2], [0.4]])
    adv, _ = drpo_advantages(
        r, torch.ones(4, 1), ["q1", "q1", "q2", "q2"], ["d"] * 4, DomainHistory()
    )
    g1 = 0.25 / (math.sqrt(2 * 0.25**2) + 1e-6)
    g2 = 0.1 / (math.sqrt(2 * 0.1**2) + 1e-6)
    mu = (0.75 + 0.3) / 2  # inverse-size weights are equal
    t_d = math.sqrt(2) * mu
    s = np.array([g1 / (t_d * 0.75), -g1 / (t_d * 0.75), -g2 / (t_d * 0.3), g2 / (t_d * 0.3)])
    s = s / (s.std(ddof=1) + 1e-6)
    np.testing.assert_allclose(adv[:, 0].numpy(), s, atol=1e-5)


def test_drpo_rare_and_hard_domain_gets_larger_advantages() -> None:
    # domain "rare" has 1 question of low reward, "common" 6 questions of high reward
    rows, idx, dom = [], [], []
    for q in range(6):
        rows += [0.9, 0.7]
        idx += [f"c{q}"] * 2
        dom += ["common"] * 2
    rows += [0.3, 0.1]
    idx += ["r0"] * 2
    dom += ["rare"] * 2
    adv, _ = drpo_advantages(
        torch.tensor(rows)[:, None], torch.ones(len(rows), 1), idx, dom, DomainHistory()
    )
    assert abs(adv[-1, 0]) > 3 * abs(adv[0, 0])


# ----------------------------------------------------------------------------- DRPO: oracle
@pytest.mark.parametrize("grid", [False, True])
def test_drpo_equals_reference_definition_over_steps(grid: bool) -> None:
    rng = np.random.default_rng(1 + grid)
    oracle, hist = Oracle(first=True), DomainHistory()
    for step in range(6):
        tok, mask, index, doms = batch(rng, 9, 5, step, ["ecg", "cxr", "derm"], grid=grid)
        ours, ret = drpo_advantages(tok, mask, index, doms, hist)
        ref = oracle(tok, index, doms)
        np.testing.assert_allclose(ours.numpy(), ref[:, None] * mask.numpy(), atol=1e-5, rtol=0)
        assert torch.equal(ours, ret) and torch.isfinite(ours).all()
    assert hist.count("ecg") == 6 * 3 and len(hist) == 6 * 9


def test_drpo_bounded_history_with_room_equals_unbounded_and_stays_bounded() -> None:
    rng = np.random.default_rng(3)
    full, big, small = (
        DomainHistory(),
        DomainHistory(max_per_domain=1000),
        DomainHistory(max_per_domain=8),
    )
    for step in range(5):
        tok, mask, index, doms = batch(rng, 8, 4, step, ["a", "b"])
        a1, _ = drpo_advantages(tok, mask, index, doms, full)
        a2, _ = drpo_advantages(tok, mask, index, doms, big)
        a3, _ = drpo_advantages(tok, mask, index, doms, small)
        torch.testing.assert_close(a1, a2, atol=0, rtol=0)
        assert torch.isfinite(a3).all()
    assert small.vectors("a").shape == (8, 4) and small.count("a") == 20
    assert small.question_ids("a")[-1] == "s4-q6"


def test_drpo_recluster_every_assigns_to_last_centroids() -> None:
    rng = np.random.default_rng(4)
    h = DomainHistory(recluster_every=3)
    for step in range(4):
        tok, mask, index, doms = batch(rng, 6, 3, step, ["a"])
        adv, _ = drpo_advantages(tok, mask, index, doms, h)
        assert torch.isfinite(adv).all()
    # step 0 fit, steps 1-2 reuse, step 3 re-fits: its clustering equals a fresh fit
    fresh = DomainHistory()
    for v, q in zip(h.vectors("a"), h.question_ids("a"), strict=True):
        fresh.add("a", q, v)
    assert np.array_equal(h._fit["a"][0], fresh.cluster("a").centroids)


def test_state_dict_round_trip_resumes_exactly() -> None:
    rng = np.random.default_rng(5)
    batches = [batch(rng, 6, 4, s, ["a", "b", "c"]) for s in range(5)]
    h = DomainHistory(max_per_domain=10, recluster_every=2)
    for tok, mask, index, doms in batches[:3]:
        drpo_advantages(tok, mask, index, doms, h)
    state = json.loads(json.dumps(h.state_dict()))  # plain data: JSON-serialisable
    resumed = DomainHistory.from_state_dict(state)
    assert resumed.max_per_domain == 10 and resumed.recluster_every == 2
    for tok, mask, index, doms in batches[3:]:
        a, _ = drpo_advantages(tok, mask, index, doms, h)
        b, _ = drpo_advantages(tok, mask, index, doms, resumed)
        torch.testing.assert_close(a, b, atol=0, rtol=0)
    with pytest.raises(ClimbError, match="version"):
        DomainHistory().load_state_dict({**state, "version": 99})


# ----------------------------------------------------------------------------- the fixes
def test_zero_cluster_mean_reference_is_nan_ours_is_finite() -> None:
    # question z: every rollout got 0 -> its own cluster with centroid mean 0
    r = torch.tensor([[0.0], [0.0], [0.0], [0.9], [0.6], [0.3], [0.8], [0.5], [0.2]])
    idx = ["z"] * 3 + ["p"] * 3 + ["w"] * 3
    ref = Oracle()(r, idx, ["d"] * 9)
    assert not np.isfinite(ref).all()  # the reference divides by zero
    adv, _ = drpo_advantages(r, torch.ones(9, 1), idx, ["d"] * 9, DomainHistory())
    assert torch.isfinite(adv).all()
    assert torch.equal(adv[:3], torch.zeros(3, 1))  # zero GRPO advantage stays zero
    assert adv[3, 0] > 0 > adv[5, 0]


def test_repeated_question_id_uses_this_steps_vector() -> None:
    h, ref_first, ref_last = DomainHistory(), Oracle(first=True), Oracle(first=False)
    mask = torch.ones(6, 1)
    idx = ["q"] * 2 + ["a"] * 2 + ["b"] * 2
    step1 = torch.tensor([[0.9], [0.8], [0.85], [0.95], [0.1], [0.2]])
    step2 = torch.tensor([[0.1], [0.3], [0.9], [0.7], [0.15], [0.25]])  # q is now a hard question
    idx2 = ["q"] * 2 + ["c"] * 2 + ["e"] * 2
    for tok, ids in ((step1, idx), (step2, idx2)):
        ours, _ = drpo_advantages(tok, mask, ids, ["d"] * 6, h)
        first, last = ref_first(tok, ids, ["d"] * 6), ref_last(tok, ids, ["d"] * 6)
    np.testing.assert_allclose(ours[:, 0].numpy(), last, atol=1e-5)
    assert not np.allclose(first, last, atol=1e-3)  # the first-occurrence lookup differs


# ----------------------------------------------------------------------------- bad input
def test_bad_inputs_are_clear_errors() -> None:
    m = torch.ones(5, 1)
    r = torch.rand(5, 1)
    with pytest.raises(ClimbError, match="different numbers of rollouts"):
        drpo_advantages(r, m, [0, 0, 0, 1, 1], ["d"] * 5, DomainHistory())
    with pytest.raises(ClimbError, match="NaN or infinite"):
        r2 = r.clone()
        r2[2, 0] = float("nan")
        drpo_advantages(r2[:4], m[:4], [0, 0, 1, 1], ["d"] * 4, DomainHistory())
    with pytest.raises(ClimbError, match="empty domain"):
        drpo_advantages(r[:4], m[:4], [0, 0, 1, 1], ["d", "d", "", ""], DomainHistory())
    with pytest.raises(ClimbError, match="empty domain"):
        drpo_advantages(r[:4], m[:4], [0, 0, 1, 1], ["d", "d", None, None], DomainHistory())
    with pytest.raises(ClimbError, match="at least 2 rollouts"):
        drpo_advantages(r[:2], m[:2], [0, 1], ["d", "d"], DomainHistory())
    with pytest.raises(ClimbError, match="at least 2 rollouts"):
        grpo_advantages(r[:2], m[:2], [0, 1])
    with pytest.raises(ClimbError, match="has 3 entries"):
        drpo_advantages(r[:4], m[:4], [0, 0, 1], ["d"] * 4, DomainHistory())
    with pytest.raises(ClimbError, match="several domains"):
        drpo_advantages(r[:4], m[:4], [0, 0, 1, 1], ["d", "e", "d", "d"], DomainHistory())
    with pytest.raises(ClimbError, match="shape"):
        drpo_advantages(r[:4], torch.ones(4, 2), [0, 0, 1, 1], ["d"] * 4, DomainHistory())
    h = DomainHistory()
    drpo_advantages(r[:4], m[:4], [0, 0, 1, 1], ["d"] * 4, h)
    with pytest.raises(ClimbError, match="rollouts, the history holds vectors of 2"):
        drpo_advantages(torch.rand(6, 1), torch.ones(6, 1), [5] * 3 + [6] * 3, ["d"] * 6, h)
    with pytest.raises(ClimbError, match="keeps only the last 1"):
        drpo_advantages(r[:4], m[:4], [0, 0, 1, 1], ["d"] * 4, DomainHistory(max_per_domain=1))
    with pytest.raises(ClimbError, match="no questions"):
        DomainHistory().cluster("nowhere")


def test_numpy_kmeans_backend_is_seeded_and_finds_clear_clusters() -> None:
    rng = np.random.default_rng(7)
    centers = np.array([[0.1] * 4, [0.5] * 4, [0.9] * 4], dtype=np.float32)
    x = np.concatenate([c + rng.normal(0, 0.01, (30, 4)).astype(np.float32) for c in centers])
    for backend in ("sklearn", "numpy"):
        h = DomainHistory(kmeans=backend)
        for i, v in enumerate(x):
            h.add("d", i, v)
        info = h.cluster("d")
        assert info.k == 3 and sorted(info.counts.tolist()) == [30, 30, 30]
        np.testing.assert_allclose(np.sort(info.centroids.mean(1)), [0.1, 0.5, 0.9], atol=0.01)
    a, b = DomainHistory(kmeans="numpy"), DomainHistory(kmeans="numpy")
    for step in range(3):
        tok, mask, index, doms = batch(rng, 6, 4, step, ["a", "b"])
        ra, _ = drpo_advantages(tok, mask, index, doms, a)
        rb, _ = drpo_advantages(tok, mask, index, doms, b)
        assert torch.equal(ra, rb) and torch.isfinite(ra).all()
    assert DomainHistory.from_state_dict(a.state_dict()).kmeans == "numpy"
    with pytest.raises(ClimbError, match="kmeans must be"):
        DomainHistory(kmeans="faiss")
