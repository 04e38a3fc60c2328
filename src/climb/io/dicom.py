"""Read 2-D DICOM images with pydicom and turn them into 8-bit pixels by a recorded rule.

Order of operations (DICOM PS3.3 C.11, the grayscale pipeline):

1. decode the pixel data (pydicom; compressed transfer syntaxes go through pydicom's pixel-data
   plugins: Pillow for JPEG baseline/extended and JPEG 2000, numpy for RLE; JPEG-LS and JPEG
   lossless need pylibjpeg / pyjpegls / gdcm, and a file that needs a missing plugin raises
   :class:`DicomReadError` naming the transfer syntax and the packages that would decode it);
2. first frame of a multi-frame image;
3. modality LUT: ``RescaleSlope`` / ``RescaleIntercept`` (or a Modality LUT Sequence);
4. VOI -> 8 bits, by ``window``:

   * ``"auto"`` (default): the file's first window (``WindowCenter``/``WindowWidth``, DICOM's
     linear function) or its VOI LUT Sequence, else ``minmax``;
   * ``"minmax"``: per image min..max -> 0..255;
   * ``"climb"``: CLIMB's ``get_pixel_array`` (clip below 0, divide by the max, times 255);
   * ``(center, width)``: an explicit window (e.g. CT brain 40/80);

5. ``MONOCHROME1`` (white = low values) is inverted after windowing, so the stored image is
   always MONOCHROME2 (bright = dense); colour images (RGB / YBR) come back as RGB.

The rule actually applied is returned in ``info["intensity_rule"]`` and is stored per sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

WindowSpec = str | tuple[float, float]


class DicomReadError(Exception):
    """A DICOM that cannot be read or decoded; ``reason`` is short and names the fix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class DicomImage:
    array: np.ndarray  # (H, W) or (H, W, 3) uint8
    info: dict[str, Any] = field(default_factory=dict)


def _first(value: Any) -> float:
    try:
        return float(value[0])  # MultiValue
    except TypeError:
        return float(value)


def window_to_uint8(x: np.ndarray, center: float, width: float) -> np.ndarray:
    """DICOM linear VOI function (PS3.3 C.11.2.1.2.1) straight to 0..255."""
    width = max(float(width), 1.0)
    c = float(center) - 0.5
    w = width - 1.0
    y = ((x - c) / max(w, 1e-9) + 0.5) * 255.0
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)


def minmax_to_uint8(x: np.ndarray) -> np.ndarray:
    lo, hi = float(np.min(x)), float(np.max(x))
    if hi <= lo:
        return np.zeros(x.shape, dtype=np.uint8)
    return np.clip(np.rint((x - lo) / (hi - lo) * 255.0), 0, 255).astype(np.uint8)


def climb_to_uint8(x: np.ndarray) -> np.ndarray:
    """CLIMB's src/utils.get_pixel_array: clip < 0, x / max * 255."""
    x = np.clip(x, 0, None)
    m = float(x.max())
    if m <= 0:
        return np.zeros(x.shape, dtype=np.uint8)
    return np.clip(np.rint(x / m * 255.0), 0, 255).astype(np.uint8)


def _decode(ds: Any, where: str) -> np.ndarray:
    from pydicom.pixels import get_decoder

    tsyntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if "PixelData" not in ds and "FloatPixelData" not in ds:
        raise DicomReadError("DICOM has no pixel data (not an image object)")
    if tsyntax is not None and tsyntax.is_compressed:
        try:
            dec = get_decoder(tsyntax)
        except NotImplementedError:
            raise DicomReadError(
                f"no pydicom decoder exists for transfer syntax {tsyntax.name} ({tsyntax})"
            ) from None
        if not dec.is_available:
            missing = "; ".join(dec.missing_dependencies)
            raise DicomReadError(
                f"cannot decode transfer syntax {tsyntax.name} ({tsyntax}): every pydicom "
                f"pixel-data plugin for it is missing ({missing}); install one, e.g. "
                "'pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg' or 'pip install "
                "python-gdcm'"
            )
    try:
        return np.asarray(ds.pixel_array)
    except (RuntimeError, NotImplementedError) as exc:
        raise DicomReadError(f"cannot decode pixel data: {str(exc).splitlines()[0]}") from None
    except (ValueError, AttributeError, KeyError, EOFError, OSError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DicomReadError(f"corrupt or truncated pixel data: {msg}") from None


def read_dicom(
    source: str | Path,
    *,
    window: WindowSpec = "auto",
    channels: int = 1,
) -> DicomImage:
    """Decode one DICOM to uint8 (see the module doc for the rules)."""
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    where = str(source)
    try:
        ds = pydicom.dcmread(str(source))
    except InvalidDicomError as exc:
        raise DicomReadError(f"not a DICOM file: {exc}") from None
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise DicomReadError(f"corrupt DICOM: {type(exc).__name__}: {exc}") from None
    a = _decode(ds, where)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    spp = int(ds.get("SamplesPerPixel", 1) or 1)
    nframes = int(ds.get("NumberOfFrames", 1) or 1)
    info: dict[str, Any] = {
        "transfer_syntax": str(ds.file_meta.get("TransferSyntaxUID", "")),
        "photometric": photometric,
        "bits_stored": int(ds.get("BitsStored", ds.get("BitsAllocated", 8)) or 8),
        "rows": int(ds.get("Rows", a.shape[0])),
        "columns": int(ds.get("Columns", a.shape[1] if a.ndim > 1 else 0)),
    }
    if nframes > 1:
        a = a[0]
        info["frames"] = nframes
    if spp == 3 or (a.ndim == 3 and a.shape[-1] == 3):
        # pydicom (>= 3) returns YBR data converted to RGB by default (as_rgb=True)
        rgb = a if a.dtype == np.uint8 else minmax_to_uint8(a.astype(np.float64))
        info["intensity_rule"] = "colour as stored" if a.dtype == np.uint8 else "minmax per image"
        out = rgb if channels == 3 else _luma(rgb)
        return DicomImage(np.ascontiguousarray(out), info)
    if a.ndim != 2:
        raise DicomReadError(f"unexpected pixel array shape {a.shape} for a 2-D image")
    x = np.asarray(apply_modality_lut(a, ds), dtype=np.float64)
    if "RescaleSlope" in ds or "RescaleIntercept" in ds:
        info["rescale"] = [float(ds.get("RescaleSlope", 1)), float(ds.get("RescaleIntercept", 0))]
    if isinstance(window, tuple):
        c, w = window
        g = window_to_uint8(x, c, w)
        info["intensity_rule"] = f"window center={c:g} width={w:g}"
    elif window == "minmax":
        g = minmax_to_uint8(x)
        info["intensity_rule"] = "minmax per image"
    elif window == "climb":
        g = climb_to_uint8(x)
        info["intensity_rule"] = "climb: clip<0, x/max*255"
    elif window == "auto":
        if "WindowCenter" in ds and "WindowWidth" in ds and ds.WindowWidth not in (None, ""):
            c, w = _first(ds.WindowCenter), _first(ds.WindowWidth)
            g = window_to_uint8(x, c, w)
            info["intensity_rule"] = f"DICOM window center={c:g} width={w:g}"
        elif "VOILUTSequence" in ds:
            g = minmax_to_uint8(np.asarray(apply_voi_lut(x, ds), dtype=np.float64))
            info["intensity_rule"] = "DICOM VOI LUT Sequence, then minmax"
        else:
            g = minmax_to_uint8(x)
            info["intensity_rule"] = "minmax per image (no window in the file)"
    else:
        raise ValueError(f"unknown window {window!r}")
    if photometric == "MONOCHROME1":
        g = 255 - g
        info["inverted"] = True
    out = g if channels == 1 else np.repeat(g[..., None], 3, axis=2)
    return DicomImage(np.ascontiguousarray(out), info)


def _luma(rgb: np.ndarray) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).convert("L"))


def read_hu(source: str | Path | Any) -> tuple[np.ndarray, dict[str, Any]]:
    """One single-frame grey DICOM slice as float64 in modality units (CT: Hounsfield units):
    pixel data decoded as :func:`read_dicom` does, then the modality LUT (``RescaleSlope`` /
    ``RescaleIntercept`` or a Modality LUT Sequence). ``source`` is a path or a dataset read
    with pixel data. Returns ``(array (rows, columns), {"rescale": [slope, intercept]})``."""
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import apply_modality_lut

    if isinstance(source, (str, Path)):
        try:
            ds = pydicom.dcmread(str(source))
        except InvalidDicomError as exc:
            raise DicomReadError(f"not a DICOM file: {exc}") from None
        except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
            raise DicomReadError(f"corrupt DICOM: {type(exc).__name__}: {exc}") from None
    else:
        ds = source
    a = _decode(ds, str(getattr(ds, "filename", "")))
    if a.ndim != 2:
        raise DicomReadError(f"expected one grey slice, got a pixel array of shape {a.shape}")
    x = np.asarray(apply_modality_lut(a, ds), dtype=np.float64)
    slope = float(ds.get("RescaleSlope", 1) or 1)
    info = {"rescale": [slope, float(ds.get("RescaleIntercept", 0) or 0)]}
    return x, info


def read_header(source: str | Path) -> Any:
    """Header only (no pixel data), for listing: laterality, view, ids."""
    import pydicom

    try:
        return pydicom.dcmread(str(source), stop_before_pixels=True)
    except Exception as exc:  # a bad header is reported by the caller
        raise DicomReadError(f"unreadable DICOM header: {type(exc).__name__}: {exc}") from None


__all__ = [
    "DicomImage",
    "DicomReadError",
    "climb_to_uint8",
    "minmax_to_uint8",
    "read_dicom",
    "read_header",
    "read_hu",
    "window_to_uint8",
]
