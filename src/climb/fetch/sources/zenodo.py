"""Zenodo: the records API lists each file with its size and MD5; archives are extracted."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from climb.card import DatasetCard, Source
from climb.core.errors import ClimbError
from climb.fetch.archive import is_archive_name
from climb.fetch.config import FetchConfig
from climb.fetch.credentials import Credentials
from climb.fetch.engine import AccessError, json_answer
from climb.fetch.manifest import clean_url
from climb.fetch.sources.base import AccessInfo, Context, SourcePlugin, select
from climb.fetch.types import Checksum, RemoteFile


def _hook(source: Source):  # type: ignore[no-untyped-def]
    def hook(resp: httpx.Response) -> ClimbError | None:
        where = clean_url(str(resp.request.url))
        if resp.status_code == 404:
            return ClimbError(
                f"Zenodo has no record {source.id} (or no such file)",
                where=where,
                fix=f"check the record at https://zenodo.org/records/{source.id}",
            )
        if resp.status_code in (401, 403):
            return AccessError(
                f"Zenodo record {source.id} is restricted ({resp.status_code})",
                where=where,
                fix="request access on the record page, then set ZENODO_TOKEN",
            )
        return None

    return hook


class Zenodo(SourcePlugin):
    kind = "zenodo"
    service = "zenodo"

    def files(self, source: Source, ctx: Context) -> list[RemoteFile]:
        base = ctx.config.url("zenodo")
        rid = source.id or ""
        cred = ctx.credentials.find("zenodo")
        auth = cred.auth() if cred else None
        hook = _hook(source)
        resp = ctx.engine.request(
            "GET",
            f"{base}/api/records/{rid}",
            auth=auth,
            headers={"Accept": "application/json"},
            on_error=hook,
            what=f"Zenodo record {rid}",
        )
        entries = json_answer(resp, f"Zenodo record {rid}", dict).get("files") or []
        if isinstance(entries, dict):  # some API versions nest them: {"entries": {...}}
            entries = list((entries.get("entries") or {}).values())
        by_key = {}
        for e in entries:
            key = e.get("key") or e.get("filename")
            if key:
                by_key[key] = e
        chosen = sorted(select(list(by_key), source.include))
        if not chosen:
            raise ClimbError(
                f"Zenodo record {rid} has no file matching {source.include or '*'}",
                where=f"dataset {ctx.card.key}",
            )
        out = []
        for key in chosen:
            e = by_key[key]
            ck = str(e.get("checksum") or "")
            algo, _, value = ck.rpartition(":")
            checksum = Checksum(algo or "md5", value) if value else None
            out.append(
                RemoteFile(
                    path=key,
                    url=f"{base}/api/records/{rid}/files/{quote(key)}/content",
                    size=e.get("size", e.get("filesize")),
                    checksum=checksum,
                    auth=auth,
                    extract="yes" if is_archive_name(key) else "no",
                    source=source.describe(),
                    on_error=hook,
                )
            )
        return out

    def access(
        self, source: Source, card: DatasetCard, credentials: Credentials, config: FetchConfig
    ) -> AccessInfo:
        return AccessInfo(
            source=source.describe(),
            needs="nothing (open record)",
            page=f"https://zenodo.org/records/{source.id}",
        )


PLUGIN = Zenodo()
