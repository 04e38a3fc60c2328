from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from climb_synth_store import make_store

    return make_store(tmp_path_factory.mktemp("stores") / "synth", n=203, chunk=16)
