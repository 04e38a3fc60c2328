"""Shared test configuration: paths to the shared real-data fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"


def shared_fixture(name: str) -> Path:
    """Path of ``../shared/fixtures/<name>``; skips the test with a reason when it is absent."""
    path = SHARED_FIXTURES / name
    if not path.exists():
        pytest.skip(
            f"real-data fixture {path} is absent (it lives in the shared/ folder beside the repo)"
        )
    return path


@pytest.fixture
def shared_fixtures_dir() -> Path:
    if not SHARED_FIXTURES.exists():
        pytest.skip(f"shared fixtures folder {SHARED_FIXTURES} is absent")
    return SHARED_FIXTURES
