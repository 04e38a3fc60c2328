"""Test cards as factories (URLs read from the environment when built)."""

from __future__ import annotations

import os
from collections.abc import Callable

from climb.card import DatasetCard, Source
from tests.fetch.helpers import card


def big() -> DatasetCard:
    url = os.environ.get("FETCHTEST_BIG_URL", "https://example.org/blob/big.bin")
    return card("fetchtest_big", (Source(kind="url", url=url),))


def cred() -> DatasetCard:
    return card(
        "fetchtest_cred",
        (Source(kind="physionet", id="secret-db", version="1.0.0"),),
        access="credentialed",
    )


def manual() -> DatasetCard:
    return card(
        "fetchtest_manual",
        (
            Source(
                kind="manual",
                url="https://example.org/request",
                instructions="1. Fill in the form at https://example.org/request\n2. Unzip the files",
                expected_layout="images/*.png\nlabels.csv",
            ),
        ),
    )


def alt() -> DatasetCard:
    """A primary url copy, an alternate Kaggle copy of the same data, and a splits file."""
    base = os.environ.get("FETCHTEST_ALT_URL", "https://example.org/blob")
    return card(
        "fetchtest_alt",
        (
            Source(kind="url", url=f"{base}/primary.bin"),
            Source(kind="kaggle", id="owner/alt-copy", alternate=True),
            Source(kind="url", url=f"{base}/splits.csv", role="splits"),
        ),
    )


CARDS: dict[str, Callable[[], DatasetCard]] = {
    "fetchtest_alt": alt,
    "fetchtest_big": big,
    "fetchtest_cred": cred,
    "fetchtest_manual": manual,
}
