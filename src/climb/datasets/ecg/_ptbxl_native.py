"""Adapter for PTB-XL: the native PhysioNet layout (``ptbxl_database.csv`` with ``scp_codes``,
``strat_fold``, ``patient_id``; ``records500/..._hr`` WFDB) and, when that table is absent, the
Challenge-2020 copy (``HR*.hea``/``.mat``, see :mod:`._challenge`)."""

from __future__ import annotations

import ast
import math
from pathlib import Path
from typing import Any

from climb.core.adapter import PrepareOptions, RecordError, RecordRef, Sample
from climb.core.errors import ClimbError
from climb.datasets.ecg._challenge import ChallengeAdapter
from climb.datasets.ecg._ecg import (
    ECG7,
    climb_single_label,
    climb_table,
    find_file,
    multi_hot,
    scp_map,
)

SUPERDIAGNOSTIC: tuple[str, ...] = ("NORM", "MI", "STTC", "CD", "HYP")


def official_split(fold: int) -> str:
    """PTB-XL's recommended folds: 1-8 train, 9 val, 10 test."""
    return "test" if fold == 10 else ("val" if fold == 9 else "train")


def record_id(ecg_id: int) -> str:
    """The Challenge-2020 record id of a PTB-XL ``ecg_id`` (``1`` -> ``HR00001``)."""
    return f"HR{int(ecg_id):05d}"


def superdiagnostic(scp_codes: dict[str, float], diag_class: dict[str, str]) -> list[int]:
    """PTB-XL's standard aggregation: the diagnostic_class of every listed diagnostic statement
    (any likelihood), multi-hot over NORM, MI, STTC, CD, HYP; all -1 when there is none."""
    hit = {diag_class[c] for c in scp_codes if c in diag_class}
    if not hit:
        return [-1] * len(SUPERDIAGNOSTIC)
    return [1 if c in hit else 0 for c in SUPERDIAGNOSTIC]


class PtbxlAdapter(ChallengeAdapter):
    version = "1"

    def __init__(self) -> None:
        super().__init__("ptbxl")

    # ---------------------------------------------------------------- layout
    @staticmethod
    def database(raw_dir: Path) -> Path | None:
        return find_file(raw_dir, "ptbxl_database.csv")

    def split_rules(self, raw_dir: Path) -> list[str]:
        rules = super().split_rules(raw_dir)
        return ["official", *rules] if self.database(raw_dir) else rules

    def default_split_rule(self, raw_dir: Path) -> str:
        return "official" if self.database(raw_dir) else "patient"

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        tasks = self.ecg7_tasks(options)
        if self.database(raw_dir):
            tasks["superdiagnostic"] = {
                "type": "multilabel",
                "classes": list(SUPERDIAGNOSTIC),
                "label_space": None,
                "column": "label__superdiagnostic",
                "policy": "ptbxl",
                "description": "scp_statements.csv diagnostic_class of every diagnostic statement",
            }
        return tasks

    def summary_notes(self, raw_dir: Path, options: PrepareOptions) -> list[str]:
        db = self.database(raw_dir)
        if not db:
            return super().summary_notes(raw_dir, options)
        path, table = climb_table(raw_dir, self.key)
        notes = [f"native PhysioNet layout ({db.relative_to(raw_dir).as_posix()})"]
        if path:
            import pandas as pd

            ids = {record_id(i) for i in pd.read_csv(db, usecols=["ecg_id"])["ecg_id"]}
            notes.append(
                f"CLIMB split file {path.name}: {len(table)} rows, "
                f"{len(set(table) - ids)} not present in ptbxl_database.csv"
            )
        return notes

    # ---------------------------------------------------------------- records
    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        db = self.database(raw_dir)
        if db is None:
            return super().list_records(raw_dir, options)
        import pandas as pd

        base = db.parent
        stmts = base / "scp_statements.csv"
        if not stmts.is_file():
            raise ClimbError(
                "scp_statements.csv is missing next to ptbxl_database.csv",
                where=str(base),
                fix="fetch the complete PTB-XL release (climb fetch ptbxl)",
            )
        st = pd.read_csv(stmts, index_col=0)
        diag_class = {
            str(k): str(v)
            for k, v in st["diagnostic_class"].items()
            if st.loc[k, "diagnostic"] == 1 and isinstance(v, str)
        }
        df = pd.read_csv(db)
        _, table = climb_table(raw_dir, self.key)
        emap = scp_map(options.label_policy)
        refs = []
        for pos, row in enumerate(df.sort_values("ecg_id").itertuples(index=False)):
            rid = record_id(row.ecg_id)
            try:
                scp = ast.literal_eval(row.scp_codes) if isinstance(row.scp_codes, str) else {}
                if not isinstance(scp, dict):
                    raise ValueError("not a dict")
            except (ValueError, SyntaxError):
                scp = None
            pid = row.patient_id
            patient = str(int(pid)) if isinstance(pid, float) and not math.isnan(pid) else rid
            info: dict[str, Any] = {
                "pos": pos,
                "scp": scp,
                "patient": patient,
                "fold": int(row.strat_fold) if not pd.isna(row.strat_fold) else None,
                "age": None if pd.isna(row.age) else float(row.age),
                "sex": {0: "M", 1: "F"}.get(int(row.sex)) if not pd.isna(row.sex) else None,
            }
            if scp is not None:
                groups = [emap.get(c, ()) for c in scp]
                info["ecg7"] = multi_hot(groups)
                info["unmapped"] = sorted(c for c in scp if not emap.get(c))
                info["superdiagnostic"] = superdiagnostic(scp, diag_class)
            if rid in table:
                info["climb"] = table[rid]
            rel = (base / str(row.filename_hr)).relative_to(raw_dir).as_posix() + ".hea"
            refs.append(RecordRef(rid, rel, info))
        return refs

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        if "scp" not in ref.info:  # Challenge-layout copy
            return super().read_record(raw_dir, ref, options)
        info = ref.info
        if info["scp"] is None:
            raise RecordError("unparseable scp_codes in ptbxl_database.csv", stage="labels")
        rec = self.read_ecg(raw_dir / ref.source_path)
        x, cols = self.standardize(rec)
        labels: dict[str, Any] = {"ecg7": info["ecg7"], "superdiagnostic": info["superdiagnostic"]}
        climb = info.get("climb")
        if options.label_policy == "climb":
            if climb is not None:
                labels["ecg7"] = list(climb["mh"])
                labels["ecg7_single"] = int(climb["label"])
                cols["climb_label_source"] = "climb_csv"
            else:
                mh = [max(v, 0) for v in info["ecg7"]]
                labels["ecg7"] = mh
                labels["ecg7_single"] = climb_single_label(mh, int(info["pos"]))
                cols["climb_label_source"] = "computed"
        cols["age"] = info["age"]
        cols["sex"] = info["sex"]
        cols["strat_fold"] = info["fold"]
        hint = {}
        if info["fold"] is not None:
            hint["official"] = official_split(info["fold"])
        if climb is not None:
            hint["climb"] = climb["split"]
        return Sample(
            sample_id=ref.record_id,
            patient_id=info["patient"],
            source_path=ref.source_path,
            arrays={"ecg": x},
            labels=labels,
            native_labels={"scp_codes": info["scp"], "unmapped": info["unmapped"]},
            columns=cols,
            split_hint=hint,
        )


__all__ = ["ECG7", "SUPERDIAGNOSTIC", "PtbxlAdapter", "official_split", "record_id"]
