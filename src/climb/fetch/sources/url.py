"""A direct URL, optionally pinned by sha256. Archives (zip, tar) are extracted in place."""

from __future__ import annotations

import posixpath
from urllib.parse import unquote, urlsplit

from climb.card import Source
from climb.fetch.archive import is_archive_name
from climb.fetch.sources.base import Context, SourcePlugin
from climb.fetch.types import Checksum, RemoteFile


def url_filename(url: str) -> str:
    name = posixpath.basename(unquote(urlsplit(url).path)) or "download"
    return name.replace("\\", "_")


class URL(SourcePlugin):
    kind = "url"

    def files(self, source: Source, ctx: Context) -> list[RemoteFile]:
        url = source.url or ""
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
