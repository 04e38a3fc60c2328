"""Hugging Face Hub, through its documented HTTP protocol (no extra dependency).

Files are listed with ``{hf}/api/{repo_type}s/{id}/tree/{revision}?recursive=true`` (paginated
with ``Link: rel="next"``) and downloaded from ``{hf}/{datasets/}{id}/resolve/{revision}/<path>``
with ``Authorization: Bearer $HF_TOKEN`` (dropped by the client on a redirect to a CDN host).
LFS files are verified by their sha256 (``lfs.oid``), other files by their git blob id.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from climb.card import DatasetCard, Source
from climb.core.errors import ClimbError
from climb.fetch.config import FetchConfig
from climb.fetch.credentials import Credentials
from climb.fetch.engine import AccessError, json_answer
from climb.fetch.manifest import clean_url
from climb.fetch.sources.base import AccessInfo, Context, SourcePlugin, select
from climb.fetch.types import Checksum, RemoteFile

SITE = "https://huggingface.co"


def _prefix(source: Source) -> str:
    return "datasets/" if source.repo_type == "dataset" else ""


def _hook(source: Source, has_token: bool):  # type: ignore[no-untyped-def]
    page = f"{SITE}/{_prefix(source)}{source.id}"

    def hook(resp: httpx.Response) -> ClimbError | None:
        where = clean_url(str(resp.request.url))
        code = resp.headers.get("X-Error-Code", "")
        if code == "GatedRepo" or (resp.status_code == 403 and "restricted" in resp.text):
            return AccessError(
                f"{source.id} is a gated repository"
                + (": your token is not approved yet" if has_token else " and HF_TOKEN is not set"),
                where=where,
                fix=f"request access at {page}, then set HF_TOKEN",
            )
        if code == "RevisionNotFound":
            return ClimbError(
                f"{source.id} has no revision {source.version!r}",
                where=where,
                fix="pin an existing commit in the card",
            )
        if code == "EntryNotFound":
            return ClimbError(f"no such file in {source.id}@{source.version}", where=where)
        if code == "RepoNotFound" or resp.status_code in (401, 404):
            return AccessError(
                f"{source.id} was not found, or is private",
                where=where,
                fix=f"check {page}; for a private repository set HF_TOKEN",
            )
        return None

    return hook


class HuggingFace(SourcePlugin):
    kind = "huggingface"
    service = "huggingface"

    def files(self, source: Source, ctx: Context) -> list[RemoteFile]:
        base = ctx.config.url("huggingface")
        rev = quote(source.version or "main", safe="")
        cred = ctx.credentials.find("huggingface")
        auth = cred.auth() if cred else None
        hook = _hook(source, cred is not None)
        url: str | None = (
            f"{base}/api/{source.repo_type}s/{source.id}/tree/{rev}?recursive=true&expand=false"
        )
        items: list[dict] = []  # type: ignore[type-arg]
        while url:
            what = f"the file list of {source.describe()}"
            resp = ctx.engine.request("GET", url, auth=auth, on_error=hook, what=what)
            page = json_answer(resp, what, list)
            items.extend(
                i for i in page if isinstance(i, dict) and i.get("type") == "file" and i.get("path")
            )
            nxt = resp.links.get("next", {}).get("url")
            url = str(resp.url.join(nxt)) if nxt else None
        by_path = {i["path"]: i for i in items}
        chosen = sorted(select(list(by_path), source.include))
        if not chosen:
            raise ClimbError(
                f"no file of {source.describe()} matches {source.include or '*'}",
                where=f"dataset {ctx.card.key}",
            )
        out = []
        for p in chosen:
            i = by_path[p]
            lfs = i.get("lfs") or {}
            if lfs.get("oid"):
                checksum: Checksum | None = Checksum("sha256", str(lfs["oid"]))
            elif i.get("oid"):
                checksum = Checksum("git-sha1", str(i["oid"]))
            else:
                checksum = None
            out.append(
                RemoteFile(
                    path=p,
                    url=f"{base}/{_prefix(source)}{source.id}/resolve/{rev}/{quote(p)}",
                    size=lfs.get("size", i.get("size")),
                    checksum=checksum,
                    auth=auth,
                    source=source.describe(),
                    on_error=hook,
                )
            )
        return out

    def access(
        self, source: Source, card: DatasetCard, credentials: Credentials, config: FetchConfig
    ) -> AccessInfo:
        page = f"{SITE}/{_prefix(source)}{source.id}"
        gated = card.access != "open"
        info = AccessInfo(
            source=source.describe(),
            needs="a Hugging Face account approved for this gated repository"
            if gated
            else "nothing (public repository; HF_TOKEN optional)",
            page=page,
            steps=[
                f"log in at {SITE} and request access on {page}",
                "create a read token at https://huggingface.co/settings/tokens and set HF_TOKEN",
            ]
            if gated
            else [],
        )
        return self._cred_status(info, credentials)


PLUGIN = HuggingFace()
