"""Adapters of the mammography datasets (docs/imaging.md): VinDr-Mammo, CBIS-DDSM, CMMD.
1-channel uint8; CMMD keeps the two views of a breast on a ``view`` axis (CC, MLO)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, ClassVar

from climb.core.adapter import PrepareOptions, RecordRef
from climb.core.errors import ClimbError
from climb.datasets._imaging import (
    ImagingAdapter,
    find_dir,
    find_file,
    is_dicom,
    native_map,
    need,
    norm,
    read_table,
    ref,
    visible_files,
)

BIRADS5 = ("BI-RADS 1", "BI-RADS 2", "BI-RADS 3", "BI-RADS 4", "BI-RADS 5")


def birads_index(dataset: str, native: str) -> int | None:
    """Task index (category - 1) of a native BI-RADS value via maps/birads.csv; None = excluded."""
    m = native_map(dataset, None, "birads", col="birads")
    key = norm(native)
    if key not in m:
        raise KeyError(native)
    cls = m[key]
    return None if cls is None else BIRADS5.index(cls)


class _MammoAdapter(ImagingAdapter):
    channels = 1

    def map_tables(self) -> tuple[str, ...]:
        return ("imaging_native.csv", "birads.csv")


class VindrMammoAdapter(_MammoAdapter):
    key = "vindr_mammo"
    has_official = True
    has_climb = True
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "birads": {"type": "multiclass", "classes": BIRADS5, "label_space": "birads",
                   "description": "breast_birads, index = category - 1"},
        "density": {"type": "multiclass",
                    "classes": ("DENSITY A", "DENSITY B", "DENSITY C", "DENSITY D")},
    }  # fmt: skip
    split_note = "official split: breast-level_annotations.csv split training/test; patient = study"

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        csv_path = need(find_file(raw_dir, "breast-level_annotations.csv"),
                        "breast-level_annotations.csv", raw_dir, "climb fetch vindr_mammo")  # fmt: skip
        images = find_dir(csv_path.parent, "images") or csv_path.parent / "images"
        dens = native_map(self.key, "density")
        dclasses = list(self.task_specs["density"]["classes"])
        out = []
        for row in read_table(csv_path).to_dict("records"):
            study, iid = str(row["study_id"]), str(row["image_id"])
            split = {"training": "train", "test": "test"}.get(str(row["split"]).strip().lower(), "")
            error = None
            try:
                b = birads_index(self.key, str(row["breast_birads"]))
            except KeyError:
                b, error = -1, f"unknown breast_birads {row['breast_birads']!r}"
            d = dens.get(norm(row.get("breast_density", "")))
            path = images / study / f"{iid}.dicom"
            if not path.exists() and (images / study / f"{iid}.dcm").exists():
                path = images / study / f"{iid}.dcm"
            out.append(
                ref(iid, [path], raw_dir,
                    labels={"birads": -1 if b is None else b,
                            "density": dclasses.index(d) if d else -1},
                    native={k: str(row.get(k, "")) for k in ("breast_birads", "breast_density")},
                    patient=study, split={"official": split, "climb": split},
                    columns={"laterality": str(row.get("laterality", "")),
                             "view_position": str(row.get("view_position", ""))}, error=error)
            )  # fmt: skip
        return out


_PATHOLOGY_RANK = {"BENIGN_WITHOUT_CALLBACK": 0, "BENIGN": 1, "MALIGNANT": 2}


class CbisDdsmAdapter(_MammoAdapter):
    key = "cbis_ddsm"
    has_official = True
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "birads": {"type": "multiclass", "classes": BIRADS5, "label_space": "birads",
                   "description": "max assessment (1-5) of the image's abnormalities; 0 dropped"},
        "pathology": {"type": "multiclass",
                      "classes": ("BENIGN_WITHOUT_CALLBACK", "BENIGN", "MALIGNANT"),
                      "description": "worst pathology of the image's abnormalities"},
    }  # fmt: skip
    split_note = (
        "official split: {mass,calc}_case_description_{train,test}_set.csv; one sample per full "
        "mammogram (patient, side, view), label = max assessment as CLIMB"
    )

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        groups: dict[str, dict[str, Any]] = {}
        found = False
        for kind in ("mass", "calc"):
            for split in ("train", "test"):
                p = find_file(raw_dir, f"{kind}_case_description_{split}_set.csv")
                if p is None:
                    continue
                found = True
                for row in read_table(p).to_dict("records"):
                    row = {norm(k): v for k, v in row.items()}
                    subject = str(row["imagefilepath"]).strip().split("/")[0]
                    g = groups.setdefault(
                        subject, {"rows": [], "split": split, "path": row["imagefilepath"]}
                    )
                    g["rows"].append(row)
        if not found:
            raise ClimbError("CBIS-DDSM case description CSVs not found", where=str(raw_dir),
                             fix="put mass/calc_case_description_{train,test}_set.csv in the raw folder")  # fmt: skip
        dicom_dirs = {p.name: p for p in raw_dir.rglob("*") if p.is_dir()}
        jpeg_idx: dict[str, Path] | None = None
        pclasses = list(self.task_specs["pathology"]["classes"])
        out = []
        for subject, g in sorted(groups.items()):
            rows = g["rows"]
            assess = []
            for r in rows:
                try:
                    b = birads_index(self.key, str(r["assessment"]).strip())
                except KeyError:
                    b = None
                if b is not None:
                    assess.append(b)
            patho = max(
                (str(r["pathology"]).strip() for r in rows),
                key=lambda s: _PATHOLOGY_RANK.get(s, -1),
            )
            error = None if assess else "only BI-RADS 0 (or unknown) assessments (CLIMB drops them)"
            path = self._find_image(raw_dir, subject, str(g["path"]), dicom_dirs)
            if path is None:
                if jpeg_idx is None:
                    jd = find_dir(raw_dir, "jpeg")
                    jpeg_idx = {p.parent.name: p for p in visible_files(jd)} if jd else {}
                parts = str(g["path"]).strip().split("/")
                path = next((jpeg_idx[q] for q in parts[1:3][::-1] if q in jpeg_idx), None)
            r0 = rows[0]
            out.append(
                ref(subject, [path if path is not None else raw_dir / subject], raw_dir,
                    labels={"birads": max(assess) if assess else -1,
                            "pathology": pclasses.index(patho) if patho in pclasses else -1},
                    native={"assessments": [r["assessment"] for r in rows],
                            "pathologies": [r["pathology"] for r in rows],
                            "abnormality_types": [r.get("abnormalitytype", "") for r in rows]},
                    patient=str(r0["patientid"]), split={"official": g["split"], "climb": g["split"]},
                    columns={"side": str(r0.get("leftorrightbreast", "")),
                             "view": str(r0.get("imageview", "")),
                             "breast_density": str(r0.get("breastdensity", r0.get("breastdensity", "")))},
                    error=error)
            )  # fmt: skip
        return out

    @staticmethod
    def _find_image(
        raw_dir: Path, subject: str, csv_path: str, dirs: dict[str, Path]
    ) -> Path | None:
        """TCIA/NBIA layout: <subject>/<study>/<series>/1-1.dcm (the full mammogram)."""
        d = dirs.get(subject)
        if d is None:
            return None
        dcms = sorted(p for p in d.rglob("*") if p.is_file() and is_dicom(p))
        return dcms[0] if dcms else None


def _dicom_view(ds: Any) -> str:
    vp = str(ds.get("ViewPosition", "") or "").upper()
    if not vp:
        seq = ds.get("ViewCodeSequence")
        if seq:
            meaning = str(seq[0].get("CodeMeaning", "")).lower()
            vp = (
                "CC"
                if "cranio" in meaning
                else ("MLO" if "oblique" in meaning else meaning.upper())
            )
    return "MLO" if "MLO" in vp else ("CC" if "CC" in vp else vp)


def _dicom_side(ds: Any) -> str:
    return str(ds.get("ImageLaterality", "") or ds.get("Laterality", "") or "").upper()[:1]


class CmmdAdapter(_MammoAdapter):
    key = "cmmd"
    views = ("CC", "MLO")
    has_official = False
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {
        "malignancy": {"type": "binary", "classes": ("Benign", "Malignant")},
    }  # fmt: skip
    split_note = (
        "one sample per breast (clinical-table row), views CC and MLO on the view axis (a missing "
        "view is zeros, listed in views_present); default split: seeded patient-level; climb: "
        "first 75% of table rows"
    )

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        table = find_file(raw_dir, "CMMD_clinicaldata_revision.csv") or find_file(
            raw_dir, "CMMD_clinicaldata_revision.xlsx"
        )
        table = need(table, "CMMD_clinicaldata_revision.xlsx", raw_dir,
                     "download the clinical table from the TCIA CMMD page into the raw folder")  # fmt: skip
        df = read_table(table)
        mapping = native_map(self.key, "malignancy")
        classes = list(self.task_specs["malignancy"]["classes"])
        from climb.io.dicom import DicomReadError, read_header

        by_patient: dict[str, list[Path]] = defaultdict(list)
        for p in visible_files(raw_dir):
            if is_dicom(p):
                pid = next(
                    (q for q in p.relative_to(raw_dir).parts if q.startswith("D") and "-" in q),
                    None,
                )
                if pid:
                    by_patient[pid].append(p)
        n = len(df)
        out = []
        for i, row in enumerate(df.to_dict("records")):
            pid, side = str(row["ID1"]).strip(), str(row["LeftRight"]).strip().upper()[:1]
            views: dict[str, Path] = {}
            for p in sorted(by_patient.get(pid, [])):
                try:
                    ds = read_header(p)
                except DicomReadError:
                    continue
                s = _dicom_side(ds)
                if s and s != side:
                    continue
                views.setdefault(_dicom_view(ds), p)
            files = [views.get(v) for v in self.views]
            cls = mapping.get(norm(row["classification"]))
            error = None
            if not any(files):
                error = f"no DICOM of patient {pid} side {side} found"
            elif cls is None:
                error = f"unknown classification {row['classification']!r}"
            out.append(
                ref(f"{pid}_{side}", files if any(files) else [raw_dir / pid], raw_dir,
                    labels={"malignancy": classes.index(cls) if cls else -1},
                    native={k: str(row.get(k, "")) for k in ("classification", "abnormality", "subtype")},
                    patient=pid, split={"climb": "train" if i < int(0.75 * n) else "test"},
                    columns={"side": side, "age": str(row.get("Age", ""))}, error=error)
            )  # fmt: skip
        return out


__all__ = ["BIRADS5", "CbisDdsmAdapter", "CmmdAdapter", "VindrMammoAdapter", "birads_index"]
