"""Split rules of the store contract: how samples get train/val/test, and the leakage checks.

- :func:`patient_split` -- the seeded, order-independent patient-level 80/10/10 split of
  ``climb prepare`` (rule ``patient``), and :func:`describe_rule` for the rules prepare knows
  (``official``, ``climb``, ``patient``);
- :func:`stratified_group_split`, :func:`stratified_kfold`, :func:`kfold_indices` -- seeded,
  stratified, group-aware splits for the graph and gait datasets, and the k-fold protocol used
  for PROTEINS (Errica et al. 2020: stratified 10-fold outer, 10% stratified holdout for inner
  validation); :func:`describe` for an adapter's own rule;
- :func:`leakage` / :func:`check_disjoint` -- no patient (or item) in two splits.

Every function is deterministic in (inputs, seed) and never depends on the order of the inputs.
Pure numpy: adapters (climb.datasets), prepare, the store validator and training all use it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from climb.core.errors import ClimbError

PATIENT_FRACTIONS = (("train", 0.8), ("val", 0.1), ("test", 0.1))


def patient_split(patient_id: str, seed: int) -> str:
    """Seeded, order-independent patient-level split: sha256(seed:patient) -> 80/10/10.

    A patient's split depends only on (seed, patient id), so adding or losing records never
    moves other patients between splits.
    """
    digest = hashlib.sha256(f"{seed}:{patient_id}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    acc = 0.0
    for name, frac in PATIENT_FRACTIONS:
        acc += frac
        if u < acc:
            return name
    return PATIENT_FRACTIONS[-1][0]


def leakage(patients: Sequence[str], splits: Sequence[str]) -> dict[str, list[str]]:
    """Patients that occur in more than one split -> their splits."""
    seen: dict[str, set[str]] = defaultdict(set)
    for p, s in zip(patients, splits, strict=True):
        seen[p].add(s)
    return {p: sorted(s) for p, s in seen.items() if len(s) > 1}


def describe_rule(rule: str, seed: int, note: str = "") -> dict[str, Any]:
    """The ``splits`` entry of dataset.json for one of prepare's rules (``official``,
    ``climb``, ``patient``); the seed is recorded for the seeded rule only."""
    text = {
        "official": "the source's official split",
        "climb": "CLIMB's published split files (DDVD233/CLIMB@0f767b1, *_splits.csv), "
        "matched on Challenge record ids; record-level as published",
        "patient": "seeded patient-level split: sha256(f'{seed}:{patient_id}') -> "
        "train 80% / val 10% / test 10%",
    }[rule]
    return describe(
        rule, seed if rule == "patient" else None, text, **({"note": note} if note else {})
    )


SPLIT_NAMES = ("train", "val", "test")


def _rng(seed: int, salt: str) -> np.random.Generator:
    d = hashlib.sha256(f"{seed}:{salt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(d[:8], "big"))


def stratified_group_split(
    groups: Mapping[str, Hashable],
    seed: int,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    names: Sequence[str] = SPLIT_NAMES,
) -> dict[str, str]:
    """Assign each group (subject, graph, ...) to a split, stratified by its stratum.

    ``groups``: group id -> stratum (a label, or a (site, label) tuple). Within each stratum the
    groups are shuffled with a seed derived from (seed, stratum) and allocated by the largest
    remainder, so every split gets each stratum in proportion. Returns group id -> split name.
    """
    if abs(sum(fractions) - 1.0) > 1e-6 or len(fractions) != len(names):
        raise ClimbError(f"split fractions {list(fractions)} must sum to 1, one per split name")
    by: dict[Hashable, list[str]] = defaultdict(list)
    for g, s in groups.items():
        by[s].append(str(g))
    out: dict[str, str] = {}
    carry = np.zeros(len(fractions))
    for stratum in sorted(by, key=repr):
        members = sorted(by[stratum])
        perm = _rng(seed, repr(stratum)).permutation(len(members))
        # carry rounding remainders across strata so small strata do not all round the same way
        raw = np.asarray(fractions) * len(members) + carry
        counts = np.floor(raw).astype(int)
        rest = len(members) - int(counts.sum())
        order = np.argsort(-(raw - counts), kind="stable")
        for i in order[:rest]:
            counts[i] += 1
        carry = raw - counts
        start = 0
        for name, c in zip(names, counts, strict=True):
            for j in perm[start : start + c]:
                out[members[j]] = name
            start += c
    return out


def stratified_kfold(groups: Mapping[str, Hashable], k: int, seed: int) -> dict[str, int]:
    """Group id -> fold 0..k-1, stratified (sklearn StratifiedKFold, shuffled, seeded)."""
    from sklearn.model_selection import StratifiedKFold

    ids = sorted(map(str, groups))
    strata = [repr(groups[i]) for i in ids]
    # strata rarer than k cannot be spread over every fold: sklearn warns; accepted
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    fold = np.zeros(len(ids), dtype=np.int64)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for f, (_, test) in enumerate(skf.split(np.zeros(len(ids)), strata)):
            fold[test] = f
    return {i: int(f) for i, f in zip(ids, fold, strict=True)}


def kfold_indices(
    folds: Sequence[int], labels: Sequence[Any], fold: int, seed: int, val_fraction: float = 0.1
) -> dict[str, np.ndarray]:
    """Errica et al.'s protocol for one outer fold: test = samples of ``fold``; the rest split
    into train / val by a stratified holdout of ``val_fraction`` (seeded). Returns positions."""
    from sklearn.model_selection import train_test_split

    folds = np.asarray(folds)
    y = np.asarray([repr(v) for v in labels])
    test = np.flatnonzero(folds == fold)
    rest = np.flatnonzero(folds != fold)
    if len(test) == 0:
        raise ClimbError(f"fold {fold} has no samples (folds: {sorted(set(folds.tolist()))})")
    tr, va = train_test_split(
        rest, test_size=val_fraction, stratify=y[rest], random_state=seed + fold
    )
    out = {"train": np.sort(tr), "val": np.sort(va), "test": test}
    check_disjoint(out)
    return out


def check_disjoint(parts: Mapping[str, Sequence[Any] | np.ndarray]) -> None:
    """Raise when any item is in two parts (the leakage check for position/id splits)."""
    seen: dict[Any, str] = {}
    for name, items in parts.items():
        for it in np.asarray(items).tolist():
            if it in seen and seen[it] != name:
                raise ClimbError(f"{it!r} is in both {seen[it]} and {name}", where="split check")
            seen[it] = name


def describe(rule: str, seed: int | None, text: str, **extra: Any) -> dict[str, Any]:
    """The ``splits`` entry of dataset.json: the rule, what it does, its seed, and extras."""
    return {"rule": rule, "description": text, "seed": seed, **extra}
