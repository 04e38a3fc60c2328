"""Outcome-advantage estimators for group-sampled RL on QA data: GRPO and DRPO.

Both follow verl's outcome-advantage signature family::

    advantages, returns = f(token_level_rewards, response_mask, index, ...)

with ``token_level_rewards`` and ``response_mask`` of shape ``(B, L)`` (one row per sampled
response), ``index`` the question id of each row (rows of one question are its rollouts) and
the result broadcast over the response tokens (``× response_mask``).

DRPO (QoQ-Med's domain-aware relative policy optimisation) rescales the GRPO advantage of each
rollout by a *domain temperature* (rare, easy domains are damped; rare, hard ones amplified) and
a *cluster temperature* from a k-means clustering of the domain's question reward vectors.
The definition implemented here is the one of QoQ-Med's ``compute_drpo_outcome_advantage``
(facts sheet §8.2), written from that definition, with its state held in an explicit
:class:`DomainHistory` instead of module-global dictionaries. With default settings the result
equals the reference wherever the reference is defined (strictly positive rewards, unique
question ids, at least two rollouts); where it is not, we do this instead (all tested):

* a cluster whose centroid mean is 0 (every rollout got reward 0): the reference divides by
  zero (NaN/inf advantages); here the cluster mean is clamped to ``eps``, as the reference
  already does for the domain temperature. Such rollouts have GRPO advantage 0, so they stay 0.
* a question id seen at an earlier step: the reference looks its cluster up at the id's *first*
  occurrence in the history (a stale vector); here the vector added at this step is used.
* one rollout per question: the within-question standard deviation is undefined (the reference
  returns NaN); here a clear :class:`~climb.core.errors.ClimbError`.
* non-finite rewards, inconsistent rollout counts, empty domain names, mismatched lengths:
  clear errors. No NaN ever leaves these functions.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from climb.core.errors import ClimbError

EPS_DEFAULT = 1e-6

__all__ = [
    "EPS_DEFAULT",
    "ClusterInfo",
    "DomainHistory",
    "drpo_advantages",
    "grpo_advantages",
]


# ----------------------------------------------------------------------------- inputs
def _as_list(values: Any, name: str, n: int) -> list[Any]:
    if hasattr(values, "tolist"):
        values = values.tolist()
    out = list(values)
    if len(out) != n:
        raise ClimbError(
            f"{name} has {len(out)} entries but token_level_rewards has {n} rows",
            where=name,
            fix="pass one question id and one domain per sampled response (row)",
        )
    return out


def _scores(token_level_rewards: Any, response_mask: Any) -> Any:
    import torch

    if not isinstance(token_level_rewards, torch.Tensor):
        token_level_rewards = torch.as_tensor(token_level_rewards, dtype=torch.float32)
    if token_level_rewards.dim() != 2:
        raise ClimbError(
            f"token_level_rewards must have shape (B, L), got {tuple(token_level_rewards.shape)}",
            fix="put the outcome reward on the last response token of each row",
        )
    mask_shape = tuple(response_mask.shape)
    if mask_shape != tuple(token_level_rewards.shape):
        raise ClimbError(
            f"response_mask has shape {mask_shape}, token_level_rewards "
            f"{tuple(token_level_rewards.shape)}",
            fix="pass a mask of the same (B, L) shape",
        )
    if token_level_rewards.shape[0] == 0:
        raise ClimbError("an empty batch has no advantages", fix="pass at least one question")
    scores = token_level_rewards.sum(dim=-1)
    bad = ~torch.isfinite(scores)
    if bool(bad.any()):
        rows = torch.nonzero(bad).flatten().tolist()[:10]
        raise ClimbError(
            f"{int(bad.sum())} reward(s) are NaN or infinite (rows {rows})",
            where="token_level_rewards",
            fix="give every response a finite reward (e.g. 0 for an unparseable answer)",
        )
    return scores


def _groups(index: list[Any]) -> dict[Hashable, list[int]]:
    """Rows of each question, questions in order of first appearance."""
    groups: dict[Hashable, list[int]] = {}
    for i, q in enumerate(index):
        groups.setdefault(q, []).append(i)
    return groups


def _check_rollouts(groups: dict[Hashable, list[int]], what: str) -> int:
    sizes = {q: len(rows) for q, rows in groups.items()}
    counts = sorted(set(sizes.values()))
    if len(counts) > 1:
        example = ", ".join(f"{q!r}: {n}" for q, n in list(sizes.items())[:6])
        raise ClimbError(
            f"{what}: questions have different numbers of rollouts {counts} ({example})",
            where="index",
            fix="sample the same number of responses (rollout.n) for every question in a batch",
        )
    n = counts[0]
    if n < 2:
        raise ClimbError(
            f"{what} needs at least 2 rollouts per question, got {n}: the within-question "
            "standard deviation is undefined",
            where="index",
            fix="sample several responses per question (rollout.n / num_generations >= 2)",
        )
    return n


def _group_normalise(scores: Any, groups: dict[Hashable, list[int]], eps: float) -> Any:
    """(r_i - mean_q) / (std_q + eps) with torch's unbiased std, as verl's GRPO."""
    import torch

    out = scores.clone()
    for rows in groups.values():
        idx = torch.as_tensor(rows, dtype=torch.long)
        v = scores[idx].to(torch.float32)
        out[idx] = ((v - v.mean()) / (v.std() + eps)).to(out.dtype)
    return out


def _broadcast(scores: Any, response_mask: Any) -> tuple[Any, Any]:
    import torch

    mask = torch.as_tensor(response_mask).to(scores.dtype)
    out = scores.unsqueeze(-1) * mask
    return out, out


# ----------------------------------------------------------------------------- GRPO
def grpo_advantages(
    token_level_rewards: Any, response_mask: Any, index: Sequence[Any], eps: float = EPS_DEFAULT
) -> tuple[Any, Any]:
    """GRPO outcome advantages: ``(r_i - mean_q) / (std_q + eps)`` per question ``q`` (torch's
    unbiased std), broadcast over the response tokens. Returns ``(advantages, returns)``, both
    ``(B, L)`` (equal, as in verl). Raises a :class:`ClimbError` for NaN rewards, a question with
    a single rollout and questions with different rollout counts."""
    import torch

    with torch.no_grad():
        scores = _scores(token_level_rewards, response_mask)
        idx = _as_list(index, "index", scores.shape[0])
        groups = _groups(idx)
        _check_rollouts(groups, "GRPO")
        return _broadcast(_group_normalise(scores, groups, eps), response_mask)


# ----------------------------------------------------------------------------- history
@dataclass(frozen=True)
class ClusterInfo:
    """One domain's clustering: ``assign[j]`` is the cluster of the j-th question vector of the
    history window, ``counts[c]`` the cluster sizes, ``centroids`` ``(k, n_rollouts)``, ``mu_d``
    the inverse-cluster-size weighted mean of the centroid means (the domain difficulty)."""

    k: int
    assign: np.ndarray
    counts: np.ndarray
    centroids: np.ndarray
    mu_d: float


def _domain_key(d: Any, row: int) -> str:
    if isinstance(d, bytes):
        d = d.decode("utf-8", "replace")
    if d is None or (isinstance(d, float) and math.isnan(d)) or not str(d).strip():
        raise ClimbError(
            f"row {row} has an empty domain ({d!r})",
            where="domain_info",
            fix="give every response its domain (e.g. the dataset key of its question)",
        )
    return str(d)


class _NumpyKMeans:
    """A small seeded k-means (k-means++ seeding, Lloyd iterations) for the few thousand
    low-dimensional vectors of a DRPO history: no per-call overhead of scikit-learn's estimator
    (about 10x faster per fit there, benchmarks/drpo.py). Not identical to scikit-learn's
    result, so ``kmeans="numpy"`` is not the reference's definition; it is deterministic."""

    def __init__(self, k: int, seed: int, max_iter: int = 100, tol: float = 1e-4) -> None:
        self.k, self.seed, self.max_iter, self.tol = k, seed, max_iter, tol

    def fit(self, x: np.ndarray) -> _NumpyKMeans:
        rng = np.random.default_rng(self.seed)
        a = x.astype(np.float64)
        n = a.shape[0]
        sq = (a * a).sum(1)
        first = int(rng.integers(n))
        centers = [a[first]]
        d2 = ((a - a[first]) ** 2).sum(1)
        for _ in range(1, self.k):
            total = float(d2.sum())
            idx = int(rng.choice(n, p=d2 / total)) if total > 0 else int(rng.integers(n))
            centers.append(a[idx])
            d2 = np.minimum(d2, ((a - a[idx]) ** 2).sum(1))
        c = np.stack(centers)
        tol = self.tol * float(a.var(axis=0).mean())
        labels = np.full(n, -1)
        for _ in range(self.max_iter):
            dist = np.maximum(sq[:, None] - 2 * a @ c.T + (c * c).sum(1)[None, :], 0.0)
            old, labels = labels, dist.argmin(1)
            if np.array_equal(old, labels):  # strict convergence, as scikit-learn's Lloyd
                break
            counts = np.bincount(labels, minlength=self.k)
            onehot = np.zeros((self.k, n))
            onehot[labels, np.arange(n)] = 1.0
            new = onehot @ a
            full = counts > 0
            new[full] /= counts[full, None]
            new[~full] = c[~full]
            shift = float(((new - c) ** 2).sum())
            c = new
            if shift <= tol:
                break
        dist = np.maximum(sq[:, None] - 2 * a @ c.T + (c * c).sum(1)[None, :], 0.0)
        self.labels_ = dist.argmin(1)
        self.inertia_ = float(dist[np.arange(n), self.labels_].sum())
        self.cluster_centers_ = c.astype(np.float32)
        return self


class DomainHistory:
    """The per-domain history of question reward vectors that DRPO clusters, as an object.

    * ``max_per_domain=None`` keeps every question ever seen (the reference's behaviour; k-means
      cost grows with the history); an integer keeps only the last N questions per domain (the
      domain count ``N_d`` used for rarity stays cumulative).
    * ``recluster_every=1`` re-runs the elbow search and k-means every step (reference); ``m > 1``
      re-fits every m-th step per domain and assigns the history to the last centroids in between
      (nearest centroid: O(N·k) instead of up to ``k_max`` k-means fits).
    * k-means is scikit-learn's ``KMeans(n_init="auto", random_state=seed)`` over float32
      vectors (``kmeans="numpy"``: a small seeded numpy k-means, faster per step, not the
      reference's numbers), k chosen by the elbow rule over ``k = 1..min(k_max, #distinct vectors)``: the
      first ``i + 1`` whose inertia drop is below ``elbow_tol`` times the previous drop.

    ``state_dict()`` / ``load_state_dict()`` give plain Python data (lists, numbers, strings)
    for checkpoints (``torch.save``, JSON).
    """

    STATE_VERSION = 1

    def __init__(
        self,
        *,
        max_per_domain: int | None = None,
        k_max: int = 10,
        elbow_tol: float = 0.10,
        seed: int = 0,
        recluster_every: int = 1,
        kmeans: str = "sklearn",
    ) -> None:
        if kmeans not in ("sklearn", "numpy"):
            raise ClimbError(f"kmeans must be 'sklearn' or 'numpy', got {kmeans!r}")
        if max_per_domain is not None and int(max_per_domain) < 1:
            raise ClimbError(f"max_per_domain must be >= 1 or None, got {max_per_domain}")
        if int(k_max) < 1:
            raise ClimbError(f"k_max must be >= 1, got {k_max}")
        if int(recluster_every) < 1:
            raise ClimbError(f"recluster_every must be >= 1, got {recluster_every}")
        self.max_per_domain = None if max_per_domain is None else int(max_per_domain)
        self.k_max = int(k_max)
        self.elbow_tol = float(elbow_tol)
        self.seed = int(seed)
        self.recluster_every = int(recluster_every)
        self.kmeans = kmeans
        self._vectors: dict[str, deque[np.ndarray]] = {}
        self._qids: dict[str, deque[str]] = {}
        self._count: dict[str, int] = {}
        self._fit: dict[str, tuple[np.ndarray, int]] = {}  # centroids, clusterings since fit
        self.last_stats: dict[str, dict[str, float]] = {}

    # ------------------------------------------------------------------ content
    @property
    def domains(self) -> list[str]:
        return list(self._count)

    def count(self, domain: str) -> int:
        """Questions seen for ``domain`` since the start (``N_d``), including evicted ones."""
        return self._count.get(domain, 0)

    def vectors(self, domain: str) -> np.ndarray:
        """The question reward vectors in the window, ``(Q, n_rollouts)`` float32."""
        v = self._vectors.get(domain)
        if not v:
            return np.empty((0, 0), dtype=np.float32)
        return np.stack(list(v), axis=0)

    def question_ids(self, domain: str) -> list[str]:
        return list(self._qids.get(domain, ()))

    def __len__(self) -> int:
        return sum(len(v) for v in self._vectors.values())

    def add(self, domain: str, qid: Any, rewards: Any) -> None:
        """Append one question's rollout rewards to ``domain``'s history."""
        vec = np.asarray(rewards, dtype=np.float32).reshape(-1)
        if not np.all(np.isfinite(vec)):
            raise ClimbError(f"question {qid!r} has non-finite rewards", where=f"domain {domain}")
        buf = self._vectors.get(domain)
        if buf is None:
            buf = self._vectors[domain] = deque(maxlen=self.max_per_domain)
            self._qids[domain] = deque(maxlen=self.max_per_domain)
            self._count[domain] = 0
        if buf and buf[0].shape != vec.shape:
            raise ClimbError(
                f"domain {domain!r}: question {qid!r} has {vec.size} rollouts, the history "
                f"holds vectors of {buf[0].size}",
                where="DomainHistory",
                fix="keep rollout.n fixed during a run, or start a new DomainHistory",
            )
        buf.append(vec)
        self._qids[domain].append(str(qid))
        self._count[domain] += 1

    # ------------------------------------------------------------------ clustering
    def _fit_k(self, x: np.ndarray, k: int) -> Any:
        if self.kmeans == "numpy":
            return _NumpyKMeans(k, self.seed).fit(x)
        from sklearn.cluster import KMeans

        return KMeans(n_clusters=k, n_init="auto", random_state=self.seed).fit(x)

    def _elbow_fit(self, x: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
        k_cap = max(1, min(self.k_max, len(np.unique(x, axis=0))))
        fits: list[Any] = []

        def fit(k: int) -> Any:
            while len(fits) < k:
                fits.append(self._fit_k(x, len(fits) + 1))
            return fits[k - 1]

        # The rule looks at drop_i = I_i - I_{i+1} (0-based inertias) and stops at the first
        # i >= 1 with drop_i < tol * drop_{i-1}, answering k = i + 1: fits are made lazily, so a
        # clear elbow at k = 2 costs three fits instead of k_max (the answer is the same).
        k_opt = k_cap
        if k_cap > 2:
            for i in range(1, k_cap - 1):
                inertia = [fit(j + 1).inertia_ for j in range(i + 2)]
                if inertia[i] - inertia[i + 1] < self.elbow_tol * (inertia[i - 1] - inertia[i]):
                    k_opt = i + 1
                    break
        km = fit(k_opt)
        return k_opt, np.asarray(km.labels_, dtype=np.int64), np.asarray(km.cluster_centers_)

    def cluster(self, domain: str) -> ClusterInfo:
        """Cluster ``domain``'s window (see the class docstring for when k-means is re-fit)."""
        x = self.vectors(domain)
        if x.shape[0] == 0:
            raise ClimbError(
                f"domain {domain!r} has no questions in the history",
                where="DomainHistory.cluster",
                fix="add questions of this domain first (drpo_advantages does)",
            )
        cached = self._fit.get(domain)
        if cached is not None and cached[1] < self.recluster_every:
            centroids = cached[0]
            d2 = ((x[:, None, :] - centroids[None, :, :].astype(np.float32)) ** 2).sum(-1)
            assign = np.argmin(d2, axis=1).astype(np.int64)
            k = centroids.shape[0]
            self._fit[domain] = (centroids, cached[1] + 1)
        else:
            k, assign, centroids = self._elbow_fit(x)
            self._fit[domain] = (centroids, 1)
        counts = np.bincount(assign, minlength=k).astype(np.float64)
        present = counts > 0
        means = centroids.mean(axis=1)
        w = 1.0 / counts[present]
        mu_d = float((w * means[present]).sum() / w.sum())
        return ClusterInfo(k=k, assign=assign, counts=counts, centroids=centroids, mu_d=mu_d)

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "version": self.STATE_VERSION,
            "config": {
                "max_per_domain": self.max_per_domain,
                "k_max": self.k_max,
                "elbow_tol": self.elbow_tol,
                "seed": self.seed,
                "recluster_every": self.recluster_every,
                "kmeans": self.kmeans,
            },
            "domains": {
                d: {
                    "count": self._count[d],
                    "qids": list(self._qids[d]),
                    "vectors": [v.tolist() for v in self._vectors[d]],
                    "fit": (
                        None
                        if d not in self._fit
                        else {"centroids": self._fit[d][0].tolist(), "age": self._fit[d][1]}
                    ),
                }
                for d in self._count
            },
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if int(state.get("version", -1)) != self.STATE_VERSION:
            raise ClimbError(
                f"DomainHistory state version {state.get('version')!r} is not {self.STATE_VERSION}",
                fix="resume with the climb version that wrote the checkpoint",
            )
        cfg = state["config"]
        self.__init__(**cfg)  # type: ignore[misc]
        for d, s in state["domains"].items():
            self._vectors[d] = deque(
                (np.asarray(v, dtype=np.float32) for v in s["vectors"]), maxlen=self.max_per_domain
            )
            self._qids[d] = deque(s["qids"], maxlen=self.max_per_domain)
            self._count[d] = int(s["count"])
            if s.get("fit"):
                self._fit[d] = (
                    np.asarray(s["fit"]["centroids"], dtype=np.float32),
                    int(s["fit"]["age"]),
                )

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> DomainHistory:
        h = cls()
        h.load_state_dict(state)
        return h

    def __repr__(self) -> str:
        return (
            f"DomainHistory(domains={len(self._count)}, questions={len(self)}, "
            f"max_per_domain={self.max_per_domain}, recluster_every={self.recluster_every})"
        )


# ----------------------------------------------------------------------------- DRPO
def drpo_advantages(
    token_level_rewards: Any,
    response_mask: Any,
    index: Sequence[Any],
    domain_info: Sequence[Any],
    history: DomainHistory,
    eps: float = EPS_DEFAULT,
) -> tuple[Any, Any]:
    """DRPO outcome advantages (QoQ-Med), ``(advantages, returns)`` of shape ``(B, L)``.

    1. ``r_i`` = the row sum of ``token_level_rewards``; rows are grouped by ``index`` (question
       id); every question must have the same number ``n >= 2`` of rollouts.
    2. Each question's reward vector (rollouts in row order) is appended to ``history`` under its
       domain (``domain_info``; all rollouts of a question must share it).
    3. GRPO normalisation within each question: ``(r_i - mean_q) / (std_q + eps)``.
    4. For each domain in the batch: cluster the history (:meth:`DomainHistory.cluster`);
       ``T_d = max(sqrt(N_d) * mu_d, eps)``; for the cluster ``c`` of the question (its vector of
       this step) ``T_c = sqrt(N_c) * max(m_c, eps)`` with ``m_c`` the centroid mean; the
       advantage is divided by ``T_d * T_c``.
    5. Batch renormalisation: divide by ``std(batch) + eps``.

    ``history`` is updated in place (keep it, and save ``history.state_dict()`` in checkpoints).
    ``history.last_stats`` holds this step's ``N_d``, ``mu_d``, ``T_d`` and ``k`` per domain.
    """
    import torch

    with torch.no_grad():
        scores = _scores(token_level_rewards, response_mask)
        b = scores.shape[0]
        idx = _as_list(index, "index", b)
        doms = [_domain_key(d, i) for i, d in enumerate(_as_list(domain_info, "domain_info", b))]
        groups = _groups(idx)
        _check_rollouts(groups, "DRPO")
        q_domain: dict[Hashable, str] = {}
        for q, rows in groups.items():
            ds = {doms[i] for i in rows}
            if len(ds) > 1:
                raise ClimbError(
                    f"question {q!r} has rollouts in several domains {sorted(ds)}",
                    where="domain_info",
                    fix="give all rollouts of a question the domain of the question",
                )
            q_domain[q] = doms[rows[0]]
        per_domain: dict[str, list[Hashable]] = {}
        for q, d in q_domain.items():
            per_domain.setdefault(d, []).append(q)
        cap = history.max_per_domain
        for d, qs in per_domain.items():
            if cap is not None and len(qs) > cap:
                raise ClimbError(
                    f"domain {d!r} has {len(qs)} questions in this batch but the history keeps "
                    f"only the last {cap}",
                    where="DomainHistory(max_per_domain=...)",
                    fix="raise max_per_domain to at least the questions per domain per batch",
                )
        raw = scores.detach().cpu().tolist()
        for q, rows in groups.items():
            history.add(q_domain[q], q, [raw[i] for i in rows])

        scores = _group_normalise(scores, groups, eps)
        history.last_stats = {}
        for d, qs in per_domain.items():
            info = history.cluster(d)
            n_d = float(history.count(d))
            t_d = max(math.sqrt(n_d) * info.mu_d, eps)
            history.last_stats[d] = {"N_d": n_d, "mu_d": info.mu_d, "T_d": t_d, "k": info.k}
            window = info.assign.shape[0]
            for j, q in enumerate(qs):  # this step's vectors are the last len(qs) of the window
                c = int(info.assign[window - len(qs) + j])
                m_c = float(info.centroids[c].mean())
                t_c = math.sqrt(float(info.counts[c])) * max(m_c, eps)
                rows_t = torch.as_tensor(groups[q], dtype=torch.long)
                scores[rows_t] = scores[rows_t] / (t_d * t_c)
        scores = scores / (scores.std() + eps)
        return _broadcast(scores, response_mask)
