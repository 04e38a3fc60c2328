"""TCIA through the public NBIA REST API (v4, no authentication).

``{tcia}/nbia-api/services/v4/getSeries?Collection=<id>`` lists the public series; each series
is downloaded from ``getImageWithMD5Hash?SeriesInstanceUID=<uid>`` (a zip streamed without a
length, holding ``md5hashes.csv``), extracted into ``<PatientID>/<SeriesInstanceUID>/`` and
every DICOM file checked against its MD5. ``include`` globs select ``<PatientID>/<uid>``.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from climb.card import DatasetCard, Source
from climb.core.errors import ClimbError
from climb.fetch.config import FetchConfig
from climb.fetch.credentials import Credentials
from climb.fetch.engine import json_answer
from climb.fetch.manifest import clean_url
from climb.fetch.sources.base import AccessInfo, Context, SourcePlugin, select
from climb.fetch.types import RemoteFile

API = "/nbia-api/services/v4"


def _hook(source: Source):  # type: ignore[no-untyped-def]
    def hook(resp: httpx.Response) -> ClimbError | None:
        if resp.status_code == 400:
            return ClimbError(
                f"TCIA refused the request: {resp.text.strip()[:300]}",
                where=clean_url(str(resp.request.url)),
                fix=f"check that the collection {source.id!r} is public on TCIA",
            )
        return None

    return hook


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "unknown"


class TCIA(SourcePlugin):
    kind = "tcia"

    def files(self, source: Source, ctx: Context) -> list[RemoteFile]:
        api = ctx.config.url("tcia") + API
        hook = _hook(source)
        resp = ctx.engine.request(
            "GET",
            f"{api}/getSeries",
            params={"Collection": source.id},
            on_error=hook,
            what=f"the series of TCIA {source.id}",
        )
        if not resp.content.strip():
            raise ClimbError(
                f"TCIA lists no public series for collection {source.id!r}",
                where=clean_url(f"{api}/getSeries"),
                fix="check the collection name (case matters) on "
                "https://www.cancerimagingarchive.net/browse-collections/",
            )
        series = {}
        for s in json_answer(resp, f"the series of TCIA {source.id}", list):
            uid = s.get("SeriesInstanceUID") if isinstance(s, dict) else None
            if uid:
                series[f"{_safe(str(s.get('PatientID') or 'unknown'))}/{_safe(uid)}"] = s
        chosen = sorted(select(list(series), source.include))
        out = []
        for key in chosen:
            s = series[key]
            uid = s["SeriesInstanceUID"]
            size = s.get("FileSize")
            out.append(
                RemoteFile(
                    path=f"{key}/{key.rsplit('/', 1)[1]}.zip",
                    url=f"{api}/getImageWithMD5Hash?SeriesInstanceUID={quote(uid)}",
                    extract="yes",
                    member_checksums="md5hashes.csv",
                    estimate=int(float(size)) if size else None,
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
            needs="nothing (public TCIA collection; accept its data use policy)",
            page="https://www.cancerimagingarchive.net/browse-collections/",
        )


PLUGIN = TCIA()
