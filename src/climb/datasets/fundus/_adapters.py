"""Adapters of the fundus datasets (docs/imaging.md): Messidor-2, APTOS 2019, Jichi.
3-channel (RGB) uint8. No patient identifiers are published: the default split is seeded and
image-level; ``climb`` is CLIMB's per-class ``int(0.8 * n)`` draw with ``random_state=0``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from climb.core.adapter import PrepareOptions, RecordRef
from climb.core.errors import ClimbError
from climb.datasets._imaging import (
    ImagingAdapter,
    find_file,
    index_by_stem,
    native_map,
    need,
    norm,
    read_table,
    ref,
    seeded_fraction_split,
)

DR5 = ("No DR", "Mild", "Moderate", "Severe", "Proliferative")
DAVIS4 = ("ndr", "sdr", "ppdr", "pdr")
CLIMB_SEED = 0


def dr5_index(dataset: str, native: Any) -> int | None:
    """dr5 index of a native grade via maps/dr5.csv (None = not a single dr5 grade)."""
    s = str(native).strip()
    if s.endswith(".0"):
        s = s[:-2]
    cls = native_map(dataset, None, "dr5", col="dr5").get(norm(s))
    return DR5.index(cls) if cls in DR5 else None


def davis_to_dr5(native: str) -> tuple[str, ...]:
    """The dr5 grades a Davis grade covers (maps/dr5.csv), e.g. sdr -> (Mild, Moderate)."""
    cls = native_map("jichi", None, "dr5", col="dr5").get(norm(native))
    return tuple(cls.split("|")) if cls else ()


class _FundusAdapter(ImagingAdapter):
    channels = 3
    split_note = (
        "no patient ids: default split is seeded and image-level; climb: per class "
        "int(0.8*n) with random_state=0 (CLIMB's rule)"
    )

    def map_tables(self) -> tuple[str, ...]:
        return ("imaging_native.csv", "dr5.csv")


def _climb(ids: list[str], labels: list[Any]) -> dict[str, str]:
    return seeded_fraction_split(ids, labels, 0.8, CLIMB_SEED, ("train", "test"))


class Messidor2Adapter(_FundusAdapter):
    key = "messidor2"
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "dr5": {"type": "multiclass", "classes": DR5, "label_space": "dr5"},
        "dme": {"type": "binary", "classes": ("no DME", "DME")},
    }

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        csv_path = need(
            find_file(raw_dir, "messidor_data.csv"),
            "messidor_data.csv",
            raw_dir,
            "climb fetch messidor2 (labels from Kaggle google-brain/messidor2-dr-grades)",
        )
        idx = index_by_stem(raw_dir)
        dme = native_map(self.key, "dme")
        rows = read_table(csv_path).to_dict("records")
        graded = [r for r in rows if dr5_index(self.key, r["adjudicated_dr_grade"]) is not None]
        split = _climb([r["image_id"] for r in graded], [r["adjudicated_dr_grade"] for r in graded])
        out = []
        for r in rows:
            iid = str(r["image_id"])
            g = dr5_index(self.key, r["adjudicated_dr_grade"])
            m = dme.get(norm(str(r.get("adjudicated_dme", "")).replace(".0", "")))
            out.append(
                ref(Path(iid).stem, [idx.get(Path(iid).stem.lower(), raw_dir / "IMAGES" / iid)], raw_dir,
                    labels={"dr5": -1 if g is None else g, "dme": -1 if m is None else ["no DME", "DME"].index(m)},
                    native={k: str(r.get(k, "")) for k in ("adjudicated_dr_grade", "adjudicated_dme", "adjudicated_gradable")},
                    split={"climb": split[iid]} if iid in split else {},
                    error=None if g is not None else "no adjudicated DR grade (ungradable; CLIMB excludes it)")
            )  # fmt: skip
        return out


class Aptos2019Adapter(_FundusAdapter):
    key = "aptos2019"
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "dr5": {"type": "multiclass", "classes": DR5, "label_space": "dr5"},
    }

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        csv_path = need(
            find_file(raw_dir, "train.csv"), "train.csv", raw_dir, "climb fetch aptos2019"
        )
        idx = index_by_stem(raw_dir)
        rows = read_table(csv_path).to_dict("records")
        split = _climb([r["id_code"] for r in rows], [r["diagnosis"] for r in rows])
        out = []
        for r in rows:
            iid = str(r["id_code"])
            g = dr5_index(self.key, r["diagnosis"])
            out.append(
                ref(iid, [idx.get(iid.lower(), raw_dir / "train_images" / f"{iid}.png")], raw_dir,
                    labels={"dr5": -1 if g is None else g}, native={"diagnosis": str(r["diagnosis"])},
                    split={"climb": split[iid]},
                    error=None if g is not None else f"unknown diagnosis {r['diagnosis']!r}")
            )  # fmt: skip
        return out


def _pick(columns: list[str], *cands: str, contains: tuple[str, ...] = ()) -> str | None:
    by = {norm(c): c for c in columns}
    for c in cands:
        if norm(c) in by:
            return by[norm(c)]
    for c in columns:
        if contains and all(k in norm(c) for k in contains):
            return c
    return None


class JichiAdapter(_FundusAdapter):
    key = "jichi"
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "davis4": {"type": "multiclass", "classes": DAVIS4,
                   "description": "modified Davis grade of one figure; see maps/dr5.csv for dr5"},
    }  # fmt: skip

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        csv_path = need(
            find_file(raw_dir, "list.csv"),
            "list.csv",
            raw_dir,
            "download figshare article 4879853 (list.csv and the image folder)",
        )
        df = read_table(csv_path)
        cols = list(df.columns)
        img_col = _pick(cols, "Image", "image", "filename", "file", "name") or cols[0]
        grade_col = _pick(cols, "Davis_grading_of_one_figure", contains=("davis", "one")) or _pick(
            cols, "davis", "grade", "label", contains=("davis",)
        )
        if grade_col is None:
            raise ClimbError(
                "no Davis grade column in list.csv",
                where=str(csv_path),
                fix=f"columns present: {', '.join(cols)}",
            )
        mapping = native_map(self.key, "davis4")
        idx = index_by_stem(raw_dir)
        rows = df.to_dict("records")
        split = _climb([r[img_col] for r in rows], [str(r[grade_col]).lower() for r in rows])
        out = []
        for r in rows:
            name = str(r[img_col])
            cls = mapping.get(norm(r[grade_col]))
            out.append(
                ref(Path(name).stem, [idx.get(Path(name).stem.lower(), raw_dir / name)], raw_dir,
                    labels={"davis4": DAVIS4.index(cls) if cls else -1},
                    native={"davis": str(r[grade_col]), "dr5": list(davis_to_dr5(str(r[grade_col])))},
                    split={"climb": split[name]},
                    error=None if cls else f"unknown Davis grade {r[grade_col]!r}")
            )  # fmt: skip
        return out


__all__ = [
    "DAVIS4",
    "DR5",
    "Aptos2019Adapter",
    "JichiAdapter",
    "Messidor2Adapter",
    "davis_to_dr5",
    "dr5_index",
]
