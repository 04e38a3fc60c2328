"""``--verify`` for commands that read stores: every store opened inside the context (and by
loader workers forked from it) checks each file's sha256 against its ``checksums.json`` the
first time the file is read."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from climb.store.integrity import VERIFY_ENV


@contextmanager
def verify_env(on: bool = True) -> Iterator[None]:
    """Set ``CLIMB_VERIFY_STORE=1`` for the duration (nothing when ``on`` is false), then put
    back what was there."""
    if not on:
        yield
        return
    old = os.environ.get(VERIFY_ENV)
    os.environ[VERIFY_ENV] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(VERIFY_ENV, None)
        else:
            os.environ[VERIFY_ENV] = old


__all__ = ["verify_env"]
