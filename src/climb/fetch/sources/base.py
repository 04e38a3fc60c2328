"""The plugin interface: list a source's files; say what access it needs."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from climb.card import Source

if TYPE_CHECKING:
    from climb.card import DatasetCard
    from climb.fetch.config import FetchConfig
    from climb.fetch.credentials import Credentials
    from climb.fetch.engine import Engine
    from climb.fetch.types import RemoteFile


@dataclass
class Context:
    """What a plugin may use: settings, credentials, the engine (for index/API calls)."""

    config: FetchConfig
    credentials: Credentials
    engine: Engine
    card: DatasetCard


@dataclass
class AccessInfo:
    """What one source needs, whether it is configured, and the steps to get access."""

    source: str
    needs: str  # "nothing", "an account", "credentialed access + DUA", ...
    service: str | None = None  # credentials service, if any
    configured: bool | None = None  # None: nothing to configure
    origin: str | None = None  # where the credential was found (never its value)
    page: str | None = None
    steps: list[str] = field(default_factory=list)


class SourcePlugin:
    """Subclasses implement :meth:`files` (and refine :meth:`access`)."""

    kind: ClassVar[str] = ""
    service: ClassVar[str | None] = None

    def files(self, source: Source, ctx: Context) -> list[RemoteFile]:
        raise NotImplementedError

    def access(
        self, source: Source, card: DatasetCard, credentials: Credentials, config: FetchConfig
    ) -> AccessInfo:
        return AccessInfo(source=source.describe(), needs="nothing (open download)")

    def _cred_status(self, info: AccessInfo, credentials: Credentials) -> AccessInfo:
        if self.service:
            info.service = self.service
            cred = credentials.find(self.service)
            info.configured = cred is not None
            info.origin = cred.origin if cred else None
        return info


def select(paths: list[str], include: tuple[str, ...], exclude: tuple[str, ...] = ()) -> set[str]:
    """The paths matching any ``include`` glob (all if none) and no ``exclude`` glob.

    Globs use fnmatch rules on the relative posix path, where ``*`` also crosses ``/``; a glob
    without wildcards also selects everything under it when it names a folder."""

    def hit(p: str, globs: tuple[str, ...]) -> bool:
        return any(fnmatch.fnmatchcase(p, g) or p.startswith(g.rstrip("/") + "/") for g in globs)

    return {p for p in paths if (not include or hit(p, include)) and not hit(p, exclude)}
