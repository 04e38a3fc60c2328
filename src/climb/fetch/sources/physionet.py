"""PhysioNet: files listed and verified by the project's ``SHA256SUMS.txt``.

``{base}/files/{slug}/{version}/SHA256SUMS.txt`` lists every file of the project as
``<sha256> <path>`` (one space, sorted); every file is downloaded from
``{base}/files/{slug}/{version}/<path>`` and verified against it.

Protected projects use HTTP basic auth over verified TLS. PhysioNet only honours basic auth for a
``User-Agent`` that starts with ``Wget/`` (or ``libwfdb/``) and silently ignores it otherwise
(answering 403), so PhysioNet requests carry a Wget-compatible agent string that names climb.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from climb import __version__
from climb.card import DatasetCard, Source
from climb.core.errors import ClimbError
from climb.fetch.config import FetchConfig
from climb.fetch.credentials import Credential, Credentials
from climb.fetch.engine import AccessError, looks_like_html
from climb.fetch.manifest import clean_url
from climb.fetch.sources.base import AccessInfo, Context, SourcePlugin, select
from climb.fetch.types import Checksum, RemoteFile

SITE = "https://physionet.org"  # where people sign DUAs, whatever mirror serves the files
USER_AGENT = f"Wget/1.21.4 (compatible; climb/{__version__})"
INDEX = "SHA256SUMS.txt"


def parse_sha256sums(text: str, where: str) -> dict[str, str]:
    """``{path: sha256}`` from a SHA256SUMS file (one or two spaces, optional ``*``)."""
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        digest, _, path = line.partition(" ")
        path = path.lstrip(" ").removeprefix("*")
        if len(digest) != 64 or not path or any(c not in "0123456789abcdefABCDEF" for c in digest):
            raise ClimbError(
                f"malformed line {n} in {INDEX}: {line[:80]!r}",
                where=where,
                fix="the index is damaged or this is not a PhysioNet server",
            )
        if path.startswith("/") or ".." in path.split("/"):
            raise ClimbError(f"unsafe path in {INDEX}: {path!r}", where=where)
        out[path] = digest.lower()
    return out


def pages(slug: str, version: str) -> tuple[str, str]:
    return f"{SITE}/content/{slug}/{version}/", f"{SITE}/sign-dua/{slug}/{version}/"


class PhysioNet(SourcePlugin):
    kind = "physionet"
    service = "physionet"

    def _hook(self, source: Source, cred: Credential | None):  # type: ignore[no-untyped-def]
        slug, version = source.id or "", source.version or ""
        project, dua = pages(slug, version)

        def hook(resp: httpx.Response) -> ClimbError | None:
            where = clean_url(str(resp.request.url))
            if resp.status_code == 401:
                if cred is None:
                    return AccessError(
                        f"PhysioNet project {slug}/{version} needs a PhysioNet login",
                        where=where,
                        fix=Credentials.how_static("physionet"),
                    )
                return AccessError(
                    f"PhysioNet rejected the username/password from {cred.origin}",
                    where=where,
                    fix="check the username and password (they are your physionet.org login)",
                )
            if resp.status_code == 403:
                return AccessError(
                    f"PhysioNet denied access to {slug}/{version}: the project needs a "
                    "credentialed account, its required training, and its data use agreement "
                    "signed by you"
                    + ("" if cred else " (and no PhysioNet credentials are configured)"),
                    where=where,
                    fix=f"sign the DUA at {dua} (project page: {project}), then run again",
                )
            if resp.status_code == 404:
                return ClimbError(
                    f"PhysioNet has no {slug}/{version} (or no such file)",
                    where=where,
                    fix=f"check the project and version at {project}",
                )
            return None

        return hook

    def files(self, source: Source, ctx: Context) -> list[RemoteFile]:
        slug, version = source.id or "", source.version or ""
        base = ctx.config.url("physionet")
        root = f"{base}/files/{slug}/{version}/"
        cred = ctx.credentials.find("physionet")
        if cred is None and ctx.card.access in ("credentialed", "dua", "registration"):
            cred = ctx.credentials.require(
                "physionet",
                why=f"{slug} is a {ctx.card.access}-access PhysioNet project",
                where=f"dataset {ctx.card.key}",
            )
        auth = cred.auth() if cred else None
        headers = {"User-Agent": USER_AGENT}
        hook = self._hook(source, cred)
        resp = ctx.engine.request(
            "GET",
            root + INDEX,
            auth=auth,
            headers=headers,
            on_error=hook,
            what=f"the file index of PhysioNet {slug}/{version}",
        )
        body = resp.content
        if "text/html" in resp.headers.get("Content-Type", "") or looks_like_html(body):
            project, _dua = pages(slug, version)
            raise AccessError(
                f"PhysioNet answered with an HTML page (a login page?) instead of {INDEX} "
                f"for {slug}/{version}",
                where=clean_url(root + INDEX),
                fix=f"check your PhysioNet credentials and access; project page: {project}",
            )
        sums = parse_sha256sums(body.decode("utf-8", "replace"), clean_url(root + INDEX))
        chosen = sorted(select(list(sums), source.include))
        if source.include and not chosen:
            raise ClimbError(
                f"no file of PhysioNet {slug}/{version} matches {source.include}",
                where=f"dataset {ctx.card.key}",
                fix="fix the source's include globs",
            )
        import hashlib

        common = {"auth": auth, "headers": headers, "source": source.describe(), "on_error": hook}
        out = [
            RemoteFile(
                path=INDEX,
                url=root + INDEX,
                size=len(body),
                checksum=Checksum("sha256", hashlib.sha256(body).hexdigest()),
                **common,
            )
        ]
        for p in chosen:
            out.append(
                RemoteFile(
                    path=p, url=root + quote(p), checksum=Checksum("sha256", sums[p]), **common
                )
            )
        return out

    def access(
        self, source: Source, card: DatasetCard, credentials: Credentials, config: FetchConfig
    ) -> AccessInfo:
        slug, version = source.id or "", source.version or ""
        project, dua = pages(slug, version)
        if card.access == "open":
            info = AccessInfo(source=source.describe(), needs="nothing (open access)", page=project)
            return info
        info = AccessInfo(
            source=source.describe(),
            needs="a credentialed PhysioNet account, the project's training, and its signed DUA",
            page=dua,
            steps=[
                f"create an account at {SITE}/register/ and apply for credentialing at "
                f"{SITE}/settings/credentialing/",
                f"complete the training the project requires (see {project})",
                f"sign the data use agreement at {dua}",
                "set PHYSIONET_USERNAME and PHYSIONET_PASSWORD (or ~/.netrc 'machine physionet.org')",
            ],
        )
        return self._cred_status(info, credentials)


PLUGIN = PhysioNet()
