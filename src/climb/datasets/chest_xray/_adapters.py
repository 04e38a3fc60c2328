"""Adapters of the chest X-ray datasets (docs/imaging.md): MIMIC-CXR-JPG, CheXpert, VinDr-CXR,
COVID-19 CXR, CoronaHack. Stored as 1-channel uint8 images."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from climb.core.adapter import PrepareOptions, RecordRef
from climb.core.errors import ClimbError
from climb.datasets._imaging import (
    ImagingAdapter,
    find_dir,
    find_file,
    folder_class_records,
    map_rows,
    native_map,
    need,
    norm,
    read_table,
    ref,
)
from climb.labels import get_label_space

CHEXPERT14: tuple[str, ...] = get_label_space("chexpert14").names
#: CLIMB's CHEXPERT_LABELS_IDX (chexpert_full.py): position 0 reads Atelectasis (BUG)
CLIMB_CHEXPERT_IDX: tuple[int, ...] = (8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
UNCERTAINTY = ("uzeros", "uones", "uignore")


def parse_chexpert_value(v: Any) -> int | None:
    """CheXpert-labeler cell -> 1 / 0 / -1 (uncertain) / None (blank = not mentioned)."""
    s = str(v).strip()
    if s in ("", "nan", "NaN", "None"):
        return None
    f = float(s)
    if f not in (1.0, 0.0, -1.0):
        raise ValueError(f"unexpected CheXpert label value {s!r}")
    return int(f)


def apply_uncertainty(values: list[int | None], policy: str) -> list[int]:
    """U-Zeros (CLIMB): -1 and blank -> 0. U-Ones: -1 -> 1, blank -> 0. U-Ignore: -1 -> -1
    (masked in the store), blank -> 0."""
    out = []
    for v in values:
        if v is None:
            out.append(0)
        elif v == -1:
            out.append({"uzeros": 0, "uones": 1, "uignore": -1}[policy])
        else:
            out.append(v)
    return out


def chexpert_columns(dataset: str, header: list[str]) -> list[str]:
    """The CSV column holding each chexpert14 class, found by NAME through
    maps/chexpert14_columns.csv (never by position)."""
    by_norm = {norm(h): h for h in header}
    want = {
        r["chexpert14"]: r["column"]
        for r in map_rows("chexpert14_columns")
        if r["dataset"] == dataset
    }
    cols = []
    for c in CHEXPERT14:
        h = by_norm.get(norm(want.get(c, c)))
        if h is None:
            raise ClimbError(
                f"label column {want.get(c, c)!r} missing from the {dataset} label CSV",
                fix=f"columns present: {', '.join(header)}",
            )
        cols.append(h)
    return cols


def _chexpert_tasks(extra: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    base = {
        "chexpert14": {
            "type": "multilabel", "classes": CHEXPERT14, "label_space": "chexpert14",
            "description": "U-Zeros (CLIMB): uncertain and blank -> 0",
        },
        "chexpert14_uones": {
            "type": "multilabel", "classes": CHEXPERT14, "label_space": "chexpert14",
            "policy": "uones", "description": "U-Ones: uncertain -> 1, blank -> 0",
        },
        "chexpert14_uignore": {
            "type": "multilabel", "classes": CHEXPERT14, "label_space": "chexpert14",
            "policy": "uignore", "description": "U-Ignore: uncertain -> -1 (masked), blank -> 0",
        },
    }  # fmt: skip
    return {**base, **(extra or {})}


def _label_sets(values: list[int | None]) -> dict[str, list[int]]:
    return {
        "chexpert14": apply_uncertainty(values, "uzeros"),
        "chexpert14_uones": apply_uncertainty(values, "uones"),
        "chexpert14_uignore": apply_uncertainty(values, "uignore"),
    }


class _CxrAdapter(ImagingAdapter):
    channels = 1

    def map_tables(self) -> tuple[str, ...]:
        return ("imaging_native.csv", "chexpert14_columns.csv", "chexpert14_vindr_cxr.csv")


# -------------------------------------------------------------------- MIMIC-CXR-JPG


class MimicCxrAdapter(_CxrAdapter):
    key = "mimic_cxr"
    has_official = True
    task_specs: ClassVar[dict[str, dict[str, Any]]] = _chexpert_tasks(
        {
            "chexpert14_csv_order": {
                "type": "multilabel",
                "classes": (
                    "Atelectasis", "Cardiomegaly", "Consolidation", "Edema",
                    "Enlarged Cardiomediastinum", "Fracture", "Lung Lesion", "Lung Opacity",
                    "No Finding", "Pleural Effusion", "Pleural Other", "Pneumonia",
                    "Pneumothorax", "Support Devices",
                ),
                "description": "U-Zeros in mimic-cxr-2.0.0-chexpert.csv column order (CLIMB's)",
            }
        }
    )  # fmt: skip
    split_note = (
        "official split: mimic-cxr-2.0.0-split.csv.gz (train/validate/test -> train/val/test); "
        "climb: validate merged into test as in CLIMB"
    )

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        fix = "climb fetch mimic_cxr (PhysioNet mimic-cxr-jpg 2.0.0, credentialed)"
        split_csv = need(
            find_file(raw_dir, "mimic-cxr-2.0.0-split.csv.gz", "mimic-cxr-2.0.0-split.csv"),
            "mimic-cxr-2.0.0-split.csv.gz",
            raw_dir,
            fix,
        )
        lab_csv = need(
            find_file(raw_dir, "mimic-cxr-2.0.0-chexpert.csv.gz", "mimic-cxr-2.0.0-chexpert.csv"),
            "mimic-cxr-2.0.0-chexpert.csv.gz",
            raw_dir,
            fix,
        )
        meta_csv = find_file(
            raw_dir, "mimic-cxr-2.0.0-metadata.csv.gz", "mimic-cxr-2.0.0-metadata.csv"
        )
        base = split_csv.parent
        labels_df = read_table(lab_csv)
        cols = chexpert_columns("mimic_cxr", list(labels_df.columns))
        csv_order = list(self.task_specs["chexpert14_csv_order"]["classes"])
        lab: dict[tuple[str, str], list[int | None]] = {}
        for row in labels_df.to_dict("records"):
            lab[(str(row["subject_id"]), str(row["study_id"]))] = [
                parse_chexpert_value(row[c]) for c in cols
            ]
        view: dict[str, str] = {}
        if meta_csv is not None:
            m = read_table(meta_csv)
            if "ViewPosition" in m.columns:
                view = dict(zip(m["dicom_id"], m["ViewPosition"], strict=True))
        out = []
        for row in read_table(split_csv).to_dict("records"):
            sub, study, dicom = str(row["subject_id"]), str(row["study_id"]), str(row["dicom_id"])
            path = base / "files" / f"p{sub[:2]}" / f"p{sub}" / f"s{study}" / f"{dicom}.jpg"
            split = {"train": "train", "validate": "val", "test": "test"}.get(row["split"], "")
            values = lab.get((sub, study))
            error = None
            if values is None:
                labels = {t: [-1] * 14 for t in self.task_specs}
                if options.label_policy == "climb":
                    error = "study has no CheXpert labels (CLIMB's loader drops it)"
            else:
                labels = _label_sets(values)
                uz = labels["chexpert14"]
                labels["chexpert14_csv_order"] = [uz[CHEXPERT14.index(c)] for c in csv_order]
            native = {
                "chexpert": {c: values[i] for i, c in enumerate(CHEXPERT14)} if values else None
            }
            out.append(
                ref(
                    dicom, [path], raw_dir, labels=labels, native=native, patient=sub,
                    split={"official": split, "climb": "test" if split == "val" else split},
                    columns={"study_id": study, "view_position": view.get(dicom, "")}, error=error,
                )
            )  # fmt: skip
        return out


# -------------------------------------------------------------------- CheXpert


class ChexpertAdapter(_CxrAdapter):
    key = "chexpert"
    has_official = True
    task_specs: ClassVar[dict[str, dict[str, Any]]] = _chexpert_tasks()
    split_note = (
        "official split: train.csv -> train, valid.csv (radiologist-labelled) -> test; "
        "--label-policy climb reproduces CLIMB's CHEXPERT_LABELS_IDX bug (No Finding slot "
        "holds Atelectasis) in chexpert14"
    )

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        train_csv = need(find_file(raw_dir, "train.csv"), "CheXpert train.csv", raw_dir,
                         "unpack CheXpert-v1.0 (or -small) under the raw folder")  # fmt: skip
        out = []
        for csv_name, split in (("train.csv", "train"), ("valid.csv", "test")):
            p = train_csv.parent / csv_name
            if not p.is_file():
                continue
            df = read_table(p)
            cols = chexpert_columns("chexpert", list(df.columns))
            for row in df.to_dict("records"):
                rel = str(row["Path"])
                # Path is 'CheXpert-v1.0[-small]/train/patientX/studyN/viewN_frontal.jpg'
                parts = Path(rel).parts
                path = (
                    train_csv.parent.joinpath(*parts[1:])
                    if len(parts) > 1
                    else train_csv.parent / rel
                )
                patient = next((q for q in parts if q.startswith("patient")), rel)
                values = [parse_chexpert_value(row[c]) for c in cols]
                labels = _label_sets(values)
                if options.label_policy == "climb":
                    uz = labels["chexpert14"]
                    labels["chexpert14"] = [uz[i] for i in CLIMB_CHEXPERT_IDX]
                rid = "/".join(parts[1:]) if len(parts) > 1 else rel
                out.append(
                    ref(
                        rid, [path], raw_dir, labels=labels,
                        native={"chexpert": dict(zip(CHEXPERT14, values, strict=True))},
                        patient=patient, split={"official": split, "climb": split},
                        columns={k: row.get(k, "") for k in ("Sex", "Age", "Frontal/Lateral", "AP/PA")},
                    )
                )  # fmt: skip
        return out


# -------------------------------------------------------------------- VinDr-CXR

VINDR28: tuple[str, ...] = (
    "Aortic enlargement", "Atelectasis", "Calcification", "Cardiomegaly", "Clavicle fracture",
    "Consolidation", "Edema", "Emphysema", "Enlarged PA", "ILD", "Infiltration", "Lung Opacity",
    "Lung cavity", "Lung cyst", "Mediastinal shift", "Nodule/Mass", "Pleural effusion",
    "Pleural thickening", "Pneumothorax", "Pulmonary fibrosis", "Rib fracture", "Other lesion",
    "COPD", "Lung tumor", "Pneumonia", "Tuberculosis", "Other diseases", "No finding",
)  # fmt: skip
_VINDR_ALIASES = {norm("Other disease"): "Other diseases"}


def vindr_to_chexpert(findings: list[int]) -> tuple[list[int], list[str]]:
    """28 VinDr labels (aggregated) -> chexpert14 through maps/chexpert14_vindr_cxr.csv:
    a class is 1 if any mapped finding is 1, else 0; Support Devices (never labelled) is -1.
    Also returns the positive findings that have no CheXpert counterpart (kept natively)."""
    table = {r["vindr_label"]: r["chexpert14"] for r in map_rows("chexpert14_vindr_cxr")}
    out = [0] * len(CHEXPERT14)
    mapped = set(table.values()) - {""}
    unmapped: list[str] = []
    for name, v in zip(VINDR28, findings, strict=True):
        target = table[name]
        if v == 1:
            if target:
                out[CHEXPERT14.index(target)] = 1
            else:
                unmapped.append(name)
    for i, c in enumerate(CHEXPERT14):
        if c not in mapped:
            out[i] = -1
    return out, unmapped


class VindrCxrAdapter(_CxrAdapter):
    key = "vindr_cxr"
    has_official = True
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "findings28": {
            "type": "multilabel", "classes": VINDR28,
            "description": "native 28 labels; training images: any of the 3 radiologists",
        },
        "chexpert14": {
            "type": "multilabel", "classes": CHEXPERT14, "label_space": "chexpert14",
            "description": "maps/chexpert14_vindr_cxr.csv; Support Devices masked (-1)",
        },
    }  # fmt: skip
    split_note = "official split: annotations/image_labels_{train,test}.csv; no patient ids"

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        out = []
        for split in ("train", "test"):
            csv_path = find_file(raw_dir, f"image_labels_{split}.csv")
            if csv_path is None:
                continue
            base = csv_path.parent.parent
            df = read_table(csv_path)
            by_norm = {norm(c): c for c in df.columns}
            cols = []
            for name in VINDR28:
                c = by_norm.get(norm(name)) or next(
                    (by_norm[k] for k, v in _VINDR_ALIASES.items() if v == name and k in by_norm),
                    None,
                )
                if c is None:
                    raise ClimbError(
                        f"column {name!r} missing from {csv_path.name}", where=str(csv_path)
                    )
                cols.append(c)
            agg: dict[str, list[int]] = {}
            raters: dict[str, list[str]] = {}
            for row in df.to_dict("records"):
                iid = str(row["image_id"])
                vals = [1 if str(row[c]).strip() in ("1", "1.0") else 0 for c in cols]
                prev = agg.get(iid)
                agg[iid] = (
                    vals if prev is None else [max(a, b) for a, b in zip(prev, vals, strict=True)]
                )
                raters.setdefault(iid, []).append(str(row.get("rad_id", "")))
            folder = find_dir(base, split) or base / split
            for iid, vals in agg.items():
                path = folder / f"{iid}.dicom"
                if not path.exists() and (folder / f"{iid}.dcm").exists():
                    path = folder / f"{iid}.dcm"
                cx, unmapped = vindr_to_chexpert(vals)
                out.append(
                    ref(
                        iid, [path], raw_dir, labels={"findings28": vals, "chexpert14": cx},
                        native={"positive": [n for n, v in zip(VINDR28, vals, strict=True) if v],
                                "unmapped_to_chexpert14": unmapped, "raters": raters[iid]},
                        split={"official": split, "climb": split},
                    )
                )  # fmt: skip
        if not out:
            raise ClimbError("annotations/image_labels_{train,test}.csv not found", where=str(raw_dir),
                             fix="climb fetch vindr_cxr (PhysioNet vindr-cxr 1.0.0)")  # fmt: skip
        return out


# -------------------------------------------------------------------- COVID-19 CXR


class Covid19CxrAdapter(_CxrAdapter):
    key = "covid19_cxr"
    has_official = True
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "covid4": {"type": "multiclass",
                   "classes": ("Normal", "BacterialPneumonia", "ViralPneumonia", "COVID-19")},
    }  # fmt: skip
    split_note = "official split: folders TrainData -> train, ValData -> test (as CLIMB)"

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        classes = list(self.task_specs["covid4"]["classes"])
        out = []
        for p, native, cls, split in folder_class_records(
            self, raw_dir, task="covid4", split_dirs={"TrainData": "train", "ValData": "test"}
        ):
            rid = p.relative_to(raw_dir).as_posix()
            out.append(
                ref(rid, [p], raw_dir, labels={"covid4": classes.index(cls) if cls else -1},
                    native={"folder": native}, split={"official": split, "climb": split})
            )  # fmt: skip
        return out


# -------------------------------------------------------------------- CoronaHack


class CoronaHackAdapter(_CxrAdapter):
    key = "coronahack"
    has_official = True
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "pneumonia3": {"type": "multiclass",
                       "classes": ("Normal", "BacterialPneumonia", "ViralPneumonia")},
    }  # fmt: skip
    split_note = "official split: metadata Dataset_type TRAIN/TEST (as CLIMB)"

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        meta = need(find_file(raw_dir, "Chest_xray_Corona_Metadata.csv"),
                    "Chest_xray_Corona_Metadata.csv", raw_dir, "climb fetch coronahack")  # fmt: skip
        mapping = native_map(self.key, "pneumonia3")
        classes = list(self.task_specs["pneumonia3"]["classes"])
        dirs = {s: find_dir(raw_dir, s) for s in ("train", "test")}
        out = []
        for row in read_table(meta).to_dict("records"):
            name = str(row["X_ray_image_name"])
            split = str(row["Dataset_type"]).strip().lower()
            label, cat1 = (
                str(row["Label"]).strip(),
                str(row.get("Label_1_Virus_category", "")).strip(),
            )
            key = norm(f"{label}|{cat1}") if label.lower() != "normal" else norm("Normal|")
            error = None
            if key not in mapping:
                error = f"unknown label combination {label!r}/{cat1!r}"
                y = -1
            elif mapping[key] is None:
                error = f"excluded label {label}/{cat1} (CLIMB drops it)"
                y = -1
            else:
                y = classes.index(mapping[key])
            d = dirs.get(split) or raw_dir / split
            out.append(
                ref(f"{split}/{name}", [d / name], raw_dir, labels={"pneumonia3": y},
                    native={"Label": label, "Label_1_Virus_category": cat1,
                            "Label_2_Virus_category": str(row.get("Label_2_Virus_category", ""))},
                    split={"official": split, "climb": split}, error=error)
            )  # fmt: skip
        return out


__all__ = [
    "CHEXPERT14",
    "VINDR28",
    "ChexpertAdapter",
    "CoronaHackAdapter",
    "Covid19CxrAdapter",
    "MimicCxrAdapter",
    "VindrCxrAdapter",
    "apply_uncertainty",
    "chexpert_columns",
    "parse_chexpert_value",
    "vindr_to_chexpert",
]
