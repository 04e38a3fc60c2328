"""ABIDE I, Preprocessed Connectomes Project release: phenotype table, ROI time series (.1D)
and correlation networks.

Files on the public ``fcp-indi`` S3 bucket (anonymous HTTPS)::

    <BASE>/Phenotypic_V1_0b_preprocessed1.csv
    <BASE>/Outputs/<pipeline>/<strategy>/rois_<atlas>/<FILE_ID>_rois_<atlas>.1D

with ``BASE = https://s3.amazonaws.com/fcp-indi/data/Projects/ABIDE_Initiative`` and, by default,
pipeline ``cpac``, strategy ``filt_noglobal``, atlas ``cc200``. Subjects whose ``FILE_ID`` is
``no_filename`` have no derivatives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from climb.core.errors import ClimbError

ABIDE_BASE = "https://s3.amazonaws.com/fcp-indi/data/Projects/ABIDE_Initiative"
PHENOTYPE_FILE = "Phenotypic_V1_0b_preprocessed1.csv"
NO_FILE = "no_filename"
PIPELINES = ("cpac", "ccs", "dparsf", "niak")
STRATEGIES = ("filt_global", "filt_noglobal", "nofilt_global", "nofilt_noglobal")
ATLASES = ("aal", "cc200", "cc400", "dosenbach160", "ez", "ho", "tt")


class AbideFormatError(ClimbError, ValueError):
    """A .1D file or phenotype table that cannot be read."""


@dataclass(frozen=True)
class AbideSubject:
    sub_id: str
    file_id: str  # 'no_filename' when there is no derivative
    site: str
    dx_group: int  # 1 autism, 2 control
    age: float | None
    sex: int | None  # 1 male, 2 female

    @property
    def has_file(self) -> bool:
        return self.file_id != NO_FILE


def roi_path(
    file_id: str, pipeline: str = "cpac", strategy: str = "filt_noglobal", atlas: str = "cc200"
) -> str:
    """Path of one subject's ROI time series, relative to the release root."""
    return f"Outputs/{pipeline}/{strategy}/rois_{atlas}/{file_id}_rois_{atlas}.1D"


def roi_urls(
    subjects: list[AbideSubject],
    pipeline: str = "cpac",
    strategy: str = "filt_noglobal",
    atlas: str = "cc200",
    base: str = ABIDE_BASE,
) -> list[tuple[str, str]]:
    """(relative path, URL) of every subject's .1D file, named by the phenotype table.

    ``climb fetch`` does not need this: the bucket is public and listable, so the card's S3
    prefix is listed with anonymous ListObjectsV2 over HTTPS (see
    :mod:`climb.fetch.sources.url`). This is for checking that every subject of the table has
    a file, or for fetching a pipeline/strategy/atlas other than the card's."""
    return [
        (
            roi_path(s.file_id, pipeline, strategy, atlas),
            f"{base.rstrip('/')}/{roi_path(s.file_id, pipeline, strategy, atlas)}",
        )
        for s in subjects
        if s.has_file
    ]


def read_phenotype(path: str | Path) -> list[AbideSubject]:
    """Rows of ``Phenotypic_V1_0b_preprocessed1.csv`` (1,112 subjects), in file order."""
    import pandas as pd

    path = Path(path)
    try:
        df = pd.read_csv(path, dtype={"FILE_ID": str, "SITE_ID": str}, low_memory=False)
    except Exception as exc:
        raise AbideFormatError(f"cannot read the phenotype table: {exc}", where=str(path)) from None
    need = {"SUB_ID", "FILE_ID", "SITE_ID", "DX_GROUP"}
    missing = need - set(df.columns)
    if missing:
        raise AbideFormatError(
            f"phenotype table lacks column(s) {sorted(missing)}",
            where=str(path),
            fix=f"expected the PCP release's {PHENOTYPE_FILE}",
        )
    out = []
    for i, r in enumerate(df.itertuples(index=False)):
        row = r._asdict()
        try:
            dx = int(row["DX_GROUP"])
        except (TypeError, ValueError):
            raise AbideFormatError(
                f"DX_GROUP {row['DX_GROUP']!r} is not 1 or 2", where=f"{path}: row {i + 2}"
            ) from None
        age = row.get("AGE_AT_SCAN")
        sex = row.get("SEX")
        out.append(
            AbideSubject(
                sub_id=str(int(row["SUB_ID"])),
                file_id=str(row["FILE_ID"]).strip(),
                site=str(row["SITE_ID"]).strip(),
                dx_group=dx,
                age=float(age) if age is not None and age == age else None,
                sex=int(sex) if sex is not None and sex == sex else None,
            )
        )
    return out


def read_roi_timeseries(path: str | Path) -> np.ndarray:
    """A PCP ``.1D`` ROI time series: header ``#1 #2 ...`` then one row per volume,
    tab-separated; returns (T, R) float64."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    body = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    if not body:
        raise AbideFormatError("no time points in the .1D file", where=str(path))
    try:
        flat = np.array(" ".join(body).split(), dtype=np.float64)
    except ValueError:
        for j, ln in enumerate(lines, 1):
            if ln.strip() and not ln.lstrip().startswith("#"):
                try:
                    [float(v) for v in ln.split()]
                except ValueError:
                    raise AbideFormatError(
                        f"non-numeric row {ln.strip()[:50]!r}", where=f"{path}:{j}"
                    ) from None
        raise
    ncols = len(body[0].split())
    if flat.size != ncols * len(body):
        raise AbideFormatError(
            f"rows have different numbers of columns (first row: {ncols})", where=str(path)
        )
    return flat.reshape(len(body), ncols)


def correlation(ts: np.ndarray, fisher_z: bool = False) -> np.ndarray:
    """Pearson correlation between the columns (ROIs) of ``ts`` (T, R) -> (R, R) float32.

    ROIs with a constant signal give NaN rows/columns (left for the caller to reject or fill);
    ``fisher_z`` applies arctanh (the diagonal, 1, becomes 0 rather than infinity).
    """
    ts = np.asarray(ts, dtype=np.float64)
    if ts.ndim != 2 or ts.shape[0] < 3:
        raise AbideFormatError(f"need (T >= 3, R) time series, got shape {ts.shape}")
    x = ts - ts.mean(axis=0)
    sd = np.sqrt((x**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        x = x / np.where(sd > 0, sd, np.nan)
        c = x.T @ x
    c = np.clip(c, -1.0, 1.0)
    np.fill_diagonal(c, np.where(sd > 0, 1.0, np.nan))
    if fisher_z:
        with np.errstate(divide="ignore"):
            c = np.arctanh(np.clip(c, -1 + 1e-7, 1 - 1e-7))
        np.fill_diagonal(c, np.where(sd > 0, 0.0, np.nan))
    return c.astype(np.float32)
