"""Volume readers: NIfTI (nibabel), MetaImage (SimpleITK), DICOM series (pydicom), one convention."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from climb.io.volume import (
    VolumeReadError,
    read_dicom_series,
    read_metaimage,
    read_nifti,
    read_volume,
    resize_slices,
    to_int16_hu,
    window_starts,
)
from tests.conftest import shared_fixture
from tests.io.ct_fixtures import write_ct_series, write_mhd, write_nifti

SP = (2.5, 0.8, 0.7)


def _hu(nz: int = 6, ny: int = 5, nx: int = 4) -> np.ndarray:
    return (np.arange(nz * ny * nx, dtype=np.float32).reshape(nz, ny, nx) * 7 - 1000).astype(
        np.float32
    )


def test_same_volume_from_three_formats(tmp_path: Path) -> None:
    hu = _hu()
    write_nifti(tmp_path / "v.nii.gz", hu, SP)
    write_mhd(tmp_path / "v.mhd", hu.astype(np.int16), SP)
    write_ct_series(tmp_path / "dcm", hu, spacing=SP)
    vols = [read_volume(tmp_path / n) for n in ("v.nii.gz", "v.mhd", "dcm")]
    for v in vols:
        np.testing.assert_array_equal(v.array.astype(np.float32), hu)
        np.testing.assert_allclose(v.spacing, SP, rtol=1e-6)
    assert [v.source_format for v in vols] == ["nifti", "metaimage", "dicom"]


def test_nifti_reoriented_from_other_axis_order(tmp_path: Path) -> None:
    """A KiTS-style file whose first voxel axis is the slice axis comes out (z, y, x)."""
    import nibabel as nib

    hu = _hu()
    ras = np.transpose(hu, (2, 1, 0))[::-1, ::-1, :]  # (x, y, z) RAS
    zxy = np.ascontiguousarray(np.transpose(ras, (2, 0, 1)))  # voxel axes: z, x, y
    aff = np.zeros((4, 4))
    aff[2, 0], aff[0, 1], aff[1, 2], aff[3, 3] = SP[0], SP[2], SP[1], 1.0
    nib.save(nib.Nifti1Image(zxy, aff), str(tmp_path / "k.nii.gz"))
    v = read_nifti(tmp_path / "k.nii.gz")
    np.testing.assert_array_equal(v.array, hu)
    np.testing.assert_allclose(v.spacing, SP, rtol=1e-6)
    assert v.info["file_axes"] == "SRA"


def test_nifti_sheared_refused_oblique_noted(tmp_path: Path) -> None:
    import nibabel as nib

    a = np.zeros((4, 4, 4), dtype=np.int16)
    shear = np.eye(4)
    shear[0, 1] = 0.5
    nib.save(nib.Nifti1Image(a, shear), str(tmp_path / "s.nii"))
    with pytest.raises(VolumeReadError, match=r"s\.nii: non-orthogonal"):
        read_nifti(tmp_path / "s.nii")
    t = np.radians(10)
    rot = np.eye(4)
    rot[:2, :2] = [[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]
    nib.save(nib.Nifti1Image(a, rot), str(tmp_path / "o.nii"))
    v = read_nifti(tmp_path / "o.nii")
    assert v.shape == (4, 4, 4) and "oblique affine (10.0 degrees" in v.notes[0]


def test_nifti_bad_files(tmp_path: Path) -> None:
    (tmp_path / "bad.nii.gz").write_bytes(b"not a nifti at all")
    with pytest.raises(VolumeReadError, match=r"bad\.nii\.gz: not a readable NIfTI"):
        read_nifti(tmp_path / "bad.nii.gz")
    import nibabel as nib

    nib.save(nib.Nifti1Image(np.zeros((3, 3), np.int16), np.eye(4)), str(tmp_path / "2d.nii"))
    with pytest.raises(VolumeReadError, match="expected a 3-D volume"):
        read_nifti(tmp_path / "2d.nii")


def test_metaimage_missing_raw(tmp_path: Path) -> None:
    write_mhd(tmp_path / "v.mhd", _hu().astype(np.int16), SP)
    (tmp_path / "v.raw").unlink()
    with pytest.raises(VolumeReadError, match=r"v\.mhd: .*ElementDataFile v\.raw is missing"):
        read_metaimage(tmp_path / "v.mhd")
    write_mhd(tmp_path / "w.mhd", _hu().astype(np.int16), SP)
    raw = tmp_path / "w.raw"
    raw.write_bytes(raw.read_bytes()[:50])
    with pytest.raises(VolumeReadError, match=r"w\.mhd: not a readable MetaImage"):
        read_metaimage(tmp_path / "w.mhd")


def test_dicom_series_orders_by_position_and_rescales(tmp_path: Path) -> None:
    hu = _hu() * 2  # even: exact with slope 2
    # positions descending with slice index, names shuffled: order must follow the positions
    z = [100.0 - 2.5 * i for i in range(6)]
    write_ct_series(tmp_path / "s", hu, spacing=SP, z_positions=z, slope=2.0, intercept=-1024)
    v = read_dicom_series(tmp_path / "s")
    np.testing.assert_array_equal(v.array, hu[::-1])
    assert v.spacing == pytest.approx(SP) and v.info["rescale"] == [(2.0, -1024.0)]
    assert v.origin[2] == pytest.approx(87.5)


def test_dicom_series_bad_inputs(tmp_path: Path) -> None:
    hu = _hu()
    z = [0, 2.5, 5.0, 10.0, 12.5, 15.0]  # slice at 7.5 missing
    write_ct_series(tmp_path / "gap", hu, spacing=SP, z_positions=z)
    with pytest.raises(VolumeReadError, match=r"gap: missing slice\(s\) between .* gap 5\.00 mm"):
        read_dicom_series(tmp_path / "gap")
    write_ct_series(tmp_path / "dup", hu, spacing=SP, z_positions=[0, 2.5, 2.5, 5, 7.5, 10])
    with pytest.raises(VolumeReadError, match=r"dup: duplicated slice position 2\.50 mm"):
        read_dicom_series(tmp_path / "dup")
    write_ct_series(tmp_path / "irr", hu, spacing=SP, z_positions=[0, 2.5, 5.5, 8, 10.5, 13])
    with pytest.raises(VolumeReadError, match="irr: inconsistent slice spacing"):
        read_dicom_series(tmp_path / "irr")
    write_ct_series(tmp_path / "mix", hu[:3], spacing=SP, series_uid="1.2.3.1", names=list("abc"))
    write_ct_series(tmp_path / "mix", hu[3:], spacing=SP, series_uid="1.2.3.2", names=list("def"))
    with pytest.raises(VolumeReadError, match="mix: mixed series in one folder: 2"):
        read_dicom_series(tmp_path / "mix")
    v = read_dicom_series(tmp_path / "mix", series_uid="1.2.3.2")
    np.testing.assert_array_equal(v.array, hu[3:])


def test_real_ct_series() -> None:
    """TotalSegmentator's 20-slice CT (empty UIDs, HU rescale -1024) ordered by position."""
    import pydicom

    d = shared_fixture("ct_dicom_series")
    v = read_dicom_series(d)
    assert v.shape == (20, 512, 512)
    assert v.spacing == pytest.approx((2.0, 0.9765625, 0.9765625))
    zs = [float(pydicom.dcmread(str(d / n)).ImagePositionPatient[2]) for n in v.info["slices"]]
    assert zs == sorted(zs) and np.allclose(np.diff(zs), 2.0)
    ds = pydicom.dcmread(str(d / v.info["slices"][7]))
    expect = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    np.testing.assert_array_equal(v.array[7], expect)
    assert -1100 <= v.array.min() < -900 and v.array.max() > 300  # air .. bone in HU


def test_helpers() -> None:
    assert window_starts(48, 24, 12) == [0, 12, 24]
    assert window_starts(48, 24, 12, rule="climb") == [0, 12]
    assert window_starts(20, 24, 12) == []
    assert to_int16_hu(np.array([-1024.4, 40000.0, 3.6])).tolist() == [-1024, 32767, 4]
    x = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4)
    assert resize_slices(x, (8, 8)).shape == (2, 8, 8)
    m = resize_slices(np.array([[[0, 1], [2, 3]]], dtype=np.uint8), (4, 4), order=0)
    assert set(np.unique(m)) == {0, 1, 2, 3}
