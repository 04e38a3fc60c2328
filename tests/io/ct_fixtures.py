"""Writers of small native-format CT fixtures (pydicom, nibabel, SimpleITK) for the tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def write_ct_series(
    folder: Path,
    hu: np.ndarray,
    *,
    spacing: tuple[float, float, float] = (2.5, 0.8, 0.8),
    z_positions: Sequence[float] | None = None,
    study_uid: str = "1.2.826.0.1.3680043.8.498.1",
    series_uid: str = "1.2.826.0.1.3680043.8.498.1.1",
    patient_id: str = "P1",
    slope: float = 1.0,
    intercept: float = -1024.0,
    names: Sequence[str] | None = None,
    shuffle_names: bool = True,
    extra: dict[str, object] | None = None,
) -> list[Path]:
    """One DICOM file per slice of ``hu`` (z, y, x), CT Image Storage, int16 stored values with
    the given rescale. File names are shuffled relative to position by default (readers must
    order by ImagePositionPatient, not by name)."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

    folder.mkdir(parents=True, exist_ok=True)
    nz = hu.shape[0]
    zs = list(z_positions) if z_positions is not None else [i * spacing[0] for i in range(nz)]
    order = list(range(nz))
    if shuffle_names:
        order = list(np.random.default_rng(0).permutation(nz))
    out = []
    for i in range(nz):
        stored = np.rint((hu[i] - intercept) / slope).astype(np.int16)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        sop = f"{series_uid}.{i + 1}"
        meta.MediaStorageSOPInstanceUID = sop
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = sop
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.PatientID = patient_id
        ds.Modality = "CT"
        ds.InstanceNumber = i + 1
        ds.ImagePositionPatient = [-100.0, -120.0, float(zs[i])]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [spacing[1], spacing[2]]
        ds.SliceThickness = spacing[0]
        ds.Rows, ds.Columns = int(hu.shape[1]), int(hu.shape[2])
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = 16
        ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        ds.RescaleSlope = slope
        ds.RescaleIntercept = intercept
        for k, v in (extra or {}).items():
            setattr(ds, k, v)
        ds.PixelData = stored.tobytes()
        name = names[i] if names is not None else f"{order[i]:04d}.dcm"
        p = folder / name
        pydicom.dcmwrite(str(p), ds, enforce_file_format=True)
        out.append(p)
    return out


def write_nifti(path: Path, hu_zyx: np.ndarray, spacing: tuple[float, float, float]) -> None:
    """``hu_zyx`` (z, y, x in LPS, the reader's convention) as a RAS NIfTI with that spacing."""
    import nibabel as nib

    xyz = np.transpose(hu_zyx, (2, 1, 0))[::-1, ::-1, :]  # (x, y, z) LPS -> RAS
    aff = np.diag([spacing[2], spacing[1], spacing[0], 1.0])
    nib.save(nib.Nifti1Image(np.ascontiguousarray(xyz), aff), str(path))


def write_mhd(path: Path, hu_zyx: np.ndarray, spacing: tuple[float, float, float]) -> None:
    import SimpleITK as sitk

    img = sitk.GetImageFromArray(hu_zyx)
    img.SetSpacing((spacing[2], spacing[1], spacing[0]))
    sitk.WriteImage(img, str(path))
