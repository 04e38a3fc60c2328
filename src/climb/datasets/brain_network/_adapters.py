"""Adapters for the brain-network datasets: ABIDE (PCP time series, or BrainGB's ABIDE.npy),
ABCD and PPMI (BrainGB files, DUA-gated).

The store keeps the connectivity matrix as a dense field ``connectivity`` (R, R) float32; the
graph (node features = matrix rows, edges dense / k-nearest / thresholded, edge_attr = value) is
built when loading (:func:`climb.io.graphs.corr_to_graph`), so one store serves every graph
construction without preparing again.

Matrices with NaN/inf entries (e.g. an ROI with a constant signal) are quarantined with the
count of bad ROIs (``nan_policy="quarantine"``, the default) or, as CLIMB does, set to 0
(``nan_policy="zero"``; the sample then records ``nan_rois``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from climb.core.adapter import BaseAdapter, PrepareOptions, RecordError, RecordRef, Sample
from climb.core.errors import ClimbError
from climb.core.schema import FieldSpec
from climb.core.splits import describe, stratified_group_split
from climb.io.abide import (
    PHENOTYPE_FILE,
    AbideFormatError,
    correlation,
    read_phenotype,
    read_roi_timeseries,
    roi_path,
)
from climb.io.graphs import (
    GraphFormatError,
    read_braingb_abcd,
    read_braingb_mat,
    read_braingb_npy,
)

NanPolicy = Literal["quarantine", "zero"]
FRACTIONS = (0.7, 0.1, 0.2)  # CLIMB's 70/10/20


def _fix_nan(c: np.ndarray, policy: str) -> tuple[np.ndarray, int]:
    bad = ~np.isfinite(c)
    if not bad.any():
        return c.astype(np.float32), 0
    # ROIs whose row is mostly bad (a constant signal makes its whole row and column NaN)
    rois = int((bad.mean(axis=1) > 0.5).sum()) or int(bad.any(axis=1).sum())
    if policy == "quarantine":
        raise RecordError(
            f"connectivity has {int(bad.sum())} NaN/inf entries ({rois} ROI(s), e.g. a constant "
            "signal); use nan_policy='zero' to keep it with zeros as CLIMB does",
            stage="validate",
        )
    return np.where(bad, 0.0, c).astype(np.float32), rois


class BrainNetAdapter(BaseAdapter):
    """Shared part: one dense ``connectivity`` field, a binary task, seeded stratified splits."""

    n_rois: int = 0
    task: str = ""
    classes: tuple[str, str] = ("", "")
    task_note: str = ""
    extra_split_rules: tuple[str, ...] = ("stratified",)

    def __init__(self, nan_policy: NanPolicy = "quarantine") -> None:
        if nan_policy not in ("quarantine", "zero"):
            raise ClimbError(f"unknown nan_policy {nan_policy!r}", fix="use quarantine or zero")
        self.nan_policy = nan_policy
        self.version = f"1-nan_{nan_policy}"

    def fields(self) -> list[Any]:
        return [
            FieldSpec(
                "connectivity",
                "float32",
                (self.n_rois, self.n_rois),
                axes=("roi", "roi"),
                chunks=max(1, (4 << 20) // (self.n_rois * self.n_rois * 4)),
            )
        ]

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]:
        return {
            self.task: {
                "type": "binary",
                "classes": list(self.classes),
                "label_space": None,
                "column": f"label__{self.task}",
                "policy": options.label_policy,
                "level": "graph",
                "graph_from": "connectivity",
                "description": self.task_note,
            }
        }

    def split_rules(self, raw_dir: Path) -> list[str]:
        return [*self.extra_split_rules, "patient"]

    def default_split_rule(self, raw_dir: Path) -> str:
        return self.extra_split_rules[0]

    def describe_split(self, rule: str, seed: int) -> dict[str, Any]:
        what = "site and label" if rule == "site" else "label"
        return describe(
            rule,
            seed,
            f"seeded subject-level split stratified by {what}: train 70% / val 10% / test 20% "
            "(CLIMB's proportions; CLIMB's own graph splits are unseeded)",
        )

    def assign(
        self, subjects: dict[str, tuple[str, int]], options: PrepareOptions
    ) -> dict[str, str]:
        """subject -> split for the options' rule; ``subjects[s] = (site, label)``."""
        if options.splits == "site":
            strata = {s: (site, lab) for s, (site, lab) in subjects.items()}
        else:
            strata = {s: lab for s, (_, lab) in subjects.items()}
        return stratified_group_split(strata, options.seed, FRACTIONS)

    def sample(
        self,
        ref: RecordRef,
        corr: np.ndarray,
        label: int,
        native: dict[str, Any],
        columns: dict[str, Any] | None = None,
    ) -> Sample:
        c = np.asarray(corr, dtype=np.float64)
        if c.shape != (self.n_rois, self.n_rois):
            raise RecordError(
                f"connectivity has shape {c.shape}, expected ({self.n_rois}, {self.n_rois})"
            )
        c32, nan_rois = _fix_nan(c, self.nan_policy)
        cols = {"site": ref.info.get("site", ""), "nan_rois": nan_rois, **(columns or {})}
        hint = ref.info.get("split")
        return Sample(
            sample_id=ref.record_id,
            patient_id=str(ref.info.get("subject", ref.record_id)),
            source_path=ref.source_path,
            arrays={"connectivity": c32},
            labels={self.task: int(label)},
            native_labels=native,
            columns=cols,
            split_hint={str(ref.info.get("rule")): str(hint)} if hint else {},
        )


# ----------------------------------------------------------------------------- ABIDE


@lru_cache(maxsize=2)
def _braingb_npy(path: str) -> dict[str, np.ndarray]:
    return read_braingb_npy(path)


class AbideAdapter(BrainNetAdapter):
    """ABIDE I. Layout 1 (open, default): the PCP phenotype CSV + ``.1D`` ROI time series
    (``Outputs/<pipeline>/<strategy>/rois_<atlas>/`` or any folder below the raw folder) ->
    Pearson correlation (optionally Fisher z). Layout 2: BrainGB's ``ABIDE.npy``
    (``corr``, ``label``, ``site``).

    Label: DX_GROUP 1 (autism) -> 1, 2 (control) -> 0. Subjects with FILE_ID ``no_filename``
    (no derivatives) and subjects whose file is absent are quarantined with that reason, never
    silently dropped. Splits: ``site`` (default; stratified by site and label, as CLIMB's
    StratifiedShuffleSplit by site), ``stratified`` (label), ``patient``.
    """

    key = "abide"
    task = "asd"
    classes = ("typical_control", "autism")
    task_note = "DX_GROUP: 2 (control) -> 0, 1 (autism) -> 1"
    extra_split_rules = ("site", "stratified")

    def __init__(
        self,
        pipeline: str = "cpac",
        strategy: str = "filt_noglobal",
        atlas: str = "cc200",
        fisher_z: bool = False,
        nan_policy: NanPolicy = "quarantine",
        n_rois: int | None = None,
    ) -> None:
        super().__init__(nan_policy)
        self.pipeline, self.strategy, self.atlas, self.fisher_z = (
            pipeline, strategy, atlas, fisher_z,
        )  # fmt: skip
        rois = {"cc200": 200, "cc400": 392, "aal": 116, "ho": 111, "tt": 97, "ez": 116,
                "dosenbach160": 161}  # fmt: skip
        self.n_rois = int(n_rois or rois.get(atlas, 200))
        self.version = f"1-{pipeline}-{strategy}-{atlas}-z{int(fisher_z)}-nan_{nan_policy}"

    # -------------------------------------------------------------- layout
    @staticmethod
    def phenotype(raw_dir: Path) -> Path | None:
        hits = sorted(raw_dir.rglob(PHENOTYPE_FILE))
        return hits[0] if hits else None

    @staticmethod
    def braingb_file(raw_dir: Path) -> Path | None:
        hits = sorted(raw_dir.rglob("ABIDE.npy")) + sorted(raw_dir.rglob("abide.npy"))
        return hits[0] if hits else None

    def summary_notes(self, raw_dir: Path, options: PrepareOptions) -> list[str]:
        if self.phenotype(raw_dir) is None:
            return [
                "layout: BrainGB ABIDE.npy; label coding assumed 0 = autism, 1 = control "
                "(FBNetGen/BrainGB store DX_GROUP - 1); values 1/2 are read as DX_GROUP"
            ]
        return [
            f"layout: PCP {self.pipeline}/{self.strategy}/rois_{self.atlas} time series -> "
            f"Pearson correlation{' + Fisher z' if self.fisher_z else ''}"
        ]

    def _roi_files(self, raw_dir: Path) -> dict[str, Path]:
        suffix = f"_rois_{self.atlas}.1D"
        return {p.name[: -len(suffix)]: p for p in sorted(raw_dir.rglob(f"*{suffix}"))}

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        pheno = self.phenotype(raw_dir)
        if pheno is None:
            npy = self.braingb_file(raw_dir)
            if npy is None:
                raise ClimbError(
                    "no ABIDE files",
                    where=str(raw_dir),
                    fix=f"run 'climb fetch abide' ({PHENOTYPE_FILE} + .1D files) or put "
                    "BrainGB's ABIDE.npy there",
                )
            return self._list_braingb(raw_dir, npy, options)
        try:
            subjects = read_phenotype(pheno)
        except AbideFormatError as exc:
            raise ClimbError(exc.what, where=exc.where, fix=exc.fix) from None
        files = self._roi_files(raw_dir)
        labelled = {
            s.sub_id: (s.site, 1 if s.dx_group == 1 else 0)
            for s in subjects
            if s.has_file and s.file_id in files
        }
        split = self.assign(labelled, options) if options.splits != "patient" else {}
        refs = []
        for s in subjects:
            path = files.get(s.file_id)
            rel = (
                path.relative_to(raw_dir).as_posix()
                if path
                else roi_path(s.file_id, self.pipeline, self.strategy, self.atlas)
            )
            info = {
                "layout": "pcp",
                "subject": s.sub_id,
                "site": s.site,
                "dx": s.dx_group,
                "file_id": s.file_id,
                "has_file": path is not None,
                "age": s.age,
                "sex": s.sex,
                "split": split.get(s.sub_id),
                "rule": options.splits,
            }
            refs.append(RecordRef(f"sub_{int(s.sub_id):07d}", rel, info))
        return sorted(refs, key=lambda r: r.record_id)

    def _list_braingb(self, raw_dir: Path, npy: Path, options: PrepareOptions) -> list[RecordRef]:
        try:
            d = _braingb_npy(str(npy))
        except GraphFormatError as exc:
            raise ClimbError(exc.what, where=exc.where, fix=exc.fix) from None
        n = d["corr"].shape[0]
        ids = [str(v) for v in d.get("id", np.arange(n))]
        sites = [str(v) for v in d.get("site", np.array(["unknown"] * n))]
        labels = self.braingb_labels(d["label"])
        subj = {ids[i]: (sites[i], labels[i]) for i in range(n)}
        split = self.assign(subj, options) if options.splits != "patient" else {}
        rel = npy.relative_to(raw_dir).as_posix()
        width = len(str(n))
        return [
            RecordRef(
                f"abide_{i:0{width}d}",
                rel,
                {
                    "layout": "braingb",
                    "i": i,
                    "subject": ids[i],
                    "site": sites[i],
                    "label": labels[i],
                    "split": split.get(ids[i]),
                    "rule": options.splits,
                },
            )
            for i in range(n)
        ]

    @staticmethod
    def braingb_labels(values: np.ndarray) -> list[int]:
        """BrainGB label values -> asd (1 autism, 0 control). Values {1, 2} are DX_GROUP; values
        {0, 1} are DX_GROUP - 1 as FBNetGen/BrainGB save them (0 autism, 1 control; an
        assumption recorded in the store notes); anything else is missing (-1)."""
        vals = {int(v) for v in np.asarray(values).tolist()}
        if vals <= {1, 2}:
            return [1 if int(v) == 1 else 0 for v in values]
        if vals <= {0, 1}:
            return [1 - int(v) for v in values]
        return [-1 for _ in values]

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        info = ref.info
        if info["layout"] == "braingb":
            d = _braingb_npy(str(raw_dir / ref.source_path))
            i = int(info["i"])
            return self.sample(ref, d["corr"][i], int(info["label"]), {"label": int(d["label"][i])})
        if info["file_id"] == "no_filename":
            raise RecordError(
                "no derivatives in the PCP release (FILE_ID 'no_filename')", stage="list"
            )
        if not info["has_file"]:
            raise RecordError(
                f"ROI time series {ref.source_path} not found (run 'climb fetch abide')",
                stage="list",
            )
        try:
            ts = read_roi_timeseries(raw_dir / ref.source_path)
        except AbideFormatError as exc:
            raise RecordError(exc.what + (f" ({exc.where})" if exc.where else "")) from None
        if ts.shape[1] != self.n_rois:
            raise RecordError(f"{ts.shape[1]} ROIs in the file, expected {self.n_rois}")
        if not np.all(np.isfinite(ts)):
            raise RecordError("non-finite values in the ROI time series")
        c = correlation(ts, fisher_z=self.fisher_z)
        dx = int(info["dx"])
        if dx not in (1, 2):
            raise RecordError(f"DX_GROUP {dx} is not 1 or 2")
        return self.sample(
            ref,
            c,
            1 if dx == 1 else 0,
            {"DX_GROUP": dx},
            {
                "file_id": info["file_id"],
                "n_timepoints": int(ts.shape[0]),
                "age": info["age"],
                "sex": info["sex"],
            },
        )


# ----------------------------------------------------------------------------- ABCD


@lru_cache(maxsize=2)
def _abcd(folder: str) -> dict[str, Any]:
    return read_braingb_abcd(folder)


class AbcdAdapter(BrainNetAdapter):
    """ABCD (BrainGB files): ``abcd_rest-pearson-HCP2016.npy`` (N, 360, 360), ``ids_HCP2016.txt``,
    ``id2sex.txt``; the label is **sex** (M -> 0, F -> 1), as in CLIMB's code (its documentation
    says Normal/Abnormal). Subjects without a sex entry keep label -1 (missing). Optional
    ``id2site.txt`` enables site-stratified splits."""

    key = "abcd"
    n_rois = 360
    task = "sex"
    classes = ("male", "female")
    task_note = (
        "id2sex.txt: M -> 0, F -> 1 (CLIMB's code trains on sex; its docs say Normal/Abnormal)"
    )
    extra_split_rules = ("stratified", "site")

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        try:
            d = _abcd(str(raw_dir))
        except GraphFormatError as exc:
            raise ClimbError(exc.what, where=exc.where, fix=exc.fix) from None
        sex = {"M": 0, "F": 1}
        subj = {
            i: (d["site"].get(i, "unknown"), sex.get(d["sex"].get(i, "").upper(), -1))
            for i in d["id"]
        }
        split = self.assign(subj, options) if options.splits != "patient" else {}
        rel = Path(d["path"]).relative_to(raw_dir).as_posix()
        return [
            RecordRef(
                f"abcd_{sid}",
                rel,
                {
                    "i": k,
                    "subject": sid,
                    "site": subj[sid][0],
                    "label": subj[sid][1],
                    "split": split.get(sid),
                    "rule": options.splits,
                },
            )
            for k, sid in enumerate(d["id"])
        ]

    def summary_notes(self, raw_dir: Path, options: PrepareOptions) -> list[str]:
        return ["label = sex (M 0, F 1), as CLIMB's code; not a clinical normal/abnormal label"]

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        d = _abcd(str(raw_dir))
        c = np.asarray(d["corr"][int(ref.info["i"])])
        native = d["sex"].get(ref.info["subject"])
        return self.sample(ref, c, int(ref.info["label"]), {"sex": native})


# ----------------------------------------------------------------------------- PPMI


@lru_cache(maxsize=2)
def _ppmi(path: str, view: int) -> dict[str, Any]:
    return read_braingb_mat(path, view)


class PpmiAdapter(BrainNetAdapter):
    """PPMI (BrainGB ``PPMI.mat``): view ``view`` (CLIMB: 0) of each subject's 84 x 84 x V
    stack; label -1 -> 0 (control), 1 -> 1 (Parkinson's disease). No subject ids or sites in
    the file: the row number is the subject."""

    key = "ppmi"
    n_rois = 84
    task = "parkinsons"
    classes = ("control", "parkinsons")
    task_note = "PPMI.mat label: -1 -> 0 control, 1 -> 1 Parkinson's disease"

    def __init__(self, view: int = 0, nan_policy: NanPolicy = "quarantine") -> None:
        super().__init__(nan_policy)
        self.view = view
        self.version = f"1-view{view}-nan_{nan_policy}"

    def _file(self, raw_dir: Path) -> Path:
        hits = sorted(raw_dir.rglob("PPMI.mat")) + sorted(raw_dir.rglob("ppmi.mat"))
        if not hits:
            raise ClimbError(
                "PPMI.mat not found", where=str(raw_dir), fix="see 'climb datasets show ppmi'"
            )
        return hits[0]

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]:
        path = self._file(raw_dir)
        try:
            d = _ppmi(str(path), self.view)
        except GraphFormatError as exc:
            raise ClimbError(exc.what, where=exc.where, fix=exc.fix) from None
        n = len(d["label"])
        width = len(str(n))
        labels = [0 if int(v) == -1 else (1 if int(v) == 1 else -1) for v in d["label"]]
        ids = [f"ppmi_{i:0{width}d}" for i in range(n)]
        subj = {ids[i]: ("unknown", labels[i]) for i in range(n)}
        split = self.assign(subj, options) if options.splits != "patient" else {}
        rel = path.relative_to(raw_dir).as_posix()
        return [
            RecordRef(
                ids[i],
                rel,
                {
                    "i": i,
                    "subject": ids[i],
                    "label": labels[i],
                    "split": split.get(ids[i]),
                    "rule": options.splits,
                },
            )
            for i in range(n)
        ]

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample:
        d = _ppmi(str(raw_dir / ref.source_path), self.view)
        i = int(ref.info["i"])
        return self.sample(ref, d["corr"][i], int(ref.info["label"]), {"label": int(d["label"][i])})
