"""Manual sources: data a person must obtain (a form, a DUA, an e-mail). climb prints the steps
and the expected layout, then verifies what the user placed in the raw folder."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from climb.card import DatasetCard, Source
from climb.fetch.config import FetchConfig
from climb.fetch.credentials import Credentials
from climb.fetch.sources.base import AccessInfo, SourcePlugin


def layout_patterns(expected_layout: str) -> list[str]:
    """Glob patterns from a card's ``expected_layout``: the first token of each line, without
    comments (``#`` or ``--``) and tree-drawing characters."""
    out: list[str] = []
    for line in expected_layout.splitlines():
        line = line.split("#", 1)[0].split(" -- ", 1)[0]
        line = line.strip().lstrip("│├└─| -").strip()
        if not line:
            continue
        token = line.split()[0]
        if token.endswith("/"):
            token += "*"
        out.append(token)
    return out


def check_layout(folder: Path, expected_layout: str) -> list[str]:
    """Patterns of the expected layout that match no file under ``folder``."""
    if not folder.is_dir():
        return layout_patterns(expected_layout) or ["(the folder does not exist)"]
    files = [
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(".climb-") and not p.name.endswith(".part")
    ]
    pats = layout_patterns(expected_layout)
    if not pats:
        return [] if files else ["(any file)"]
    return [
        g
        for g in pats
        if not any(fnmatch.fnmatchcase(f, g) or f.startswith(g.rstrip("*")) for f in files)
    ]


class Manual(SourcePlugin):
    kind = "manual"

    def access(
        self, source: Source, card: DatasetCard, credentials: Credentials, config: FetchConfig
    ) -> AccessInfo:
        steps = [s.strip() for s in source.instructions.splitlines() if s.strip()]
        return AccessInfo(
            source=source.describe(),
            needs="manual steps (request or DUA)",
            page=source.url,
            steps=steps,
        )


PLUGIN = Manual()
