"""The fetch stage as a library: ``fetch``, ``verify``, ``access`` over dataset cards.

Layout of ``<root>/raw/<key>/``: the files of the card's first source sit directly in the
folder; every further source goes into a sub-folder named after its id (see
:func:`source_folder`), so two sources can never overwrite each other's files.

Which sources: by default every source except the alternates (``Source.alternate``: another copy
of the card's first data source); ``sources`` (``climb fetch --source SPEC``) selects exactly
which ones, by 1-based number (as ``climb datasets show`` numbers them), kind or id. When the
primary data source is refused for access reasons, the error names the alternate and the exact
``--source`` command (:func:`alternate_hint`).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from climb.card import DatasetCard, Source
from climb.core.errors import ClimbError
from climb.core.paths import raw_dir
from climb.fetch.config import FetchConfig, load_config
from climb.fetch.credentials import Credentials, CredentialsError
from climb.fetch.engine import AccessError, Engine, FetchSummary
from climb.fetch.manifest import MANIFEST_NAME, Manifest, utcnow
from climb.fetch.progress import Progress
from climb.fetch.sources import plugin
from climb.fetch.sources.base import AccessInfo, Context, select
from climb.fetch.sources.manual import check_layout
from climb.fetch.types import Checksum, Hasher, RemoteFile


def source_folder(card: DatasetCard, index: int) -> str:
    """Sub-folder (relative to ``raw/<key>/``) of the card's ``index``-th source; '' for the
    first. Others: the source id (or URL file name) with unsafe characters replaced by '-'."""
    if index == 0:
        return ""
    s = card.sources[index]
    if s.id:
        name = s.id
    elif s.url:
        from climb.fetch.sources.url import url_filename

        name = url_filename(s.url).split(".", 1)[0]
    else:
        name = s.kind
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or s.kind
    taken = {source_folder(card, i) for i in range(index)}
    return name if name not in taken else f"{name}-{index}"


def source_spec(card: DatasetCard, index: int) -> str:
    """The ``--source`` SPEC naming exactly the card's ``index``-th (0-based) source: its kind
    when no other source of the card has that kind, else its 1-based number."""
    s = card.sources[index]
    return s.kind if sum(x.kind == s.kind for x in card.sources) == 1 else str(index + 1)


def _numbered(card: DatasetCard) -> str:
    return "; ".join(
        f"{i} = {s.kind} ({s.describe()}{', alternate' if s.alternate else ''})"
        for i, s in enumerate(card.sources, 1)
    )


def select_sources(card: DatasetCard, specs: tuple[str, ...] = ()) -> list[int]:
    """0-based indices of the sources to fetch: every non-alternate source when ``specs`` is
    empty, else exactly the sources named by ``specs`` (a 1-based number, a kind or an id)."""
    if not specs:
        return [i for i, s in enumerate(card.sources) if not s.alternate]
    chosen: set[int] = set()
    for raw in specs:
        spec = raw.strip()
        if spec.isdigit():
            n = int(spec)
            if not 1 <= n <= len(card.sources):
                raise ClimbError(
                    f"{card.key} has no source number {n} (it has {len(card.sources)})",
                    where=f"--source {raw}",
                    fix=f"choose from: {_numbered(card)} ('climb datasets show {card.key}')",
                )
            chosen.add(n - 1)
            continue
        hits = [i for i, s in enumerate(card.sources) if spec and spec in (s.kind, s.id)]
        if not hits:
            raise ClimbError(
                f"{card.key} has no source {spec!r}",
                where=f"--source {raw}",
                fix=f"give a number, kind or id from: {_numbered(card)} "
                f"('climb datasets show {card.key}')",
            )
        chosen.update(hits)
    return sorted(chosen)


def alternate_hint(card: DatasetCard, index: int) -> str | None:
    """When the card's ``index``-th source is its primary data source and the card has
    alternate copies: which, and the exact ``climb fetch --source`` command for each."""
    if index != card.primary_source() or not card.alternates():
        return None
    others = [i for i in select_sources(card) if i != index]
    options = []
    for a in card.alternates():
        cmd = " ".join(f"--source {source_spec(card, i)}" for i in sorted([a, *others]))
        options.append(
            f"source {a + 1}, {card.sources[a].describe()}: climb fetch {card.key} {cmd}"
        )
    return "the same data is also published as an alternate copy, " + "; or ".join(options)


def _with_hint(card: DatasetCard, index: int, exc: ClimbError) -> None:
    hint = alternate_hint(card, index)
    if hint and hint not in (exc.fix or ""):
        exc.fix = f"{exc.fix}; or fetch {hint}" if exc.fix else f"fetch {hint}"
        exc.args = (exc.render(),)


@dataclass
class DatasetPlan:
    card: DatasetCard
    folder: Path
    files: list[RemoteFile] = field(default_factory=list)
    manual: list[tuple[Source, Path]] = field(default_factory=list)
    #: 0-based indices of the sources planned, and of the alternates left out by default.
    sources: list[int] = field(default_factory=list)
    skipped_alternates: list[int] = field(default_factory=list)

    @property
    def known_bytes(self) -> int:
        return sum(f.size or 0 for f in self.files)

    @property
    def unknown(self) -> int:
        return sum(1 for f in self.files if f.size is None)


@dataclass
class DatasetResult:
    key: str
    folder: Path
    summary: FetchSummary | None = None
    manual_missing: list[tuple[Source, list[str]]] = field(default_factory=list)
    manual_ok: int = 0
    skipped_alternates: list[int] = field(default_factory=list)


def _prefixed(rf: RemoteFile, prefix: str) -> RemoteFile:
    return rf if not prefix else replace(rf, path=f"{prefix}/{rf.path}")


def plan_dataset(
    card: DatasetCard,
    ctx: Context,
    folder: Path,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    sources: tuple[str, ...] = (),
) -> DatasetPlan:
    plan = DatasetPlan(card, folder, sources=select_sources(card, sources))
    if not sources:
        plan.skipped_alternates = card.alternates()
    for i in plan.sources:
        s = card.sources[i]
        prefix = source_folder(card, i)
        if s.kind == "manual":
            plan.manual.append((s, folder / prefix if prefix else folder))
            continue
        try:
            listed = plugin(s.kind).files(s, ctx)
        except (AccessError, CredentialsError) as exc:
            _with_hint(card, i, exc)
            raise
        except ClimbError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            # a listing that parsed as JSON but not as the API's answer (a hostile or broken
            # server or mirror): an error naming the source, never a traceback
            raise ClimbError(
                f"the file list of {s.describe()} is malformed "
                f"({type(exc).__name__}: {str(exc)[:100]})",
                where=f"dataset {card.key}",
                fix="check the source's base URL (CLIMB_<SOURCE>_URL) or mirror; nothing was "
                "downloaded",
            ) from None
        plan.files.extend(_prefixed(rf, prefix) for rf in listed)
    if include or exclude:
        plain = [f.path for f in plan.files if f.extract == "no"]
        keep = select(plain, include, exclude)
        plan.files = [f for f in plan.files if f.extract != "no" or f.path in keep]
    return plan


class Session:
    """Config + credentials + one engine, shared by every dataset of one command."""

    def __init__(
        self,
        config: FetchConfig | None = None,
        *,
        workers: int | None = None,
        progress: Progress | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.config = config or load_config()
        self.credentials = credentials or Credentials(self.config)
        self.engine = Engine(self.config, workers=workers, progress=progress)

    def context(self, card: DatasetCard) -> Context:
        return Context(self.config, self.credentials, self.engine, card)

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def plan(
        self,
        card: DatasetCard,
        root: str | os.PathLike[str] | None = None,
        include: tuple[str, ...] = (),
        exclude: tuple[str, ...] = (),
        sources: tuple[str, ...] = (),
    ) -> DatasetPlan:
        return plan_dataset(
            card, self.context(card), raw_dir(card.key, root), include, exclude, sources
        )

    def fetch(
        self,
        card: DatasetCard,
        root: str | os.PathLike[str] | None = None,
        include: tuple[str, ...] = (),
        exclude: tuple[str, ...] = (),
        sources: tuple[str, ...] = (),
        *,
        wait: bool = False,
    ) -> DatasetResult:
        """Fetch one dataset, holding ``<root>/raw/.<key>.fetch.lock`` for the run: a second
        fetch of the same dataset raises a clear error naming the holder (or, with ``wait``,
        waits), so two runs never write one ``.part`` file."""
        from climb.core.lock import stage_lock

        folder = raw_dir(card.key, root)
        with stage_lock(folder.parent, card.key, "fetch", wait=wait):
            return self._fetch(card, root, include, exclude, sources)

    def _fetch(
        self,
        card: DatasetCard,
        root: str | os.PathLike[str] | None,
        include: tuple[str, ...],
        exclude: tuple[str, ...],
        sources: tuple[str, ...],
    ) -> DatasetResult:
        plan = self.plan(card, root, include, exclude, sources)
        result = DatasetResult(card.key, plan.folder, skipped_alternates=plan.skipped_alternates)
        manifest = Manifest(plan.folder, card.key)
        for i in plan.sources:
            s = card.sources[i]
            if s.kind != "manual":
                manifest.record_source(
                    s.describe(),
                    {
                        "kind": s.kind,
                        "id": s.id,
                        "version": s.version,
                        "url": s.url,
                        "folder": source_folder(card, i),
                    },
                )
        if plan.files:
            try:
                result.summary = self.engine.download_all(
                    plan.files, plan.folder, manifest, label=f"fetch {card.key}"
                )
            except AccessError as exc:
                refused = [i for i in plan.sources if card.sources[i].describe() == exc.source]
                if refused:
                    _with_hint(card, refused[0], exc)
                raise
        for s, folder in plan.manual:
            missing = check_layout(folder, s.expected_layout)
            if missing:
                result.manual_missing.append((s, missing))
            else:
                result.manual_ok += adopt_manual(folder, plan.folder, manifest, s)
        manifest.save()
        return result


def adopt_manual(folder: Path, root_folder: Path, manifest: Manifest, source: Source) -> int:
    """Record the files a user placed for a manual source (hashing only new or changed ones)."""
    n = 0
    for p in sorted(folder.rglob("*")):
        if (
            not p.is_file()
            or p.name.startswith(".climb-")
            or p.name.endswith((".part", ".part.json"))
        ):
            continue
        rel = p.relative_to(root_folder).as_posix()
        st = p.stat()
        entry = manifest.get(rel)
        if entry and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns:
            continue
        if entry and entry.get("source") != source.describe():
            continue  # a downloaded file of another source
        h = hashlib.sha256()
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        manifest.record(
            rel,
            {
                "size": st.st_size,
                "sha256": h.hexdigest(),
                "checksum": None,
                "url": source.url,
                "source": source.describe(),
                "time": utcnow(),
                "mtime_ns": st.st_mtime_ns,
                "archive": None,
                "placed": True,
            },
        )
        n += 1
    return n


# ---------------------------------------------------------------------------- verify
@dataclass
class VerifyReport:
    key: str
    folder: Path
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    corrupt: list[tuple[str, str]] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.corrupt or self.extra or self.partial)


def verify_folder(
    key: str, folder: Path, *, workers: int = 4, on_file: Callable[[], None] | None = None
) -> VerifyReport:
    """Re-hash every file of the manifest; report missing, corrupt, extra and partial files."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise ClimbError(
            f"nothing to verify: {key} has no fetch manifest",
            where=str(path),
            fix=f"run 'climb fetch {key}' first",
        )
    manifest = Manifest(folder, key)
    report = VerifyReport(key, folder)

    def check(item: tuple[str, dict]) -> tuple[str, str | None]:  # type: ignore[type-arg]
        rel, entry = item
        p = folder / rel
        if not p.is_file():
            return rel, "missing"
        size = p.stat().st_size
        if size != entry.get("size"):
            return rel, f"size {size:,} != recorded {entry.get('size'):,}"
        published = Checksum.parse(entry["checksum"]) if entry.get("checksum") else None
        hasher = Hasher(published, size)
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                hasher.update(chunk)
        if on_file:
            on_file()
        if hasher.sha256.hexdigest() != entry.get("sha256"):
            return rel, "sha256 differs from the recorded one"
        if not hasher.matches():
            return rel, f"does not match the published {published}"
        return rel, None

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for rel, problem in pool.map(check, sorted(manifest.files.items())):
            report.checked += 1
            if problem == "missing":
                report.missing.append(rel)
            elif problem:
                report.corrupt.append((rel, problem))
    known = set(manifest.files)
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(folder).as_posix()
        if rel == MANIFEST_NAME or rel.startswith(".climb-fetch."):
            continue
        if rel.endswith((".part", ".part.json")):
            report.partial.append(rel)
        elif rel not in known:
            report.extra.append(rel)
    return report


# ---------------------------------------------------------------------------- access
def access_info(
    card: DatasetCard, credentials: Credentials, config: FetchConfig
) -> list[AccessInfo]:
    return [plugin(s.kind).access(s, card, credentials, config) for s in card.sources]


__all__ = [
    "DatasetPlan",
    "DatasetResult",
    "Session",
    "VerifyReport",
    "access_info",
    "alternate_hint",
    "plan_dataset",
    "select_sources",
    "source_folder",
    "source_spec",
    "verify_folder",
]
