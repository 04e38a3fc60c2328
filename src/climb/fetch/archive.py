"""Safe archive extraction (zip, tar, tar.gz/bz2/xz).

Refused, with a clear error and nothing left at a final path: absolute member names, ``..``
components, links that point outside the target, devices and FIFOs, members in climb's reserved
namespace (``.climb-*``, e.g. a member that would overwrite the fetch manifest), more members or
more bytes than the limits, and decompression bombs.

Bombs are bounded per archive, for zip and tar alike: the total expanded size may not exceed
``Limits.max_bytes`` (``fetch.max_extract_bytes``), nor ``Limits.max_ratio`` times the archive's
size on disk (``fetch.max_extract_ratio``; archives expanding to less than
:data:`RATIO_FLOOR_BYTES` in total are not judged by ratio), nor the free disk space. For a zip
the sizes declared in its central directory are summed before anything is written; for a tar
each member's header size is checked before the member is written; a member that turns out
larger than its header says is refused while it is written. Links that stay inside the target are materialised as copies of their
target, so the extracted tree holds plain files only.

Members are first extracted into a staging folder next to the target, hashed while written,
and only then moved to their final paths, one atomic rename each.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from climb.core.errors import ClimbError
from climb.fetch.manifest import RESERVED_PREFIX, reserved_name

_CHUNK = 1 << 20
#: An archive whose members total less than this is never refused for its compression ratio.
RATIO_FLOOR_BYTES = 16 << 20
_RATIO_MIN_BYTES = RATIO_FLOOR_BYTES  # (old name)


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 8 << 40
    max_ratio: float = 1000.0
    max_members: int = 5_000_000


@dataclass(frozen=True)
class Extracted:
    path: str  # relative to the target folder
    size: int
    sha256: str


def is_archive_name(name: str) -> bool:
    n = name.lower()
    return n.endswith((".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz"))


def sniff_zip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def _bad(archive: Path, what: str, fix: str | None = None) -> ClimbError:
    return ClimbError(
        f"unsafe or invalid archive: {what}",
        where=str(archive),
        fix=fix or "the archive was not extracted; report it to the dataset's maintainers",
    )


def safe_member_name(archive: Path, name: str, strip: int) -> str | None:
    """Normalised relative name after stripping ``strip`` components; None if nothing is left."""
    raw = name.replace("\\", "/")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":") or raw.startswith("//"):
        raise _bad(archive, f"member {name!r} has an absolute path")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise _bad(archive, f"member {name!r} contains '..'")
    if any("\0" in p for p in parts):
        raise _bad(archive, f"member {name!r} contains a NUL byte")
    parts = parts[strip:]
    if parts and reserved_name("/".join(parts)):
        raise _bad(
            archive,
            f"member {name!r} uses a name reserved for climb's own files "
            f"({RESERVED_PREFIX}*, e.g. the fetch manifest)",
        )
    return "/".join(parts) if parts else None


def _link_target(archive: Path, member: str, target: str, *, hard: bool) -> str:
    """Resolve a link's target to a normalised member name inside the archive, or refuse."""
    t = target.replace("\\", "/")
    if t.startswith("/") or (len(t) > 1 and t[1] == ":"):
        raise _bad(archive, f"link {member!r} points to the absolute path {target!r}")
    joined = t if hard else posixpath.join(posixpath.dirname(member), t)
    norm = posixpath.normpath(joined)
    if norm == ".." or norm.startswith("../") or norm.startswith("/"):
        raise _bad(archive, f"link {member!r} points outside the target ({target!r})")
    return norm


def _wanted(rel: str, members: tuple[str, ...]) -> bool:
    return not members or any(fnmatch.fnmatchcase(rel, g) for g in members)


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


class _Writer:
    def __init__(self, archive: Path, staging: Path, limits: Limits) -> None:
        self.archive = archive
        self.staging = staging
        self.limits = limits
        self.total = 0
        self.count = 0
        self.out: dict[str, Extracted] = {}
        size = archive.stat().st_size
        #: the most bytes this archive may expand to (see the module docstring)
        self.bound = min(limits.max_bytes, max(RATIO_FLOOR_BYTES, int(limits.max_ratio * size)))
        self.archive_size = size

    def admit(self, more: int, what: str) -> None:
        """Refuse before writing when ``more`` bytes would take the total past the bounds."""
        total = self.total + more
        if total > self.limits.max_bytes:
            raise _bad(
                self.archive,
                f"{what} expands to {total:,} bytes, more than the limit of "
                f"{self.limits.max_bytes:,} (fetch.max_extract_bytes)",
                "raise fetch.max_extract_bytes in config.toml if this is expected",
            )
        if total > self.bound:
            raise _bad(
                self.archive,
                f"{what} expands to {total:,} bytes from {self.archive_size:,}: more than "
                f"{self.limits.max_ratio:g} times its size (decompression bomb?)",
                "raise fetch.max_extract_ratio in config.toml if this is expected",
            )
        free = _free_bytes(self.staging)
        if free is not None and more > free:
            raise ClimbError(
                f"not enough disk space to extract {self.archive.name}: {what} needs "
                f"{more:,} more bytes, {free:,} free",
                where=str(self.staging),
                fix="free some space or choose another --root; run the fetch again",
            )

    def write(
        self, rel: str, src: IO[bytes], declared: int | None, compressed: Callable[[], int] | None
    ) -> None:
        self.count += 1
        if self.count > self.limits.max_members:
            raise _bad(self.archive, f"more than {self.limits.max_members} members")
        dest = self.staging / rel
        if dest.is_dir():
            raise _bad(self.archive, f"member {rel!r} is both a file and a folder")
        dest.parent.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        size = 0
        with open(dest, "wb") as fh:
            while True:
                chunk = src.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                self.total += len(chunk)
                if self.total > min(self.limits.max_bytes, self.bound):
                    self.total -= len(chunk)
                    self.admit(len(chunk), f"member {rel!r}")
                if declared is not None and size > declared:
                    raise _bad(self.archive, f"member {rel!r} is larger than its header says")
                if compressed is not None and self.total > _RATIO_MIN_BYTES:
                    c = max(compressed(), 1)
                    if self.total / c > self.limits.max_ratio:
                        raise _bad(
                            self.archive,
                            "compression ratio exceeds "
                            f"{self.limits.max_ratio:g}:1 (decompression bomb?)",
                            "raise fetch.max_extract_ratio in config.toml if expected",
                        )
                h.update(chunk)
                fh.write(chunk)
        self.out[rel] = Extracted(rel, size, h.hexdigest())

    def copy_of(self, rel: str, target: str) -> None:
        if target not in self.out:
            raise _bad(
                self.archive,
                f"link {rel!r} points to {target!r}, which is not a file extracted before it",
            )
        dest = self.staging / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        e = self.out[target]
        self.admit(e.size, f"link {rel!r}")
        shutil.copyfile(self.staging / target, dest)
        self.out[rel] = Extracted(rel, e.size, e.sha256)
        self.total += e.size


def _zip_members(
    archive: Path, zf: zipfile.ZipFile, strip: int
) -> Iterator[tuple[zipfile.ZipInfo, str]]:
    for info in zf.infolist():
        rel = safe_member_name(archive, info.filename, strip)
        if rel is not None:
            yield info, rel


def _extract_zip(
    archive: Path, w: _Writer, strip: int, members: tuple[str, ...], limits: Limits
) -> None:
    with zipfile.ZipFile(archive) as zf:
        listed = list(_zip_members(archive, zf, strip))
        declared = sum(i.file_size for i, rel in listed if not i.is_dir() and _wanted(rel, members))
        w.admit(declared, f"the archive ({len(listed)} members)")  # before anything is written
        for info, rel in listed:
            mode = info.external_attr >> 16
            if info.is_dir():
                continue
            if stat.S_ISLNK(mode):
                target = zf.read(info).decode("utf-8", "replace")
                norm = _link_target(archive, rel, target, hard=False)
                if _wanted(rel, members):
                    w.copy_of(rel, norm)
                continue
            if mode and not (stat.S_ISREG(mode) or stat.S_IFMT(mode) == 0):
                raise _bad(archive, f"member {rel!r} is not a regular file (mode {mode:o})")
            if not _wanted(rel, members):
                continue
            if (
                info.file_size > _RATIO_MIN_BYTES
                and info.compress_size > 0
                and info.file_size / info.compress_size > limits.max_ratio
            ):
                raise _bad(
                    archive,
                    f"member {rel!r} has a compression ratio above "
                    f"{limits.max_ratio:g}:1 (decompression bomb?)",
                )
            with zf.open(info) as src:
                w.write(rel, src, info.file_size, None)


def _extract_tar(archive: Path, w: _Writer, strip: int, members: tuple[str, ...]) -> None:
    raw = open(archive, "rb")  # noqa: SIM115 - closed below
    try:
        with tarfile.open(fileobj=raw, mode="r:*") as tf:
            for m in tf:
                rel = safe_member_name(archive, m.name, strip)
                if rel is None or m.isdir():
                    continue
                if m.issym() or m.islnk():
                    if m.islnk():
                        tgt = safe_member_name(archive, m.linkname, strip)
                        norm = _link_target(archive, rel, tgt or "", hard=True)
                    else:
                        norm = _link_target(archive, rel, m.linkname, hard=False)
                    if _wanted(rel, members):
                        w.copy_of(rel, norm)
                    continue
                if not m.isfile():
                    raise _bad(
                        archive, f"member {m.name!r} is a device, FIFO or other special file"
                    )
                if not _wanted(rel, members):
                    continue
                w.admit(m.size, f"member {rel!r}")
                src = tf.extractfile(m)
                if src is None:
                    continue
                w.write(rel, src, m.size, raw.tell)
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, ClimbError) or getattr(exc, "errno", None) in (28, 122):
            raise
        raise _bad(archive, f"cannot read the tar archive: {exc}") from None
    finally:
        raw.close()


def extract(
    archive: Path,
    target: Path,
    *,
    strip: int = 0,
    members: tuple[str, ...] = (),
    limits: Limits | None = None,
    member_checksums: str | None = None,
) -> list[Extracted]:
    """Extract ``archive`` into ``target`` safely; return what was written (relative to target)."""
    limits = limits or Limits()
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".climb-extract-", dir=target))
    try:
        return _extract_into(archive, target, staging, strip, members, limits, member_checksums)
    except OSError as exc:
        if exc.errno not in (28, 122):  # ENOSPC, EDQUOT
            raise
        raise ClimbError(
            f"disk full while extracting {archive.name} into {target} "
            f"({archive.stat().st_size:,} bytes compressed; free: {_free_bytes(target) or 0:,} "
            "bytes)",
            where=str(exc.filename or target),
            fix="free some space or choose another --root; run the fetch again (nothing "
            "was kept at a final path)",
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract_into(
    archive: Path,
    target: Path,
    staging: Path,
    strip: int,
    members: tuple[str, ...],
    limits: Limits,
    member_checksums: str | None,
) -> list[Extracted]:
    w = _Writer(archive, staging, limits)
    if zipfile.is_zipfile(archive):
        try:
            _extract_zip(archive, w, strip, members, limits)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
            raise _bad(archive, f"cannot read the zip archive: {exc}") from None
    elif tarfile.is_tarfile(archive):
        _extract_tar(archive, w, strip, members)
    else:
        raise _bad(archive, "not a zip or tar archive")
    if member_checksums:
        _check_member_md5(archive, staging, member_checksums, w.out)
    for rel in sorted(w.out):
        final = target / rel
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / rel, final)
    return [w.out[k] for k in sorted(w.out)]


def _check_member_md5(
    archive: Path, staging: Path, listing: str, out: dict[str, Extracted]
) -> None:
    """Verify members against a ``Filename,MD5Hash`` CSV inside the archive (TCIA)."""
    if listing not in out:
        raise _bad(archive, f"the checksum list {listing!r} is missing from the archive")
    text = (staging / listing).read_text(encoding="utf-8", errors="replace")
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        name = (row.get("Filename") or row.get("filename") or "").strip()
        want = (row.get("MD5Hash") or row.get("md5hash") or "").strip().lower()
        if not name or not want:
            continue
        rel = next((k for k in out if k == name or k.endswith("/" + name)), None)
        if rel is None:
            raise _bad(archive, f"{name!r} is listed in {listing} but missing from the archive")
        h = hashlib.md5(usedforsecurity=False)
        with open(staging / rel, "rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                h.update(chunk)
        if h.hexdigest() != want:
            raise ClimbError(
                f"member {name!r} of the downloaded archive does not match its published MD5",
                where=str(archive),
                fix="run the fetch again; if it persists the server holds a corrupt file",
            )
