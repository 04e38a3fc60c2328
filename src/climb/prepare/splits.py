"""Split assignment (official / CLIMB's files / seeded patient-level) and the leakage check."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

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
    text = {
        "official": "the source's official split",
        "climb": "CLIMB's published split files (DDVD233/CLIMB@0f767b1, *_splits.csv), "
        "matched on Challenge record ids; record-level as published",
        "patient": "seeded patient-level split: sha256(f'{seed}:{patient_id}') -> "
        "train 80% / val 10% / test 10%",
    }[rule]
    out: dict[str, Any] = {
        "rule": rule,
        "description": text,
        "seed": seed if rule == "patient" else None,
    }
    if note:
        out["note"] = note
    return out
