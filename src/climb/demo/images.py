"""Synthetic medical-looking images with class-specific shapes and textures (the demo corpus'
image recipe). All functions return ``uint8`` arrays ``(H, W)`` of the requested size.

* Chest X-ray (CheXpert-style): a bright body silhouette with two dark lung fields, a heart
  shadow and ribs. ``Cardiomegaly``: the heart shadow is ~1.6x wider; ``Pleural Effusion``: a
  bright fluid layer with a meniscus at one lung base; ``Lung Opacity``: bright patchy blobs in a
  lung; ``Pneumothorax``: a black crescent without lung texture at one apex.
* Breast ultrasound (BUSI-style): Rayleigh speckle in a fan-shaped field. ``benign``: a smooth
  oval hypo-echoic (dark) mass; ``malignant``: an irregular, spiculated dark mass with posterior
  acoustic shadowing; ``normal``: layered tissue only.
* Brain MRI slice (Brain-Tumor-MRI-style): a skull ring around brain texture. ``glioma``: an
  irregular bright mass with a dark necrotic core inside the brain; ``meningioma``: a round,
  homogeneous bright mass touching the skull; ``pituitary``: a small bright blob at the skull
  base (centre-bottom); ``no_tumor``: nothing.

Nuisances: size and aspect ratio vary, intensity gain/gamma vary, Gaussian noise, blur.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    return yy / h, xx / w


def _ellipse(yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, ry: float, rx: float) -> Any:
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int) -> np.ndarray:
    """Low-frequency texture: bilinear upsampling of a coarse random grid."""
    from PIL import Image

    g = rng.random((cells, cells)).astype(np.float32)
    im = Image.fromarray(g, mode="F").resize((w, h), Image.Resampling.BILINEAR)
    return np.asarray(im, dtype=np.float64)


def _finish(img: np.ndarray, rng: np.random.Generator, noise: float = 0.03) -> np.ndarray:
    img = img * rng.uniform(0.85, 1.1) + rng.normal(0, noise, img.shape)
    img = np.clip(img, 0, 1) ** rng.uniform(0.85, 1.2)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def chest_xray(findings: set[str], h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = _grid(h, w)
    img = np.full((h, w), 0.08)
    body = _ellipse(yy, xx, 0.55, 0.5, 0.55, 0.46) < 1
    img[body] = 0.75
    lungs = []
    for cx in (0.32, 0.68):
        m = _ellipse(yy, xx, 0.48, cx, 0.3, 0.14) < 1
        lungs.append(m)
        img[m] = 0.25
    ribs = 0.06 * (np.sin(yy * 2 * np.pi * 9 + 0.5 * np.sin(xx * 6)) > 0.6)
    img += ribs * (lungs[0] | lungs[1])
    heart_w = 0.17 * (1.6 if "Cardiomegaly" in findings else 1.0) * rng.uniform(0.92, 1.08)
    heart = _ellipse(yy, xx, 0.62, 0.54, 0.15, heart_w) < 1
    img[heart] = 0.7
    if "Pleural Effusion" in findings:
        side = int(rng.integers(2))
        cx = (0.32, 0.68)[side]
        level = rng.uniform(0.58, 0.66)
        meniscus = level - 0.06 * np.abs(xx - cx) / 0.14
        img[lungs[side] & (yy > meniscus)] = 0.72
    if "Lung Opacity" in findings:
        side = int(rng.integers(2))
        for _ in range(int(rng.integers(3, 6))):
            cy, cx = rng.uniform(0.35, 0.6), (0.32, 0.68)[side] + rng.uniform(-0.07, 0.07)
            blob = np.exp(-_ellipse(yy, xx, cy, cx, 0.05, 0.04))
            img += 0.35 * blob * lungs[side]
    if "Pneumothorax" in findings:
        side = int(rng.integers(2))
        cx = (0.32, 0.68)[side]
        crescent = (_ellipse(yy, xx, 0.32, cx, 0.14, 0.12) < 1) & lungs[side]
        img[crescent] = 0.02
    img = img + 0.05 * _smooth_noise(rng, h, w, 12)
    return _finish(img, rng)


def ultrasound(label: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = _grid(h, w)
    fan = (np.abs(xx - 0.5) < 0.15 + 0.4 * yy) & (yy > 0.05)
    layers = 0.35 + 0.15 * np.sin(yy * 2 * np.pi * rng.uniform(2, 4) + rng.uniform(0, 6))
    img = layers * (0.6 + 0.8 * _smooth_noise(rng, h, w, 8))
    if label in ("benign", "malignant"):
        cy, cx = rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6)
        ry, rx = rng.uniform(0.1, 0.16), rng.uniform(0.12, 0.2)
        d = _ellipse(yy, xx, cy, cx, ry, rx)
        if label == "malignant":
            ang = np.arctan2(yy - cy, xx - cx)
            spikes = 1 + 0.35 * np.sin(ang * int(rng.integers(7, 12))) * rng.uniform(0.7, 1.0)
            mass = d < spikes
            shadow = (yy > cy) & (np.abs(xx - cx) < rx * 0.8)
            img[shadow] *= 0.45
        else:
            mass = d < 1
            img[(d > 1) & (d < 1.25)] *= 1.3  # bright capsule of a benign mass
        img[mass] *= 0.2
    speckle = rng.rayleigh(0.5, (h, w))
    img = img * speckle * fan
    return _finish(img, rng, noise=0.02)


def brain_mri(label: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = _grid(h, w)
    d = _ellipse(yy, xx, 0.5, 0.5, 0.42, 0.36)
    img = np.zeros((h, w))
    img[(d < 1) & (d > 0.8)] = 0.85  # skull
    brain = d < 0.8
    img[brain] = 0.35 + 0.2 * _smooth_noise(rng, h, w, 10)[brain]
    folds = 0.08 * np.sin(18 * np.hypot(yy - 0.5, xx - 0.5) + 4 * _smooth_noise(rng, h, w, 6))
    img += folds * brain
    if label == "glioma_tumor":
        cy, cx = rng.uniform(0.35, 0.6), rng.uniform(0.35, 0.65)
        ang = np.arctan2(yy - cy, xx - cx)
        r = _ellipse(yy, xx, cy, cx, 0.1, 0.09) / (1 + 0.3 * np.sin(ang * 5 + rng.uniform(0, 6)))
        img[(r < 1) & brain] = 0.85
        img[(r < 0.35) & brain] = 0.1
    elif label == "meningioma_tumor":
        ang = rng.uniform(0, 2 * np.pi)
        cy, cx = 0.5 + 0.3 * np.sin(ang), 0.5 + 0.26 * np.cos(ang)
        img[_ellipse(yy, xx, cy, cx, 0.08, 0.08) < 1] = 0.95
    elif label == "pituitary_tumor":
        img[_ellipse(yy, xx, 0.7, 0.5, 0.045, 0.05) < 1] = 0.95
    return _finish(img, rng)


__all__ = ["brain_mri", "chest_xray", "ultrasound"]
