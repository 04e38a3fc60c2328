from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from climb.io.image import ImageReadError, read_image, standardize
from tests.conftest import shared_fixture

from .imaging_layouts import gradient, write_image, write_truncated_jpeg


def test_png_grey_and_colour(tmp_path: Path) -> None:
    g = gradient(40, 32)
    p = write_image(tmp_path / "g.png", g)
    out = read_image(p, channels=1)
    assert out.array.dtype == np.uint8 and np.array_equal(out.array, g)
    rgb = read_image(p, channels=3).array
    assert rgb.shape == (40, 32, 3) and np.array_equal(rgb[..., 0], g)


def test_exif_orientation_applied(tmp_path: Path) -> None:
    a = gradient(20, 50, 3)  # landscape stored
    im = Image.fromarray(a)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 CW to display
    p = tmp_path / "rot.jpg"
    im.save(p, exif=exif, quality=95)
    out = read_image(p, channels=3)
    assert out.array.shape[:2] == (50, 20)
    assert out.info["exif_orientation"] == 6


def test_16bit_png_rules(tmp_path: Path) -> None:
    a = (np.arange(100, dtype=np.uint16).reshape(10, 10) * 40 + 1000).astype(np.uint16)
    p = tmp_path / "g16.png"
    Image.fromarray(a).save(p)
    mm = read_image(p, channels=1, bit16="minmax")
    assert mm.array.min() == 0 and mm.array.max() == 255
    assert "minmax" in mm.info["intensity_rule"]
    full = read_image(p, channels=1, bit16="full")
    assert full.array.max() == round(a.max() / 65535 * 255)
    assert "full-range" in full.info["intensity_rule"]


def test_rgba_composited_on_black(tmp_path: Path) -> None:
    a = np.zeros((4, 4, 4), dtype=np.uint8)
    a[..., 0] = 200
    a[:2, :, 3] = 255  # top half opaque red, bottom transparent
    p = write_image(tmp_path / "a.png", a)
    out = read_image(p, channels=3).array
    assert out[0, 0].tolist() == [200, 0, 0] and out[3, 0].tolist() == [0, 0, 0]


def test_truncated_and_garbage_rejected(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match=r"truncated|corrupt"):
        read_image(write_truncated_jpeg(tmp_path / "t.jpg"))
    bad = tmp_path / "x.png"
    bad.write_bytes(b"not an image at all")
    with pytest.raises(ImageReadError, match="cannot identify"):
        read_image(bad)
    with pytest.raises(ImageReadError, match="cannot open"):
        read_image(tmp_path / "missing.png")


def test_standardize_pad_keeps_aspect_and_centres() -> None:
    a = np.full((100, 50), 200, dtype=np.uint8)  # tall
    out = standardize(a, 64)
    assert out.shape == (1, 64, 64) and out.dtype == np.uint8
    cols = np.flatnonzero(out[0].max(axis=0) > 0)
    assert (cols.min(), cols.max()) == (16, 47)  # 32 px wide, centred
    assert out[0, :, :16].max() == 0 and out[0, 0, 16:48].min() == 200


def test_standardize_modes_and_channels() -> None:
    a = gradient(30, 60, 3)
    assert standardize(a, 32, mode="stretch").shape == (3, 32, 32)
    c = standardize(a, 32, mode="crop")
    assert c.shape == (3, 32, 32) and c[0].min() > 0  # crop: no padding
    g = standardize(a, 32, channels=1)
    assert g.shape == (1, 32, 32)
    assert standardize(gradient(30, 60), 16, channels=3).shape == (3, 16, 16)
    with pytest.raises(ValueError):
        standardize(a, 32, mode="zoom")  # type: ignore[arg-type]


def test_real_cxr_png_and_draft() -> None:
    d = shared_fixture("cxr")
    p = d / "00000001_000.png"
    full = read_image(p, channels=1)
    assert full.array.shape == (512, 512)  # the NIH excerpt is stored at 512 px
    x = standardize(full.array, 256)
    assert x.shape == (1, 256, 256) and 60 < x.mean() < 200


def test_draft_decoding_matches_full_decode(tmp_path: Path) -> None:
    a = np.kron(gradient(64, 64), np.ones((16, 16), dtype=np.uint8))  # 1024 px, smooth blocks
    p = write_image(tmp_path / "big.jpg", a, quality=95)
    fast = read_image(p, channels=1, draft_size=256)
    slow = read_image(p, channels=1)
    assert fast.array.shape[0] < slow.array.shape[0]
    assert fast.info["size"] == [1024, 1024]
    d = np.abs(standardize(fast.array, 128).astype(int) - standardize(slow.array, 128).astype(int))
    assert d.mean() < 3
