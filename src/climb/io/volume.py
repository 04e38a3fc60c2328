"""Read CT/MR volumes: NIfTI (nibabel), MetaImage ``.mhd/.raw`` (SimpleITK) and DICOM series
(pydicom, through :mod:`climb.io.dicom`), all into one convention.

Convention of a :class:`Volume`: ``array`` is ``(slice, row, column)`` = ``(z, y, x)`` in the
patient's LPS frame (DICOM's): slices run inferior -> superior, rows anterior -> posterior,
columns right -> left, i.e. axial slices as a radiologist views them. ``spacing`` is
``(dz, dy, dx)`` in mm, ``origin`` the LPS position (mm) of voxel ``(0, 0, 0)``. Values are in
the file's units after its rescale (CT: Hounsfield units).

* **NIfTI**: reoriented to the closest canonical axes (nibabel ``as_closest_canonical``, RAS),
  then flipped to LPS. An oblique affine (orthogonal but rotated) is reoriented to its closest
  axes and the obliquity (degrees) is recorded in ``notes``; a non-orthogonal (sheared) affine
  is refused (:class:`VolumeReadError`): it needs resampling, which climb does not guess.
* **MetaImage**: SimpleITK reads the header and the ``.raw``/``.zraw``; ``DICOMOrient(LPS)``.
* **DICOM series**: headers read without pixels, grouped by ``SeriesInstanceUID``; one folder
  holding several series is refused unless a series is chosen. Slices are ordered by the
  projection of ``ImagePositionPatient`` on the slice normal (row x column cosines), never by
  file name or ``InstanceNumber`` (used only when positions are missing, with a note). Refused:
  inconsistent orientation or pixel grid, duplicated positions, missing slices (a gap of about
  twice the usual spacing or more) and otherwise inconsistent spacing. Pixels go through the
  modality LUT (``RescaleSlope``/``RescaleIntercept``) per slice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


class VolumeReadError(Exception):
    """A volume that cannot be read; ``reason`` is short and names the file or folder."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Volume:
    array: np.ndarray  # (z, y, x), LPS, file units (HU for CT)
    spacing: tuple[float, float, float]  # (dz, dy, dx) mm
    origin: tuple[float, float, float] = (0.0, 0.0, 0.0)  # LPS mm of voxel (0, 0, 0)
    source_format: str = ""
    notes: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.array.shape)  # type: ignore[return-value]


NIFTI_SUFFIXES = (".nii", ".nii.gz")
MHD_SUFFIXES = (".mhd", ".mha")


def _name(p: str | Path) -> str:
    return Path(p).name


def _short(exc: BaseException) -> str:
    s = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return s[:200]


# ----------------------------------------------------------------------------- NIfTI


def affine_check(affine: np.ndarray) -> tuple[float, float]:
    """``(max |cos| between voxel axes, obliquity in degrees)`` of a 4x4 affine: the first is 0
    for an orthogonal grid; the second is the largest angle between a voxel axis and its closest
    world axis (0 for an axis-aligned grid)."""
    rzs = np.asarray(affine, dtype=np.float64)[:3, :3]
    norms = np.linalg.norm(rzs, axis=0)
    if np.any(norms <= 0):
        return 1.0, 90.0
    u = rzs / norms
    gram = u.T @ u
    shear = float(np.max(np.abs(gram - np.eye(3))))
    obl = float(np.degrees(np.arccos(np.clip(np.max(np.abs(u), axis=0), -1, 1))).max())
    return shear, obl


def read_nifti(path: str | Path, *, shear_tol: float = 1e-3) -> Volume:
    """A 3-D NIfTI (or 4-D with one volume) as a :class:`Volume` (see the module doc)."""
    import nibabel as nib

    name = _name(path)
    try:
        img = nib.load(str(path))
    except FileNotFoundError:
        raise VolumeReadError(f"{name}: file not found") from None
    except Exception as exc:  # nibabel raises many types for bad files
        raise VolumeReadError(f"{name}: not a readable NIfTI ({_short(exc)})") from None
    shape = img.shape
    if len(shape) == 4 and shape[3] == 1:
        img = img.slicer[..., 0]
        shape = img.shape
    if len(shape) != 3:
        raise VolumeReadError(f"{name}: expected a 3-D volume, the image has shape {shape}")
    shear, obl = affine_check(img.affine)
    if shear > shear_tol:
        raise VolumeReadError(
            f"{name}: non-orthogonal (sheared) affine (max |cos| between voxel axes "
            f"{shear:.3g}); it needs resampling to a regular grid, which climb does not guess: "
            "resample it (e.g. SimpleITK.Resample) and prepare again"
        )
    notes = []
    if obl > 0.5:
        notes.append(
            f"oblique affine ({obl:.1f} degrees from the closest axes): reoriented to the "
            "closest canonical axes without resampling"
        )
    canon = nib.as_closest_canonical(img)
    try:
        data = np.asanyarray(canon.dataobj)
    except Exception as exc:
        raise VolumeReadError(f"{name}: cannot read the voxel data ({_short(exc)})") from None
    if data.dtype.kind == "f" and not np.all(np.isfinite(data)):
        raise VolumeReadError(f"{name}: voxel data has NaN or infinite values")
    # RAS (x right, y anterior, z superior) -> LPS, then (x, y, z) -> (z, y, x)
    arr = np.ascontiguousarray(np.transpose(data[::-1, ::-1, :], (2, 1, 0)))
    zooms = [float(z) for z in canon.header.get_zooms()[:3]]
    nx, ny = data.shape[0], data.shape[1]
    p = canon.affine @ np.array([nx - 1, ny - 1, 0, 1.0])
    origin = (float(-p[0]), float(-p[1]), float(p[2]))
    orig_axes = "".join(nib.aff2axcodes(img.affine))
    return Volume(
        array=arr,
        spacing=(zooms[2], zooms[1], zooms[0]),
        origin=origin,
        source_format="nifti",
        notes=notes,
        info={"file_axes": orig_axes, "file_shape": list(shape)},
    )


# ----------------------------------------------------------------------------- MetaImage


def _mhd_data_file(path: Path) -> Path | None:
    """The ``ElementDataFile`` a ``.mhd`` header names (``None`` for LOCAL / lists / .mha)."""
    if path.suffix.lower() != ".mhd":
        return None
    try:
        head = path.read_bytes()[:8192].decode("latin-1")
    except OSError:
        return None
    for line in head.splitlines():
        k, _, v = line.partition("=")
        if k.strip() == "ElementDataFile":
            v = v.strip()
            if v.upper() in ("LOCAL", "LIST") or "%" in v or not v:
                return None
            return path.parent / v
    return None


def read_metaimage(path: str | Path) -> Volume:
    """A MetaImage ``.mhd`` (+ ``.raw``) or ``.mha`` as a :class:`Volume` (SimpleITK)."""
    import SimpleITK as sitk

    name = _name(path)
    if not Path(path).is_file():
        raise VolumeReadError(f"{name}: file not found")
    data_file = _mhd_data_file(Path(path))
    if data_file is not None and not data_file.is_file():
        raise VolumeReadError(
            f"{name}: cannot read the voxel data: its ElementDataFile {data_file.name} is missing"
        )
    try:
        img = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        msg = " ".join(str(exc).split())[-200:]
        raise VolumeReadError(
            f"{name}: not a readable MetaImage (truncated data file or bad header): {msg}"
        ) from None
    if img.GetDimension() != 3:
        raise VolumeReadError(f"{name}: expected a 3-D image, got {img.GetDimension()}-D")
    if img.GetNumberOfComponentsPerPixel() != 1:
        raise VolumeReadError(f"{name}: expected one value per voxel (a vector image)")
    d = np.asarray(img.GetDirection(), dtype=np.float64).reshape(3, 3)
    aff = np.eye(4)
    aff[:3, :3] = d * np.asarray(img.GetSpacing())
    shear, obl = affine_check(aff)
    if shear > 1e-3:
        raise VolumeReadError(f"{name}: non-orthogonal direction matrix (max |cos| {shear:.3g})")
    notes = []
    if obl > 0.5:
        notes.append(f"oblique direction ({obl:.1f} degrees): reoriented to the closest axes")
    img = sitk.DICOMOrient(img, "LPS")
    arr = sitk.GetArrayFromImage(img)  # (z, y, x)
    sx, sy, sz = (float(s) for s in img.GetSpacing())
    ox, oy, oz = (float(o) for o in img.GetOrigin())
    return Volume(
        array=np.ascontiguousarray(arr),
        spacing=(sz, sy, sx),
        origin=(ox, oy, oz),
        source_format="metaimage",
        notes=notes,
    )


# ----------------------------------------------------------------------------- DICOM series


@dataclass(frozen=True)
class SliceHeader:
    path: str
    series_uid: str
    study_uid: str
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    rows: int
    columns: int
    pixel_spacing: tuple[float, float] | None
    instance: int | None
    sop_uid: str


def _floats(v: Any) -> tuple[float, ...] | None:
    if v is None or v == "":
        return None
    try:
        return tuple(float(x) for x in v)
    except (TypeError, ValueError):
        return None


def slice_header(path: str | Path) -> SliceHeader:
    from climb.io.dicom import DicomReadError, read_header

    try:
        ds = read_header(path)
    except DicomReadError as exc:
        raise VolumeReadError(f"{_name(path)}: {exc.reason}") from None
    pos = _floats(ds.get("ImagePositionPatient"))
    ori = _floats(ds.get("ImageOrientationPatient"))
    ps = _floats(ds.get("PixelSpacing"))
    inst = ds.get("InstanceNumber")
    return SliceHeader(
        path=str(path),
        series_uid=str(ds.get("SeriesInstanceUID", "") or ""),
        study_uid=str(ds.get("StudyInstanceUID", "") or ""),
        position=pos if pos and len(pos) == 3 else None,  # type: ignore[arg-type]
        orientation=ori if ori and len(ori) == 6 else None,
        rows=int(ds.get("Rows", 0) or 0),
        columns=int(ds.get("Columns", 0) or 0),
        pixel_spacing=ps[:2] if ps and len(ps) >= 2 else None,  # type: ignore[arg-type]
        instance=int(inst) if inst not in (None, "") else None,
        sop_uid=str(ds.get("SOPInstanceUID", "") or ""),
    )


def group_series(headers: Sequence[SliceHeader]) -> dict[str, list[SliceHeader]]:
    """Slices grouped by SeriesInstanceUID (an empty UID is one group of its own)."""
    out: dict[str, list[SliceHeader]] = defaultdict(list)
    for h in headers:
        out[h.series_uid].append(h)
    return dict(out)


def order_slices(
    headers: Sequence[SliceHeader], *, where: str, gap_factor: float = 1.5, spacing_tol: float = 0.1
) -> tuple[list[SliceHeader], float, list[str]]:
    """Slices of one series ordered along the slice normal; ``(ordered, dz, notes)``.

    Raises :class:`VolumeReadError` for inconsistent orientation/grid, duplicated positions,
    missing slices (a gap >= ``gap_factor`` x the median spacing) or spacing that varies by more
    than ``spacing_tol`` (relative) otherwise."""
    hs = list(headers)
    notes: list[str] = []
    grids = {(h.rows, h.columns, h.pixel_spacing) for h in hs}
    if len(grids) > 1:
        raise VolumeReadError(
            f"{where}: slices of one series have different pixel grids "
            f"(rows, columns, spacing: {sorted(map(str, grids))[:3]})"
        )
    if any(h.position is None for h in hs):
        if all(h.instance is not None for h in hs):
            notes.append("no ImagePositionPatient: slices ordered by InstanceNumber")
            hs.sort(key=lambda h: (h.instance, h.path))
            return hs, 0.0, notes
        raise VolumeReadError(
            f"{where}: slices have neither ImagePositionPatient nor InstanceNumber to order them"
        )
    oris = [np.asarray(h.orientation or (1, 0, 0, 0, 1, 0), dtype=np.float64) for h in hs]
    if any(np.max(np.abs(o - oris[0])) > 1e-3 for o in oris):
        raise VolumeReadError(f"{where}: slices of one series have different orientations")
    row, col = oris[0][:3], oris[0][3:]
    normal = np.cross(row, col)
    z = np.array([float(np.dot(normal, h.position)) for h in hs])  # type: ignore[arg-type]
    order = np.argsort(z, kind="stable")
    hs = [hs[i] for i in order]
    z = z[order]
    if len(hs) == 1:
        return hs, 0.0, notes
    d = np.diff(z)
    dup = np.flatnonzero(d < 1e-3)
    if dup.size:
        i = int(dup[0])
        raise VolumeReadError(
            f"{where}: duplicated slice position {z[i]:.2f} mm ({_name(hs[i].path)} and "
            f"{_name(hs[i + 1].path)}); {dup.size} duplicate(s)"
        )
    med = float(np.median(d))
    big = np.flatnonzero(d >= gap_factor * med)
    if big.size:
        i = int(big[0])
        n_missing = round(d[i] / med) - 1
        raise VolumeReadError(
            f"{where}: missing slice(s) between {_name(hs[i].path)} ({z[i]:.2f} mm) and "
            f"{_name(hs[i + 1].path)} ({z[i + 1]:.2f} mm): gap {d[i]:.2f} mm, usual spacing "
            f"{med:.2f} mm (about {max(n_missing, 1)} slice(s) missing)"
        )
    if float(np.max(np.abs(d - med))) > spacing_tol * med:
        raise VolumeReadError(
            f"{where}: inconsistent slice spacing ({float(d.min()):.3f} to {float(d.max()):.3f} "
            "mm); it needs resampling"
        )
    return hs, med, notes


def dicom_files(folder: str | Path) -> list[Path]:
    """Files under ``folder`` that look like DICOM (``.dcm``/no extension; hidden skipped)."""
    out = []
    for p in sorted(Path(folder).rglob("*")):
        if not p.is_file() or any(part.startswith(".") for part in p.relative_to(folder).parts):
            continue
        if p.suffix.lower() in (".dcm", ".dicom", "") or p.suffix[1:].isdigit():
            out.append(p)
    return out


def read_dicom_series(
    source: str | Path | Sequence[str | Path],
    *,
    series_uid: str | None = None,
    dtype: Any = np.float32,
) -> Volume:
    """A DICOM series (a folder or a list of slice files) as a :class:`Volume` in HU."""
    from climb.io.dicom import DicomReadError, read_hu

    if isinstance(source, (str, Path)):
        where = _name(source) or str(source)
        files = dicom_files(source) if Path(source).is_dir() else [Path(source)]
    else:
        files = [Path(f) for f in source]
        where = _name(Path(files[0]).parent) if files else "series"
    if not files:
        raise VolumeReadError(f"{where}: no DICOM files")
    headers = [slice_header(f) for f in files]
    groups = group_series(headers)
    if series_uid is not None:
        if series_uid not in groups:
            raise VolumeReadError(f"{where}: no series {series_uid} among {len(groups)} series")
        hs = groups[series_uid]
    elif len(groups) > 1:
        uids = ", ".join(u or "(empty)" for u in sorted(groups)[:4])
        raise VolumeReadError(
            f"{where}: mixed series in one folder: {len(groups)} SeriesInstanceUIDs ({uids}); "
            "choose one series or split the folder"
        )
    else:
        hs = next(iter(groups.values()))
    ordered, dz, notes = order_slices(hs, where=where)
    slices = []
    rescales = set()
    for h in ordered:
        try:
            x, info = read_hu(h.path)
        except DicomReadError as exc:
            raise VolumeReadError(f"{_name(h.path)}: {exc.reason}") from None
        slices.append(x)
        rescales.add(tuple(info["rescale"]))
    arr = np.stack(slices).astype(dtype)
    ps = ordered[0].pixel_spacing or (1.0, 1.0)
    if dz == 0.0:
        dz = 1.0
        notes.append("slice spacing unknown (one slice or no positions): 1 mm recorded")
    pos = ordered[0].position or (0.0, 0.0, 0.0)
    ori = ordered[0].orientation or (1, 0, 0, 0, 1, 0)
    if np.max(np.abs(np.asarray(ori) - np.array([1, 0, 0, 0, 1, 0]))) > 1e-3:
        notes.append(f"non-axial orientation {tuple(round(o, 3) for o in ori)}: kept as stored")
    return Volume(
        array=arr,
        spacing=(float(dz), float(ps[0]), float(ps[1])),
        origin=tuple(float(p) for p in pos),  # type: ignore[arg-type]
        source_format="dicom",
        notes=notes,
        info={
            "series_uid": ordered[0].series_uid,
            "study_uid": ordered[0].study_uid,
            "slices": [_name(h.path) for h in ordered],
            "sop_uids": [h.sop_uid for h in ordered],
            "rescale": sorted(rescales),
        },
    )


# ----------------------------------------------------------------------------- generic


def read_volume(path: str | Path) -> Volume:
    """Dispatch on the path: ``.nii``/``.nii.gz`` -> NIfTI, ``.mhd``/``.mha`` -> MetaImage, a
    folder -> DICOM series."""
    p = Path(path)
    low = p.name.lower()
    if p.is_dir():
        return read_dicom_series(p)
    if low.endswith(NIFTI_SUFFIXES):
        return read_nifti(p)
    if low.endswith(MHD_SUFFIXES):
        return read_metaimage(p)
    raise VolumeReadError(f"{p.name}: unknown volume format (expected .nii[.gz], .mhd or a folder)")


def to_int16_hu(x: np.ndarray) -> np.ndarray:
    """HU values rounded and clipped to int16 (the store's CT dtype; CT spans -1024..3071)."""
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def resize_slices(x: np.ndarray, size: tuple[int, int], order: int = 1) -> np.ndarray:
    """Each slice of ``(z, y, x)`` resized in-plane to ``size`` (``(rows, columns)``) with
    scipy's ``ndimage.zoom`` (``order=1`` linear; ``order=0`` nearest, for label masks)."""
    from scipy.ndimage import zoom

    if tuple(x.shape[1:]) == tuple(size):
        return x
    f = (1.0, size[0] / x.shape[1], size[1] / x.shape[2])
    out = zoom(x, f, order=order, mode="nearest", grid_mode=True)
    return out[:, : size[0], : size[1]].astype(x.dtype, copy=False)


def window_starts(n: int, window: int, stride: int, rule: str = "all") -> list[int]:
    """Start slices of windows of ``window`` slices every ``stride`` slices. ``rule="all"``:
    every window that fits, ``(n - window) // stride + 1`` of them; ``"climb"``: CLIMB's LNDb
    count ``(n - window) // stride`` (the last fitting window is dropped)."""
    if n < window:
        return []
    k = (n - window) // stride + (1 if rule == "all" else 0)
    return [i * stride for i in range(k)]


__all__ = [
    "SliceHeader",
    "Volume",
    "VolumeReadError",
    "affine_check",
    "dicom_files",
    "group_series",
    "order_slices",
    "read_dicom_series",
    "read_metaimage",
    "read_nifti",
    "read_volume",
    "resize_slices",
    "slice_header",
    "to_int16_hu",
    "window_starts",
]
