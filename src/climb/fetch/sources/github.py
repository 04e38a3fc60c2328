"""GitHub: a pinned commit or tag, as single raw files, a source archive, or release assets.

- ``include`` with literal paths only: each file from ``{github_raw}/{owner}/{repo}/{ref}/<path>``.
- ``include`` with globs, or none: the archive ``{github}/{owner}/{repo}/archive/{ref}.tar.gz``
  (GitHub redirects it to codeload), extracted without its top-level ``<repo>-<ref>/`` folder,
  keeping the members that match.
- ``include`` entries ``release:<glob>``: assets of the release tagged ``version``, listed by
  ``{github_api}/repos/{owner}/{repo}/releases/tags/{version}`` and downloaded from the asset's
  API URL with ``Accept: application/octet-stream`` (GitHub answers 200 or a 302 to storage);
  a published ``digest: sha256:...`` is verified. Archive assets are extracted.
"""

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

_GLOB = set("*?[")


def _hook(source: Source):  # type: ignore[no-untyped-def]
    def hook(resp: httpx.Response) -> ClimbError | None:
        where = clean_url(str(resp.request.url))
        if resp.status_code == 300:
            return ClimbError(
                f"the ref {source.version!r} of {source.id} is ambiguous (a branch "
                "and a tag share the name)",
                where=where,
                fix="pin a commit hash in the card instead",
            )
        if resp.status_code in (403, 429) and resp.headers.get("x-ratelimit-remaining") == "0":
            return AccessError(
                "GitHub API rate limit exceeded",
                where=where,
                fix="wait an hour or set GITHUB_TOKEN",
            )
        if resp.status_code == 404:
            return ClimbError(
                f"GitHub has no {source.id}@{source.version} (or no such file)",
                where=where,
                fix="check the repository and the pinned ref",
            )
        return None

    return hook


class GitHub(SourcePlugin):
    kind = "github"
    service = "github"

    def files(self, source: Source, ctx: Context) -> list[RemoteFile]:
        repo_id, ref = source.id or "", source.version or ""
        repo = repo_id.split("/")[1]
        cred = ctx.credentials.find("github")
        auth = cred.auth() if cred else None
        hook = _hook(source)
        releases = [g[len("release:") :] for g in source.include if g.startswith("release:")]
        tree = [g for g in source.include if not g.startswith("release:")]
        out: list[RemoteFile] = []
        desc = source.describe()
        if releases:
            api = ctx.config.url("github_api")
            resp = ctx.engine.request(
                "GET",
                f"{api}/repos/{repo_id}/releases/tags/{quote(ref, safe='')}",
                auth=auth,
                headers={
                    "Accept": "application/vnd.github+json",
                    "X-GitHub-Api-Version": "2022-11-28",
                },
                on_error=hook,
                what=f"the release {ref} of {repo_id}",
            )
            release = json_answer(resp, f"the release {ref} of {repo_id}", dict)
            assets = {
                a["name"]: a
                for a in release.get("assets") or []
                if isinstance(a, dict) and a.get("name")
            }
            names = sorted(select(list(assets), tuple(releases)))
            if not names:
                raise ClimbError(
                    f"no asset of release {ref} of {repo_id} matches {releases}",
                    where=f"dataset {ctx.card.key}",
                )
            for name in names:
                a = assets[name]
                digest = a.get("digest") or ""
                out.append(
                    RemoteFile(
                        path=name,
                        url=a["url"],
                        size=a.get("size"),
                        checksum=Checksum("sha256", digest[7:])
                        if digest.startswith("sha256:")
                        else None,
                        auth=auth,
                        headers={"Accept": "application/octet-stream"},
                        extract="yes" if is_archive_name(name) else "no",
                        source=desc,
                        on_error=hook,
                    )
                )
        if tree and all(not (_GLOB & set(g)) for g in tree):
            raw = ctx.config.url("github_raw")
            single = Checksum("sha256", source.sha256) if source.sha256 and len(tree) == 1 else None
            for path in tree:
                path = path.strip("/")
                out.append(
                    RemoteFile(
                        path=path,
                        url=f"{raw}/{repo_id}/{ref}/{quote(path)}",
                        checksum=single,
                        source=desc,
                        on_error=hook,
                    )
                )
        elif tree or not releases:
            base = ctx.config.url("github")
            out.append(
                RemoteFile(
                    path=f"{repo}-{ref}.tar.gz",
                    url=f"{base}/{repo_id}/archive/{ref}.tar.gz",
                    checksum=Checksum("sha256", source.sha256) if source.sha256 else None,
                    extract="yes",
                    strip=1,
                    members=tuple(tree),
                    source=desc,
                    on_error=hook,
                )
            )
        return out

    def access(
        self, source: Source, card: DatasetCard, credentials: Credentials, config: FetchConfig
    ) -> AccessInfo:
        info = AccessInfo(
            source=source.describe(),
            needs="nothing (public repository)",
            page=f"https://github.com/{source.id}/tree/{source.version}",
        )
        return info


PLUGIN = GitHub()
