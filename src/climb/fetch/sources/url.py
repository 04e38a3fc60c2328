"""A direct URL, optionally pinned by sha256. Archives (zip, tar) are extracted in place.

A URL ending in ``/`` names a folder. climb can list folders only on Amazon S3 (public buckets
allow anonymous ``ListObjectsV2``): path-style ``https://s3[.<region>].amazonaws.com/<bucket>/
<prefix>/`` or virtual-hosted ``https://<bucket>.s3[.<region>].amazonaws.com/<prefix>/``. Every
object under the prefix becomes one file at its path relative to the prefix, with its size and,
when the ETag is a plain MD5 (not a multipart ``<hex>-<parts>`` one), an md5 checksum. The S3
endpoint can be pointed at a mirror with ``CLIMB_S3_URL`` (``[urls] s3``); each S3 URL (file or
folder) is then read path-style from it: ``<mirror>/<bucket>/<key>``.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import httpx

from climb.card import Source
from climb.core.errors import ClimbError
from climb.fetch.archive import is_archive_name
from climb.fetch.config import DEFAULT_URLS, FetchConfig
from climb.fetch.engine import AccessError
from climb.fetch.manifest import clean_url
from climb.fetch.sources.base import Context, SourcePlugin, select
from climb.fetch.types import Checksum, RemoteFile

#: ``[<bucket>.]s3[.<region>|-<region>].amazonaws.com`` (no website or dual-stack endpoints)
_S3_HOST = re.compile(
    r"^(?:(?P<bucket>[a-z0-9][a-z0-9.-]*)\.)?s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com$"
)
_MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")
_MAX_PAGES = 100_000


def url_filename(url: str) -> str:
    """The file name of a URL (for a folder URL ending in '/': the folder's name)."""
    name = posixpath.basename(unquote(urlsplit(url).path).rstrip("/")) or "download"
    return name.replace("\\", "_")


@dataclass(frozen=True)
class S3Location:
    """An S3 URL taken apart: ``endpoint`` is ``scheme://host`` (the bucket's virtual host when
    ``virtual``), ``key`` the object key or prefix (decoded, no leading '/')."""

    endpoint: str
    bucket: str
    key: str
    virtual: bool

    def base(self, config: FetchConfig) -> str:
        """Where objects of the bucket are read: ``<base>/<key>`` (a mirror if configured)."""
        mirror = _mirror(config)
        if mirror:
            return f"{mirror}/{quote(self.bucket)}"
        return self.endpoint if self.virtual else f"{self.endpoint}/{quote(self.bucket)}"


def _mirror(config: FetchConfig) -> str | None:
    """The configured S3 endpoint when it is not the default (``CLIMB_S3_URL``)."""
    url = config.urls.get("s3", DEFAULT_URLS["s3"]).rstrip("/")
    return url if url != DEFAULT_URLS["s3"] else None


def parse_s3_url(url: str) -> S3Location | None:
    """The bucket and key of an Amazon S3 URL, or None when the URL is not on S3."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    m = _S3_HOST.match(host)
    if parts.scheme not in ("http", "https") or not m:
        return None
    if (m.group("region") or "").startswith(("website", "dualstack", "accesspoint")):
        return None
    endpoint = f"{parts.scheme}://{parts.netloc}"
    path = unquote(parts.path).lstrip("/")
    if m.group("bucket"):
        return S3Location(endpoint, m.group("bucket"), path, virtual=True)
    bucket, _, key = path.partition("/")
    if not bucket:
        return None
    return S3Location(endpoint, bucket, key, virtual=False)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _s3_error(body: bytes) -> dict[str, str]:
    """``Code``, ``Message`` (and ``Endpoint``) of an S3 XML error body ({} if not one)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return {}
    if _local(root.tag) != "Error":
        return {}
    return {_local(c.tag): (c.text or "").strip() for c in root}


def _listing_hook(source: Source, loc: S3Location):  # type: ignore[no-untyped-def]
    def hook(resp: httpx.Response) -> ClimbError | None:
        where = clean_url(str(resp.request.url))
        err = _s3_error(resp.content)
        code = err.get("Code") or str(resp.status_code)
        if resp.status_code in (401, 403):
            return AccessError(
                f"the S3 bucket {loc.bucket!r} does not allow anonymous listing ({code}), so "
                f"climb cannot find the files under {source.url}",
                where=where,
                fix=(
                    "check the URL in the dataset card (a typo in the bucket or prefix also "
                    "gives AccessDenied); if the bucket is not listable, list the files in the "
                    "card as separate url sources (one per file), or ask the data provider"
                ),
            )
        if resp.status_code == 404:
            return ClimbError(
                f"the S3 bucket {loc.bucket!r} does not exist ({code})",
                where=where,
                fix="check the bucket name in the dataset card's URL (or CLIMB_S3_URL)",
            )
        return None

    return hook


def _object_hook(resp: httpx.Response) -> ClimbError | None:
    where = clean_url(str(resp.request.url))
    code = _s3_error(resp.content).get("Code") or str(resp.status_code)
    if resp.status_code in (401, 403):
        return AccessError(
            f"S3 refused an anonymous download ({code}): the object is not public",
            where=where,
            fix="check the URL in the dataset card; a listed object that is not readable "
            "needs the data provider's help",
        )
    if resp.status_code == 404:
        return ClimbError(
            f"S3 has no such object ({code})",
            where=where,
            fix="run 'climb fetch' again (the folder is listed afresh) or check the URL",
        )
    return None


def _parse_listing(body: bytes, where: str) -> tuple[list[dict[str, str]], str | None]:
    """The ``Contents`` of one ListObjectsV2 page and the continuation token (None: last)."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise ClimbError(
            "the S3 listing is not XML (is this an S3 endpoint?)",
            where=where,
            fix="check the URL in the dataset card, or CLIMB_S3_URL / [urls] s3",
        ) from None
    if _local(root.tag) == "Error":
        err = {_local(c.tag): (c.text or "").strip() for c in root}
        endpoint = err.get("Endpoint")
        raise ClimbError(
            f"S3 refused the listing: {err.get('Code', '?')}: {err.get('Message', '')}".rstrip(),
            where=where,
            fix=(
                f"use the bucket's own endpoint (https://{endpoint}/...) in the card's URL"
                if endpoint
                else "check the URL in the dataset card"
            ),
        )
    if _local(root.tag) != "ListBucketResult":
        raise ClimbError(
            f"unexpected S3 answer <{_local(root.tag)}> instead of <ListBucketResult>",
            where=where,
            fix="check the URL in the dataset card, or CLIMB_S3_URL / [urls] s3",
        )
    items: list[dict[str, str]] = []
    truncated, token = False, None
    for child in root:
        name = _local(child.tag)
        if name == "Contents":
            items.append({_local(c.tag): (c.text or "") for c in child})
        elif name == "IsTruncated":
            truncated = (child.text or "").strip().lower() == "true"
        elif name == "NextContinuationToken":
            token = child.text or None
    if truncated and not token:
        raise ClimbError(
            "the S3 listing is truncated but gives no NextContinuationToken", where=where
        )
    return items, token if truncated else None


def etag_checksum(etag: str) -> Checksum | None:
    """An md5 checksum from an S3 ETag when it is a plain MD5 (multipart ETags are not)."""
    value = etag.strip().strip('"').lower()
    return Checksum("md5", value) if _MD5_ETAG.match(value) else None


def list_s3_prefix(source: Source, loc: S3Location, ctx: Context) -> list[RemoteFile]:
    """Every object under an S3 prefix (anonymous ListObjectsV2, paginated)."""
    base = loc.base(ctx.config)
    listing = base + ("/" if base == loc.endpoint else "")
    prefix = loc.key
    hook = _listing_hook(source, loc)
    objects: dict[str, dict[str, str]] = {}
    token: str | None = None
    for _ in range(_MAX_PAGES):
        params = {"list-type": "2", "prefix": prefix}
        if token:
            params["continuation-token"] = token
        resp = ctx.engine.request(
            "GET",
            listing,
            params=params,
            headers={"Accept": "application/xml"},
            on_error=hook,
            what=f"the S3 listing of {source.url}",
        )
        items, token = _parse_listing(resp.content, clean_url(listing))
        for item in items:
            key = item.get("Key", "")
            if key.startswith(prefix):
                objects[key] = item
        if token is None:
            break
    where = f"dataset {ctx.card.key}, source {source.describe()}"
    by_rel: dict[str, dict[str, str]] = {}
    for key, item in objects.items():
        rel = key[len(prefix) :]
        if not rel or rel.endswith("/"):  # the prefix itself or a "folder" placeholder
            continue
        parts = rel.split("/")
        if rel.startswith("/") or "\\" in rel or any(p in ("", ".", "..") for p in parts):
            raise ClimbError(f"unsafe S3 object key {key!r}", where=where)
        by_rel[rel] = item
    chosen = sorted(select(list(by_rel), source.include))
    if not chosen:
        raise ClimbError(
            f"the S3 prefix {source.url} holds no object"
            + (f" matching {list(source.include)}" if source.include else ""),
            where=where,
            fix="check the URL (it must end in '/') and the source's include globs",
        )
    out = []
    for rel in chosen:
        item = by_rel[rel]
        size = item.get("Size", "").strip()
        out.append(
            RemoteFile(
                path=rel,
                url=f"{base}/{quote(prefix + rel)}",
                size=int(size) if size.isdigit() else None,
                checksum=etag_checksum(item.get("ETag", "")),
                source=source.describe(),
                on_error=_object_hook,
            )
        )
    return out


class URL(SourcePlugin):
    kind = "url"

    def files(self, source: Source, ctx: Context) -> list[RemoteFile]:
        url = source.url or ""
        loc = parse_s3_url(url)
        if url.endswith("/"):
            if loc is None:
                raise ClimbError(
                    f"the url source {url} is a folder (it ends in '/'), and climb can list "
                    "folders only on Amazon S3",
                    where=f"dataset {ctx.card.key}",
                    fix=(
                        "point the card's url source at one file, list each file as its own "
                        "url source, or use the host's own source kind (physionet, zenodo, "
                        "github, ...)"
                    ),
                )
            return list_s3_prefix(source, loc, ctx)
        if loc is not None and _mirror(ctx.config):
            url = f"{loc.base(ctx.config)}/{quote(loc.key)}"
        name = url_filename(url)
        return [
            RemoteFile(
                path=name,
                url=url,
                checksum=Checksum("sha256", source.sha256) if source.sha256 else None,
                extract="yes" if is_archive_name(name) else "no",
                members=source.include,
                source=source.describe(),
            )
        ]


PLUGIN = URL()
