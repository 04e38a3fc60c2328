"""Writers of small, generated raw layouts for the imaging tests (Pillow and pydicom)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def gradient(h: int = 40, w: int = 32, channels: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = ((x * 255 // max(w - 1, 1) + y * 3) % 256).astype(np.uint8)
    noise = rng.integers(0, 20, size=(h, w), dtype=np.uint8)
    g = np.clip(base.astype(int) + noise, 0, 255).astype(np.uint8)
    if channels == 3:
        return np.stack([g, 255 - g, (g // 2 + 60).astype(np.uint8)], axis=2)
    return g


def write_image(
    path: Path, arr: np.ndarray | None = None, fmt: str | None = None, **kw: Any
) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    a = gradient() if arr is None else arr
    Image.fromarray(a).save(path, format=fmt, **kw)
    return path


def write_truncated_jpeg(path: Path) -> Path:
    write_image(path, gradient(64, 64, 3))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def write_dicom(
    path: Path,
    arr: np.ndarray,
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    window: tuple[float, float] | None = None,
    slope: float | None = None,
    intercept: float | None = None,
    signed: bool = False,
    tags: dict[str, Any] | None = None,
    rle: bool = False,
) -> Path:
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

    path.parent.mkdir(parents=True, exist_ok=True)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.2"  # digital mammography
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "MG"
    ds.Rows, ds.Columns = int(arr.shape[0]), int(arr.shape[1])
    rgb = arr.ndim == 3
    ds.SamplesPerPixel = 3 if rgb else 1
    ds.PhotometricInterpretation = "RGB" if rgb else photometric
    if rgb:
        ds.PlanarConfiguration = 0
    alloc = 8 if arr.dtype in (np.uint8, np.int8) else 16
    ds.BitsAllocated = alloc
    ds.BitsStored = bits_stored or alloc
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if window:
        ds.WindowCenter, ds.WindowWidth = window
    if slope is not None:
        ds.RescaleSlope = slope
        ds.RescaleIntercept = intercept or 0
    for k, v in (tags or {}).items():
        setattr(ds, k, v)
    ds.PixelData = np.ascontiguousarray(arr).tobytes()
    if rle:
        ds.compress(RLELossless)
    pydicom.dcmwrite(str(path), ds, enforce_file_format=True)
    return path


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path
