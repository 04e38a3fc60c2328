"""Registers the test cards; imported only by `climb` subprocesses started by the tests."""

from __future__ import annotations

from climb.registry import Dataset, register_dataset
from tests.fetch._cards_data import CARDS

for _make in CARDS.values():
    _c = _make()
    register_dataset(type(f"T_{_c.key}", (Dataset,), {"card": _c}))
