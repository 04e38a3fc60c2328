"""Fixtures for the fetch tests: a started loopback emulator and an isolated environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fetch.emulators import Emulator

CRED_VARS = (
    "PHYSIONET_USERNAME",
    "PHYSIONET_PASSWORD",
    "KAGGLE_USERNAME",
    "KAGGLE_KEY",
    "KAGGLE_API_TOKEN",
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "ZENODO_TOKEN",
    "NETRC",
    "KAGGLE_CONFIG_DIR",
    "HF_HOME",
    "HF_TOKEN_PATH",
    "CLIMB_ROOT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)

FAST_CONFIG = """
[fetch]
retries = 4
backoff_base = 0.01
backoff_max = 0.05
retry_after_max = 5
connect_timeout = 5
read_timeout = 5
progress_interval = 0.2
manifest_interval = 0.05
"""


@pytest.fixture
def emu() -> Iterator[Emulator]:
    em = Emulator().start()
    yield em
    em.stop()


@pytest.fixture
def env(emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Isolated HOME/config, fast retries, every base URL pointed at the emulator."""
    home = tmp_path / "home"
    cfg = tmp_path / "config"
    home.mkdir()
    cfg.mkdir()
    (cfg / "config.toml").write_text(FAST_CONFIG)
    for v in CRED_VARS:
        monkeypatch.delenv(v, raising=False)
    values = {
        "HOME": str(home),
        "CLIMB_CONFIG_DIR": str(cfg),
        "CLIMB_NO_PROMPT": "1",
        "NO_PROXY": "*",
        **emu.env(),
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return {**os.environ}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"
