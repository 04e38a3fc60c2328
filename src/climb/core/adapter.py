"""The Adapter protocol: what every dataset adapter implements.

An adapter turns one dataset's raw files into samples, generically enough for signals, images,
volumes or graphs:

1. ``list_records(raw_dir, options)`` -> deterministic list of :class:`RecordRef` (cheap: file
   names and metadata tables only; runs once, in the main process);
2. ``read_record(raw_dir, ref, options)`` -> :class:`Sample` (arrays + labels), or raises
   :class:`RecordError` with a reason (the record is quarantined and the run goes on). Runs in
   worker processes, so adapters and refs must be picklable;
3. ``fields()`` / ``tasks(options)`` describe the arrays and label columns;
4. ``split_rules()`` names the split rules it supports (``official``, ``climb``, ``patient``).
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from climb.core.schema import FieldSpec

SplitRule = Literal["official", "climb", "patient"]
LabelPolicy = Literal["corrected", "climb"]


class RecordError(Exception):
    """A record that cannot become a sample; ``reason`` goes to quarantine.jsonl."""

    def __init__(self, reason: str, stage: str = "read") -> None:
        super().__init__(reason)
        self.reason = reason
        self.stage = stage


@dataclass(frozen=True)
class PrepareOptions:
    splits: SplitRule | None = None  # None = the adapter's default
    seed: int = 0
    label_policy: LabelPolicy = "corrected"

    def to_dict(self) -> dict[str, Any]:
        return {"splits": self.splits, "seed": self.seed, "label_policy": self.label_policy}


@dataclass(frozen=True)
class RecordRef:
    """One raw record. ``info`` holds adapter data computed at listing time (picklable)."""

    record_id: str
    source_path: str  # relative to raw_dir
    info: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass
class Sample:
    sample_id: str
    patient_id: str
    source_path: str
    arrays: dict[str, np.ndarray]
    labels: dict[str, Any]  # task -> value in the store's encoding
    native_labels: dict[str, Any]
    columns: dict[str, Any] = field(default_factory=dict)  # extra scalar columns
    split_hint: dict[str, str] = field(default_factory=dict)  # rule -> split ("official", "climb")


@runtime_checkable
class Adapter(Protocol):
    key: str
    version: str

    def fields(self) -> list[FieldSpec]: ...

    def tasks(self, raw_dir: Path, options: PrepareOptions) -> dict[str, dict[str, Any]]: ...

    def split_rules(self, raw_dir: Path) -> list[str]: ...

    def list_records(self, raw_dir: Path, options: PrepareOptions) -> list[RecordRef]: ...

    def read_record(self, raw_dir: Path, ref: RecordRef, options: PrepareOptions) -> Sample: ...

    def code_digest(self) -> str: ...


class BaseAdapter:
    """Shared helpers; concrete adapters subclass this and fill the protocol."""

    key: str = ""
    version: str = "1"
    #: extra files (besides the class's own modules) whose content is part of the code digest
    extra_code_files: tuple[str, ...] = ()

    def split_rules(self, raw_dir: Path) -> list[str]:
        return ["patient"]

    def default_split_rule(self, raw_dir: Path) -> str:
        rules = self.split_rules(raw_dir)
        return "official" if "official" in rules else "patient"

    def summary_notes(self, raw_dir: Path, options: PrepareOptions) -> list[str]:
        return []

    def params(self) -> dict[str, Any]:
        """The adapter's construction parameters (its ``__init__`` keywords, read back from the
        attributes of the same name), e.g. ``{"size": 256, "resize": "pad"}`` for an imaging
        adapter. They are part of the prepare fingerprint and recorded in ``dataset.json``, and
        ``climb prepare KEY -o name=value`` sets them."""
        return adapter_params(self)

    def code_digest(self) -> str:
        """sha256 of the source of every climb module this adapter's class is built from, plus
        the signal transforms and split rules (the prepare pipeline adds its own source to the
        fingerprint): a code change makes the store stale."""
        h = hashlib.sha256()
        mods: list[str] = []
        for cls in type(self).__mro__:
            m = cls.__module__
            if m.startswith("climb.") and m not in mods:
                mods.append(m)
        mods += ["climb.io.signal", "climb.core.splits"]  # prepare hashes its own code
        for m in sorted(set(mods)):
            mod = sys.modules.get(m)
            if mod is None:
                __import__(m)
                mod = sys.modules[m]
            try:
                src = inspect.getsource(mod)
            except (OSError, TypeError):
                src = m
            h.update(m.encode())
            h.update(src.encode())
        for f in sorted(self.extra_code_files):
            p = Path(f)
            h.update(p.name.encode())
            h.update(p.read_bytes() if p.is_file() else b"")
        return h.hexdigest()


def adapter_param_names(cls: type) -> list[str]:
    """Keyword parameters of ``cls.__init__`` (without ``self`` and ``*args``/``**kwargs``)."""
    sig = inspect.signature(cls.__init__)  # type: ignore[misc]
    return [
        n
        for n, p in sig.parameters.items()
        if n != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def adapter_params(adapter: Any) -> dict[str, Any]:
    """``{name: value}`` of the adapter's construction parameters (JSON-friendly values)."""
    out: dict[str, Any] = {}
    for n in adapter_param_names(type(adapter)):
        if hasattr(adapter, n):
            v = getattr(adapter, n)
            out[n] = v if isinstance(v, (str, int, float, bool, type(None))) else str(v)
    return out
