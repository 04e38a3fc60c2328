"""Shared machinery of the 2-D imaging adapters (X-ray, mammography, dermoscopy, fundus,
pathology, MRI slices, ultrasound, head CT). docs/imaging.md documents every dataset.

A concrete adapter lists its records (``records()``: cheap, tables and file names only); each
:class:`~climb.core.adapter.RecordRef` carries in ``info``:

* ``files``: relative paths, one per view/plane (``None`` = view missing -> zeros);
* ``labels``: {task: value in the store encoding}; ``native``: the source's own labels;
* ``patient``: patient (or lesion) id; ``split``: {rule: split} hints (``official``, ``climb``);
* ``columns``: extra scalar columns; ``error``: a reason to quarantine the record at read time.

``read_record`` (shared) decodes every file (Pillow, or pydicom for DICOM), standardizes it to
``(planes, size, size)`` uint8 and records per-sample pixel statistics (``pixel_mean`` and
``pixel_sqmean`` per plane, in 0..1 units) from which the dataset mean/std is exact.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from climb.core.adapter import BaseAdapter, PrepareOptions, RecordError, RecordRef, Sample
from climb.core.errors import ClimbError
from climb.core.schema import FieldSpec
from climb.io.dicom import DicomReadError, read_dicom
from climb.io.image import ImageReadError, read_image, standardize

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
DICOM_EXTS = (".dcm", ".dicom")
DEFAULT_SIZE = 256


def norm(s: Any) -> str:
    """Normalized name for matching labels/columns by name: lower case, alphanumerics only."""
    return re.sub(r"[^a-z0-9]+", "", str(s).strip().lower())


@cache
def map_rows(table: str) -> tuple[dict[str, str], ...]:
    from climb.labels import load_mapping

    return tuple(load_mapping(table))


def native_map(
    dataset: str, task: str | None = None, table: str = "imaging_native", col: str = "class"
) -> dict[str, str | None]:
    """``{norm(native): class or None (excluded)}`` of one dataset(/task) in a mapping table."""
    out: dict[str, str | None] = {}
    for r in map_rows(table):
        if r["dataset"] == dataset and (task is None or r.get("task", task) == task):
            out[norm(r["native"])] = r[col] or None
    if not out:
        raise ClimbError(f"mapping table {table}.csv has no rows for {dataset}/{task}")
    return out


def is_image(p: Path) -> bool:
    return p.suffix.lower() in IMAGE_EXTS


def is_dicom(p: Path) -> bool:
    return p.suffix.lower() in DICOM_EXTS


def visible_files(root: Path) -> list[Path]:
    """All files under ``root`` (sorted), skipping hidden files/folders and macOS junk."""
    out = []
    for p in root.rglob("*"):
        rel = p.relative_to(root).parts
        if any(part.startswith(".") or part == "__MACOSX" for part in rel) or not p.is_file():
            continue
        out.append(p)
    return sorted(out)


def find_file(raw_dir: Path, *names: str) -> Path | None:
    """The shallowest file under ``raw_dir`` named one of ``names`` (case-insensitive)."""
    want = {n.lower() for n in names}
    best: Path | None = None
    for p in raw_dir.rglob("*"):
        if (
            p.name.lower() in want
            and p.is_file()
            and "__MACOSX" not in p.parts
            and (best is None or (len(p.parts), str(p)) < (len(best.parts), str(best)))
        ):
            best = p
    return best


def find_dir(raw_dir: Path, name: str) -> Path | None:
    """The shallowest directory under ``raw_dir`` (or itself) named ``name`` (case-insensitive)."""
    if raw_dir.name.lower() == name.lower():
        return raw_dir
    cands = [p for p in raw_dir.rglob("*") if p.is_dir() and p.name.lower() == name.lower()]
    cands = [p for p in cands if "__MACOSX" not in p.parts]
    return min(cands, key=lambda p: (len(p.parts), str(p))) if cands else None


def index_by_stem(raw_dir: Path, exts: Iterable[str] = IMAGE_EXTS) -> dict[str, Path]:
    """{file stem (lower case): path} of the image files under ``raw_dir`` (first by path)."""
    ex = tuple(exts)
    out: dict[str, Path] = {}
    for p in visible_files(raw_dir):
        if p.suffix.lower() in ex:
            out.setdefault(p.stem.lower(), p)
    return out


def need(path: Path | None, what: str, raw_dir: Path, fix: str) -> Path:
    if path is None:
        raise ClimbError(f"{what} not found", where=str(raw_dir), fix=fix)
    return path


def read_table(path: Path) -> Any:
    """A CSV/TSV (optionally .gz) or an Excel sheet as a DataFrame of strings (blanks = '')."""
    import pandas as pd

    name = path.name.lower()
    if name.endswith((".xlsx", ".xls")):
        try:
            return pd.read_excel(path, dtype=str).fillna("")
        except ImportError:
            raise ClimbError(
                f"{path.name} is an Excel file and openpyxl is not installed",
                where=str(path),
                fix="pip install openpyxl, or save the sheet as CSV next to it (same name, .csv)",
            ) from None
    sep = "\t" if name.endswith((".tsv", ".tsv.gz")) else ","
    return pd.read_csv(path, dtype=str, sep=sep, keep_default_na=False)


def seeded_fraction_split(
    ids: list[str], labels: list[Any], frac: float, seed: int, names: tuple[str, str]
) -> dict[str, str]:
    """CLIMB's per-class rule: ``df[label==c].sample(int(frac*n), random_state=seed)`` -> first
    name, the rest -> second name (pandas' sample, as the original code)."""
    import pandas as pd

    df = pd.DataFrame({"id": ids, "label": labels})
    out = {i: names[1] for i in ids}
    for _, g in df.groupby("label", sort=True):
        for i in g.sample(n=int(frac * len(g)), random_state=seed)["id"]:
            out[i] = names[0]
    return out


def sklearn_split(
    ids: list[str], test_size: float, seed: int, stratify: list[Any] | None = None
) -> dict[str, str]:
    from sklearn.model_selection import train_test_split

    tr, te = train_test_split(ids, test_size=test_size, random_state=seed, stratify=stratify)
    return {**{i: "train" for i in tr}, **{i: "test" for i in te}}


class ImagingAdapter(BaseAdapter):
    """Base of every 2-D imaging adapter. Subclasses set the class attributes and ``records``."""

    key: str = ""
    version: str = "1"
    channels: int = 1  # 1 = grey (X-ray, mammography, CT, MRI, ultrasound), 3 = colour
    views: tuple[str, ...] = ()  # named planes of one sample (e.g. CC/MLO, brain/bone window)
    size: int = DEFAULT_SIZE
    resize: str = "pad"
    window: Any = "auto"  # DICOM VOI rule (climb.io.dicom)
    task_specs: ClassVar[dict[str, dict[str, Any]]] = {}
    has_official: bool = False
    has_climb: bool = True
    split_note: str = ""
    field_name: str = "image"

    def __init__(self, *, size: int | None = None, resize: str | None = None) -> None:
        from typing import get_args

        from climb.io.image import ResizeMode

        if size is not None:
            if isinstance(size, bool) or not isinstance(size, int) or not 8 <= size <= 4096:
                raise ValueError(f"size must be an integer from 8 to 4096 pixels, got {size!r}")
            self.size = size
        if resize is not None:
            modes = get_args(ResizeMode)
            if resize not in modes:
                raise ValueError(f"resize must be one of {', '.join(modes)}, got {resize!r}")
            self.resize = resize
        self.extra_code_files = tuple(self._map_files())

    def _map_files(self) -> list[str]:
        from importlib import resources

        d = resources.files("climb.labels").joinpath("maps")
        return [str(d.joinpath(n)) for n in self.map_tables()]

    def map_tables(self) -> tuple[str, ...]:
        return ("imaging_native.csv",)

    # ---------------------------------------------------------------- protocol
    @property
    def planes(self) -> int:
        return len(self.views) if self.views else self.channels

    def fields(self) -> list[FieldSpec]:
        axes = ("view", "height", "width") if self.views else ("channel", "height", "width")
        per = self.planes * self.size * self.size
        chunks = int(max(8, min(128, (4 << 20) // per)))
        return [
            FieldSpec(
                self.field_name,
                "uint8",
                (self.planes, self.size, self.size),
                axes=axes,
                unit="8-bit intensity",
                chunks=chunks,
                codec={"name": "blosc", "cname": "lz4", "clevel": 5, "shuffle": "noshuffle"},
            )
        ]

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, spec in self.task_specs.items():
            out[name] = {
                "type": spec["type"],
                "classes": list(spec.get("classes", ())),
                "label_space": spec.get("label_space"),
                "column": f"label__{name}",
                "policy": spec.get("policy", options.label_policy),
                "description": spec.get("description", ""),
            }
        return out

    def split_rules(self, raw_dir: Path) -> list[str]:
        rules = ["official"] if self.has_official else []
        if self.has_climb:
            rules.append("climb")
        return [*rules, "patient"]

    def default_split_rule(self, raw_dir: Path) -> str:
        return "official" if self.has_official else "patient"

    def summary_notes(self, raw_dir: Path, options: PrepareOptions) -> list[str]:
        notes = [
            f"images: {self.planes} plane(s) x {self.size}x{self.size} uint8, resize={self.resize}"
            + (f", views={list(self.views)}" if self.views else "")
        ]
        if self.split_note:
            notes.append(self.split_note)
        return notes

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        refs = self.records(raw_dir, options)
        return sorted(refs, key=lambda r: r.record_id)

    def records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        raise NotImplementedError

    # ---------------------------------------------------------------- reading
    def decode(self, path: Path) -> tuple[np.ndarray, dict[str, Any]]:
        """One file -> (H, W[, 3]) uint8 and how it was decoded."""
        try:
            if is_dicom(path):
                d = read_dicom(path, window=self.window, channels=self.channels)
                return d.array, d.info
            im = read_image(path, channels=self.channels, draft_size=self.size)
            return im.array, im.info
        except (ImageReadError, DicomReadError) as exc:
            raise RecordError(f"{exc.reason} ({path.name})", stage="decode") from None

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        info = ref.info
        if info.get("error"):
            raise RecordError(info["error"], stage="labels")
        files: list[str | None] = list(info["files"])
        planes: list[np.ndarray] = []
        rules: list[str] = []
        sizes: list[list[int]] = []
        for rel in files:
            if rel is None:
                planes.append(np.zeros((1, self.size, self.size), dtype=np.uint8))
                continue
            p = raw_dir / rel
            if not p.is_file():
                raise RecordError(f"missing file: {rel}", stage="read")
            a, how = self.decode(p)
            if "size" in how:  # Pillow (width, height) before any draft downscaling
                sizes.append([int(how["size"][1]), int(how["size"][0])])
            else:
                sizes.append(
                    [int(how.get("rows", a.shape[0])), int(how.get("columns", a.shape[1]))]
                )
            rules.append(str(how.get("intensity_rule", "")))
            c = 1 if self.views else self.channels
            planes.append(standardize(a, self.size, channels=c, mode=self.resize))  # type: ignore[arg-type]
        x = np.concatenate(planes, axis=0)
        f = x.reshape(x.shape[0], -1).astype(np.float64) / 255.0
        cols: dict[str, Any] = dict(info.get("columns", {}))
        cols["pixel_mean"] = [round(float(v), 8) for v in f.mean(axis=1)]
        cols["pixel_sqmean"] = [round(float(v), 8) for v in (f * f).mean(axis=1)]
        cols["intensity_rule"] = "; ".join(sorted(set(rules)))
        cols["orig_height"] = sizes[0][0] if sizes else None
        cols["orig_width"] = sizes[0][1] if sizes else None
        if self.views:
            cols["views_present"] = [v for v, r in zip(self.views, files, strict=True) if r]
        return Sample(
            sample_id=ref.record_id,
            patient_id=str(info.get("patient") or ref.record_id),
            source_path=ref.source_path,
            arrays={self.field_name: x},
            labels=dict(info.get("labels", {})),
            native_labels=dict(info.get("native", {})),
            columns=cols,
            split_hint=dict(info.get("split", {})),
        )


def ref(
    record_id: str,
    files: list[Path | None],
    raw_dir: Path,
    *,
    labels: dict[str, Any],
    native: dict[str, Any],
    patient: str | None = None,
    split: dict[str, str] | None = None,
    columns: dict[str, Any] | None = None,
    error: str | None = None,
) -> RecordRef:
    rels = [p.relative_to(raw_dir).as_posix() if p is not None else None for p in files]
    first = next((r for r in rels if r), record_id)
    return RecordRef(
        record_id,
        first,
        {
            "files": rels,
            "labels": labels,
            "native": native,
            "patient": patient or record_id,
            "split": dict(split or {}),
            "columns": dict(columns or {}),
            "error": error,
        },
    )


def folder_class_records(
    adapter: ImagingAdapter,
    raw_dir: Path,
    *,
    task: str,
    split_dirs: dict[str, str] | None,
    table: str = "imaging_native",
    exclude: Any = None,
) -> list[tuple[Path, str, str | None, str]]:
    """Images laid out as ``[<split dir>/]<class dir>/<file>``: returns (path, native class
    folder, mapped class or None, official split or '') for every image file found."""
    mapping = native_map(adapter.key, task, table)
    out: list[tuple[Path, str, str | None, str]] = []
    roots: list[tuple[Path, str]] = []
    if split_dirs:
        for dname, split in split_dirs.items():
            d = find_dir(raw_dir, dname)
            if d is not None:
                roots.append((d, split))
        if not roots:
            raise ClimbError(
                f"none of the folders {', '.join(split_dirs)} found for {adapter.key}",
                where=str(raw_dir),
                fix="unpack the archive as downloaded (see docs/imaging.md)",
            )
    else:
        roots = [(raw_dir, "")]
    seen: set[Path] = set()
    for root, split in roots:
        for p in visible_files(root):
            if not is_image(p) or p in seen or (exclude and exclude(p)):
                continue
            # the class folder is the nearest ancestor whose name is a known class
            cls_dir = None
            for anc in p.relative_to(root).parts[:-1][::-1]:
                if norm(anc) in mapping:
                    cls_dir = anc
                    break
            if cls_dir is None:
                continue
            seen.add(p)
            out.append((p, cls_dir, mapping[norm(cls_dir)], split))
    if not out:
        raise ClimbError(
            f"no images in class folders for {adapter.key}",
            where=str(raw_dir),
            fix=f"expected class folders named {sorted(set(mapping))} (see docs/imaging.md)",
        )
    return out


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


__all__ = [
    "ImagingAdapter",
    "find_dir",
    "find_file",
    "folder_class_records",
    "index_by_stem",
    "native_map",
    "norm",
    "read_table",
    "ref",
    "seeded_fraction_split",
    "sklearn_split",
]
