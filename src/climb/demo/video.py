"""Synthetic echocardiography videos and CT volumes in native layouts (demo corpus and tests).

* :func:`write_echonet_tree`: EchoNet-Dynamic's layout (``EchoNet-Dynamic/FileList.csv``,
  ``VolumeTracings.csv``, ``Videos/<FileName>.avi``, 112 x 112 MPEG-4 AVI at 50 fps, written
  with PyAV). A bright ring (the left ventricle) beats over the frames; its contraction sets
  the video's ejection fraction, so EF is learnable from the frames.
* :func:`write_inspect_tree`: INSPECT's layout (``CTPA/<impression_id>.nii.gz`` +
  ``Final_Impressions_labels.csv``, int16 HU NIfTI written with nibabel): a body ellipse with
  two lungs (-850 HU) and, for PE-positive studies, a small contrast-deficient "clot" (20 HU)
  inside a bright (300 HU) pulmonary artery.

``broken=True`` adds one file per bad input the adapters must quarantine (:data:`BROKEN_ECHONET`
and :data:`BROKEN_INSPECT` name them).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

#: record id -> what is wrong (the quarantine reason says it)
BROKEN_ECHONET = {
    "0XBROKEN00000001": "corrupt video file",
    "0XBROKEN00000002": "NumberOfFrames disagrees with the decoded frames",
    "0XBROKEN00000003": "tracing past the last frame",
}
BROKEN_INSPECT = {"PEBROKEN01": "not a readable NIfTI", "PEBROKEN02": "labels missing"}


def _echo_video(rng: np.random.Generator, frames: int, ef: float) -> np.ndarray:
    yy, xx = np.mgrid[0:112, 0:112].astype(np.float32)
    r2 = (yy - 56) ** 2 + (xx - 56) ** 2
    r_ed = 30.0
    r_es = r_ed * (1 - ef / 100) ** (1 / 3)  # volume ~ r^3: EF = 1 - (r_es / r_ed)^3
    out = np.empty((frames, 112, 112, 3), dtype=np.uint8)
    phase = rng.uniform(0, 2 * np.pi)
    speckle = rng.normal(0, 12, (112, 112)).astype(np.float32)
    for t in range(frames):
        r = r_es + (r_ed - r_es) * 0.5 * (1 + np.cos(2 * np.pi * t / 20 + phase))
        wall = np.exp(-((np.sqrt(r2) - r) ** 2) / 18.0) * 180
        g = np.clip(25 + wall + speckle, 0, 255)
        out[t] = g.astype(np.uint8)[..., None]
    return out


def write_echonet_tree(
    base: str | Path, *, videos: int = 20, frames: int = 20, seed: int = 0, broken: bool = True
) -> dict[str, str]:
    """EchoNet-Dynamic tree under ``base``; returns ``{FileName: official split}``."""
    from climb.io.video import write_video

    root = Path(base) / "EchoNet-Dynamic"
    (root / "Videos").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows, tracings, splits = [], [], {}
    for i in range(videos):
        name = f"0X{seed:04X}{i:012X}"
        ef = float(np.round(rng.uniform(20, 75), 3))
        write_video(root / "Videos" / f"{name}.avi", _echo_video(rng, frames, ef), fps=50)
        split = ("TRAIN", "TRAIN", "TRAIN", "VAL", "TEST")[i % 5]
        splits[name] = split
        rows.append([name, ef, round(40 * (1 - ef / 100), 3), 40.0, 112, 112, 50, frames, split])
        for fr in (frames // 5, (2 * frames) // 3):  # ES, ED
            tracings += [[f"{name}.avi", 40 + k, 50, 72 - k, 60, fr] for k in range(3)]
    if broken:
        b1, b2, b3 = BROKEN_ECHONET
        (root / "Videos" / f"{b1}.avi").write_bytes(b"RIFF\x00\x00\x00\x00AVI garbage")
        for b in (b2, b3):
            write_video(root / "Videos" / f"{b}.avi", _echo_video(rng, frames, 50.0), fps=50)
        rows.append([b1, 50.0, 20, 40, 112, 112, 50, frames, "TRAIN"])
        rows.append([b2, 50.0, 20, 40, 112, 112, 50, frames + 7, "TRAIN"])
        rows.append([b3, 50.0, 20, 40, 112, 112, 50, frames, "TRAIN"])
        tracings.append([f"{b3}.avi", 1, 2, 3, 4, frames + 30])
    with (root / "FileList.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["FileName", "EF", "ESV", "EDV", "FrameHeight", "FrameWidth", "FPS",
                    "NumberOfFrames", "Split"])  # fmt: skip
        w.writerows(rows)
    with (root / "VolumeTracings.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["FileName", "X1", "Y1", "X2", "Y2", "Frame"])
        w.writerows(tracings)
    return splits


def _ct(rng: np.random.Generator, slices: int, size: int, pe: bool) -> np.ndarray:
    zz, yy, xx = np.mgrid[0:slices, 0:size, 0:size].astype(np.float32)
    c = size / 2
    body = ((yy - c) ** 2 / (0.42 * size) ** 2 + (xx - c) ** 2 / (0.36 * size) ** 2) < 1
    lungs = (((yy - c) ** 2 + (np.abs(xx - c) - 0.17 * size) ** 2) < (0.13 * size) ** 2) & body
    artery = ((yy - c + 0.05 * size) ** 2 + (xx - c) ** 2) < (0.05 * size) ** 2
    hu = np.where(body, 40.0, -1000.0)
    hu = np.where(lungs, -850.0, hu)
    hu = np.where(artery, 300.0, hu)
    if pe:
        z0 = int(rng.integers(2, max(3, slices - 4)))
        clot = artery & (zz >= z0) & (zz < z0 + 3) & (xx < c)
        hu = np.where(clot, 20.0, hu)
    hu += rng.normal(0, 15, hu.shape)
    return np.clip(hu, -1024, 3071).astype(np.int16)


def write_inspect_tree(
    base: str | Path,
    *,
    volumes: int = 12,
    slices: int = 12,
    size: int = 48,
    seed: int = 0,
    broken: bool = True,
) -> dict[str, int]:
    """INSPECT tree under ``base``; returns ``{impression_id: pe_positive}``."""
    import nibabel as nib

    root = Path(base)
    (root / "CTPA").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed + 1)
    labels: dict[str, int] = {}
    rows = []
    for i in range(volumes):
        iid = f"PE{seed:02d}{i:06d}"
        pe = int(i % 2 == 1)
        acute = int(pe and rng.random() < 0.7)
        sub = int(pe and rng.random() < 0.3)
        hu = _ct(rng, slices, size, bool(pe))  # (z, y, x) LPS
        xyz = np.ascontiguousarray(np.transpose(hu, (2, 1, 0))[::-1, ::-1, :])  # -> RAS
        aff = np.diag([0.8, 0.8, 2.5, 1.0])
        nib.save(nib.Nifti1Image(xyz, aff), str(root / "CTPA" / f"{iid}.nii.gz"))
        labels[iid] = pe
        rows.append(
            [iid, pe, acute, sub, "no pe" if not pe else "filling defect, pulmonary artery"]
        )
    if broken:
        b1, b2 = BROKEN_INSPECT
        (root / "CTPA" / f"{b1}.nii.gz").write_bytes(b"\x1f\x8b not really gzip")
        rows.append([b1, 1, 1, 0, "unreadable file"])
        hu = _ct(rng, slices, size, False)
        nib.save(nib.Nifti1Image(np.transpose(hu, (2, 1, 0)).copy(), np.eye(4)),
                 str(root / "CTPA" / f"{b2}.nii.gz"))  # fmt: skip
    with (root / "Final_Impressions_labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["impression_id", "pe_positive", "pe_acute", "pe_subsegmentalonly", "impressions"]
        )
        w.writerows(rows)
    return labels


__all__ = ["BROKEN_ECHONET", "BROKEN_INSPECT", "write_echonet_tree", "write_inspect_tree"]
