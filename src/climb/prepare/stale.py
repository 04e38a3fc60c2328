"""Is a store stale? Its fingerprint against the current raw inputs and adapter code.

Registered as the ``fingerprint`` store input check (climb.core.checks) when climb.prepare is
imported, so ``climb store validate`` and :func:`climb.store.validate.validate` report
staleness without the store layer importing prepare.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from climb.core.adapter import PrepareOptions


def check_fingerprint(store: Any, rep: Any, raw_dir: str | Path | None) -> None:
    """Compare ``store``'s fingerprint with the one prepare would compute now (``raw_dir``, or
    ``<root>/raw/<key>`` next to the store's ``<root>/stores/<key>``); sets ``rep.stale``."""
    if store.is_remote and raw_dir is None:
        rep.warnings.append("fingerprint not checked: pass --raw for a remote store")
        return
    key = store.key
    raw = Path(raw_dir) if raw_dir else Path(store.url).resolve().parent.parent / "raw" / key
    if not raw.is_dir():
        rep.warnings.append(f"fingerprint not checked: raw folder {raw} not found")
        return
    from climb.prepare.pipeline import fingerprint, input_digest, resolve_adapter

    try:
        adapter = resolve_adapter(key, store.meta["created_by"].get("adapter_params"))
        opts = store.meta["created_by"]["options"]
        fp = fingerprint(adapter, PrepareOptions(**opts), input_digest(raw))
    except Exception as exc:
        rep.warnings.append(f"fingerprint not checked: {exc}")
        return
    rep.stale = fp != store.meta.get("fingerprint")
    if rep.stale:
        rep.errors.append(
            "stale: the raw inputs or the adapter code changed since this store was prepared; "
            f"run 'climb prepare {key}' again"
        )
    rep.checks.append("fingerprint vs current inputs and code")
