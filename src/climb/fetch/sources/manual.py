"""Manual sources: data a person must obtain (a form, a DUA, an e-mail). climb prints the steps
and the expected layout, then verifies what the user placed in the raw folder."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from climb.card import DatasetCard, Source, layout_entries
from climb.fetch.config import FetchConfig
from climb.fetch.credentials import Credentials
from climb.fetch.sources.base import AccessInfo, SourcePlugin


def layout_patterns(expected_layout: str) -> list[str]:
    """Glob patterns from a card's ``expected_layout``.

    The convention (checked when a card is built, see :func:`climb.card.layout_problems`): one
    entry per line, a glob relative to the folder the source lands in (``<root>/raw/<key>/``
    for a card's first source) matched with :func:`fnmatch.fnmatchcase` (``*`` also crosses
    ``/``), optionally followed by ``  # explanation``. Every entry must match at least one
    file. Blank lines and ``# comment`` lines are skipped, tree-drawing characters (``├── ``)
    before an entry are ignored, and an entry ending in ``/`` means "some file under this
    folder" (it becomes ``folder/*``). Example::

        CheXpert-v1.0*/train.csv  # labels: Path, Sex, Age, ..., the 14 observations
        CheXpert-v1.0*/train/patient*/study*/view*.jpg
    """
    out: list[str] = []
    for pattern, _ in layout_entries(expected_layout):
        out.append(pattern + "*" if pattern.endswith("/") else pattern)
    return out


def check_layout(folder: Path, expected_layout: str) -> list[str]:
    """Patterns of the expected layout that match no file under ``folder`` (in layout order;
    all of them when the folder does not exist). Without patterns, any one file will do."""
    pats = layout_patterns(expected_layout)
    if not folder.is_dir():
        return pats or ["(the folder does not exist)"]
    files = [
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file()
        and not p.name.startswith(".climb-")
        and not p.name.endswith((".part", ".part.json"))
    ]
    if not pats:
        return [] if files else ["(any file)"]
    return [g for g in pats if not any(fnmatch.fnmatchcase(f, g) for f in files)]


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
