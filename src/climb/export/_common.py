"""What every export format shares: the plan (which tasks, fields and samples, in which order),
batched reads from the store, questions per task type, media encoding, licence terms, an atomic
output directory and the summary file."""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from climb.core.errors import ClimbError

#: task types every format can express (``qa`` carries its own conversation)
SUPPORTED_TASKS = ("binary", "multiclass", "multilabel", "regression", "qa")
SPLIT_ORDER = ("train", "val", "test")
SUMMARY_FILE = "climb-export.json"
LICENCE_FILE = "LICENCE.md"
QUARANTINE_FILE = "quarantine.jsonl"

MediaKind = str  # "image" | "video" | "signal" | "array"


def need(module: str, fmt: str) -> Any:
    """Import an optional library of an export format, with an install hint."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ClimbError(
            f"the {fmt} export needs {module!r}, which is not installed",
            fix="pip install 'climb[vlm]' (datasets, webdataset, trl, transformers)",
        ) from exc


# ----------------------------------------------------------------------------- licence
@dataclass(frozen=True)
class LicenceTerms:
    id: str
    name: str
    url: str | None
    access: str
    citation: str
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "access": self.access,
            "citation": self.citation,
            "warnings": list(self.warnings),
        }


def licence_terms(meta: dict[str, Any]) -> LicenceTerms:
    """The licence of a store's dataset (card snapshot in dataset.json, else the registry's
    card) and the warnings an export must carry: non-commercial, no-derivatives, data-use
    agreement / credentialed access, unknown terms."""
    card = dict(meta.get("card") or {})
    if "licence" not in card:
        try:
            from climb.registry import get_card

            card = {**get_card(str(meta.get("key"))).to_dict(), **card}
        except Exception:
            pass
    lic = dict(card.get("licence") or {})
    lid = str(lic.get("id") or "unknown")
    name = str(lic.get("name") or "unknown terms")
    access = str(card.get("access") or "unknown")
    text = f"{lid} {name}".lower()
    warns: list[str] = []
    if "-nc" in text or "noncommercial" in text or "non-commercial" in text:
        warns.append(
            "NON-COMMERCIAL: this dataset's licence forbids commercial use; so does this export "
            "and any model trained on it may be subject to the same terms."
        )
    if "-nd" in text or "noderivatives" in text or "no derivatives" in text:
        warns.append(
            "NO DERIVATIVES: the licence forbids sharing adapted material; this export re-encodes "
            "the data (and may render signals as plots): keep it private, do not redistribute."
        )
    if access in ("dua", "credentialed", "competition", "registration") or "dua" in lid:
        warns.append(
            f"ACCESS '{access}': the data were obtained under a data-use agreement or "
            "credentialed access; the export is covered by the same agreement (no sharing with "
            "people who have not signed it, no upload to public hubs)."
        )
    if lid == "unknown":
        warns.append("UNKNOWN TERMS: the store does not say under which licence its data are.")
    return LicenceTerms(
        id=lid,
        name=name,
        url=lic.get("url"),
        access=access,
        citation=str(card.get("citation") or ""),
        warnings=tuple(warns),
    )


def licence_markdown(key: str, terms: LicenceTerms) -> str:
    lines = [
        f"# Licence of this export ({key})",
        "",
        f"- licence: {terms.name} ({terms.id})" + (f" <{terms.url}>" if terms.url else ""),
        f"- access: {terms.access}",
        "",
    ]
    if terms.warnings:
        lines += ["## Warnings", ""] + [f"- {w}" for w in terms.warnings] + [""]
    if terms.citation:
        lines += ["## Citation", "", "```bibtex", terms.citation, "```", ""]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- fields and tasks
def _field_kind(name: str, meta: dict[str, Any], fmeta: dict[str, Any]) -> MediaKind:
    kinds = {m.get("name"): m.get("kind") for m in (meta.get("card") or {}).get("modalities", [])}
    axes = [str(a).lower() for a in (fmeta.get("axes") or ())]
    shape = list(fmeta.get("shape") or ())
    card_kind = kinds.get(name)
    spatial = "height" in axes and "width" in axes
    if spatial and any(a in ("frame", "time", "t") for a in axes):
        return "video"  # dense (T fixed) or ragged (T per sample)
    if fmeta.get("ragged"):
        return "array"
    if spatial:
        return "image"
    if card_kind in ("image",) and len(shape) in (2, 3):
        return "image"
    if card_kind == "video" and len(shape) == 4:
        return "video"
    if len(shape) in (1, 2) and (
        card_kind in ("signal", "ecg", "eeg", "timeseries") or "time" in axes
    ):
        return "signal"
    return "array"


@dataclass(frozen=True)
class FieldPlan:
    name: str
    kind: MediaKind
    shape: tuple[int | None, ...]
    axes: tuple[str, ...]
    dtype: str
    meta: dict[str, Any]

    @property
    def ragged(self) -> bool:
        return bool(self.meta.get("ragged"))

    def fps(self, row: dict[str, Any]) -> float:
        """Frame rate of a video sample: the row's ``fps`` column (ragged video stores), else the
        field's sampling rate, else 10."""
        v = row.get("fps")
        try:
            if v is not None and float(v) > 0:
                return float(v)
        except (TypeError, ValueError):
            pass
        return float(self.meta.get("fps") or self.meta.get("sampling_rate_hz") or 10.0)


@dataclass(frozen=True)
class TaskPlan:
    name: str
    type: str
    classes: tuple[str, ...]
    column: str | None
    unit: str | None = None


@dataclass
class ExportPlan:
    store: Any
    fmt: str
    tasks: list[TaskPlan]
    fields: list[FieldPlan]
    splits: list[str]
    batch_size: int = 64
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    workers: int = 1
    _pool: Any = field(default=None, repr=False)

    def encoded(
        self, split: str, part: Any, values: dict[str, Any], fn: Callable[..., Any]
    ) -> list[tuple[dict[str, Any], Any]]:
        """``[(row, fn(values, j, row))]`` for the rows of a batch, in order. A sample whose
        ``fn`` raises is quarantined (reason recorded) and left out. With ``workers > 1`` the
        encodings run in a thread pool (Pillow and PyAV release the GIL while encoding);
        signal plots (matplotlib) stay in this thread."""
        rows = [row._asdict() for row in part.itertuples(index=False)]

        def one(j: int) -> tuple[Any, BaseException | None]:
            try:
                return fn(values, j, rows[j]), None
            except Exception as exc:
                return None, exc

        threaded = self.workers > 1 and not any(f.kind == "signal" for f in self.fields)
        if threaded:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="climb-export")
            results = list(self._pool.map(one, range(len(rows))))
        else:
            results = [one(j) for j in range(len(rows))]
        out = []
        for r, (res, exc) in zip(rows, results, strict=True):
            if exc is not None:
                self.quarantine.append(
                    {
                        "sample_id": r["sample_id"],
                        "split": split,
                        "reason": f"media encoding failed: {type(exc).__name__}: {exc}",
                    }
                )
                continue
            out.append((r, res))
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    @property
    def key(self) -> str:
        return str(self.store.key)

    def rows(self, split: str) -> Any:
        df = self.store.samples
        return df[df["split"] == split].sort_values("index", kind="stable")

    def total(self) -> int:
        df = self.store.samples
        return int(df["split"].isin(self.splits).sum())

    def batches(self, split: str) -> Iterator[tuple[Any, dict[str, Any]]]:
        """``(rows, {field: values})`` batches of ``split`` in store order (chunk-friendly)."""
        rows = self.rows(split)
        for start in range(0, len(rows), self.batch_size):
            part = rows.iloc[start : start + self.batch_size]
            idx = part["index"].to_numpy(dtype=np.int64)
            yield part, {f.name: self.store.read(f.name, idx) for f in self.fields}


def plan_export(
    store: Any,
    fmt: str,
    *,
    tasks: Sequence[str] | None = None,
    splits: Sequence[str] | None = None,
    fields: Sequence[str] | None = None,
    batch_size: int = 64,
    supported: Sequence[str] = SUPPORTED_TASKS,
    media_kinds: Sequence[str] | None = None,
) -> ExportPlan:
    meta = store.meta
    all_tasks = dict(meta.get("tasks") or {})
    chosen = list(tasks) if tasks else list(all_tasks)
    unknown = [t for t in chosen if t not in all_tasks]
    if unknown:
        raise ClimbError(
            f"store {store.key!r} has no task {unknown[0]!r}",
            fix=f"tasks: {', '.join(all_tasks) or '(none)'}",
        )
    tplans = []
    for t in chosen:
        spec = all_tasks[t]
        ttype = str(spec.get("type"))
        if ttype not in supported:
            raise ClimbError(
                f"task {t!r} of store {store.key!r} is a {ttype} task, which the {fmt} export "
                f"cannot express (it writes {', '.join(supported)} tasks)",
                where=f"{store.url} tasks.{t}",
                fix="choose other tasks with --task NAME (repeatable)"
                + (" or another --format" if fmt == "qa-jsonl" else ""),
            )
        tplans.append(
            TaskPlan(
                name=t,
                type=ttype,
                classes=tuple(str(c) for c in spec.get("classes") or ()),
                column=spec.get("column"),
                unit=spec.get("unit"),
            )
        )
    if not tplans:
        raise ClimbError(f"store {store.key!r} has no task to export", where=store.url)
    # a field that is a task's target (a segmentation mask) is not an input: left out unless
    # asked for by name
    targets = {str(spec.get("field")) for spec in all_tasks.values() if spec.get("field")}
    fnames = list(fields) if fields else [f for f in meta.get("fields") or {} if f not in targets]
    fplans = []
    for name in fnames:
        if name not in meta["fields"]:
            raise ClimbError(
                f"store {store.key!r} has no field {name!r}",
                fix=f"fields: {', '.join(meta['fields'])}",
            )
        fm = meta["fields"][name]
        kind = _field_kind(name, meta, fm)
        if media_kinds is not None and kind not in media_kinds:
            if fields:
                raise ClimbError(
                    f"field {name!r} ({kind}) cannot be written as media by the {fmt} export",
                    fix=f"it writes {', '.join(media_kinds)} fields",
                )
            continue
        fplans.append(
            FieldPlan(
                name=name,
                kind=kind,
                shape=tuple(None if s is None else int(s) for s in fm.get("shape") or ()),
                axes=tuple(str(a) for a in fm.get("axes") or ()),
                dtype=str(fm.get("dtype")),
                meta=dict(fm),
            )
        )
    if not fplans and not any(t.type == "qa" for t in tplans):
        raise ClimbError(
            f"store {store.key!r} has no field the {fmt} export can write "
            f"(fields: {', '.join(meta['fields']) or 'none'})",
            fix="media exports need an image, video or signal field",
        )
    present = set(store.samples["split"].unique())
    order = [s for s in SPLIT_ORDER if s in present] + sorted(present - set(SPLIT_ORDER))
    chosen_splits = list(splits) if splits else order
    missing = [s for s in chosen_splits if s not in present]
    if missing:
        raise ClimbError(
            f"store {store.key!r} has no split {missing[0]!r}", fix=f"splits: {', '.join(order)}"
        )
    return ExportPlan(store, fmt, tplans, fplans, chosen_splits, batch_size=int(batch_size))


# ----------------------------------------------------------------------------- labels and text
def label_value(task: TaskPlan, row: Any) -> Any:
    """The sample's label for ``task`` as plain Python (None when missing/masked)."""
    if task.type == "qa":
        return conversations_of(row)
    if task.column is None or task.column not in row:
        return None
    v = row[task.column]
    if task.type == "multilabel":
        arr = np.asarray(v, dtype=np.int64).reshape(-1)
        return None if (arr < 0).any() else arr.tolist()
    if task.type == "regression":
        f = float(v)
        return None if not math.isfinite(f) else f
    i = int(v)
    return None if i < 0 else i


def conversations_of(row: Any) -> list[dict[str, str]] | None:
    """A ``qa`` sample's conversation, from the ``conversations`` key of its native labels."""
    try:
        native = json.loads(row["native_labels"]) if isinstance(row["native_labels"], str) else {}
    except (KeyError, ValueError):
        return None
    conv = native.get("conversations")
    if not isinstance(conv, list) or not conv:
        return None
    return [{"from": str(t.get("from")), "value": str(t.get("value"))} for t in conv]


def _modality_words(plan: ExportPlan) -> str:
    kinds = [f.kind for f in plan.fields]
    if "video" in kinds:
        return "video"
    if "image" in kinds:
        return "image"
    if "signal" in kinds:
        return "signal plot"
    return "sample"


def question(plan: ExportPlan, task: TaskPlan) -> str:
    """The question for ``task`` (without media tokens). One template per task type:

    * binary / multiclass: ``... What is the <task> of this <media>? Answer with one word from
      <classes>.`` (answer: the class name)
    * multilabel: ``... Which of the following <task> are present? Select all that apply from
      <classes>; answer with the names separated by ', ', or 'none'.``
    * regression: ``... What is the <task> of this <media>? Answer with a number[ in <unit>].``
    """
    what = _modality_words(plan)
    name = task.name.replace("_", " ")
    head = f"The above is a {what} from the {plan.key} dataset. "
    if task.type in ("binary", "multiclass"):
        return f"{head}What is the {name} of this {what}? Answer with one word from {', '.join(task.classes)}."
    if task.type == "multilabel":
        return (
            f"{head}Which of the following {name} findings are present? Select all that apply "
            f"from {', '.join(task.classes)}; answer with the names separated by ', ', or 'none'."
        )
    if task.type == "regression":
        unit = f" in {task.unit}" if task.unit else ""
        return f"{head}What is the {name} of this {what}? Answer with a number{unit}."
    raise ClimbError(f"no question template for task type {task.type!r}")


def answer(task: TaskPlan, value: Any) -> str:
    if task.type in ("binary", "multiclass"):
        return task.classes[int(value)] if task.classes else str(value)
    if task.type == "multilabel":
        names = [task.classes[i] for i, v in enumerate(value) if v > 0]
        return ", ".join(names) if names else "none"
    if task.type == "regression":
        return f"{float(value):.4g}"
    raise ClimbError(f"no answer format for task type {task.type!r}")


# ----------------------------------------------------------------------------- media
def to_uint8_image(x: np.ndarray, axes: Sequence[str]) -> list[np.ndarray]:
    """One field value as a list of HxW or HxWx3 uint8 images (a ``view`` axis gives one image
    per view; 1 or 3 channels give one grey or RGB image)."""
    a = np.asarray(x)
    ax = [s.lower() for s in axes] if axes and len(axes) == a.ndim else []
    if a.ndim == 2:
        planes = [a]
    elif a.ndim == 3:
        if ax and ax[-1] in ("channel", "rgb", "c"):  # H, W, C
            a = np.moveaxis(a, -1, 0)
            ax = [ax[-1], *ax[:-1]]
        first = ax[0] if ax else ("channel" if a.shape[0] in (1, 3) else "view")
        if first == "view" or a.shape[0] not in (1, 3):
            planes = [a[i] for i in range(a.shape[0])]
        elif a.shape[0] == 1:
            planes = [a[0]]
        else:
            planes = [np.moveaxis(a, 0, -1)]
    else:
        raise ValueError(f"cannot make an image of an array of shape {a.shape}")
    out = []
    for p in planes:
        if p.dtype != np.uint8:
            p = p.astype(np.float64)
            if not np.isfinite(p).all():
                raise ValueError("image has NaN or infinite values")
            lo, hi = float(p.min()), float(p.max())
            p = np.zeros_like(p) if hi <= lo else (p - lo) / (hi - lo) * 255.0
            p = np.round(p).astype(np.uint8)
        out.append(np.ascontiguousarray(p))
    return out


def png_bytes(img: np.ndarray, compress_level: int = 1) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def video_frames(x: np.ndarray, axes: Sequence[str]) -> np.ndarray:
    """A video field as (T, H, W, 3) uint8."""
    a = np.asarray(x)
    ax = [s.lower() for s in axes]
    if a.ndim == 3:  # T, H, W
        a = a[..., None]
        ax = [*ax, "channel"]
    if a.ndim != 4:
        raise ValueError(f"cannot make a video of an array of shape {a.shape}")
    t_ax = next(i for i, s in enumerate(ax) if s in ("frame", "time", "t"))
    c_ax = next((i for i, s in enumerate(ax) if s in ("channel", "c", "rgb")), None)
    order = [t_ax, ax.index("height"), ax.index("width")]
    order.append(c_ax if c_ax is not None else next(i for i in range(4) if i not in order))
    a = np.transpose(a, order)
    if a.dtype != np.uint8:
        a = a.astype(np.float64)
        if not np.isfinite(a).all():
            raise ValueError("video has NaN or infinite values")
        lo, hi = float(a.min()), float(a.max())
        a = np.zeros_like(a) if hi <= lo else (a - lo) / (hi - lo) * 255.0
        a = np.round(a).astype(np.uint8)
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    return a[..., :3]


def mp4_bytes(frames: np.ndarray, fps: float = 10.0) -> bytes:
    """H.264 mp4 (yuv420p; odd sizes are padded to even) through PyAV."""
    import av

    _, h, w, _ = frames.shape
    ph, pw = h + (h % 2), w + (w % 2)
    if (ph, pw) != (h, w):
        frames = np.pad(frames, ((0, 0), (0, ph - h), (0, pw - w), (0, 0)), mode="edge")
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as box:
        stream = box.add_stream("libx264", rate=max(1, round(fps)))
        stream.width, stream.height, stream.pix_fmt = pw, ph, "yuv420p"
        for f in frames:
            for pkt in stream.encode(
                av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
            ):
                box.mux(pkt)
        for pkt in stream.encode():
            box.mux(pkt)
    return buf.getvalue()


LEAD_NAMES_12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


class _SignalFigure:
    """One matplotlib figure per signal shape, re-used: each sample only replaces the line data
    and the y limits (about 5x faster than building a figure per sample)."""

    def __init__(self, c: int, t: np.ndarray, fmeta: dict[str, Any], dpi: int) -> None:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

        fs = fmeta.get("sampling_rate_hz")
        n = len(t)
        names = fmeta.get("channel_names") or (LEAD_NAMES_12 if c == 12 else None)
        self.fig = Figure(figsize=(10, 0.8 * c + 0.4), dpi=dpi)
        self.axes = self.fig.subplots(c, 1, sharex=True, squeeze=False)[:, 0]
        self.lines = []
        for i, ax in enumerate(self.axes):
            (line,) = ax.plot(t, np.zeros(n), linewidth=0.6, color="black")
            self.lines.append(line)
            ax.set_yticks([])
            ax.set_xlim(float(t[0]), float(t[-1]) if n > 1 else 1.0)
            for s in ("top", "right", "left"):
                ax.spines[s].set_visible(False)
            ax.set_ylabel(str(names[i]) if names else f"ch{i}", rotation=0, ha="right", va="center")
        self.axes[-1].set_xlabel("s" if fs else "sample")
        self.fig.subplots_adjust(
            left=0.06, right=0.99, top=0.98, bottom=0.4 / (0.8 * c + 0.4), hspace=0
        )

    def render(self, a: np.ndarray) -> bytes:
        for ax, line, y in zip(self.axes, self.lines, a, strict=False):
            line.set_ydata(y)
            lo, hi = float(y.min()), float(y.max())
            pad = (hi - lo) * 0.05 or 1.0
            ax.set_ylim(lo - pad, hi + pad)
        buf = io.BytesIO()
        self.fig.savefig(buf, format="png")
        return buf.getvalue()


_FIGURES: dict[tuple[int, int, Any, Any, int], _SignalFigure] = {}


def signal_png(x: np.ndarray, fmeta: dict[str, Any], *, dpi: int = 60) -> bytes:
    """A (channels, time) signal as a PNG plot: one row per channel (the first 12), a shared time
    axis in seconds when the sampling rate is known, channel names (the 12-lead names for a
    12-channel signal) on the left, each row scaled to its own range, no other decoration.
    Rendered with matplotlib's Agg backend at ``dpi`` (600 px wide at 60 dpi); a signal longer
    than 4 samples per pixel column is drawn as its per-column min/max envelope."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"cannot plot a signal of shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("signal has NaN or infinite values")
    a = a[:12]
    n = a.shape[1]
    fs = fmeta.get("sampling_rate_hz")
    t = np.arange(n) / float(fs) if fs else np.arange(n, dtype=np.float64)
    px = 10 * dpi
    if n > 4 * px:  # more samples than pixels: draw the min/max envelope of each pixel column
        bins = np.linspace(0, n, px + 1).astype(np.int64)
        lo = np.minimum.reduceat(a, bins[:-1], axis=1)
        hi = np.maximum.reduceat(a, bins[:-1], axis=1)
        a = np.stack([lo, hi], axis=2).reshape(a.shape[0], -1)
        t = np.repeat(t[bins[:-1]], 2)
    names = fmeta.get("channel_names")
    key = (a.shape[0], n, fs, tuple(names or ()), dpi)
    fig = _FIGURES.get(key)
    if fig is None:
        if len(_FIGURES) > 8:
            _FIGURES.clear()
        fig = _FIGURES[key] = _SignalFigure(a.shape[0], t, fmeta, dpi)
    return fig.render(a)


# ----------------------------------------------------------------------------- output
class AtomicDir:
    """Write into ``<out>.partial`` and rename it to ``out`` at the end: an interrupted export
    leaves no half-written directory at the final path."""

    def __init__(self, out: str | Path, overwrite: bool = False) -> None:
        self.out = Path(out)
        if self.out.exists() and any(self.out.iterdir()) and not overwrite:
            raise ClimbError(
                f"{self.out} exists and is not empty",
                fix="choose another --out or pass --overwrite",
            )
        self.tmp = self.out.with_name(self.out.name + ".partial")
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)

    def commit(self) -> Path:
        if self.out.exists():
            old = self.out.with_name(self.out.name + ".old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(self.out, old)
            os.replace(self.tmp, self.out)
            shutil.rmtree(old)
        else:
            os.replace(self.tmp, self.out)
        return self.out

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


@dataclass
class ExportResult:
    out: Path
    fmt: str
    key: str
    written: dict[str, int]
    skipped: dict[str, int]
    quarantined: int
    seconds: float
    licence: LicenceTerms

    @property
    def rows(self) -> int:
        return sum(self.written.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.fmt,
            "store": self.key,
            "written": self.written,
            "skipped_missing_label": self.skipped,
            "quarantined": self.quarantined,
            "seconds": round(self.seconds, 3),
            "licence": self.licence.to_dict(),
        }


def write_sidecars(
    tmp: Path,
    plan: ExportPlan,
    terms: LicenceTerms,
    written: dict[str, int],
    skipped: dict[str, int],
    extra: dict[str, Any],
    seconds: float,
) -> None:
    (tmp / LICENCE_FILE).write_text(licence_markdown(plan.key, terms), encoding="utf-8")
    if plan.quarantine:
        with open(tmp / QUARANTINE_FILE, "w", encoding="utf-8") as fh:
            for q in plan.quarantine:
                fh.write(json.dumps(q) + "\n")
    from climb import __version__

    summary = {
        "format": plan.fmt,
        "store": {
            "key": plan.key,
            "url": str(plan.store.url),
            "fingerprint": plan.store.meta.get("fingerprint"),
            "content_hash": plan.store.meta.get("content_hash"),
        },
        "tasks": [t.__dict__ for t in plan.tasks],
        "fields": [{"name": f.name, "kind": f.kind} for f in plan.fields],
        "splits": plan.splits,
        "written": written,
        "skipped_missing_label": skipped,
        "quarantined": len(plan.quarantine),
        "licence": terms.to_dict(),
        "climb_version": __version__,
        "seconds": round(seconds, 3),
        **extra,
    }
    (tmp / SUMMARY_FILE).write_text(json.dumps(summary, indent=2), encoding="utf-8")


def warn_licence(terms: LicenceTerms, key: str, echo: Callable[[str], None] | None = None) -> None:
    if not terms.warnings:
        return
    say = echo or (lambda s: print(s, file=sys.stderr))
    for w in terms.warnings:
        say(f"warning ({key}, {terms.id}): {w}")


def now() -> float:
    return time.perf_counter()
