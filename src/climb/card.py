"""Dataset cards: pure, validated data describing one dataset of the catalog.

A card says what a dataset *is* (domain, modalities, tasks, classes, sizes, licence, access,
sources, citation, known issues). It never touches the disk or the network. Every field is
validated when the card is built, so a malformed card fails at import time with a clear error
that names the dataset and the field.

All types are frozen dataclasses of plain values, so ``card.to_dict()`` is JSON-serialisable and
``DatasetCard.from_dict(card.to_dict()) == card``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, get_args

from climb.core.errors import CardError
from climb.core.schema import TASK_KINDS, TaskKindName

Domain = Literal[
    "ecg",
    "eeg",
    "chest_xray",
    "mammography",
    "dermoscopy",
    "fundus",
    "ct",
    "ultrasound",
    "mri",
    "brain_network",
    "molecule",
    "pathology",
    "surgical_video",
    "imu",
    "gene_expression",
    "multimodal",
]
DOMAINS: tuple[str, ...] = get_args(Domain)

Access = Literal["open", "registration", "credentialed", "dua", "competition"]
ACCESS_LEVELS: tuple[str, ...] = get_args(Access)

#: a card task's ``type``: the one task-kind vocabulary of climb.core.schema
TaskType = TaskKindName
TASK_TYPES: tuple[str, ...] = TASK_KINDS

SourceKind = Literal[
    "physionet", "kaggle", "zenodo", "github", "huggingface", "tcia", "url", "manual"
]
SOURCE_KINDS: tuple[str, ...] = get_args(SourceKind)

ModalityKind = Literal[
    "signal", "image", "video", "volume", "graph", "sequence", "table", "text", "matrix"
]
MODALITY_KINDS: tuple[str, ...] = get_args(ModalityKind)

TaskLevel = Literal["sample", "window", "node", "patient", "admission", "series"]
TASK_LEVELS: tuple[str, ...] = get_args(TaskLevel)

KEY_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_KAGGLE_DATASET_RE = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
_GITHUB_REPO_RE = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_BRANCH_NAMES = frozenset({"main", "master", "HEAD", "develop", "dev"})
_URL_RE = re.compile(r"^https?://[^\s]+$")


def _fail(owner: str, field_name: str, problem: str, fix: str | None = None) -> None:
    raise CardError(
        f"invalid dataset card: {field_name} {problem}",
        where=owner,
        fix=fix or "correct the card in its module under src/climb/datasets/",
    )


def _check_url(owner: str, name: str, value: str | None, *, required: bool = False) -> None:
    if value is None:
        if required:
            _fail(owner, name, "is required")
        return
    if not _URL_RE.match(value):
        _fail(owner, name, f"must be an http(s) URL, got {value!r}")


#: characters of a drawn tree (``├── a.csv``) tolerated before a layout entry
_LAYOUT_TREE_CHARS = "│├└─|`- \t"
_LAYOUT_COMMENT_RE = re.compile(r"\s#")


def layout_entries(expected_layout: str) -> list[tuple[str, str]]:
    """``(pattern, explanation)`` for each entry of a manual source's ``expected_layout``.

    The convention: one entry per line, a glob (:func:`fnmatch.fnmatchcase`: ``*`` also crosses
    ``/``, ``?`` and ``[...]`` as usual) relative to the folder the source lands in
    (``<root>/raw/<key>/`` for a card's first source), optionally followed by
    ``  # explanation``. Blank lines and lines that are only a ``# comment`` are skipped;
    tree-drawing characters (``├── ``) before an entry are ignored; a pattern ending in ``/``
    stands for "some file under this folder"."""
    out: list[tuple[str, str]] = []
    for raw in expected_layout.splitlines():
        line = raw.lstrip(_LAYOUT_TREE_CHARS)
        if not line or line.startswith("#"):
            continue
        parts = _LAYOUT_COMMENT_RE.split(line, maxsplit=1)
        pattern = parts[0].rstrip()
        note = parts[1].strip() if len(parts) > 1 else ""
        if pattern:
            out.append((pattern, note))
    return out


def _layout_pattern_problems(pattern: str) -> list[str]:
    checks = (
        (pattern.startswith("<root>"), "starts with <root> (patterns are relative to raw/<key>/)"),
        (pattern.startswith(("/", "~")), "is an absolute path (patterns are relative)"),
        ("<" in pattern or ">" in pattern, "holds a <placeholder> (write a glob such as '*')"),
        ("{" in pattern or "}" in pattern, "uses {a,b} braces (write one entry per line)"),
        (".." in pattern, "contains '..' (no ranges or parent folders; use a glob)"),
        (";" in pattern, "joins several files with ';' (write one entry per line)"),
        (any(c.isspace() for c in pattern), "has text after the pattern (write it as '  # ...')"),
    )
    return [f"entry {pattern!r} {why}" for bad, why in checks if bad]


def layout_problems(expected_layout: str) -> list[str]:
    """Why a manual source's ``expected_layout`` breaks the convention of
    :func:`layout_entries` (empty when it follows it, or when it is empty)."""
    entries = layout_entries(expected_layout)
    if expected_layout.strip() and not entries:
        return ["names no file (write one glob per line)"]
    return [msg for pattern, _ in entries for msg in _layout_pattern_problems(pattern)]


def _tupled(value: Any) -> Any:
    """Turn lists (e.g. from JSON) into tuples, recursively, so cards stay hashable."""
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    return value


@dataclass(frozen=True)
class Licence:
    """The licence or terms of use. ``id`` is an SPDX id where one exists (``CC-BY-4.0``),
    otherwise a stable climb id (``physionet-credentialed-1.5.0``, ``kaggle-competition``)."""

    id: str
    name: str
    url: str | None = None

    def validate(self, owner: str) -> None:
        if not self.id or not _SLUG_RE.match(self.id):
            _fail(owner, "licence.id", f"must be a non-empty id without spaces, got {self.id!r}")
        if not self.name:
            _fail(owner, "licence.name", "is required")
        _check_url(owner, "licence.url", self.url)


@dataclass(frozen=True)
class Modality:
    """One input of a sample. ``shape`` is per sample, with symbolic axes as strings
    (``("leads=12", "time=5000")`` is written as ``(12, 5000)`` plus ``axes``)."""

    name: str
    kind: ModalityKind
    shape: tuple[int | None, ...] | None = None
    axes: tuple[str, ...] | None = None
    unit: str | None = None
    sampling_rate_hz: float | None = None
    dtype: str | None = None
    description: str = ""

    def validate(self, owner: str) -> None:
        where = f"modality {self.name!r}"
        if not self.name or not KEY_RE.match(self.name):
            _fail(owner, "modality.name", f"must be snake_case, got {self.name!r}")
        if self.kind not in MODALITY_KINDS:
            _fail(owner, f"{where}.kind", f"must be one of {MODALITY_KINDS}, got {self.kind!r}")
        if self.shape is not None:
            if not isinstance(self.shape, tuple) or not self.shape:
                _fail(owner, f"{where}.shape", "must be a non-empty tuple")
            for dim in self.shape:
                if dim is not None and (not isinstance(dim, int) or dim <= 0):
                    _fail(owner, f"{where}.shape", f"has an invalid dimension {dim!r}")
            if self.axes is not None and len(self.axes) != len(self.shape):
                _fail(owner, f"{where}.axes", "must name every axis of shape")
        if self.sampling_rate_hz is not None and self.sampling_rate_hz <= 0:
            _fail(owner, f"{where}.sampling_rate_hz", "must be positive")


@dataclass(frozen=True)
class Task:
    """A prediction task. ``classes`` are in the order of the label indices.

    binary: exactly 2 classes (negative first). multiclass: >= 3 classes. multilabel: >= 2.
    regression: no classes, ``unit`` says the target's unit. segmentation: the classes of the mask
    (background first). qa: free-text question answering, no classes.
    """

    name: str
    type: TaskType
    classes: tuple[str, ...] = ()
    description: str = ""
    label_space: str | None = None
    level: TaskLevel = "sample"
    unit: str | None = None

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def validate(self, owner: str) -> None:
        where = f"task {self.name!r}"
        if not self.name or not KEY_RE.match(self.name):
            _fail(owner, "task.name", f"must be snake_case, got {self.name!r}")
        if self.type not in TASK_TYPES:
            _fail(owner, f"{where}.type", f"must be one of {TASK_TYPES}, got {self.type!r}")
        if self.level not in TASK_LEVELS:
            _fail(owner, f"{where}.level", f"must be one of {TASK_LEVELS}, got {self.level!r}")
        n = len(self.classes)
        if len(set(self.classes)) != n:
            _fail(owner, f"{where}.classes", f"has duplicates: {self.classes}")
        if any(not c for c in self.classes):
            _fail(owner, f"{where}.classes", "has an empty class name")
        expected = {
            "binary": n == 2,
            "multiclass": n >= 3,
            "multilabel": n >= 2,
            "regression": n == 0,
            "segmentation": n >= 2,
            "qa": n == 0,
        }[self.type]
        if not expected:
            _fail(
                owner,
                f"{where}.classes",
                f"has {n} classes, which does not fit task type {self.type!r} "
                "(binary: 2, multiclass: >=3, multilabel: >=2, segmentation: >=2, "
                "regression/qa: none)",
            )
        if self.label_space is not None and not KEY_RE.match(self.label_space):
            _fail(
                owner,
                f"{where}.label_space",
                f"must be a label-space key, got {self.label_space!r}",
            )


@dataclass(frozen=True)
class Source:
    """Where (part of) a dataset comes from, with exact identifiers.

    Per kind, the fields that must be set:

    - ``physionet``: ``id`` = project slug (``ptb-xl``), ``version`` (``1.0.3``).
    - ``kaggle``: ``id`` = ``owner/dataset`` for datasets, or the competition slug with
      ``competition=True``.
    - ``zenodo``: ``id`` = record id (digits).
    - ``github``: ``id`` = ``owner/repo`` and ``version`` = a pinned commit or tag.
    - ``huggingface``: ``id`` = ``owner/name``, ``version`` = pinned revision,
      ``repo_type`` = ``dataset`` or ``model``.
    - ``tcia``: ``id`` = the TCIA collection name.
    - ``url``: ``url`` (and optionally ``sha256``).
    - ``manual``: ``url`` of the page where access is requested and ``instructions``.

    ``role`` says what the source provides (``data``, ``labels``, ``splits``, ``metadata``);
    ``include`` optionally restricts which files of the source are needed. ``alternate``
    marks another copy of the data of the card's first data source (e.g. a Kaggle mirror of a
    PhysioNet project): ``climb fetch`` skips it unless asked (``--source``).
    """

    kind: SourceKind
    id: str | None = None
    version: str | None = None
    url: str | None = None
    sha256: str | None = None
    competition: bool = False
    repo_type: str | None = None
    role: str = "data"
    include: tuple[str, ...] = ()
    instructions: str = ""
    expected_layout: str = ""
    notes: str = ""
    #: Another copy of the data of the card's first data source; not fetched unless asked.
    alternate: bool = False

    def validate(self, owner: str) -> None:
        k = self.kind
        where = f"source ({k})"
        if k not in SOURCE_KINDS:
            _fail(owner, "source.kind", f"must be one of {SOURCE_KINDS}, got {k!r}")
        if self.role not in ("data", "labels", "splits", "metadata"):
            _fail(owner, f"{where}.role", f"must be data/labels/splits/metadata, got {self.role!r}")
        _check_url(owner, f"{where}.url", self.url)
        if self.sha256 is not None and not _SHA256_RE.match(self.sha256):
            _fail(owner, f"{where}.sha256", "must be 64 lowercase hex digits")
        if self.competition and k != "kaggle":
            _fail(owner, f"{where}.competition", "only applies to kaggle sources")
        if k == "physionet":
            if not self.id or not _SLUG_RE.match(self.id):
                _fail(owner, f"{where}.id", "must be the PhysioNet project slug, e.g. 'ptb-xl'")
            if not self.version or not re.match(r"^\d+(\.\d+)*$", self.version):
                _fail(owner, f"{where}.version", "must be the project version, e.g. '1.0.3'")
        elif k == "kaggle":
            if self.competition:
                if not self.id or not _SLUG_RE.match(self.id) or "/" in self.id:
                    _fail(owner, f"{where}.id", "must be the competition slug (no owner)")
            elif not self.id or not _KAGGLE_DATASET_RE.match(self.id):
                _fail(owner, f"{where}.id", "must be 'owner/dataset-slug'")
        elif k == "zenodo":
            if not self.id or not self.id.isdigit():
                _fail(owner, f"{where}.id", "must be the numeric Zenodo record id")
        elif k == "github":
            if not self.id or not _GITHUB_REPO_RE.match(self.id):
                _fail(owner, f"{where}.id", "must be 'owner/repo'")
            if not self.version or self.version in _BRANCH_NAMES:
                _fail(owner, f"{where}.version", "must pin a commit or tag, not a branch")
        elif k == "huggingface":
            if not self.id or not _GITHUB_REPO_RE.match(self.id):
                _fail(owner, f"{where}.id", "must be 'owner/name'")
            if not self.version:
                _fail(owner, f"{where}.version", "must pin a revision")
            if self.repo_type not in ("dataset", "model"):
                _fail(owner, f"{where}.repo_type", "must be 'dataset' or 'model'")
        elif k == "tcia":
            if not self.id:
                _fail(owner, f"{where}.id", "must be the TCIA collection name")
        elif k == "url":
            _check_url(owner, f"{where}.url", self.url, required=True)
        elif k == "manual":
            _check_url(owner, f"{where}.url", self.url, required=True)
            if not self.instructions:
                _fail(owner, f"{where}.instructions", "must say how to obtain the data")
            problems = layout_problems(self.expected_layout)
            if problems:
                _fail(
                    owner,
                    f"{where}.expected_layout",
                    "; ".join(problems),
                    fix=(
                        "write one glob per line, relative to <root>/raw/<key>/, each optionally "
                        "followed by '  # explanation' (docs/fetch.md, manual sources)"
                    ),
                )

    @property
    def automatable(self) -> bool:
        """True when ``climb fetch`` can download this source without a person's help."""
        return self.kind != "manual"

    def describe(self) -> str:
        """A one-line human description with the exact identifiers."""
        k = self.kind
        if k == "physionet":
            return f"PhysioNet {self.id}/{self.version}"
        if k == "kaggle":
            return f"Kaggle {'competition' if self.competition else 'dataset'} {self.id}"
        if k == "zenodo":
            return f"Zenodo record {self.id}"
        if k == "github":
            return f"GitHub {self.id}@{self.version}"
        if k == "huggingface":
            return f"Hugging Face {self.repo_type} {self.id}@{self.version}"
        if k == "tcia":
            return f"TCIA collection {self.id}"
        if k == "url":
            return f"URL {self.url}"
        return f"manual ({self.url})"


@dataclass(frozen=True)
class Discrepancy:
    """Where CLIMB's documentation and its code (or the source) disagree, and what climb does."""

    topic: str
    documented: str
    code: str
    climb_follows: str
    why: str

    def validate(self, owner: str) -> None:
        for f in ("topic", "documented", "code", "climb_follows", "why"):
            if not getattr(self, f):
                _fail(owner, f"discrepancy.{f}", "is required")


@dataclass(frozen=True)
class DatasetCard:
    """Everything the catalog knows about one dataset, as validated data."""

    key: str
    name: str
    domain: Domain
    description: str
    modalities: tuple[Modality, ...]
    tasks: tuple[Task, ...]
    licence: Licence
    access: Access
    sources: tuple[Source, ...]
    homepage: str
    citation: str
    samples: int | None = None
    splits: dict[str, int] = field(default_factory=dict)
    size_bytes: int | None = None
    patients: int | None = None
    known_issues: tuple[str, ...] = ()
    discrepancies: tuple[Discrepancy, ...] = ()
    original_code: str | None = None
    in_climb: bool = True
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.validate()

    # ---------------------------------------------------------------- validation
    def validate(self) -> None:
        owner = f"dataset card {self.key!r}"
        if not isinstance(self.key, str) or not KEY_RE.match(self.key):
            _fail(owner, "key", f"must be snake_case ([a-z0-9_]), got {self.key!r}")
        if not self.name:
            _fail(owner, "name", "is required")
        if self.domain not in DOMAINS:
            _fail(owner, "domain", f"must be one of {DOMAINS}, got {self.domain!r}")
        if self.access not in ACCESS_LEVELS:
            _fail(owner, "access", f"must be one of {ACCESS_LEVELS}, got {self.access!r}")
        if not self.description:
            _fail(owner, "description", "is required")
        if not self.modalities:
            _fail(owner, "modalities", "needs at least one modality")
        if not self.tasks:
            _fail(owner, "tasks", "needs at least one task")
        if not self.sources:
            _fail(owner, "sources", "needs at least one source")
        for m in self.modalities:
            if not isinstance(m, Modality):
                _fail(owner, "modalities", f"must hold Modality objects, got {type(m).__name__}")
            m.validate(owner)
        names = [m.name for m in self.modalities]
        if len(set(names)) != len(names):
            _fail(owner, "modalities", f"has duplicate names: {names}")
        for t in self.tasks:
            if not isinstance(t, Task):
                _fail(owner, "tasks", f"must hold Task objects, got {type(t).__name__}")
            t.validate(owner)
        tnames = [t.name for t in self.tasks]
        if len(set(tnames)) != len(tnames):
            _fail(owner, "tasks", f"has duplicate names: {tnames}")
        if not isinstance(self.licence, Licence):
            _fail(owner, "licence", "must be a Licence")
        self.licence.validate(owner)
        for s in self.sources:
            if not isinstance(s, Source):
                _fail(owner, "sources", f"must hold Source objects, got {type(s).__name__}")
            s.validate(owner)
        self._validate_alternates(owner)
        _check_url(owner, "homepage", self.homepage, required=True)
        if not self.citation.strip().startswith("@") or "{" not in self.citation:
            _fail(owner, "citation", "must be a BibTeX entry (starting with '@type{key,')")
        if self.samples is not None and self.samples <= 0:
            _fail(owner, "samples", "must be positive when known")
        for split, n in self.splits.items():
            if not KEY_RE.match(split):
                _fail(owner, "splits", f"has an invalid split name {split!r}")
            if not isinstance(n, int) or n < 0:
                _fail(owner, "splits", f"count for {split!r} must be a non-negative int")
        if self.splits and self.samples is not None and sum(self.splits.values()) != self.samples:
            _fail(
                owner,
                "splits",
                f"add up to {sum(self.splits.values())}, but samples is {self.samples}",
                fix="make the split counts add up to 'samples' (note other counts in discrepancies)",
            )
        if self.size_bytes is not None and self.size_bytes <= 0:
            _fail(owner, "size_bytes", "must be positive when known")
        if self.patients is not None and self.patients <= 0:
            _fail(owner, "patients", "must be positive when known")
        for d in self.discrepancies:
            d.validate(owner)
        for a in self.aliases:
            if not isinstance(a, str) or not a:
                _fail(owner, "aliases", "must be non-empty strings")

    def _validate_alternates(self, owner: str) -> None:
        data = [i for i, s in enumerate(self.sources, 1) if s.role == "data"]
        for i, s in enumerate(self.sources, 1):
            if s.alternate and s.role != "data":
                _fail(
                    owner,
                    f"sources[{i}].alternate",
                    f"only applies to data sources (this one has role {s.role!r})",
                    fix="remove alternate=True, or give the source role='data'",
                )
        if data and self.sources[data[0] - 1].alternate:
            _fail(
                owner,
                f"sources[{data[0]}].alternate",
                "the card's first data source is the primary copy and cannot be an "
                "alternate; an alternate needs a non-alternate data source before it",
                fix="list the primary (non-alternate) data source first",
            )

    # ---------------------------------------------------------------- helpers
    @property
    def automatable(self) -> bool:
        """True when every source fetched by default (alternates aside) can be fetched
        without a person's help."""
        return all(s.automatable for s in self.sources if not s.alternate)

    def primary_source(self) -> int | None:
        """0-based index of the card's first data source (the copy alternates stand in for)."""
        return next((i for i, s in enumerate(self.sources) if s.role == "data"), None)

    def alternates(self) -> list[int]:
        """0-based indices of the alternate sources."""
        return [i for i, s in enumerate(self.sources) if s.alternate]

    def task(self, name: str) -> Task:
        for t in self.tasks:
            if t.name == name:
                return t
        raise CardError(
            f"dataset {self.key!r} has no task {name!r}",
            fix=f"choose one of: {', '.join(t.name for t in self.tasks)}",
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetCard:
        data = dict(data)
        nested = {
            "modalities": Modality,
            "tasks": Task,
            "sources": Source,
            "discrepancies": Discrepancy,
        }
        for name, typ in nested.items():
            data[name] = tuple(_build(typ, item) for item in data.get(name, ()))
        data["licence"] = _build(Licence, data["licence"])
        for name in ("known_issues", "aliases"):
            data[name] = tuple(data.get(name, ()))
        return cls(**data)


def _build(typ: type, item: dict[str, Any]) -> Any:
    known = {f.name for f in fields(typ)}
    unknown = set(item) - known
    if unknown:
        raise CardError(
            f"unknown field(s) {sorted(unknown)} for {typ.__name__}",
            fix=f"known fields: {sorted(known)}",
        )
    return typ(**{k: _tupled(v) for k, v in item.items()})
