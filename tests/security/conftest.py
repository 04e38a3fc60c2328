"""Fixtures of the adversarial suite: the fetch emulators (tests/fetch) and hostile servers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fetch.conftest import emu, env, root  # noqa: F401  (the loopback emulators)
from tests.security.hostile import Hostile


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    h = Hostile().start()
    yield h
    h.stop()


@pytest.fixture
def hostile2() -> Iterator[Hostile]:
    """A second server, reached as ``localhost`` (another host than ``127.0.0.1``)."""
    h = Hostile(host_name="localhost").start()
    yield h
    h.stop()
