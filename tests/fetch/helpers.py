"""Helpers shared by the fetch tests."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from climb.card import DatasetCard, Licence, Modality, Source, Task
from climb.fetch.api import DatasetResult, Session
from climb.fetch.config import load_config
from climb.fetch.credentials import Credentials

REPO = Path(__file__).resolve().parents[2]


def card(key: str, sources: tuple[Source, ...], access: str = "open") -> DatasetCard:
    return DatasetCard(
        key=key,
        name=key,
        domain="ecg",
        description="fetch test card",
        modalities=(Modality(name="x", kind="signal"),),
        tasks=(Task(name="t", type="binary", classes=("a", "b")),),
        licence=Licence("CC-BY-4.0", "CC BY 4.0"),
        access=access,  # type: ignore[arg-type]
        sources=sources,
        homepage="https://example.org",
        citation="@misc{x, title={x}}",
    )


def fetch(c: DatasetCard, root: Path, workers: int | None = None, **kw: object) -> DatasetResult:
    config = load_config()
    creds = Credentials(config, allow_prompt=False)
    with Session(config, workers=workers, credentials=creds) as s:
        return s.fetch(c, root, **kw)  # type: ignore[arg-type]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def no_partials(folder: Path) -> list[str]:
    """Leftover partial or staging files under ``folder`` (should be empty after success)."""
    return [
        p.name
        for p in folder.rglob("*")
        if p.name.endswith((".part", ".part.json")) or p.name.startswith(".climb-extract-")
    ]


def cli_cmd(*args: str) -> list[str]:
    """A `climb` command line that also registers the test cards of tests/fetch/_cards.py."""
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r}); import tests.fetch._cards; "
        "from climb.cli import main; main(sys.argv[1:])"
    )
    return [sys.executable, "-c", code, *args]
