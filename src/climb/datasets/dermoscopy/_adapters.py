"""Adapters of the dermatology datasets (docs/imaging.md): ISIC 2020, HAM10000, PAD-UFES-20.
3-channel (RGB) uint8. Default splits are seeded and patient- (ISIC 2020, PAD-UFES-20) or
lesion-level (HAM10000); ``climb`` is CLIMB's per-class 80/20 rule, seeded (the original is
unseeded and cannot be reproduced exactly)."""

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

DERM5 = ("MEL", "NV", "BCC", "AKIEC", "OTHER")
DX7 = ("MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC")
PAD6 = ("ACK", "BCC", "MEL", "NEV", "SCC", "SEK")


def derm5_index(dataset: str, native: str) -> int | None:
    """derm5 index of a native diagnosis via maps/derm5.csv (None if not in the table)."""
    cls = native_map(dataset, None, "derm5", col="derm5").get(norm(native))
    return None if cls is None else DERM5.index(cls)


class _DermAdapter(ImagingAdapter):
    channels = 3

    def map_tables(self) -> tuple[str, ...]:
        return ("imaging_native.csv", "derm5.csv")


def _climb_split(ids: list[str], labels: list[Any], seed: int) -> dict[str, str]:
    return seeded_fraction_split(ids, labels, 0.8, seed, ("train", "test"))


class Ham10000Adapter(_DermAdapter):
    key = "ham10000"
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "derm5": {"type": "multiclass", "classes": DERM5, "label_space": "derm5"},
        "dx7": {"type": "multiclass", "classes": DX7},
    }  # fmt: skip
    split_note = (
        "default split: seeded lesion-level (patient_id column = HAM10000 lesion_id; patients are "
        "not released); climb: per-class 80/20 with the prepare seed"
    )

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        meta = find_file(raw_dir, "HAM10000_metadata.csv", "HAM10000_metadata")
        gt = find_file(raw_dir, "ISIC2018_Task3_Training_GroundTruth.csv")
        if meta is None and gt is None:
            raise ClimbError("neither HAM10000_metadata.csv nor the ISIC 2018 ground truth found",
                             where=str(raw_dir), fix="climb fetch ham10000")  # fmt: skip
        rows: list[tuple[str, str, str]] = []  # image id, dx, lesion id
        if meta is not None:
            for r in read_table(meta).to_dict("records"):
                rows.append((str(r["image_id"]), str(r["dx"]), str(r["lesion_id"])))
        else:
            df = read_table(gt)  # type: ignore[arg-type]
            for r in df.to_dict("records"):
                hot = [c for c in DX7 if float(r[c] or 0) == 1.0]
                rows.append((str(r["image"]), hot[0] if len(hot) == 1 else "", str(r["image"])))
        idx = index_by_stem(raw_dir)
        split = _climb_split([r[0] for r in rows], [r[1].lower() for r in rows], options.seed)
        out = []
        for iid, dx, lesion in rows:
            d5 = derm5_index(self.key, dx)
            error = None if d5 is not None else f"unknown diagnosis {dx!r}"
            out.append(
                ref(iid, [idx.get(iid.lower(), raw_dir / f"{iid}.jpg")], raw_dir,
                    labels={"derm5": -1 if d5 is None else d5,
                            "dx7": DX7.index(dx.upper()) if dx.upper() in DX7 else -1},
                    native={"dx": dx, "lesion_id": lesion}, patient=lesion,
                    split={"climb": split[iid]}, error=error)
            )  # fmt: skip
        return out


class Isic2020Adapter(_DermAdapter):
    key = "isic2020"
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "malignant": {"type": "binary", "classes": ("benign", "malignant")},
    }  # fmt: skip
    split_note = "default split: seeded patient-level (patient_id); climb: per-class 80/20, seeded"

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        gt = need(find_file(raw_dir, "ISIC_2020_Training_GroundTruth.csv", "ISIC_2020_Training_GroundTruth_v2.csv"),
                  "ISIC_2020_Training_GroundTruth.csv", raw_dir, "climb fetch isic2020")  # fmt: skip
        mapping = native_map(self.key, "malignant")
        classes = ["benign", "malignant"]
        df = read_table(gt)
        idx = index_by_stem(raw_dir)
        rows = df.to_dict("records")
        split = _climb_split(
            [r["image_name"] for r in rows], [r["target"] for r in rows], options.seed
        )
        out = []
        for r in rows:
            iid = str(r["image_name"])
            cls = mapping.get(norm(r.get("benign_malignant", "")))
            if cls is None and str(r.get("target", "")).strip() in ("0", "1"):
                cls = classes[int(r["target"])]
            out.append(
                ref(iid, [idx.get(iid.lower(), raw_dir / "train" / f"{iid}.jpg")], raw_dir,
                    labels={"malignant": classes.index(cls) if cls else -1},
                    native={k: str(r.get(k, "")) for k in ("diagnosis", "benign_malignant", "target")},
                    patient=str(r.get("patient_id") or iid), split={"climb": split[iid]},
                    columns={"anatom_site": str(r.get("anatom_site_general_challenge", "")),
                             "sex": str(r.get("sex", "")), "age_approx": str(r.get("age_approx", ""))},
                    error=None if cls else "no benign/malignant label")
            )  # fmt: skip
        return out


class PadUfes20Adapter(_DermAdapter):
    key = "pad_ufes_20"
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "derm5": {"type": "multiclass", "classes": DERM5, "label_space": "derm5"},
        "diagnostic6": {"type": "multiclass", "classes": PAD6},
    }  # fmt: skip
    split_note = "default split: seeded patient-level (patient_id); climb: per-class 80/20, seeded"

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        meta = need(
            find_file(raw_dir, "metadata.csv"), "metadata.csv", raw_dir, "climb fetch pad_ufes_20"
        )
        idx = index_by_stem(raw_dir)
        rows = read_table(meta).to_dict("records")
        split = _climb_split(
            [r["img_id"] for r in rows], [r["diagnostic"] for r in rows], options.seed
        )
        out = []
        for r in rows:
            img = str(r["img_id"])
            stem = Path(img).stem
            dx = str(r["diagnostic"]).strip().upper()
            d5 = derm5_index(self.key, dx)
            out.append(
                ref(stem, [idx.get(stem.lower(), raw_dir / "images" / img)], raw_dir,
                    labels={"derm5": -1 if d5 is None else d5,
                            "diagnostic6": PAD6.index(dx) if dx in PAD6 else -1},
                    native={"diagnostic": dx, "lesion_id": str(r.get("lesion_id", ""))},
                    patient=str(r.get("patient_id") or stem), split={"climb": split[img]},
                    columns={"region": str(r.get("region", "")), "age": str(r.get("age", ""))},
                    error=None if d5 is not None else f"unknown diagnostic {dx!r}")
            )  # fmt: skip
        return out


__all__ = [
    "DERM5",
    "DX7",
    "PAD6",
    "Ham10000Adapter",
    "Isic2020Adapter",
    "PadUfes20Adapter",
    "derm5_index",
]
