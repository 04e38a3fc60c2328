"""Adapter for the PhysioNet/CinC Challenge 2020/2021 layout (CPSC 2018, Georgia,
Chapman-Shaoxing, and PTB-XL's Challenge copy): ``<id>.hea`` with ``#Dx:`` SNOMED-CT codes,
``#Age``, ``#Sex``, and ``<id>.mat`` (``val``) or ``.dat`` signals."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from climb.core.adapter import PrepareOptions, RecordError, RecordRef, Sample
from climb.datasets.ecg._ecg import (
    EcgAdapter,
    climb_single_label,
    climb_table,
    snomed_labels,
)
from climb.io.wfdb import parse_comments


def list_challenge_headers(raw_dir: Path) -> list[Path]:
    """Every ``*.hea`` under ``raw_dir`` (hidden folders skipped), sorted by record id, then path."""
    hits = [
        p
        for p in raw_dir.rglob("*.hea")
        if not any(part.startswith(".") for part in p.relative_to(raw_dir).parts)
    ]
    return sorted(hits, key=lambda p: (p.stem.upper(), p.relative_to(raw_dir).as_posix()))


class ChallengeAdapter(EcgAdapter):
    """One Challenge-layout dataset; ``key`` selects CLIMB's dictionary and split file."""

    version = "1"

    def __init__(self, key: str) -> None:
        self.key = key

    def split_rules(self, raw_dir: Path) -> list[str]:
        path, _ = climb_table(raw_dir, self.key)
        return ["patient", "climb"] if path else ["patient"]

    def default_split_rule(self, raw_dir: Path) -> str:
        return "patient"

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        return self.ecg7_tasks(options)

    def summary_notes(self, raw_dir: Path, options: PrepareOptions) -> list[str]:
        path, table = climb_table(raw_dir, self.key)
        if not path:
            return []
        ids = {p.stem.upper() for p in list_challenge_headers(raw_dir)}
        missing = len(set(table) - ids)
        return [
            f"CLIMB split file {path.name}: {len(table)} rows, {missing} not present in the raw folder"
        ]

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        headers = list_challenge_headers(raw_dir)
        _, table = climb_table(raw_dir, self.key)
        seen: Counter[str] = Counter()
        refs = []
        for pos, h in enumerate(headers):
            rid = h.stem.upper()
            seen[rid] += 1
            info: dict[str, Any] = {"pos": pos}
            if seen[rid] > 1:
                info["duplicate"] = True
            if rid in table:
                info["climb"] = table[rid]
            refs.append(RecordRef(rid, h.relative_to(raw_dir).as_posix(), info))
        return refs

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        if ref.info.get("duplicate"):
            raise RecordError(
                f"duplicate record id {ref.record_id} (another copy was kept)", stage="list"
            )
        rec = self.read_ecg(raw_dir / ref.source_path)
        meta = parse_comments(rec.comments)
        dx_raw = meta.get("dx", "")
        codes = [c.strip() for c in dx_raw.split(",") if c.strip()]
        x, cols = self.standardize(rec)
        mh, unmapped = snomed_labels(codes, options.label_policy, self.key)
        labels: dict[str, Any] = {"ecg7": mh}
        climb = ref.info.get("climb")
        if options.label_policy == "climb":
            if climb is not None:
                cols["climb_label_source"] = "climb_csv"
                cols["climb_label_matches"] = bool(climb["mh"] == mh)
                labels["ecg7"] = list(climb["mh"])
                labels["ecg7_single"] = int(climb["label"])
            else:
                cols["climb_label_source"] = "computed"
                cols["climb_label_matches"] = None
                labels["ecg7_single"] = climb_single_label(mh, int(ref.info["pos"]))
        age = meta.get("age", "")
        try:
            cols["age"] = float(age) if age and age.lower() != "nan" else None
        except ValueError:
            cols["age"] = None
        sex = meta.get("sex", "").strip().lower()
        cols["sex"] = {"male": "M", "m": "M", "female": "F", "f": "F"}.get(sex)
        split_hint = {"climb": climb["split"]} if climb is not None else {}
        return Sample(
            sample_id=ref.record_id,
            patient_id=ref.record_id,
            source_path=ref.source_path,
            arrays={"ecg": x},
            labels=labels,
            native_labels={"dx": codes, "unmapped": unmapped},
            columns=cols,
            split_hint=split_hint,
        )
