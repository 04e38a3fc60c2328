from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from climb.io.dicom import DicomReadError, read_dicom, window_to_uint8
from tests.conftest import shared_fixture

from .imaging_layouts import gradient, write_dicom


def ramp16(bits: int = 12) -> np.ndarray:
    return (np.arange(64 * 48, dtype=np.uint16).reshape(64, 48) % (2**bits)).astype(np.uint16)


def test_real_dicom_and_monochrome1_inversion() -> None:
    d = shared_fixture("cxr")
    real = read_dicom(d / "1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm")
    fake = read_dicom(d / "Fake_MONOHR1.dcm")
    assert real.array.shape == (1024, 1024) and real.array.dtype == np.uint8
    assert real.info["photometric"] == "MONOCHROME2" and fake.info["photometric"] == "MONOCHROME1"
    assert fake.info.get("inverted") is True
    assert real.info["transfer_syntax"] == "1.2.840.10008.1.2.4.50"  # JPEG baseline via Pillow
    assert np.array_equal(fake.array.astype(int), 255 - real.array.astype(int))


def test_minmax_without_window(tmp_path: Path) -> None:
    a = ramp16(12)
    out = read_dicom(write_dicom(tmp_path / "a.dcm", a, bits_stored=12))
    assert out.array.min() == 0 and out.array.max() == 255
    assert "minmax" in out.info["intensity_rule"]
    assert out.info["bits_stored"] == 12


def test_window_tags_used(tmp_path: Path) -> None:
    a = ramp16(12)
    out = read_dicom(write_dicom(tmp_path / "w.dcm", a, window=(1000, 500)))
    assert out.info["intensity_rule"].startswith("DICOM window center=1000 width=500")
    assert np.array_equal(out.array, window_to_uint8(a.astype(float), 1000, 500))
    assert out.array[a < 750].max() == 0 and out.array[a > 1250].min() == 255


def test_rescale_slope_intercept_then_window(tmp_path: Path) -> None:
    a = ramp16(12)
    # HU = 1*x - 1024: a brain window 40/80 selects raw values 1024+0..1024+80
    out = read_dicom(write_dicom(tmp_path / "ct.dcm", a, slope=1, intercept=-1024), window=(40, 80))
    hu = a.astype(float) - 1024
    assert np.array_equal(out.array, window_to_uint8(hu, 40, 80))
    assert out.info["rescale"] == [1.0, -1024.0]


def test_monochrome1_16bit_inverted(tmp_path: Path) -> None:
    a = ramp16(10)
    m2 = read_dicom(write_dicom(tmp_path / "m2.dcm", a, bits_stored=10))
    m1 = read_dicom(write_dicom(tmp_path / "m1.dcm", a, bits_stored=10, photometric="MONOCHROME1"))
    assert np.array_equal(m1.array.astype(int), 255 - m2.array.astype(int))


def test_climb_rule(tmp_path: Path) -> None:
    a = ramp16(8) + 100
    out = read_dicom(write_dicom(tmp_path / "c.dcm", a), window="climb")
    assert out.array.max() == 255 and out.array.min() == round(100 / a.max() * 255)


def test_rgb_and_rle(tmp_path: Path) -> None:
    rgb = gradient(20, 24, 3)
    out = read_dicom(write_dicom(tmp_path / "rgb.dcm", rgb), channels=3)
    assert np.array_equal(out.array, rgb)
    g = read_dicom(write_dicom(tmp_path / "rgb2.dcm", rgb), channels=1)
    assert g.array.shape == (20, 24)
    a = ramp16(12)
    rle = read_dicom(write_dicom(tmp_path / "rle.dcm", a, rle=True))
    plain = read_dicom(write_dicom(tmp_path / "plain.dcm", a))
    assert rle.info["transfer_syntax"] == "1.2.840.10008.1.2.5"
    assert np.array_equal(rle.array, plain.array)


def test_missing_plugin_named(tmp_path: Path) -> None:
    import pydicom
    from pydicom.pixels import get_decoder
    from pydicom.uid import JPEGLSLossless

    if get_decoder(JPEGLSLossless).is_available:
        pytest.skip("a JPEG-LS decoder is installed here")
    p = write_dicom(tmp_path / "ls.dcm", ramp16(12))
    ds = pydicom.dcmread(p)
    ds.file_meta.TransferSyntaxUID = JPEGLSLossless
    ds.PixelData = pydicom.encaps.encapsulate([b"\xff\xd8garbage"])
    ds.save_as(p, enforce_file_format=True)
    with pytest.raises(DicomReadError) as e:
        read_dicom(p)
    assert "JPEG-LS Lossless" in e.value.reason and "pylibjpeg" in e.value.reason


def test_truncated_and_not_dicom(tmp_path: Path) -> None:
    p = write_dicom(tmp_path / "t.dcm", ramp16(12))
    p.write_bytes(p.read_bytes()[:-3000])
    with pytest.raises(DicomReadError, match=r"corrupt|truncated"):
        read_dicom(p)
    q = tmp_path / "n.dcm"
    q.write_bytes(b"hello")
    with pytest.raises(DicomReadError):
        read_dicom(q)
