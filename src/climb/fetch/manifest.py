"""The fetch manifest ``<root>/raw/<key>/.climb-fetch.json``: what was downloaded and verified.

One entry per file at a final path::

    {"size": 123, "sha256": "...", "checksum": "md5:..." | null, "url": "https://...",
     "source": "PhysioNet ptb-xl/1.0.3", "time": "2025-...Z", "mtime_ns": ..., "archive": null}

plus one entry per extracted archive (``archives``), so a re-run knows the archive's members
are in place without downloading it again. URLs are stored without credentials.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MANIFEST_NAME = ".climb-fetch.json"
#: Names never written from a file list or an archive: climb's own files in a raw folder (the
#: manifest, its temporary copies, extraction staging folders, locks) all start with this.
RESERVED_PREFIX = ".climb-"
FORMAT = 1
_SENSITIVE_QUERY = (
    "token",
    "access_token",
    "key",
    "signature",
    "sig",
    "x-goog-",
    "x-amz-",
    "expires",
    "googleaccessid",
    "password",
    "auth",
)


def clean_url(url: str) -> str:
    """``url`` without user info and without credential-like query parameters."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not any(k.lower().startswith(s) or k.lower() == s for s in _SENSITIVE_QUERY)
    ]
    return urlunsplit((parts.scheme, host, parts.path, urlencode(query), ""))


def reserved_name(rel: str) -> bool:
    """Whether a relative path has a component in climb's reserved namespace (``.climb-*``)."""
    return any(p.startswith(RESERVED_PREFIX) for p in rel.replace("\\", "/").split("/"))


def utcnow() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Manifest:
    """Thread-safe, atomically saved manifest of one dataset's raw folder."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder = folder
        self.key = key
        self.path = folder / MANIFEST_NAME
        self.files: dict[str, dict[str, Any]] = {}
        self.archives: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._dirty = False
        self._last_save = 0.0
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                data = {}  # a damaged manifest only costs re-hashing
            self.files = dict(data.get("files", {}))
            self.archives = dict(data.get("archives", {}))
            self.sources = dict(data.get("sources", {}))

    def record(self, rel: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self.files[rel] = entry
            self._dirty = True

    def record_archive(self, rel: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self.archives[rel] = entry
            self._dirty = True

    def record_source(self, name: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self.sources[name] = entry
            self._dirty = True

    def forget(self, rel: str) -> None:
        with self._lock:
            if self.files.pop(rel, None) is not None:
                self._dirty = True

    def get(self, rel: str) -> dict[str, Any] | None:
        with self._lock:
            return self.files.get(rel)

    def maybe_save(self, interval: float) -> None:
        if self._dirty and time.monotonic() - self._last_save >= interval:
            self.save()

    def save(self) -> None:
        with self._lock:
            data = {
                "format": FORMAT,
                "key": self.key,
                "updated": utcnow(),
                "sources": self.sources,
                "archives": dict(sorted(self.archives.items())),
                "files": dict(sorted(self.files.items())),
            }
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".climb-fetch.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(data, fh, indent=1)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            self._dirty = False
            self._last_save = time.monotonic()
