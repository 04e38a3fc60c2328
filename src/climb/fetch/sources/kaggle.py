"""Kaggle datasets and competitions through the REST API (``{kaggle}/api/v1``).

Auth: HTTP basic ``username:key`` (``KAGGLE_USERNAME``/``KAGGLE_KEY`` or ``kaggle.json``), or a
bearer ``KAGGLE_API_TOKEN``. Without ``include``, the whole dataset or competition is downloaded
as one zip and extracted; with ``include``, each matching file is downloaded on its own (Kaggle
sometimes serves a single file zipped; such files are unzipped). Kaggle publishes no checksums:
sizes are checked and the sha256 of what arrived is recorded.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from climb.card import DatasetCard, Source
from climb.core.errors import ClimbError
from climb.fetch.config import FetchConfig
from climb.fetch.credentials import Credentials
from climb.fetch.engine import AccessError, Engine, json_answer
from climb.fetch.manifest import clean_url
from climb.fetch.sources.base import AccessInfo, Context, SourcePlugin, select
from climb.fetch.types import RemoteFile

SITE = "https://www.kaggle.com"


def pages(source: Source) -> str:
    if source.competition:
        return f"{SITE}/competitions/{source.id}/rules"
    return f"{SITE}/datasets/{source.id}"


def _message(resp: httpx.Response) -> str:
    try:
        data = resp.json()
        return str(data.get("message") or "")
    except Exception:
        return ""


def _hook(source: Source):  # type: ignore[no-untyped-def]
    def hook(resp: httpx.Response) -> ClimbError | None:
        where = clean_url(str(resp.request.url))
        msg = _message(resp)
        if resp.status_code == 401:
            return AccessError(
                "Kaggle rejected the credentials (401 Unauthorized)",
                where=where,
                fix=Credentials.how_static("kaggle"),
            )
        if resp.status_code == 403:
            if source.competition or "rules" in msg.lower():
                return AccessError(
                    f"Kaggle refused the download: {msg or 'forbidden'}",
                    where=where,
                    fix=f"open {pages(source)}, accept the competition rules with the same Kaggle "
                    "account, then run again (rules cannot be accepted through the API)",
                )
            return AccessError(
                f"Kaggle refused the download: {msg or 'forbidden'}",
                where=where,
                fix=f"accept the dataset's terms at {pages(source)}",
            )
        if resp.status_code == 404:
            return ClimbError(
                f"Kaggle has no {'competition' if source.competition else 'dataset'}"
                f" {source.id} (or no such file)",
                where=where,
                fix=f"check {pages(source)}",
            )
        return None

    return hook


def _list(engine: Engine, url: str, auth: httpx.Auth, hook: Any, what: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    token = ""
    for _ in range(1000):
        params = {"pageToken": token} if token else None
        resp = engine.request("GET", url, auth=auth, params=params, on_error=hook, what=what)
        data = json_answer(resp, what, (list, dict))
        if isinstance(data, list):
            return data
        if data.get("errorMessage"):
            raise ClimbError(f"Kaggle: {data['errorMessage']}", where=clean_url(url))
        out.extend(data.get("datasetFiles") or data.get("files") or [])
        token = data.get("nextPageToken") or ""
        if not token:
            break
    return out


class Kaggle(SourcePlugin):
    kind = "kaggle"
    service = "kaggle"

    def files(self, source: Source, ctx: Context) -> list[RemoteFile]:
        base = ctx.config.url("kaggle")
        api = f"{base}/api/v1"
        sid = source.id or ""
        cred = ctx.credentials.require(
            "kaggle", why="Kaggle downloads need an account", where=f"dataset {ctx.card.key}"
        )
        auth = cred.auth()
        hook = _hook(source)
        desc = source.describe()
        if source.competition:
            listing = f"{api}/competitions/data/list/{sid}"
            one = f"{api}/competitions/data/download/{sid}/"
            everything, bundle = f"{api}/competitions/data/download-all/{sid}", f"{sid}.zip"
        else:
            listing = f"{api}/datasets/list/{sid}"
            one = f"{api}/datasets/download/{sid}/"
            everything, bundle = f"{api}/datasets/download/{sid}", f"{sid.split('/')[1]}.zip"
        files = _list(ctx.engine, listing, auth, hook, f"the file list of {desc}")
        sizes = {f["name"]: f.get("totalBytes") for f in files if f.get("name")}
        if not source.include:
            return [
                RemoteFile(
                    path=bundle,
                    url=everything,
                    auth=auth,
                    extract="yes",
                    estimate=sum(int(s or 0) for s in sizes.values()) or None,
                    source=desc,
                    on_error=hook,
                )
            ]
        chosen = sorted(select(list(sizes), source.include))
        if not chosen:
            raise ClimbError(
                f"no file of {desc} matches {source.include}", where=f"dataset {ctx.card.key}"
            )
        return [
            RemoteFile(
                path=n,
                url=one + quote(n),
                auth=auth,
                extract="auto",
                estimate=sizes[n],
                source=desc,
                on_error=hook,
            )
            for n in chosen
        ]

    def access(
        self, source: Source, card: DatasetCard, credentials: Credentials, config: FetchConfig
    ) -> AccessInfo:
        steps = [
            f"create a Kaggle account at {SITE} and an API token at {SITE}/settings "
            "('Create New Token' gives kaggle.json)",
            "put kaggle.json at ~/.kaggle/kaggle.json (chmod 600) or set KAGGLE_USERNAME "
            "and KAGGLE_KEY",
        ]
        if source.competition:
            steps.append(f"accept the competition rules at {pages(source)} (once, in a browser)")
            needs = "a Kaggle account and the competition rules accepted"
        else:
            needs = "a Kaggle account"
        info = AccessInfo(source=source.describe(), needs=needs, page=pages(source), steps=steps)
        return self._cred_status(info, credentials)


PLUGIN = Kaggle()
