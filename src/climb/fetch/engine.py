"""The one download engine every source uses.

For each file: stream into ``<final>.part`` while hashing; resume an existing ``.part`` with an
HTTP ``Range`` request guarded by ``If-Range`` (ETag or Last-Modified) and a check of
``Content-Range``, restarting cleanly when the server ignores the range; retry connection
errors, timeouts, 5xx and 429 with exponential backoff and jitter (honouring ``Retry-After``);
verify size and checksum; then rename atomically. A final path therefore only ever holds a
verified file, and an interrupted run leaves ``.part`` files that the next run resumes.
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from climb import __version__
from climb.core.errors import ClimbError
from climb.fetch import _stream as stream_mod
from climb.fetch import archive as archive_mod
from climb.fetch.config import FetchConfig
from climb.fetch.manifest import RESERVED_PREFIX, Manifest, clean_url, reserved_name, utcnow
from climb.fetch.progress import Progress, human_bytes
from climb.fetch.types import Checksum, Hasher, RemoteFile

USER_AGENT = f"climb/{__version__} httpx/{httpx.__version__}"
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})

#: Maps an HTTP error response of a file or API call to a clear error (None: use the default).
ErrorHook = Callable[[httpx.Response], ClimbError | None]


class AccessError(ClimbError):
    """Credentials missing or refused, terms not accepted, a login page instead of data."""

    #: ``Source.describe()`` of the file whose download was refused ('' when not known).
    source: str = ""


class Cancelled(Exception):
    """The run was interrupted; ``.part`` files stay for the next run."""


class _Retry(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, fresh: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.fresh = fresh


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def looks_like_html(head: bytes) -> bool:
    h = head[:512].lstrip().lower()
    return h.startswith((b"<!doctype html", b"<html")) or b"<html" in h[:256]


def contained_path(folder: Path, rel: str, source: str = "") -> Path:
    """``folder / rel``, refused unless it stays inside ``folder``: no absolute path or drive,
    no ``..`` component, no NUL byte, not one of climb's reserved names (``.climb-*``).

    Every destination of every source goes through this, so a hostile or broken file list
    (``../../.bashrc``) can never write outside the dataset's folder. The check is on the
    normalised name: climb itself never creates links (archive links become copies), so a
    link inside the folder is one the user made (e.g. a sub-folder on another disk) and is
    honoured."""
    who = f" from {source}" if source else ""
    raw = rel.replace("\\", "/")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    bad = (
        not parts
        or raw.startswith("/")
        or (len(raw) > 1 and raw[1] == ":")
        or any(p == ".." for p in parts)
        or any("\0" in p for p in parts)
    )
    if not bad and reserved_name(raw):
        raise ClimbError(
            f"refusing the listed file {rel!r}{who}: names starting with {RESERVED_PREFIX!r} "
            "are reserved for climb's own files (the fetch manifest)",
            where=str(folder),
            fix="nothing was downloaded; report the file list to the source's maintainers",
        )
    if bad:
        raise ClimbError(
            f"refusing the listed file {rel!r}{who}: its path leaves the dataset folder",
            where=str(folder),
            fix="nothing was downloaded; the source's file list is broken or hostile: report it",
        )
    return folder / "/".join(parts)


def _loopback(host: str) -> bool:
    import ipaddress

    h = host.strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def require_secure(url: str | httpx.URL, what: str) -> None:
    """The one rule for every credentialed request: never over plain HTTP, except to a
    loopback address (a local test server or tunnel). Checked before anything is sent."""
    u = httpx.URL(str(url))
    if u.scheme == "https" or (u.scheme == "http" and _loopback(u.host)):
        return
    raise AccessError(
        f"refusing to send credentials over plain {u.scheme.upper() or 'HTTP'} for {what}",
        where=f"{u.scheme}://{u.host}",
        fix="use an https:// base URL for this source (CLIMB_<SOURCE>_URL or [urls] in "
        "config.toml); credentials go over plain http only to a loopback address",
    )


def _credentialed(auth: httpx.Auth | None, headers: dict[str, str] | None) -> bool:
    return auth is not None or any(k.lower() == "authorization" for k in (headers or {}))


def json_answer(resp: httpx.Response, what: str, expect: type | tuple[type, ...] = object) -> Any:
    """The JSON body of an API answer, or a clear error when it is not JSON (an HTML error or
    login page from a proxy or a wrong mirror) or not the expected shape (list or object)."""
    where = clean_url(str(resp.request.url))
    ctype = resp.headers.get("Content-Type", "?")
    try:
        data = resp.json()
    except (ValueError, UnicodeDecodeError):
        head = resp.content[:60].decode("utf-8", "replace").strip()
        kind = "an HTML page" if looks_like_html(resp.content) else "something that is not JSON"
        raise ClimbError(
            f"the server answered {what} with {kind} (Content-Type {ctype}, "
            f"starting {head[:40]!r})",
            where=where,
            fix="check the source's base URL (CLIMB_<SOURCE>_URL) and any proxy in between; "
            "nothing was downloaded",
        ) from None
    if not isinstance(data, expect):
        want = " or ".join(
            {list: "a list", dict: "an object"}.get(t, t.__name__)
            for t in (expect if isinstance(expect, tuple) else (expect,))
        )
        raise ClimbError(
            f"the server answered {what} with JSON of an unexpected shape "
            f"({type(data).__name__}, expected {want})",
            where=where,
            fix="check the source's base URL (CLIMB_<SOURCE>_URL); nothing was downloaded",
        )
    return data


def disk_full_error(path: Path, need: int | None, exc: OSError) -> ClimbError:
    """errno 28 (ENOSPC) or 122 (EDQUOT) while writing ``path``: say where and how much."""
    try:
        probe = path
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        free = shutil.disk_usage(probe).free
        free_s = f"{human_bytes(free)} free"
    except OSError:
        free_s = "free space unknown"
    need_s = f"needs about {human_bytes(need)} more" if need else "needs more space"
    what = "disk full" if exc.errno == 28 else "disk quota exceeded"
    return ClimbError(
        f"{what} while writing {path.name}: it {need_s} ({free_s})",
        where=str(path),
        fix="free some space or choose another --root; run the same command again: it resumes "
        "(nothing was marked complete)",
    )


def default_http_error(resp: httpx.Response, what: str) -> ClimbError:
    url = clean_url(str(resp.request.url))
    if resp.status_code in (401, 403):
        return AccessError(
            f"access denied ({resp.status_code}) while downloading {what}",
            where=url,
            fix="check your credentials ('climb access') and that you accepted the terms",
        )
    if resp.status_code == 404:
        return ClimbError(
            f"not found (404): {what}",
            where=url,
            fix="check the source's id/version in the dataset card or the mirror URL",
        )
    return ClimbError(f"HTTP {resp.status_code} while downloading {what}", where=url)


@dataclass
class FetchSummary:
    downloaded: int = 0
    skipped: int = 0
    bytes: int = 0
    extracted: int = 0
    failed: list[tuple[str, ClimbError]] = field(default_factory=list)


class Engine:
    """Downloads :class:`RemoteFile` lists into a folder, verified, resumable and in parallel."""

    def __init__(
        self,
        config: FetchConfig,
        *,
        progress: Progress | None = None,
        workers: int | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.config = config
        self.workers = max(1, workers or config.workers)
        self.progress = progress or Progress()
        self.cancel = threading.Event()
        limits = httpx.Limits(
            max_connections=self.workers + 4, max_keepalive_connections=self.workers + 4
        )
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
            follow_redirects=True,
            verify=config.verify_tls,
            limits=limits,
            # keep-alive HTTP/1.1 connections that read up to 1 MiB per recv (see _stream.py)
            transport=stream_mod.bulk_transport(
                verify=config.verify_tls, limits=limits, trust_env=True
            ),
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            trust_env=True,
        )
        self._rng = random.Random()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ retry policy
    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.config.retry_after_max)
        base = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempt - 1))
        return base * (0.5 + 0.5 * self._rng.random())

    def _sleep(self, seconds: float) -> None:
        if self.cancel.wait(seconds):
            raise Cancelled()

    # ------------------------------------------------------------------ small API calls
    def request(
        self,
        method: str,
        url: str,
        *,
        auth: httpx.Auth | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        on_error: ErrorHook | None = None,
        what: str = "a file list",
        allow: tuple[int, ...] = (),
    ) -> httpx.Response:
        """A small request (index, API) with the same retry policy; 4xx → clear error."""
        attempt = 0
        while True:
            if self.cancel.is_set():
                raise Cancelled()
            attempt += 1
            if _credentialed(auth, headers):
                require_secure(url, what)
            try:
                resp = self.client.request(
                    method, url, auth=auth, headers=headers, params=params, json=json_body
                )
            except httpx.TransportError as exc:
                if attempt > self.config.retries:
                    raise ClimbError(
                        f"cannot reach the server for {what}: {type(exc).__name__}",
                        where=clean_url(url),
                        fix="check the network, or the base URL (CLIMB_*_URL)",
                    ) from None
                self._sleep(self.backoff(attempt))
                continue
            if resp.status_code in RETRY_STATUS and attempt <= self.config.retries:
                self._sleep(
                    self.backoff(attempt, parse_retry_after(resp.headers.get("Retry-After")))
                )
                continue
            if resp.status_code < 400 or resp.status_code in allow:
                return resp
            err = on_error(resp) if on_error else None
            raise err or default_http_error(resp, what)

    # ------------------------------------------------------------------ many files
    def plan(self, files: list[RemoteFile], folder: Path, manifest: Manifest) -> list[RemoteFile]:
        """The files that still need work (quick check: manifest entry, size and mtime)."""
        return [rf for rf in files if not self._quick_skip(rf, folder, manifest)]

    def _quick_skip(self, rf: RemoteFile, folder: Path, manifest: Manifest) -> bool:
        if rf.extract != "no":
            entry = manifest.archives.get(rf.path)
            if not entry or entry.get("url") != clean_url(rf.url):
                return False
            if rf.checksum is not None and entry.get("checksum") != str(rf.checksum):
                return False
            base = folder / Path(rf.path).parent
            for m in entry.get("members", []):
                f = manifest.get(m)
                p = folder / m
                if f is None or not p.is_file() or p.stat().st_size != f.get("size"):
                    return False
            return base.exists()
        entry = manifest.get(rf.path)
        final = folder / rf.path
        if entry is None or not final.is_file():
            return False
        st = final.stat()
        if st.st_size != entry.get("size") or st.st_mtime_ns != entry.get("mtime_ns"):
            return False
        if rf.checksum is not None:
            if rf.checksum.algo == "sha256":
                return entry.get("sha256") == rf.checksum.value
            return entry.get("checksum") == str(rf.checksum)
        return rf.size is None or rf.size == st.st_size

    def check_disk(self, todo: list[RemoteFile], folder: Path) -> None:
        need = sum((rf.size or 0) + (rf.estimate or 0 if rf.extract != "no" else 0) for rf in todo)
        if need <= 0:
            return
        probe = folder
        while not probe.exists():
            probe = probe.parent
        free = shutil.disk_usage(probe).free
        if need > free * 0.98:
            raise ClimbError(
                f"not enough disk space: need about {human_bytes(need)}, {human_bytes(free)} free",
                where=str(folder),
                fix="free some space, choose another --root, or narrow with --include",
            )

    def download_all(
        self, files: list[RemoteFile], folder: Path, manifest: Manifest, *, label: str = "fetch"
    ) -> FetchSummary:
        summary = FetchSummary()
        for rf in files:  # before anything is downloaded: every destination stays inside
            contained_path(folder, rf.path, rf.source)
            if _credentialed(rf.auth, rf.headers):
                require_secure(rf.url, f"{rf.path} ({rf.source})" if rf.source else rf.path)
        todo = self.plan(files, folder, manifest)
        summary.skipped = len(files) - len(todo)
        if not todo:
            return summary
        self.check_disk(todo, folder)
        sizes = [rf.size for rf in todo]
        total = sum(s for s in sizes if s) if all(s is not None for s in sizes) else None
        self.progress.start(label, len(todo), total)
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="climb-fetch")
        pending: set[Future[tuple[str, int, int]]] = set()
        it = iter(todo)
        lock = threading.Lock()
        fatal: ClimbError | None = None

        def submit_more() -> None:
            while len(pending) < self.workers * 2:
                rf = next(it, None)
                if rf is None:
                    return
                fut = pool.submit(self._one, rf, folder, manifest)
                fut.rf = rf  # type: ignore[attr-defined]
                pending.add(fut)

        try:
            submit_more()
            while pending:
                done, _ = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for fut in done:
                    pending.discard(fut)
                    rf = fut.rf  # type: ignore[attr-defined]
                    try:
                        kind, nbytes, nextracted = fut.result()
                    except Cancelled:
                        continue
                    except ClimbError as exc:
                        with lock:
                            summary.failed.append((rf.path, exc))
                        if isinstance(exc, AccessError):
                            exc.source = exc.source or rf.source
                            fatal = exc
                            self.cancel.set()
                        continue
                    if kind == "skipped":
                        summary.skipped += 1
                    else:
                        summary.downloaded += 1
                        summary.bytes += nbytes
                        summary.extracted += nextracted
                    self.progress.file_done()
                manifest.maybe_save(self.config.manifest_interval)
                if not self.cancel.is_set():
                    submit_more()
        except BaseException:
            self.cancel.set()
            pool.shutdown(wait=False, cancel_futures=True)
            manifest.save()
            raise
        finally:
            self.progress.finish()
        pool.shutdown(wait=True)
        manifest.save()
        if fatal is not None:
            raise fatal
        return summary

    # ------------------------------------------------------------------ one file
    def _one(self, rf: RemoteFile, folder: Path, manifest: Manifest) -> tuple[str, int, int]:
        final = contained_path(folder, rf.path, rf.source)
        if rf.extract == "no" and final.is_file() and self._adopt_existing(rf, final, manifest):
            return "skipped", 0, 0
        part = final.with_name(final.name + ".part")
        meta = final.with_name(final.name + ".part.json")
        final.parent.mkdir(parents=True, exist_ok=True)
        attempt = 0
        fresh_restarts = 0
        while True:
            if self.cancel.is_set():
                raise Cancelled()
            attempt += 1
            try:
                hasher, size = self._transfer(rf, part, meta)
            except _Retry as r:
                if r.fresh:
                    part.unlink(missing_ok=True)
                    meta.unlink(missing_ok=True)
                if attempt > self.config.retries:
                    raise ClimbError(
                        f"giving up on {rf.path} after {attempt} attempts ({r.reason})",
                        where=clean_url(rf.url),
                        fix="run the same command again later: it resumes where it stopped",
                    ) from None
                self._sleep(
                    0 if r.fresh and r.retry_after is None else self.backoff(attempt, r.retry_after)
                )
                continue
            problem = self._check(rf, hasher, size, part)
            if problem is None:
                break
            part.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)
            self.progress.rewind(size)
            fresh_restarts += 1
            if fresh_restarts > 1 or attempt > self.config.retries:
                raise ClimbError(
                    f"{rf.path}: {problem}; nothing was kept",
                    where=clean_url(rf.url),
                    fix="run the fetch again; if it persists, the source or the mirror serves a "
                    "corrupt file: report it",
                )
        sha = hasher.sha256.hexdigest()
        now = utcnow()
        if self._should_extract(rf, part):
            try:
                members = self._extract(rf, part, final)
            except ClimbError:
                part.unlink(missing_ok=True)  # a bad archive: nothing is kept
                meta.unlink(missing_ok=True)
                raise
            prefix = Path(rf.path).parent.as_posix()
            names = []
            for m in members:
                rel = m.path if prefix in ("", ".") else f"{prefix}/{m.path}"
                names.append(rel)
                st = (folder / rel).stat()
                manifest.record(
                    rel,
                    {
                        "size": m.size,
                        "sha256": m.sha256,
                        "checksum": None,
                        "url": clean_url(rf.url),
                        "source": rf.source,
                        "time": now,
                        "mtime_ns": st.st_mtime_ns,
                        "archive": rf.path,
                    },
                )
            manifest.record_archive(
                rf.path,
                {
                    "url": clean_url(rf.url),
                    "size": size,
                    "sha256": sha,
                    "checksum": str(rf.checksum) if rf.checksum else None,
                    "source": rf.source,
                    "time": now,
                    "members": names,
                },
            )
            part.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)
            return "downloaded", size, len(members)
        os.replace(part, final)
        meta.unlink(missing_ok=True)
        self._record(rf, final, manifest, size, sha, now)
        return "downloaded", size, 0

    def _extract(self, rf: RemoteFile, part: Path, final: Path) -> list[archive_mod.Extracted]:
        return archive_mod.extract(
            part,
            final.parent,
            strip=rf.strip,
            members=rf.members,
            limits=archive_mod.Limits(
                self.config.max_extract_bytes,
                self.config.max_extract_ratio,
                self.config.max_extract_members,
            ),
            member_checksums=rf.member_checksums,
        )

    def _record(
        self, rf: RemoteFile, final: Path, manifest: Manifest, size: int, sha: str, now: str
    ) -> None:
        manifest.record(
            rf.path,
            {
                "size": size,
                "sha256": sha,
                "checksum": str(rf.checksum) if rf.checksum else None,
                "url": clean_url(rf.url),
                "source": rf.source,
                "time": now,
                "mtime_ns": final.stat().st_mtime_ns,
                "archive": None,
            },
        )

    def _adopt_existing(self, rf: RemoteFile, final: Path, manifest: Manifest) -> bool:
        """A file already at its final path (e.g. a run killed before the manifest was saved):
        keep it only if it verifies."""
        size = final.stat().st_size
        if rf.size is not None and size != rf.size:
            return False
        if rf.checksum is None and rf.size is None:
            return False
        hasher = Hasher(rf.checksum, size)
        with open(final, "rb") as fh:
            for chunk in iter(lambda: fh.read(self.config.chunk_size), b""):
                hasher.update(chunk)
        if not hasher.matches():
            return False
        self._record(rf, final, manifest, size, hasher.sha256.hexdigest(), utcnow())
        return True

    def _should_extract(self, rf: RemoteFile, part: Path) -> bool:
        if rf.extract == "yes":
            return True
        if rf.extract == "auto":
            return not rf.path.lower().endswith(".zip") and archive_mod.sniff_zip(part)
        return False

    def _check(self, rf: RemoteFile, hasher: Hasher, size: int, part: Path) -> str | None:
        if rf.size is not None and size != rf.size:
            return f"size {size:,} bytes differs from the published {rf.size:,}"
        if not hasher.matches():
            with open(part, "rb") as fh:
                head = fh.read(512)
            if rf.reject_html and looks_like_html(head):
                raise AccessError(
                    f"the server sent an HTML page instead of {rf.path} (a login or terms page?)",
                    where=clean_url(rf.url),
                    fix="check your credentials and that you accepted the terms ('climb access')",
                )
            return (
                f"checksum mismatch: expected {rf.checksum}, got "
                f"{hasher.checksum.algo if hasher.checksum else 'sha256'}:"
                f"{hasher.published_hex()}"
            )
        return None

    def _transfer(self, rf: RemoteFile, part: Path, meta: Path) -> tuple[Hasher, int]:
        """One attempt: resume or start ``part``; return its hasher and size when complete."""
        url_c = clean_url(rf.url)
        offset = 0
        validator: str | None = None
        total: int | None = None
        if part.is_file() and meta.is_file():
            try:
                m = json.loads(meta.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                m = {}
            if m.get("url") == url_c:
                offset = part.stat().st_size
                total = m.get("total")
                etag = m.get("etag")
                validator = etag if etag and not etag.startswith("W/") else m.get("last_modified")
        if offset == 0:
            part.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)
        hasher = Hasher(rf.checksum, rf.size)
        if offset and total is not None and offset >= total:
            self._hash_prefix(part, hasher, offset)  # complete but not verified yet
            return hasher, offset
        headers = dict(rf.headers)
        if _credentialed(rf.auth, headers):
            require_secure(rf.url, rf.path)
        if offset:
            headers["Range"] = f"bytes={offset}-"
            if validator:
                headers["If-Range"] = validator
            else:
                # without a validator a resumed file could mix two versions: start again
                part.unlink(missing_ok=True)
                offset = 0
                del headers["Range"]
        written = 0
        try:
            with self.client.stream("GET", rf.url, headers=headers, auth=rf.auth) as resp:
                status = resp.status_code
                if status in RETRY_STATUS:
                    raise _Retry(
                        f"HTTP {status}", parse_retry_after(resp.headers.get("Retry-After"))
                    )
                if status == 416:
                    raise _Retry("the server refused the resume range", fresh=True)
                if status >= 300 or status not in (200, 206):
                    resp.read()
                    err = rf.on_error(resp) if rf.on_error else None
                    raise err or default_http_error(resp, rf.path)
                ctype = resp.headers.get("Content-Type", "").lower()
                if (
                    rf.reject_html
                    and ctype.startswith("text/html")
                    and not rf.path.lower().endswith((".html", ".htm"))
                ):
                    raise AccessError(
                        f"the server sent an HTML page instead of {rf.path} (a login or terms "
                        "page?)",
                        where=clean_url(str(resp.url)),
                        fix="check your credentials and that you accepted the terms "
                        "('climb access')",
                    )
                if status == 206 and offset:
                    start, _end, full = _content_range(resp.headers.get("Content-Range"))
                    if start != offset:
                        raise _Retry("the server answered a different range", fresh=True)
                    mode = "ab"
                    if full is not None:
                        total = full
                else:
                    offset = 0  # Range ignored or the file changed (If-Range): start over
                    mode = "wb"
                    total = None
                clen = resp.headers.get("Content-Length")
                if clen is not None and "Content-Encoding" not in resp.headers and total is None:
                    total = offset + int(clen)
                meta.write_text(
                    json.dumps(
                        {
                            "url": url_c,
                            "etag": resp.headers.get("ETag"),
                            "last_modified": resp.headers.get("Last-Modified"),
                            "total": total,
                        }
                    ),
                    encoding="utf-8",
                )
                if offset:
                    self._hash_prefix(part, hasher, offset)
                body = None if total is None else total - offset
                with open(part, mode, buffering=stream_mod.WRITE_BUFFER) as fh:
                    sink = stream_mod.Sink(
                        fh,
                        hasher,
                        self.progress.advance,
                        threaded=body is None or body >= stream_mod.THREAD_MIN,
                    )
                    try:
                        for chunk in resp.iter_bytes():
                            if self.cancel.is_set():
                                raise Cancelled()
                            sink.put(chunk)
                            written += len(chunk)
                    finally:
                        sink.close()  # every byte received is in the .part file (resume)
        except httpx.TransportError as exc:
            raise _Retry(f"{type(exc).__name__}") from None
        except OSError as exc:
            if exc.errno in (28, 122):  # ENOSPC, EDQUOT
                left = None if total is None else total - offset - written
                raise disk_full_error(part, left or rf.size, exc) from None
            raise
        size = offset + written
        if total is not None and size != total:
            raise _Retry(f"body ended after {size:,} of {total:,} bytes")
        return hasher, size

    def _hash_prefix(self, part: Path, hasher: Hasher, n: int) -> None:
        left = n
        with open(part, "rb") as fh:
            while left > 0:
                chunk = fh.read(min(self.config.chunk_size, left))
                if not chunk:
                    break
                hasher.update(chunk)
                left -= len(chunk)


def _content_range(value: str | None) -> tuple[int | None, int | None, int | None]:
    if not value or not value.startswith("bytes "):
        return None, None, None
    rng, _, full = value[6:].partition("/")
    a, _, b = rng.partition("-")
    try:
        return int(a), int(b), (None if full.strip() == "*" else int(full))
    except ValueError:
        return None, None, None


__all__ = [
    "AccessError",
    "Cancelled",
    "Checksum",
    "Engine",
    "FetchSummary",
    "RemoteFile",
    "contained_path",
    "json_answer",
    "require_secure",
]
