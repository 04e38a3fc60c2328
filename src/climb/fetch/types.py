"""The data passed between source plugins and the engine."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

ALGOS = ("sha256", "md5", "sha1", "git-sha1")


@dataclass(frozen=True)
class Checksum:
    """A published checksum: ``algo`` is sha256, md5, sha1 or git-sha1 (git blob id)."""

    algo: str
    value: str

    def __post_init__(self) -> None:
        if self.algo not in ALGOS:
            raise ValueError(f"unknown checksum algorithm {self.algo!r}")
        object.__setattr__(self, "value", self.value.strip().lower())

    def __str__(self) -> str:
        return f"{self.algo}:{self.value}"

    @classmethod
    def parse(cls, text: str) -> Checksum:
        algo, _, value = text.partition(":")
        return cls(algo, value)


class Hasher:
    """Feeds bytes to sha256 (always, for the manifest) and to the published algorithm."""

    def __init__(self, checksum: Checksum | None, size: int | None) -> None:
        self.sha256 = hashlib.sha256()
        self.other: Any = None
        if checksum is not None and checksum.algo != "sha256":
            if checksum.algo == "git-sha1":
                self.other = hashlib.sha1(usedforsecurity=False)
                if size is not None:
                    self.other.update(f"blob {size}\0".encode())
            else:
                self.other = hashlib.new(checksum.algo, usedforsecurity=False)
        self.checksum = checksum

    def update(self, data: bytes | memoryview) -> None:
        self.sha256.update(data)
        if self.other is not None:
            self.other.update(data)

    def published_hex(self) -> str | None:
        if self.checksum is None:
            return None
        if self.checksum.algo == "sha256":
            return self.sha256.hexdigest()
        return self.other.hexdigest()

    def matches(self) -> bool:
        return self.checksum is None or self.published_hex() == self.checksum.value


@dataclass(frozen=True)
class RemoteFile:
    """One file to download.

    ``path`` is relative (posix) to the dataset's raw folder. ``extract`` says what to do after
    the download verified: ``"no"`` keep it, ``"yes"`` extract the archive into its folder and
    remove it, ``"auto"`` extract only when the bytes are a zip but the name is not ``*.zip``
    (Kaggle serves some single files zipped). ``strip`` drops leading path components of the
    members, ``members`` keeps only members matching these globs (after stripping), and
    ``member_checksums`` names a member that lists per-member checksums (TCIA's md5hashes.csv).
    """

    path: str
    url: str
    size: int | None = None
    checksum: Checksum | None = None
    auth: httpx.Auth | None = field(default=None, repr=False, compare=False)
    headers: dict[str, str] = field(default_factory=dict, compare=False)
    extract: Literal["no", "yes", "auto"] = "no"
    strip: int = 0
    members: tuple[str, ...] = ()
    member_checksums: str | None = None
    source: str = ""
    reject_html: bool = True
    #: A size estimate for disk-space checks when the exact size is unknown (e.g. unzipped).
    estimate: int | None = None
    #: Maps an HTTP error response to a clear, source-specific error (None: the default).
    on_error: Callable[[httpx.Response], Any] | None = field(
        default=None, repr=False, compare=False
    )
