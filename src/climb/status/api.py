"""Where each dataset stands, from the catalog and the data root (local or ``s3://``).

Per dataset: access (from the card), fetched (raw files, bytes, verified against fetch's
manifest: every recorded file present with its recorded size and a sha256), prepared (samples,
quarantined records, fingerprint, store size), stale (the fingerprint of the adapter code, the
options recorded in the store and the raw files, recomputed now, differs from the store's) and
the last training runs that used it. Nothing is written; nothing is downloaded.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from climb.core.errors import ClimbError


@dataclass
class DatasetStatus:
    key: str
    access: str
    fetched: bool = False
    raw_files: int = 0
    raw_bytes: int = 0
    verified: bool | None = None  # None: no fetch manifest (files put there by hand)
    verify_note: str = ""
    prepared: bool = False
    incomplete: bool = False  # a store folder without dataset.json (a write in progress / died)
    samples: int | None = None
    quarantined: int | None = None
    fingerprint: str | None = None
    store_bytes: int | None = None
    store_files: int | None = None
    stale: bool | None = None  # None: cannot tell (no raw files, no adapter)
    stale_reason: str = ""
    prepared_at: str | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fetched(st: DatasetStatus, raw: Path) -> None:
    if not raw.is_dir():
        return
    from climb.fetch.manifest import MANIFEST_NAME

    files = [
        p
        for p in raw.rglob("*")
        if p.is_file() and not any(x.startswith(".") for x in p.relative_to(raw).parts)
    ]
    st.fetched = bool(files)
    st.raw_files = len(files)
    st.raw_bytes = sum(p.stat().st_size for p in files)
    manifest = raw / MANIFEST_NAME
    if not manifest.is_file():
        st.verified = None
        st.verify_note = "no fetch manifest (files not fetched by climb)" if files else ""
        return
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        st.verified, st.verify_note = False, "fetch manifest unreadable"
        return
    bad: list[str] = []
    for rel, e in entries.items():
        p = raw / rel
        if not p.is_file():
            bad.append(f"{rel} missing")
        elif isinstance(e, dict) and e.get("size") is not None and p.stat().st_size != e["size"]:
            bad.append(f"{rel} size {p.stat().st_size} != {e['size']}")
        elif isinstance(e, dict) and not e.get("sha256"):
            bad.append(f"{rel} has no checksum")
    st.verified = not bad and bool(entries)
    st.verify_note = (
        f"{len(bad)} of {len(entries)} file(s) do not match the manifest (first: {bad[0]})"
        if bad
        else f"{len(entries)} file(s) as fetched (size + sha256 recorded)"
    )


def _prepared(st: DatasetStatus, store: Any, raw: Path, check_stale: bool) -> None:
    meta_loc = store.join("dataset.json")
    if not meta_loc.exists():
        st.incomplete = store.exists()
        return
    try:
        meta = json.loads(meta_loc.read_text())
    except (OSError, ValueError):
        st.incomplete = True
        return
    st.prepared = True
    st.samples = int(meta.get("num_samples", 0))
    st.fingerprint = meta.get("fingerprint")
    st.prepared_at = (meta.get("created_by") or {}).get("time")
    try:
        text = store.join("quarantine.jsonl").read_text()
        st.quarantined = sum(1 for line in text.splitlines() if line.strip())
    except (OSError, FileNotFoundError):
        st.quarantined = 0
    st.store_files, st.store_bytes = store.du()
    if check_stale:
        st.stale, st.stale_reason = _staleness(st.key, meta, raw)


def _staleness(key: str, meta: dict[str, Any], raw: Path) -> tuple[bool | None, str]:
    """(stale?, why): the store's fingerprint against the one the same prepare would have now."""
    from climb.core.adapter import PrepareOptions
    from climb.prepare.pipeline import fingerprint, input_digest, resolve_adapter

    if not raw.is_dir():
        return None, "no raw files here to compare with"
    made = meta.get("created_by") or {}
    try:
        adapter = resolve_adapter(key, made.get("adapter_params") or None)
        opts = PrepareOptions(**(made.get("options") or {}))
        inputs = input_digest(raw)
        now = fingerprint(adapter, opts, inputs)
    except (ClimbError, TypeError, ValueError) as exc:
        return None, f"cannot recompute the fingerprint ({str(exc).splitlines()[0]})"
    if now == meta.get("fingerprint"):
        return False, ""
    old_inputs = ((meta.get("provenance") or {}).get("inputs") or {}).get("digest")
    if old_inputs and old_inputs != inputs["digest"]:
        return True, "the raw files changed"
    if made.get("adapter_version") not in (None, adapter.version):
        return True, f"adapter version {made.get('adapter_version')} -> {adapter.version}"
    return True, "the adapter code or its options changed"


def _runs(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    runs = root / "runs"
    if not runs.is_dir():
        return []
    import yaml

    out = []
    for cfg in runs.glob("*/config.yaml"):
        try:
            data = yaml.safe_load(cfg.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict):
            out.append((cfg.parent, data))
    return out


def _mentions(obj: Any, key: str) -> bool:
    if isinstance(obj, str):
        return obj == key or obj.rstrip("/").endswith(f"stores/{key}")
    if isinstance(obj, dict):
        return any(_mentions(v, key) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_mentions(v, key) for v in obj)
    return False


def dataset_status(
    keys: Iterable[str] | None = None,
    root: str | os.PathLike[str] | None = None,
    *,
    raw_root: str | os.PathLike[str] | None = None,
    storage_options: dict[str, Any] | None = None,
    check_stale: bool = True,
    runs: int = 3,
) -> list[DatasetStatus]:
    """The status of datasets ``keys`` (default: every dataset in the catalog) under ``root``
    (``$CLIMB_ROOT``, ``~/climb-data``, or an ``s3://`` URL: stores are read there, raw files
    and runs from ``raw_root`` / the local data root)."""
    from climb import registry
    from climb.prepare.pipeline import local_root
    from climb.store.fs import remote_errors, root_location

    loc = root_location(root, storage_options)
    local = Path(raw_root if raw_root is not None else local_root(root)).expanduser()
    if not loc.is_remote and raw_root is None:
        local = loc.path
    loc.check_reachable()
    wanted = list(keys) if keys else registry.keys()
    all_runs = _runs(local)
    out: list[DatasetStatus] = []
    for k in wanted:
        card = registry.get_card(k)  # an unknown key: UnknownDatasetError with suggestions
        st = DatasetStatus(key=card.key, access=str(card.access))
        _fetched(st, local / "raw" / card.key)
        with remote_errors(loc.url, storage_options):
            _prepared(st, loc.join("stores", card.key), local / "raw" / card.key, check_stale)
        mine = [(d, c) for d, c in all_runs if _mentions(c.get("data", c), card.key)]
        mine.sort(key=lambda dc: dc[0].stat().st_mtime, reverse=True)
        for d, _c in mine[:runs]:
            st.runs.append(
                {
                    "run": d.name,
                    "path": str(d),
                    "finished": (d / "results.parquet").exists()
                    or any(d.glob("**/results.parquet")),
                }
            )
        out.append(st)
    return out


def human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    x = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if x < 1000 or unit == "TB":
            return f"{x:.0f} {unit}" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1000
    return f"{x:.1f} TB"  # pragma: no cover
