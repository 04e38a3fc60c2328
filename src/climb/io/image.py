"""Read 2-D images (JPEG, PNG, TIFF, BMP) with Pillow and standardize them for a store.

Decoding rules (docs/imaging.md):

* EXIF orientation is applied (``ImageOps.exif_transpose``), so a photo stored rotated with an
  orientation tag is read the way a viewer shows it.
* Truncated or corrupt files raise :class:`ImageReadError` (Pillow's ``LOAD_TRUNCATED_IMAGES``
  stays off: a half image is never stored).
* 8-bit images are used as they are. 16-bit and 32-bit integer images (``I;16``, ``I``) are
  scaled to 8 bits by a recorded rule: ``minmax`` (default: per-image min..max -> 0..255, the
  rule CLIMB's DICOM -> JPEG conversion uses) or ``full`` (0..2**bits-1 -> 0..255).
* Colour to grey uses Pillow's ITU-R 601-2 luma (``L``); grey to colour repeats the channel.

Standardization (:func:`standardize`): resize to ``size`` px, default ``pad`` mode =
aspect-preserving resize of the long side with Pillow's antialiased bilinear filter, then
zero-padding centred to ``size x size``. ``stretch`` resizes both sides to ``size`` (what
CLIMB does for Brain Tumor); ``crop`` resizes the short side and centre-crops. The result is
``(C, size, size)`` uint8.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

ResizeMode = Literal["pad", "stretch", "crop"]
Bit16Rule = Literal["minmax", "full"]
Resample = Literal["bilinear", "nearest"]


class ImageReadError(Exception):
    """An image that cannot be decoded; ``reason`` is short and stable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class DecodedImage:
    """A decoded image: ``array`` is (H, W) or (H, W, 3) uint8; ``info`` says how."""

    array: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)


def _to_uint8(a: np.ndarray, rule: Bit16Rule, bits: int) -> tuple[np.ndarray, str]:
    a = a.astype(np.float64)
    if rule == "full":
        out = a / float(2**bits - 1) * 255.0
        return np.clip(np.rint(out), 0, 255).astype(np.uint8), f"full-range {bits}-bit -> 8-bit"
    lo, hi = float(a.min()), float(a.max())
    if hi <= lo:
        return np.zeros(a.shape, dtype=np.uint8), "minmax (constant image -> 0)"
    out = (a - lo) / (hi - lo) * 255.0
    return np.clip(np.rint(out), 0, 255).astype(np.uint8), "minmax per image -> 0..255"


def read_image(
    source: str | Path | bytes,
    *,
    channels: int = 3,
    draft_size: int | None = None,
    bit16: Bit16Rule = "minmax",
) -> DecodedImage:
    """Decode ``source`` (a path or the file's bytes) to uint8 with ``channels`` (1 or 3).

    ``draft_size``: for JPEG, let libjpeg decode at a reduced scale (1/2, 1/4, 1/8) that is still
    at least this many pixels on each side; a large speed-up when the image is going to be
    downsampled anyway (the final resize is still done by :func:`standardize`).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    try:
        fh: Any = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    except OSError as exc:
        raise ImageReadError(f"cannot open image: {exc.strerror or exc}") from None
    try:
        with fh, Image.open(fh) as im:
            info: dict[str, Any] = {"format": im.format, "mode": im.mode, "size": list(im.size)}
            if draft_size and im.format == "JPEG":
                im.draft("L" if channels == 1 else "RGB", (draft_size, draft_size))
            im.load()
            orient = im.getexif().get(0x0112, 1) if hasattr(im, "getexif") else 1
            if orient and orient != 1:
                im = ImageOps.exif_transpose(im)
                info["exif_orientation"] = int(orient)
            mode = im.mode
            if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
                a = np.asarray(im)
                bits = 16 if mode.startswith("I;16") else 32
                if mode in ("I", "F") and a.size and a.min() >= 0 and a.max() < 65536:
                    bits = 16
                g, rule = _to_uint8(a, bit16, bits)
                info["intensity_rule"] = rule
                arr = g if channels == 1 else np.repeat(g[..., None], 3, axis=2)
            else:
                if mode in ("P", "PA"):
                    im = im.convert("RGBA" if "transparency" in im.info or mode == "PA" else "RGB")
                if im.mode in ("RGBA", "LA"):
                    # composite on black: the transparent border of a PNG stays background
                    bg = Image.new("RGBA", im.size, (0, 0, 0, 255))
                    im = Image.alpha_composite(bg, im.convert("RGBA"))
                target = "L" if channels == 1 else "RGB"
                if im.mode != target:
                    im = im.convert(target)
                arr = np.asarray(im, dtype=np.uint8)
                info["intensity_rule"] = "8-bit as stored"
            info["decoded_size"] = [int(arr.shape[1]), int(arr.shape[0])]
            return DecodedImage(np.ascontiguousarray(arr), info)
    except UnidentifiedImageError:
        raise ImageReadError("not a readable image (Pillow cannot identify the file)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        msg = str(exc) or type(exc).__name__
        if "truncated" in msg.lower():
            raise ImageReadError(f"truncated image: {msg}") from None
        raise ImageReadError(f"corrupt image: {msg}") from None
    except Image.DecompressionBombError as exc:
        raise ImageReadError(f"image too large: {exc}") from None


def standardize(
    img: np.ndarray,
    size: int = 256,
    *,
    channels: int | None = None,
    mode: ResizeMode = "pad",
    resample: Resample = "bilinear",
) -> np.ndarray:
    """(H, W) or (H, W, C) uint8 -> (C, size, size) uint8, by ``mode`` (see module doc).

    ``resample="nearest"`` keeps the values (class codes of a segmentation mask) with the same
    geometry (size, offsets, padding with 0) as the default bilinear resize of an image of the
    same size."""
    from PIL import Image

    filt = {"bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST}[resample]

    if img.ndim == 2:
        img = img[..., None]
    if img.dtype != np.uint8:
        raise ValueError(f"standardize expects uint8, got {img.dtype}")
    c_in = img.shape[2]
    c_out = channels or c_in
    if c_in == 3 and c_out == 1:
        pil = Image.fromarray(img).convert("L")
        img = np.asarray(pil)[..., None]
    elif c_in == 1 and c_out == 3:
        img = np.repeat(img, 3, axis=2)
    h, w = img.shape[:2]
    pil = Image.fromarray(img[..., 0] if c_out == 1 else img)
    if mode == "stretch":
        out = np.asarray(pil.resize((size, size), filt))
    elif mode == "crop":
        s = size / min(h, w)
        nw, nh = max(size, round(w * s)), max(size, round(h * s))
        r = np.asarray(pil.resize((nw, nh), filt))
        y0, x0 = (nh - size) // 2, (nw - size) // 2
        out = r[y0 : y0 + size, x0 : x0 + size]
    elif mode == "pad":
        s = size / max(h, w)
        nw, nh = max(1, min(size, round(w * s))), max(1, min(size, round(h * s)))
        r = np.asarray(pil.resize((nw, nh), filt))
        out = np.zeros((size, size, c_out) if c_out > 1 else (size, size), dtype=np.uint8)
        y0, x0 = (size - nh) // 2, (size - nw) // 2
        out[y0 : y0 + nh, x0 : x0 + nw] = r
    else:
        raise ValueError(f"unknown resize mode {mode!r} (pad, stretch, crop)")
    if out.ndim == 2:
        out = out[None]
    else:
        out = np.moveaxis(out, 2, 0)
    return np.ascontiguousarray(out, dtype=np.uint8)


__all__ = ["DecodedImage", "ImageReadError", "read_image", "standardize"]
